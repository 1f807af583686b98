"""Start the sandbox municipality: HTTP services on loopback, each in its own thread.

Case systems and registers (``esdh``, ``ejerfortegnelse``, ``byggesag``, ``zgw``,
``momentum``, ``os2mo``, the person register ``cpr``), two OpenID Connect identity
providers (``mitid`` for citizens, ``medarbejderlogin`` for staff) and the channels to
citizens (``smtp``: an SMTP catcher with a web page, ``nemsms``, ``digitalpost``).

>>> with start_sandbox({"services": {"esdh": {"latency_ms": 50}}}) as sandbox:
...     sandbox.url("esdh")          # 'http://127.0.0.1:54321/'
...     sandbox.faults("esdh").update(fail="500")
...     sandbox.source_config()      # the [sources] tables for the built-in connectors
...     sandbox.issuer("mitid")      # 'http://127.0.0.1:54322'

Settings come from the ``[sandbox]`` TOML table and are validated by
:func:`~borgersag.sandbox.section.validate_sandbox_settings`, which raises
:class:`~borgersag.sdk.errors.ConfigError` with one line naming the key.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from borgersag.sandbox import (
    byggesag,
    cpr_register,
    ejerfortegnelse,
    esdh,
    idp,
    messaging,
    momentum,
    os2mo,
    zgw,
)
from borgersag.sandbox.data import Municipality
from borgersag.sandbox.faults import Faults
from borgersag.sandbox.generator import generate
from borgersag.sandbox.section import SandboxSettings, validate_sandbox_settings
from borgersag.sandbox.service import API_KEY, API_KEY_HEADER
from borgersag.sdk.errors import ConfigError

__all__ = [
    "IDENTITY_PROVIDERS",
    "SERVICES",
    "Sandbox",
    "start_sandbox",
    "validate_sandbox_settings",
]

SERVICES: dict[str, Callable[[Municipality, Faults], Flask]] = {
    "esdh": esdh.create_app,
    "ejerfortegnelse": ejerfortegnelse.create_app,
    "byggesag": byggesag.create_app,
    "mitid": idp.create_mitid_app,
    "medarbejderlogin": idp.create_staff_idp_app,
    "zgw": zgw.create_app,
    "momentum": momentum.create_app,
    "os2mo": os2mo.create_app,
    "cpr": cpr_register.create_app,
    "smtp": messaging.create_smtp_app,
    "nemsms": messaging.create_nemsms_app,
    "digitalpost": messaging.create_digital_post_app,
}
IDENTITY_PROVIDERS = ("mitid", "medarbejderlogin")
# The mock providers accept any client; these match config/portal.toml.
DEMO_CLIENT_ID = "borgersag-demo"
DEMO_CLIENT_SECRET = "sandbox-secret"


def _listen(host: str, port: int, app: Flask, file: str, key: str) -> BaseWSGIServer:
    """A threaded server on ``host:port``; a busy port is a :class:`ConfigError`.

    Werkzeug prints and exits on a busy port, so the port is tried with a plain socket
    first (and the exit caught, for the rare race).
    """
    if port:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise ConfigError(file, key, f"a free port ({exc.strerror or exc})") from None
    try:
        return make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    except (OSError, SystemExit):
        raise ConfigError(file, key, f"a free port ({port} is in use)") from None


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log: the sandbox should not fill the demo's console."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class _Running:
    server: BaseWSGIServer
    thread: threading.Thread
    faults: Faults
    url: str
    smtp: messaging.SmtpCatcher | None = None


class Sandbox:
    """The running sandbox services. Use as a context manager or call :meth:`stop`."""

    def __init__(self, municipality: Municipality, services: dict[str, _Running], host: str):
        self.municipality = municipality
        self._services = services
        self._host = host
        self._stopped = False

    def url(self, service: str) -> str:
        """Base URL of a service, ending in ``/``."""
        return self._get(service).url

    def faults(self, service: str) -> Faults:
        """The live fault knobs of a service."""
        return self._get(service).faults

    def issuer(self, service: str) -> str:
        """OpenID Connect issuer of an identity provider (``mitid``, ``medarbejderlogin``):
        its base URL without the trailing ``/``, as in its discovery document."""
        if service not in IDENTITY_PROVIDERS:
            raise KeyError(
                f"{service!r} is not a sandbox identity provider"
                f" (known: {', '.join(IDENTITY_PROVIDERS)})"
            )
        return self.url(service).rstrip("/")

    @property
    def smtp_port(self) -> int:
        """The SMTP port of the e-mail catcher (its web page is :meth:`url` ``("smtp")``)."""
        catcher = self._get("smtp").smtp
        assert catcher is not None
        return catcher.port

    def notify_config(self) -> dict[str, Any]:
        """``[notify]`` channel tables pointing the senders at this sandbox."""
        return {
            "email": {"host": self._host, "port": self.smtp_port, "timeout_seconds": 5.0},
            "sms": {"url": self.url("nemsms"), "api_key": API_KEY, "timeout_seconds": 5.0},
            "digital_post": {
                "url": self.url("digitalpost"),
                "api_key": API_KEY,
                "timeout_seconds": 5.0,
                "sender_cvr": "29189854",
            },
        }

    def reset_faults(self) -> None:
        """Make every service healthy again (releases hanging requests)."""
        for running in self._services.values():
            running.faults.reset()

    def auth_config(self) -> dict[str, dict[str, Any]]:
        """``[auth]`` tables pointing both logins at this sandbox's identity providers,
        as config/portal.toml does for the demo."""
        return {
            "citizen": {
                "title": "MitID",
                "issuer": self.issuer("mitid"),
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "profile": "signicat",
            },
            "caseworker": {
                "title": "kommunens login",
                "issuer": self.issuer("medarbejderlogin"),
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "profile": "standard",
            },
        }

    def source_config(self) -> dict[str, dict[str, Any]]:
        """``[sources]`` tables pointing the built-in connectors at this sandbox.

        Keys are source names; each value has ``type`` plus that connector's settings,
        credentials included.
        """
        esdh_url = self.url("esdh")
        return {
            "sbsys": {
                "type": "sbsys",
                "title": "SBSYS (sandkasse)",
                "base_url": esdh_url,
                "token_url": esdh_url + "connect/token",
                **esdh.CREDENTIALS,
            },
            "ejerfortegnelse": {
                "type": "ejerfortegnelse",
                "title": "Ejerfortegnelsen (sandkasse)",
                "base_url": self.url("ejerfortegnelse"),
                "api_key": API_KEY,
                "api_key_header": API_KEY_HEADER,
            },
            "byggesag": {
                "type": "byggesag",
                "title": "Byggesager (sandkasse)",
                "base_url": self.url("byggesag"),
                "api_key": API_KEY,
                "api_key_header": API_KEY_HEADER,
            },
            "zgw": {
                "type": "zgw",
                "title": "Open Zaak (sandkasse)",
                "base_url": self.url("zgw") + "zaken/api/v1/",
                "catalogi_url": self.url("zgw") + "catalogi/api/v1/",
                "documenten_url": self.url("zgw") + "documenten/api/v1/",
                "max_confidentiality": zgw.CLIENTS[zgw.CREDENTIALS["client_id"]].max_level,
                **zgw.CREDENTIALS,
            },
            "momentum": {
                "type": "momentum",
                "title": "Momentum (sandkasse)",
                "base_url": self.url("momentum"),
                "token_url": self.url("momentum") + momentum.TOKEN_PATH,
                **momentum.CREDENTIALS,
            },
            "os2mo": {
                "type": "os2mo",
                "title": "OS2mo (sandkasse)",
                "base_url": self.url("os2mo"),
                "token_url": self.url("os2mo") + os2mo.TOKEN_PATH,
                **os2mo.CREDENTIALS,
            },
            "cpr": {
                "type": "cpr_register",
                "title": "CPR-registret (sandkasse)",
                "base_url": self.url("cpr"),
                "api_key": API_KEY,
                "api_key_header": API_KEY_HEADER,
            },
        }

    def stop(self) -> None:
        """Stop every service; hanging requests are released first. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        for running in self._services.values():
            running.faults.close()
        for running in self._services.values():
            if running.smtp is not None:
                running.smtp.stop()
            running.server.shutdown()
            running.server.server_close()
            running.thread.join(timeout=5)

    def _get(self, service: str) -> _Running:
        try:
            return self._services[service]
        except KeyError:
            raise KeyError(
                f"no sandbox service {service!r} (known: {', '.join(SERVICES)})"
            ) from None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox(
    settings: SandboxSettings | Mapping[str, Any] | None = None,
    *,
    municipality: Municipality | None = None,
    file: str = "<sandbox settings>",
) -> Sandbox:
    """Generate the municipality (unless given) and start every service.

    ``settings`` is a validated ``config.section(SANDBOX)`` or a raw ``[sandbox]`` table.
    """
    if isinstance(settings, SandboxSettings):
        config = settings
    else:
        config = validate_sandbox_settings(settings, file)
    municipality = municipality or generate(config.seed)
    host = config.host
    started: dict[str, _Running] = {}
    try:
        for name, factory in SERVICES.items():
            service = config.services[name]
            faults = Faults(service.faults, seed=config.seed)
            app = factory(municipality, faults)
            server = _listen(host, service.port, app, file, f"sandbox.services.{name}.port")
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sandbox-{name}",
                daemon=True,
            )
            thread.start()
            shown = f"[{host}]" if ":" in host else host
            started[name] = _Running(server, thread, faults, f"http://{shown}:{server.port}/")
            catcher = app.extensions.get("smtp")
            if catcher is not None:
                try:
                    catcher.start(host, config.smtp_port)
                except OSError as exc:
                    raise ConfigError(file, "sandbox.smtp_port", f"a free port ({exc})") from None
                started[name].smtp = catcher
    except BaseException:
        Sandbox(municipality, started, host).stop()
        raise
    return Sandbox(municipality, started, host)
