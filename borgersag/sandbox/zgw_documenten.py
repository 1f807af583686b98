"""The sandbox's Documenten API 1.4.2: a zaak's documents and their content.

``GET enkelvoudiginformatieobjecten`` (a paginated list), ``…/{uuid}`` and
``…/{uuid}/download`` (the bytes, ``application/octet-stream``). A document above the
client's maximum confidentiality is left out of the list, and a GET on it is 403. Which
documents belong to a zaak is the Zaken API's ``zaakinformatieobjecten``.
"""

from __future__ import annotations

from flask import Flask, Response, request

from borgersag.sandbox.zgw_data import ZgwRegister
from borgersag.sandbox.zgw_http import PAGING, forbidden, not_found, page, query, visible
from borgersag.sandbox.zgw_json import Urls, informatieobject_json

__all__ = ["add_documenten_api"]


def add_documenten_api(app: Flask, prefix: str, register: ZgwRegister) -> None:
    """Serve the Documenten API of ``register`` under ``prefix`` on ``app``."""

    def urls() -> Urls:
        return Urls(request.host_url)

    @app.get(prefix + "enkelvoudiginformatieobjecten")
    def informatieobjecten_list():
        query(PAGING)
        found = [
            doc
            for zaak in register.zaken
            for doc in zaak.documenten
            if visible(zaak.vertrouwelijkheid) and visible(doc.vertrouwelijkheid)
        ]
        return page(found, lambda doc: informatieobject_json(urls(), doc))

    def lookup(doc_uuid: str):
        found = register.document(doc_uuid)
        if found is None:
            return None, not_found("enkelvoudiginformatieobject")
        zaak, doc = found
        if not (visible(zaak.vertrouwelijkheid) and visible(doc.vertrouwelijkheid)):
            return None, forbidden()
        return doc, None

    @app.get(prefix + "enkelvoudiginformatieobjecten/<doc_uuid>")
    def informatieobject_detail(doc_uuid: str):
        query({"versie", "registratieOp", "expand"})
        doc, refused = lookup(doc_uuid)
        if refused is not None:
            return refused
        response = app.json.response(informatieobject_json(urls(), doc))
        response.headers["ETag"] = f'"{doc.uuid[:8]}-1"'
        return response

    @app.get(prefix + "enkelvoudiginformatieobjecten/<doc_uuid>/download")
    def informatieobject_download(doc_uuid: str):
        query({"versie", "registratieOp"})
        doc, refused = lookup(doc_uuid)
        if refused is not None:
            return refused
        return Response(
            doc.content,
            mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{doc.bestandsnaam}"'},
        )
