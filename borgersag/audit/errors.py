"""The audit log's one error: it could not be written or read."""

from __future__ import annotations

__all__ = ["AuditUnavailable"]


class AuditUnavailable(RuntimeError):
    """The audit log could not be written (or read). The caller must not show the data.

    The message names the backend and what went wrong with it, never the event.
    """
