"""The one download path for caseworkers and citizens, and what makes a download safe.

Plain Python, no Flask. :func:`fetch_document` finds the joined system holding a
document, fetches it, records the download (committed) and returns a :class:`Download`
whose name has no path, control or reserved characters (:func:`safe_filename`) and whose
media type cannot make a browser render a page or run a script from our origin
(:func:`safe_media_type`). Whether the person may see the document is decided before,
by :mod:`borgersag.lookup.cases`. The web layer sends every :class:`Download` through one
function too: always an attachment, with ``nosniff`` and a sandboxing
``Content-Security-Policy``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from borgersag.domain.keys import Key
from borgersag.domain.model import Document
from borgersag.lookup.ports import Context
from borgersag.people.citizen_view import CitizenDocument
from borgersag.sdk.errors import NotFound, SourceError

__all__ = [
    "OCTET_STREAM",
    "DocumentGone",
    "DocumentUnavailable",
    "Download",
    "fetch_document",
    "owning_case_id",
    "safe_filename",
    "safe_media_type",
]

log = logging.getLogger(__name__)


class DocumentGone(Exception):
    """The source no longer knows the document."""


class DocumentUnavailable(Exception):
    """The source did not answer when asked for the document."""


@dataclass(frozen=True, slots=True)
class Download:
    """A document ready to send as an attachment: a safe name and a safe media type."""

    filename: str
    media_type: str
    content: bytes


def owning_case_id(known_as: Sequence[str], source: str | None) -> str:
    """Of a joined case's ids (its own first), the one in the system holding a document
    from ``source``; the case's own id when none is."""
    if source:
        for cid in known_as:
            if cid.split("/", 1)[0] == source:
                return cid
    return known_as[0]


def fetch_document(
    ctx: Context,
    document: Document | CitizenDocument,
    *,
    case_id: str,
    known_as: Sequence[str],
    fallback_source: str,
    subject: Key | None,
    purpose: str | None,
    persons: Iterable[Key] = (),
) -> Download:
    """Fetch ``document`` of the case ``case_id`` (known as ``known_as`` in the joined
    systems) from the system holding it, record the download (with ``persons``, whose
    data the document is about: its case's parties), return it made safe.

    The caller has already decided that the person may see the document. Raises
    :class:`DocumentGone` (404) or :class:`DocumentUnavailable` (502); the record is
    written, and committed, only for a document that is actually handed over.
    """
    source = document.source or fallback_source
    try:
        content = ctx.portal.get_document(owning_case_id(known_as, document.source), document.id)
    except NotFound:
        raise DocumentGone() from None
    except SourceError as exc:
        log.warning("document from %s unavailable: %s", source, type(exc).__name__)
        raise DocumentUnavailable() from None
    ctx.record(
        "document",
        user=ctx.user,
        subject=subject,
        purpose=purpose,
        sources=[(source, "ok")],
        case_ids=[case_id],
        detail=f"dokument {document.id}",
        persons=persons,
    )
    return Download(
        filename=safe_filename(content.filename, f"dokument-{document.id}"),
        media_type=safe_media_type(content.media_type),
        content=content.content,
    )


_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_filename(name: str | None, fallback: str) -> str:
    """A download name without paths, control or reserved characters (``fallback`` if none).

    Every Unicode control or format character goes too, not only ASCII's: a right-to-left
    override (U+202E) in ``invoice<U+202E>fdp.exe`` would show it as ``invoiceexe.pdf``.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    # Other controls join the ASCII ones, so that a run of them becomes one "_".
    text = "".join("\x00" if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = _UNSAFE_FILENAME.sub("_", text).strip(" ._")
    return text[:150] or fallback


OCTET_STREAM = "application/octet-stream"
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# Plugins that run code from the origin serving them.
_ACTIVE_TYPES = frozenset({"application/x-shockwave-flash", "application/java-archive"})
# Marks of what a browser renders as a page or runs: HTML, XHTML, SVG, XML and XSLT
# (which can carry script), JavaScript and ECMAScript in all their spellings.
_ACTIVE_WORDS = ("html", "script", "xsl")
_PLAIN_TEXT = frozenset({"text/plain", "text/csv"})


def safe_media_type(media_type: str | None) -> str:
    """A media type a browser will not render as a page or run as script from our origin.

    The back end's type without parameters when it is a well-formed, passive one (PDF,
    images other than SVG, office formats, JSON, plain text, ...);
    ``application/octet-stream`` for anything a browser could render as markup or run
    (HTML, XHTML, SVG and every other ``…+xml`` or ``…/xml``, JavaScript, multipart,
    ``text/*`` other than plain text and CSV) and for anything malformed or missing.
    """
    essence = (media_type or "").split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.match(essence):
        return OCTET_STREAM
    top, sub = essence.split("/", 1)
    markup = sub == "xml" or sub.endswith("+xml") or any(w in sub for w in _ACTIVE_WORDS)
    if essence in _ACTIVE_TYPES or markup or top in ("multipart", "message"):
        return OCTET_STREAM
    if top == "text" and essence not in _PLAIN_TEXT:
        return OCTET_STREAM
    return essence
