"""Keeping a long-running server's memory flat: glibc's malloc arenas.

glibc gives each thread that allocates at once an arena of its own, up to eight per
core, and returns little of a fragmented arena to the system. A gunicorn worker with 16
threads so grows for hours under steady load while holding no more data. Two arenas
cost no measurable speed here (the GIL serialises most allocation anyway) and keep the
resident memory flat; ``bench/soak.py`` measures it.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["DEFAULT_ARENAS", "limit_malloc_arenas"]

DEFAULT_ARENAS = 2
_M_ARENA_MAX = -8  # from glibc's malloc.h


def limit_malloc_arenas(count: int) -> bool:
    """Limit this process (and the processes it forks) to ``count`` malloc arenas.

    Does nothing and returns ``False`` when ``count`` is 0, when ``MALLOC_ARENA_MAX`` is
    set in the environment (the operator chose), or when the C library is not glibc.
    """
    if count <= 0 or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(_M_ARENA_MAX, count) == 1
