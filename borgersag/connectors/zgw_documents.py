"""A ZGW ``EnkelvoudigInformatieObject`` (Documenten API) to a canonical Document.

Pure mapping, no calls. What a citizen may see is decided by the citizen policy from the
document's status and whether the party may see it, so both are mapped carefully:

* ``status``: ``definitief`` is final (Endeligt); ``in_bewerking`` and
  ``ter_vaststelling`` are drafts; ``gearchiveerd`` is delivered to the archive
  (Afleveret); no status — a received document, per the specification — is Modtaget.
* ``vertrouwelijkheidaanduiding``: the party may see ``openbaar``, ``beperkt_openbaar``
  and ``zaakvertrouwelijk`` documents; from ``intern`` up they are the organisation's.
  A missing level counts as not for the party.
* type: a document with an ``ontvangstdatum`` came in, one with a ``verzenddatum`` went
  out; anything else is "Andet" (the informatieobjecttype is catalogue data in words the
  portal cannot map).
"""

from __future__ import annotations

from borgersag import Document, DocumentStatus, DocumentType, Reader
from borgersag.connectors.zgw_mapping import PARTY_LEVELS, is_uuid, sensitivity_of

__all__ = ["DOCUMENT_STATUS", "document_of", "filename_of"]

DOCUMENT_STATUS = {
    "in_bewerking": DocumentStatus.UNDER_UDARBEJDELSE,
    "ter_vaststelling": DocumentStatus.UNDER_REVIEW,
    "definitief": DocumentStatus.ENDELIGT,
    "gearchiveerd": DocumentStatus.AFLEVERET,
    "": DocumentStatus.MODTAGET,
}


def document_of(r: Reader, body: dict, where: str, source: str) -> Document:
    """The document described by ``body`` (an ``EnkelvoudigInformatieObject``)."""
    url = r.text(body, "url", where, required=True)
    uuid = url.rstrip("/").rsplit("/", 1)[-1]
    if not is_uuid(uuid):
        raise r.fail(f"{where}.url", "ender ikke på en UUID")
    status = (r.text(body, "status", where) or "").strip().lower()
    level = r.text(body, "vertrouwelijkheidaanduiding", where)
    if r.text(body, "ontvangstdatum", where):
        kind = DocumentType.BREV_INDGAAENDE
    elif r.text(body, "verzenddatum", where):
        kind = DocumentType.BREV_UDGAAENDE
    else:
        kind = DocumentType.ANDET
    return Document(
        id=uuid.lower(),
        title=r.text(body, "titel", where) or r.text(body, "bestandsnaam", where) or "Dokument",
        type=kind,
        date=r.date(body, "creatiedatum", where),
        # an unknown status is a draft as far as anyone outside the organisation knows
        status=DOCUMENT_STATUS.get(status, DocumentStatus.UNDER_UDARBEJDELSE),
        sensitivity=sensitivity_of(level),
        party_may_see=(level or "").strip().lower() in PARTY_LEVELS,
        source=source,
        content_hash=content_hash_of(body.get("integriteit")),
    )


DIGESTS = frozenset({"md5", "sha_1", "sha_256", "sha_512", "sha_3"})
"""The ``integriteit.algoritme`` values worth comparing across systems: a CRC or Fletcher
sum collides too easily, and an HMAC is keyed, so it differs between systems anyway."""


def content_hash_of(integriteit: object) -> str | None:
    """``"<algoritme>:<waarde>"`` from a document's ``integriteit``, when it is a digest
    worth comparing; anything else (null, an empty ``waarde`` as Open Zaak gives for a
    document without one, a checksum that is no hex) is no hash at all."""
    if not isinstance(integriteit, dict):
        return None
    algorithm, value = integriteit.get("algoritme"), integriteit.get("waarde")
    if not isinstance(algorithm, str) or algorithm not in DIGESTS or not isinstance(value, str):
        return None
    value = value.strip().lower()
    if not 16 <= len(value) <= 128 or value.strip("0123456789abcdef"):
        return None
    return f"{algorithm}:{value}"


def filename_of(r: Reader, body: dict, media: str) -> tuple[str, str]:
    """The file name and media type to hand a document over with: ``bestandsnaam`` and
    ``formaat`` when the document says them, else the title and the download's type."""
    name = r.text(body, "bestandsnaam", "dokumentet") or r.text(body, "titel", "dokumentet")
    formaat = r.text(body, "formaat", "dokumentet")
    return name or "dokument", (formaat or media or "application/octet-stream").strip()
