"""Settings of the generic REST connector (type ``rest``), checked into a :class:`Plan`.

Everything a municipality writes in ``[sources.<name>]`` for a ``rest`` source is
checked here at start-up — the top-level keys, the ``search.<kind>`` request templates,
the ``fields`` paths and the ``status_map`` — so a mistake stops the program with one
line naming the key and what was expected, instead of surfacing as a failed lookup.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from borgersag import ConfigError, KeyKind, Progress, Setting, check_range, check_url
from borgersag.connectors.rest_paths import Path, PathSyntaxError, Template
from borgersag.connectors.rest_requests import SearchPlan, build_searches

__all__ = ["FIELDS", "SETTINGS", "Plan", "build_plan", "status_key"]

AUTH_KEYS = {
    "none": (),
    "api_key": ("api_key", "api_key_header"),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "oauth2_client_credentials": ("token_url", "client_id", "client_secret", "scope"),
}
_AUTH_OPTIONAL = {"api_key_header", "scope"}
PAGINATION_KEYS = {
    "none": (),
    "next_link": ("next_link", "max_pages"),
    "page_param": (
        "page_param",
        "page_size_param",
        "page_size",
        "first_page",
        "total",
        "max_pages",
    ),
}

SETTINGS: tuple[Setting, ...] = (
    Setting("base_url", str, "root URL of the API, ending in /, e.g. 'https://api.example.dk/'"),
    Setting(
        "auth", str, "none, api_key, bearer, basic or oauth2_client_credentials", default="none"
    ),
    Setting("api_key", str, "the API key (auth = 'api_key')", default="", secret=True),
    Setting("api_key_header", str, "header that carries the API key", default="X-Api-Key"),
    Setting("token", str, "the static bearer token (auth = 'bearer')", default="", secret=True),
    Setting("username", str, "user name (auth = 'basic')", default=""),
    Setting("password", str, "password (auth = 'basic')", default="", secret=True),
    Setting("token_url", str, "OAuth2 token URL (auth = 'oauth2_client_credentials')", default=""),
    Setting("client_id", str, "OAuth2 client id", default=""),
    Setting("client_secret", str, "OAuth2 client secret", default="", secret=True),
    Setting("scope", str, "OAuth2 scope to ask for; empty for none", default=""),
    Setting(
        "search",
        dict,
        "one table per key kind the API is searched by, e.g. [sources.<name>.search.cpr]"
        " with method, path and body",
    ),
    Setting("items", str, "the path in the response to the list of cases, e.g. 'data.sager[*]'"),
    Setting(
        "fields",
        dict,
        "a table [sources.<name>.fields] with the paths of at least id, title and status",
    ),
    Setting("status_map", dict, "status text -> opstaaet/oplyst/afgjort/afsluttet", default={}),
    Setting("status_default", str, "progress of a status not in status_map", default=""),
    Setting("date_format", str, "'iso' or a strptime format such as '%d-%m-%Y'", default="iso"),
    Setting("pagination", str, "none, next_link or page_param", default="none"),
    Setting("next_link", str, "path to the next page's URL in the response", default=""),
    Setting("page_param", str, "query parameter with the page number", default=""),
    Setting("page_size_param", str, "query parameter with the page size", default=""),
    Setting("page_size", int, "cases per page (1-1000)", default=50),
    Setting("first_page", int, "number of the first page (0 or 1)", default=1),
    Setting("total", str, "path to the total number of cases in the response", default=""),
    Setting("max_pages", int, "most requests per lookup (1-100)", default=0),
    Setting("detail_path", str, "path of one case with {id}; empty: no detail", default=""),
    Setting("detail_record", str, "path to the case in the detail response", default=""),
    Setting("area", str, "fagområde shown for every case, e.g. 'Byggeri'", default=""),
    Setting("join_key_template", str, "join key with {sagsnummer} or {id}", default=""),
    Setting("deep_link_template", str, "link into the system with {id}/{sagsnummer}", default=""),
    Setting("health_path", str, "path of a cheap GET that proves the API answers", default=""),
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One entry of ``[sources.<name>.fields]``: what its path must point at."""

    name: str
    holds: str
    example: str
    required: bool = False


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "the case's id in the system (used in links and detail_path)", "id", True),
    FieldSpec("title", "the case's title", "titel", True),
    FieldSpec("status", "the case's status, mapped with status_map", "status.navn", True),
    FieldSpec("sagsnummer", "the case number people know (default: the id)", "sagsnummer"),
    FieldSpec("status_date", "the date the current status was set", "status.dato"),
    FieldSpec("history", "the status history, a list ending in [*]", "statushistorik[*]"),
    FieldSpec("history_status", "each history entry's status (within the entry)", "status"),
    FieldSpec("history_date", "each history entry's date (within the entry)", "dato"),
    FieldSpec("opened", "the date the case was opened", "modtaget"),
    FieldSpec("closed", "the date the case was closed", "afsluttet"),
    FieldSpec("deadline", "the case's deadline", "frist"),
    FieldSpec("kle", "the KLE number", "kle"),
    FieldSpec("unit", "the responsible unit's name", "enhed.navn"),
    FieldSpec("caseworker_name", "the caseworker's name", "sagsbehandler.navn"),
    FieldSpec("caseworker_number", "the caseworker's medarbejdernummer", "sagsbehandler.nr"),
    FieldSpec("party_cpr", "the primary party's CPR number", "part.cpr"),
    FieldSpec("bfe", "the BFE number of the property", "ejendom.bfe"),
    FieldSpec("ejerlav", "the parcel's ejerlavskode", "ejendom.ejerlavskode"),
    FieldSpec("matrikelnummer", "the parcel's matrikelnummer", "ejendom.matrikelnummer"),
)
_FIELDS = {f.name: f for f in FIELDS}
_TOGETHER = (("history", "history_status", "history_date"), ("ejerlav", "matrikelnummer"))

