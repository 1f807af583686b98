"""The sandbox's channels to citizens: an SMTP catcher, NemSMS and Digital Post.

Strict like the real services: NemSMS refuses a text over 160 characters or a number
that is not Danish; Digital Post wants a MeMo-shaped message to a CPR number it knows.
Each deduplicates on the sender's message id (``messageId``, MeMo's ``messageUUID``,
the e-mail's ``Message-ID``): a message sent twice is delivered once. Fault knobs
(``fail``, ``hang``, ``latency_ms``) work through ``/_sandbox/faults`` as for the other
services; for the SMTP catcher they act on the SMTP conversation too (``fail``: 451).

``GET /_sandbox/messages`` on each lists what was delivered; the SMTP catcher's page
(``/``) shows the mails.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import socket
import threading
from email import message_from_bytes, policy

from flask import Flask, jsonify, render_template_string, request

from borgersag.sandbox.data import Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.service import api_key_check, json_error, make_service_app

__all__ = ["SmtpCatcher", "create_digital_post_app", "create_nemsms_app", "create_smtp_app"]

SMS_LIMIT = 160
PHONE = re.compile(r"^(\+45)?[2-9]\d{7}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
MAX_BODY = 256 * 1024


class _Inbox:
    """Delivered messages by id, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict] = {}

    def add(self, key: str, item: dict) -> bool:
        """Keep ``item``; ``False`` when ``key`` was delivered before (a duplicate)."""
        with self._lock:
            if key in self._items:
                return False
            self._items[key] = item
            return True

    def all(self) -> list[dict]:
        with self._lock:
            return list(self._items.values())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _inbox_routes(app: Flask, inbox: _Inbox) -> None:
    @app.get("/_sandbox/messages")
    def _messages():
        return jsonify({"messages": inbox.all()})

    @app.delete("/_sandbox/messages")
    def _clear():
        inbox.clear()
        return jsonify({"messages": []})


def _body() -> dict | None:
    if (request.content_length or 0) > MAX_BODY:
        return None
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def create_nemsms_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """NemSMS: ``POST /sms`` with ``messageId``, ``recipient`` and ``text``."""
    app = make_service_app("nemsms", "NemSMS", faults or Faults(), authorize=api_key_check())
    inbox = _Inbox()
    _inbox_routes(app, inbox)

    @app.post("/sms")
    def send():
        body = _body()
        if body is None:
            return json_error(400, "Send et JSON-objekt (højst 256 KiB).")
        message_id, to, text = body.get("messageId"), body.get("recipient"), body.get("text")
        if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
            return json_error(422, "messageId mangler eller er ugyldigt.", field="messageId")
        if not isinstance(to, str) or not PHONE.match(to.replace(" ", "")):
            return json_error(422, "recipient skal være et dansk mobilnummer.", field="recipient")
        if not isinstance(text, str) or not text.strip():
            return json_error(422, "text mangler.", field="text")
        if len(text) > SMS_LIMIT:
            return json_error(422, f"text er over {SMS_LIMIT} tegn.", field="text")
        fresh = inbox.add(message_id, {"messageId": message_id, "recipient": to, "text": text})
        return jsonify({"messageId": message_id, "status": "accepted" if fresh else "duplicate"}), (
            201 if fresh else 200
        )

    return app


