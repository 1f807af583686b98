"""Which language a page is in: Danish by default, English when the visitor asks for it.

Flask-Babel with the message catalogues in ``borgersag/translations`` (Danish source
strings are the msgids, so Danish needs no catalogue). The choice is the visitor's own,
kept in the session and set by the "English" / "Dansk" switch in the header: a small POST
form with the CSRF token, so it works without JavaScript and a cross-site page cannot
flip it. After switching, the visitor goes back to the page they were on, but only to a
path on this site: anything else (another host, a scheme, ``//evil``, a backslash trick)
goes to the front page instead, so the switch is never an open redirect.

The browser's Accept-Language is not read: the portal is Danish first, and a page that
changes language by itself is confusing. Caseworker pages are not translated yet (see
docs/web.md "Languages"), so an English choice shows them in Danish.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, has_request_context, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

__all__ = ["LANGUAGES", "N_", "SESSION_KEY", "ensure_babel", "init_app", "safe_next"]

DEFAULT = "da"
LANGUAGES = ("da", "en")
"""The languages offered: Danish (the source strings) and English."""

SESSION_KEY = "sprog"
"""Where the visitor's choice is kept in the session."""

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

_NOT_CARRIED = frozenset({"q"})  # query parameters the switch does not carry back

_SWITCH_TO = {"da": ("en", "English"), "en": ("da", "Dansk")}

bp = Blueprint("language", __name__)


def N_(text: str) -> str:
    """Mark ``text`` as a msgid for ``pybabel extract`` and return it untranslated: for a
    table that is Danish in one place (a CSV export) and translated in another (a page,
    with ``gettext(value)``)."""
    return text


def select_locale() -> str:
    """The page's language: the session's choice when it is one we offer, else Danish.

    Outside a request (a background job rendering text) it is always Danish.
    """
    if not has_request_context():
        return DEFAULT
    chosen = session.get(SESSION_KEY)
    return chosen if chosen in LANGUAGES else DEFAULT


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the front page.

    Only an absolute path is kept: no scheme, no host, not ``//host`` (a network path),
    no backslash (browsers read ``/\\host`` as ``//host``) and no control characters.
    """
    fallback = url_for("web.lookup")
    if not target or len(target) > 2000:
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


@bp.post("/sprog")
def switch() -> Response:
    """Set the language (``sprog`` = ``da`` or ``en``) and go back to ``tilbage``."""
    wanted = request.form.get("sprog", "")
    if wanted in LANGUAGES:
        session[SESSION_KEY] = wanted
    return redirect(safe_next(request.form.get("tilbage")), code=303)


def _switch_context() -> dict[str, object]:
    """What the header's switch needs: the current language and the other one."""
    current = str(get_locale() or DEFAULT)
    if current not in _SWITCH_TO:
        current = DEFAULT
    other, label = _SWITCH_TO[current]
    # Back to this page with its query, but never the free-text search: it may hold a
    # CPR number, which must not be written into the page.
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in _NOT_CARRIED]
    here = f"{request.path}?{urlencode(kept)}" if kept else request.path
    return {
        "page_lang": current,
        "other_lang": other,
        "other_lang_label": label,
        "here_path": here,
    }


def ensure_babel(app: Flask) -> None:
    """Set up Flask-Babel on ``app`` once. Every part that shows translated text calls
    it (errors, CSRF refusals), so it also works in an app built from parts alone."""
    if "babel" in app.extensions:
        return
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and the switch (``POST /sprog``)."""
    ensure_babel(app)
    app.register_blueprint(bp)
    app.context_processor(_switch_context)