_CASE_PLACEHOLDERS = {"sagsnummer": "the case number", "id": "the case's id"}


@dataclass(frozen=True, slots=True)
class Plan:
    """The checked, parsed form of a ``rest`` source's settings."""

    searches: Mapping[KeyKind, SearchPlan]
    items: Path
    fields: Mapping[str, Path]
    status_map: Mapping[str, Progress]  # keys normalised with status_key()
    status_default: Progress | None
    next_link: Path | None
    total: Path | None
    detail_path: Template | None
    detail_record: Path | None
    join_key: Template | None
    deep_link: Template | None


def status_key(text: str) -> str:
    """A status text as status_map matches it: case and spacing do not matter."""
    return " ".join(text.split()).casefold()


def build_plan(settings: Mapping[str, Any], raw: Mapping[str, Any], file: str, at: str) -> Plan:
    """Check settings already validated by type (and the ``raw`` table, to tell which
    keys were written); raise :class:`ConfigError` with the key and what was expected."""
    check_url(settings["base_url"], file, at + "base_url")
    _check_auth(settings, raw, file, at)
    _check_pagination(settings, raw, file, at)
    _check_date_format(settings["date_format"], file, at + "date_format")
    progress = ", ".join(p.value for p in Progress)
    status_default = None
    if settings["status_default"]:
        status_default = _progress(settings["status_default"], file, at + "status_default")
    status_map = {}
    for text, value in settings["status_map"].items():
        key = f"{at}status_map.{_quote_key(text)}"
        if not status_key(text):
            raise ConfigError(file, key, "a status text that is not empty")
        if not isinstance(value, str):
            raise ConfigError(file, key, f"one of {progress} as a string")
        if status_key(text) in status_map:
            raise ConfigError(file, key, "each status once (case and spacing do not count)")
        status_map[status_key(text)] = _progress(value, file, key)
    if not status_map and status_default is None:
        raise ConfigError(
            file,
            at + "status_map",
            f"missing; a table mapping the API's status texts to progress ({progress}), e.g."
            f' [{at}status_map] "Under behandling" = "oplyst" — or set status_default',
        )
    items = _path(settings["items"], file, at + "items", "'data.sager[*]'")
    if items.wildcards == 0:
        raise ConfigError(
            file,
            at + "items",
            f"a path that ends in [*] to select every case, e.g. '{settings['items']}[*]'",
        )
    examples = {"next_link": "'links.next'", "total": "'antal'", "detail_record": "'data'"}
    optional = {
        name: _path(settings[name], file, at + name, example, single=True)
        if settings[name]
        else None
        for name, example in examples.items()
    }
    if settings["detail_record"] and not settings["detail_path"]:
        raise ConfigError(file, at + "detail_record", "only used together with detail_path")
    return Plan(
        searches=build_searches(settings["search"], settings["pagination"], file, at),
        items=items,
        fields=_fields(settings["fields"], file, at),
        status_map=status_map,
        status_default=status_default,
        next_link=optional["next_link"],
        total=optional["total"],
        detail_path=_template(
            settings, "detail_path", {"id": "the case's id"}, "'api/sager/{id}'", file, at
        ),
        detail_record=optional["detail_record"],
        join_key=_template(
            settings, "join_key_template", _CASE_PLACEHOLDERS, "'byggesag:{sagsnummer}'", file, at
        ),
        deep_link=_template(
            settings,
            "deep_link_template",
            _CASE_PLACEHOLDERS,
            "'https://system.example.dk/sag/{id}'",
            file,
            at,
        ),
    )