def create_digital_post_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """Digital Post: ``POST /memo`` with a MeMo-shaped message to a CPR number."""
    app = make_service_app(
        "digitalpost", "Digital Post", faults or Faults(), authorize=api_key_check()
    )
    inbox = _Inbox()
    _inbox_routes(app, inbox)

    @app.post("/memo")
    def send():
        body = _body()
        if body is None:
            return json_error(400, "Send en MeMo-besked som JSON (højst 256 KiB).")
        header = body.get("messageHeader")
        if not isinstance(header, dict):
            return json_error(422, "messageHeader mangler.", field="messageHeader")
        uuid = header.get("messageUUID")
        if not isinstance(uuid, str) or not MESSAGE_ID.match(uuid):
            return json_error(422, "messageUUID mangler eller er ugyldigt.", field="messageUUID")
        recipient = header.get("recipient")
        if not isinstance(recipient, dict) or recipient.get("idType") != "CPR":
            return json_error(422, "recipient skal have idType CPR.", field="recipient")
        cpr = recipient.get("recipientID")
        if not isinstance(cpr, str) or municipality.citizen(cpr) is None:
            return json_error(422, "Modtageren findes ikke i Digital Post.", field="recipientID")
        label = header.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            return json_error(422, "label mangler eller er over 200 tegn.", field="label")
        try:
            files = body["messageBody"]["mainDocument"]["file"]
            text = base64.b64decode(files[0]["content"], validate=True).decode()
        except (KeyError, IndexError, TypeError, binascii.Error, UnicodeDecodeError):
            return json_error(422, "messageBody.mainDocument.file mangler.", field="messageBody")
        fresh = inbox.add(uuid, {"messageUUID": uuid, "cpr": cpr, "label": label, "text": text})
        return jsonify({"messageUUID": uuid, "status": "accepted" if fresh else "duplicate"}), (
            201 if fresh else 200
        )

    return app


PAGE = """<!doctype html><html lang="da"><head><meta charset="utf-8">
<title>Sendte e-mails (sandkasse)</title></head><body><main>
<h1>Sendte e-mails (sandkasse)</h1>
<p>{{ mails|length }} e-mail(s) modtaget af sandkassens SMTP-server.</p>
<table><thead><tr><th>Til</th><th>Emne</th><th>Tekst</th></tr></thead><tbody>
{% for m in mails %}<tr><td>{{ m.to }}</td><td>{{ m.subject }}</td>
<td><pre>{{ m.text }}</pre></td></tr>{% endfor %}
</tbody></table></main></body></html>"""


class SmtpCatcher:
    """An SMTP server (aiosmtpd) keeping what it receives, deduplicated on Message-ID."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self.inbox = _Inbox()
        self.controller = None
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        outcome = await asyncio.get_running_loop().run_in_executor(None, self.faults.before_request)
        if outcome is not None:
            return "451 4.3.0 Simuleret fejl i SMTP-serveren (sandkasse)"
        if len(envelope.content) > MAX_BODY:
            return "552 5.3.4 Beskeden er for stor"
        mail = message_from_bytes(envelope.content, policy=policy.default)
        key = str(mail.get("Message-ID", "")) or f"no-id-{len(self.inbox.all())}"
        body = mail.get_body(preferencelist=("plain",))
        self.inbox.add(
            key,
            {
                "message_id": key,
                "to": ", ".join(envelope.rcpt_tos),
                "from": envelope.mail_from,
                "subject": str(mail.get("Subject", "")),
                "text": body.get_content() if body is not None else "",
            },
        )
        return "250 OK"

    def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: a free port); the port."""
        from aiosmtpd.controller import Controller

        if not port:  # aiosmtpd checks it is up by connecting: it needs the real port
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.controller = Controller(self, hostname=host, port=port, ready_timeout=5)
        self.controller.start()
        self.port = port
        return port

    def stop(self) -> None:
        """Stop listening (safe twice)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def create_smtp_app(municipality: Municipality, faults: Faults | None = None) -> Flask:
    """The SMTP catcher's web page; the catcher itself is ``app.extensions["smtp"]``,
    started by the runner on the SMTP port."""
    faults = faults or Faults()
    app = make_service_app("smtp", "SMTP-serveren", faults)
    catcher = SmtpCatcher(faults)
    app.extensions["smtp"] = catcher
    app.config["SANDBOX_PUBLIC_PATHS"].add("/")
    _inbox_routes(app, catcher.inbox)

    @app.get("/")
    def page():
        return render_template_string(PAGE, mails=catcher.inbox.all())

    return app
