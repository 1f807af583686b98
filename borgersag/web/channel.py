"""What every view uses to call the use cases: the request's context, and downloads.

:func:`context` fills the use cases' ports (:class:`~borgersag.lookup.ports.Context`)
with this app's adapters: the portal, the fail-closed audit recorder
(:func:`borgersag.web.auditing.record`, an HTTP 503 when it cannot commit), the overview
store, the per-user fan-out quota (:class:`borgersag.web.limits.LookupQuota`) and the
settings read once from config at start-up. :func:`send_download` is the one way a
document leaves the app, for caseworkers and citizens alike.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

from flask import Flask, Response, current_app, g, send_file

from borgersag.lookup.documents import Download
from borgersag.lookup.ports import Context, LookupSettings
from borgersag.sdk.http import request_id
from borgersag.web import auditing
from borgersag.web.limits import LookupQuota
from borgersag.web.login import current_user

__all__ = [
    "DOWNLOAD_POLICY",
    "context",
    "in_background",
    "init_app",
    "send_download",
    "settings",
]

DOWNLOAD_POLICY = "default-src 'none'; sandbox"
"""The ``Content-Security-Policy`` of a download: should a browser show it after all, it
runs nothing and loads nothing, in an origin of its own."""


def settings() -> LookupSettings:
    """The settings the use cases read, as read from config at start-up."""
    return current_app.extensions["borgersag.settings"]


def context() -> Context:
    """The use cases' collaborators for the signed-in user of this request."""
    user = current_user()
    if user is None:  # the views' guards come first; this is a programming error
        raise RuntimeError("a use case needs a signed-in user")
    return Context(
        user=user,
        portal=current_app.extensions["borgersag"],
        record=auditing.record,
        overviews=current_app.extensions["borgersag.overviews"],
        quota=LookupQuota(),
        settings=settings(),
    )


def in_background() -> Callable[[Callable[[], None]], None]:
    """Starts a job (a pending lookup's fan-out) in a thread of this instance, in an app
    context of its own carrying this request's id (for the audit row and log lines).

    Bounded without a pool of its own: the user's lookup quota was charged for it and
    the engine's deadline ends it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    rid = g.get("request_id") or ""

    def start(job: Callable[[], None]) -> None:
        def run() -> None:
            with app.app_context():
                g.request_id = rid
                token = request_id.set(rid)
                try:
                    job()
                finally:
                    request_id.reset(token)

        threading.Thread(target=run, name="lookup-progress", daemon=True).start()

    return start


def send_download(download: Download) -> Response:
    """``download`` as an attachment that no browser renders from our origin.

    The name and media type are already made safe by the use case
    (:func:`borgersag.lookup.documents.fetch_document`); ``nosniff`` keeps the browser
    from guessing another type and :data:`DOWNLOAD_POLICY` disarms it if shown anyway.
    """
    response = send_file(
        io.BytesIO(download.content),
        mimetype=download.media_type,
        as_attachment=True,
        download_name=download.filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    return response


def init_app(app: Flask, config: object) -> None:
    """Read the use cases' settings from ``config`` once."""
    app.extensions["borgersag.settings"] = LookupSettings.from_config(config)
