"""Moved to :mod:`borgersag.shape`; import ``Reader``, ``check_url`` and ``check_range``
from ``borgersag``. Kept so connectors written against the old place still import."""

from borgersag.shape import Reader, check_range, check_url

__all__ = ["Reader", "check_range", "check_url"]