def _check_auth(settings: Mapping[str, Any], raw: Mapping[str, Any], file: str, at: str) -> None:
    mode = settings["auth"]
    if mode not in AUTH_KEYS:
        raise ConfigError(file, at + "auth", f"one of {', '.join(AUTH_KEYS)}, got {mode!r}")
    _only_with("auth", AUTH_KEYS, mode, raw, file, at)
    for name in AUTH_KEYS[mode]:
        if name not in _AUTH_OPTIONAL and not settings[name].strip():
            setting = next(s for s in SETTINGS if s.name == name)
            raise ConfigError(
                file, at + name, f'missing; {setting.description}, for auth = "{mode}"'
            )
    if mode == "oauth2_client_credentials":
        check_url(settings["token_url"], file, at + "token_url")


def _check_pagination(
    settings: Mapping[str, Any], raw: Mapping[str, Any], file: str, at: str
) -> None:
    mode = settings["pagination"]
    if mode not in PAGINATION_KEYS:
        raise ConfigError(file, at + "pagination", f"one of {', '.join(PAGINATION_KEYS)}")
    _only_with("pagination", PAGINATION_KEYS, mode, raw, file, at)
    if mode == "none":
        return
    if not settings["max_pages"]:
        raise ConfigError(
            file,
            at + "max_pages",
            "missing; the most requests per lookup (1-100), which"
            " bounds the pagination so one lookup cannot run away",
        )
    check_range(settings["max_pages"], 1, 100, file, at + "max_pages")
    if mode == "next_link" and not settings["next_link"]:
        raise ConfigError(
            file,
            at + "next_link",
            "missing; the path in the response to the next page's URL, e.g. 'links.next'",
        )
    if mode == "page_param":
        if not settings["page_param"].strip():
            raise ConfigError(
                file,
                at + "page_param",
                "missing; the query parameter with the page number, e.g. 'page'",
            )
        check_range(settings["page_size"], 1, 1000, file, at + "page_size")
        check_range(settings["first_page"], 0, 1, file, at + "first_page")


def _only_with(
    setting: str, modes: Mapping[str, tuple[str, ...]], mode: str, raw: Mapping, file: str, at: str
) -> None:
    """A key of another mode that was set: the author has probably mixed two up.

    A key at its default passes, so validated settings validate again.
    """
    defaults = {s.name: s.default for s in SETTINGS}
    for name in dict.fromkeys(n for keys in modes.values() for n in keys):
        if raw.get(name, defaults[name]) != defaults[name] and name not in modes[mode]:
            users = " or ".join(f'"{m}"' for m, keys in modes.items() if name in keys)
            raise ConfigError(
                file, at + name, f'only used with {setting} = {users} ({setting} is "{mode}")'
            )


def _check_date_format(value: str, file: str, key: str) -> None:
    if value == "iso":
        return
    sample = dt.date(2024, 11, 23)
    try:
        ok = dt.datetime.strptime(sample.strftime(value), value).date() == sample
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(
            file, key, "'iso' or a strptime format with day, month and year, e.g. '%d-%m-%Y'"
        )


def _progress(value: str, file: str, key: str) -> Progress:
    try:
        return Progress(value.strip().lower())
    except ValueError:
        names = ", ".join(p.value for p in Progress)
        raise ConfigError(file, key, f"one of {names}, got {value!r}") from None


def _quote_key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _path(text: Any, file: str, key: str, example: str, *, single: bool = False) -> Path:
    if not isinstance(text, str):
        raise ConfigError(file, key, f"expected a path (a string) like {example}")
    try:
        path = Path.parse(text)
    except PathSyntaxError as exc:
        raise ConfigError(
            file,
            key,
            f"a path like {example} — dotted names, [n] for the n-th element, [*] for every"
            f" element ({exc} in {text!r})",
        ) from None
    if single and path.wildcards:
        raise ConfigError(
            file, key, "a path to one value; [*] selects many (use [0] for the first)"
        )
    return path


def _fields(raw: Mapping[str, Any], file: str, at: str) -> dict[str, Path]:
    prefix = at + "fields."
    for name in raw:
        if name not in _FIELDS:
            raise ConfigError(
                file, prefix + name, f"unknown field (known: {', '.join(sorted(_FIELDS))})"
            )
    paths = {}
    for spec in FIELDS:
        key = prefix + spec.name
        if spec.name not in raw:
            if spec.required:
                raise ConfigError(
                    file,
                    key,
                    f"missing; the path in the response that holds {spec.holds},"
                    f" e.g. '{spec.example}'",
                )
            continue
        many = spec.name == "history"
        path = _path(raw[spec.name], file, key, f"'{spec.example}'", single=not many)
        if many and path.wildcards != 1:
            raise ConfigError(file, key, f"a path with one [*], e.g. '{spec.example}'")
        paths[spec.name] = path
    for group in _TOGETHER:
        given = [name for name in group if name in paths]
        if given and len(given) < len(group):
            missing = next(name for name in group if name not in paths)
            raise ConfigError(
                file,
                prefix + missing,
                f"missing; {', '.join(group)} go together: the path that holds"
                f" {_FIELDS[missing].holds}, e.g. '{_FIELDS[missing].example}'",
            )
    return paths


def _template(
    settings: Mapping[str, Any],
    name: str,
    allowed: Mapping[str, str],
    example: str,
    file: str,
    at: str,
) -> Template | None:
    """A template setting with at least one placeholder, or ``None`` when empty."""
    if not settings[name]:
        return None
    try:
        template = Template.parse(settings[name], allowed)
    except PathSyntaxError as exc:
        raise ConfigError(file, at + name, str(exc)) from None
    if not template.names:
        raise ConfigError(
            file,
            at + name,
            f"a template with {' or '.join('{' + n + '}' for n in allowed)}, e.g. {example}"
            " (without one, every case would get the same value)",
        )
    if name == "deep_link_template":
        check_url(settings[name], file, at + name)
    elif "://" in settings[name] and name == "detail_path":
        raise ConfigError(file, at + name, f"a path relative to base_url, e.g. {example}")
    return template
