"""The ``rest`` connector's search requests: one template per key kind.

``[sources.<name>.search.<kind>]`` says how the API is asked for the cases of one key
kind: ``method`` (GET or POST), ``path`` and ``query`` with placeholders, for POST a JSON
``body``, and the ``format`` of the key. A CPR number is refused in a URL (path or query)
unless the author sets ``allow_key_in_url = true``: URLs end up in access logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from borgersag import ConfigError, Key, KeyKind
from borgersag.connectors.rest_paths import PathSyntaxError, Template

__all__ = ["FORMATS", "SEARCH_KEYS", "SearchPlan", "build_searches"]

SEARCH_KEYS = ("method", "path", "query", "body", "format", "allow_key_in_url")
FORMATS = {"plain": None, "dashed": {KeyKind.CPR}, "number": {KeyKind.BFE, KeyKind.CVR}}
_KEY_PLACEHOLDERS = {"value": "the key being searched for"}
_MATRIKEL_PLACEHOLDERS = {
    **_KEY_PLACEHOLDERS,
    "ejerlav": "the ejerlavskode",
    "matrikelnr": "the matrikelnummer",
}
_CPR_IN_URL = (
    "a CPR number must not appear in a URL (URLs are written to the access logs of web"
    ' servers and proxies); send it in the body with method = "POST" and, e.g.,'
    ' body = { cpr = "{value}" } — only if the API offers no other way, set'
    " allow_key_in_url = true"
)


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How to ask the API for the cases of one key kind."""

    kind: KeyKind
    method: str
    path: Template
    query: tuple[tuple[str, Template], ...]
    body: Any  # JSON with a Template in place of every string; None for GET
    format: str

    def render(self, key: Key) -> tuple[str, dict[str, str], Any]:
        """The request for ``key``: the path (escaped), the query and the JSON body."""
        values = {"value": key.value}
        if self.format == "dashed":
            values["value"] = f"{key.value[:6]}-{key.value[6:]}"
        if key.kind is KeyKind.MATRIKEL:
            ejerlav, _, nr = key.value.partition("-")
            values.update(ejerlav=ejerlav, matrikelnr=nr)
        path = self.path.render(values, lambda v: quote(v, safe=""))
        query = {name: template.render(values) for name, template in self.query}
        return path, query, _render(self.body, values, numbers=self.format == "number")


def build_searches(
    raw: Mapping[str, Any], pagination: str, file: str, at: str
) -> dict[KeyKind, SearchPlan]:
    """Check every ``[<at>search.<kind>]`` table; raise :class:`ConfigError` naming the key."""
    kinds = ", ".join(k.value for k in KeyKind)
    if not raw:
        raise ConfigError(
            file,
            at + "search",
            f"at least one table [{at}search.<kind>] with <kind> one of {kinds}",
        )
    plans = {}
    for kind_name, table in raw.items():
        prefix = f"{at}search.{kind_name}"
        try:
            kind = KeyKind(kind_name)
        except ValueError:
            raise ConfigError(
                file, prefix, f"a key kind this connector can search by: one of {kinds}"
            ) from None
        if not isinstance(table, Mapping):
            raise ConfigError(file, prefix, f"a table [{prefix}] with method, path and body")
        plans[kind] = _search(kind, table, file, prefix + ".", pagination)
    return plans


def _search(kind: KeyKind, raw: Mapping[str, Any], file: str, at: str, pagination: str):
    for name in raw:
        if name not in SEARCH_KEYS:
            raise ConfigError(file, at + name, f"unknown setting (known: {', '.join(SEARCH_KEYS)})")
    method = raw.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in ("GET", "POST"):
        raise ConfigError(file, at + "method", '"GET" or "POST"')
    method = method.upper()
    fmt = raw.get("format", "plain")
    if fmt not in FORMATS:
        raise ConfigError(file, at + "format", f"one of {', '.join(FORMATS)}")
    if FORMATS[fmt] is not None and kind not in FORMATS[fmt]:
        only = " and ".join(sorted(k.value for k in FORMATS[fmt]))
        raise ConfigError(file, at + "format", f'"{fmt}" only for {only} keys; use "plain"')
    allow = raw.get("allow_key_in_url", False)
    if not isinstance(allow, bool):
        raise ConfigError(file, at + "allow_key_in_url", "true or false")
    if allow and kind is not KeyKind.CPR:
        raise ConfigError(file, at + "allow_key_in_url", "only used in the cpr search")
    allowed = _MATRIKEL_PLACEHOLDERS if kind is KeyKind.MATRIKEL else _KEY_PLACEHOLDERS
    if "path" not in raw:
        raise ConfigError(
            file, at + "path", "missing; the request's path relative to base_url, e.g. 'api/sager'"
        )
    path = _parse(raw["path"], allowed, file, at + "path")
    if "://" in raw["path"]:
        raise ConfigError(file, at + "path", "a path relative to base_url, e.g. 'api/sager'")
    query_raw = raw.get("query", {})
    if not isinstance(query_raw, Mapping):
        raise ConfigError(file, at + "query", 'a table of parameters, e.g. { bfe = "{value}" }')
    query = tuple(
        (name, _parse(value, allowed, file, f"{at}query.{name}"))
        for name, value in query_raw.items()
    )
    in_url = [(at + "path", path)] + [(f"{at}query.{n}", t) for n, t in query]
    if kind is KeyKind.CPR and not allow:
        for key, template in in_url:
            if template.names:
                raise ConfigError(file, key, _CPR_IN_URL)
    body = None
    if method == "GET" and "body" in raw:
        raise ConfigError(file, at + "body", 'only used with method = "POST" (GET has no body)')
    if method == "POST":
        body = _body(raw.get("body"), allowed, file, at + "body")
        if pagination == "page_param" and not isinstance(body, dict):
            raise ConfigError(
                file, at + "body", "a table: pagination adds the page parameters to the body"
            )
    sent = any(t.names for _, t in in_url) or bool(_body_names(body))
    if not sent:
        where = "path, query or body" if method == "POST" else "path or query"
        raise ConfigError(file, at.rstrip("."), f"the key to be sent: put {{value}} in {where}")
    return SearchPlan(kind, method, path, query, body, fmt)


def _parse(value: Any, allowed: Mapping[str, str], file: str, key: str) -> Template:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ConfigError(file, key, "expected a string, e.g. '{value}'")
    try:
        return Template.parse(value, allowed)
    except PathSyntaxError as exc:
        raise ConfigError(file, key, str(exc)) from None


def _body(raw: Any, allowed: Mapping[str, str], file: str, key: str) -> Any:
    example = 'body = { cpr = "{value}" } or body = \'{"cpr": "{value}"}\''
    if raw is None:
        raise ConfigError(file, key, f"missing; the JSON body of the POST, e.g. {example}")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(file, key, f"valid JSON ({exc}), e.g. {example}") from None

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, str):
            return _parse(value, allowed, file, where)
        if isinstance(value, Mapping):
            return {k: walk(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    return walk(raw, key)


def _body_names(body: Any) -> set[str]:
    if isinstance(body, Template):
        return set(body.names)
    if isinstance(body, dict):
        return set().union(*(_body_names(v) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(_body_names(v) for v in body))
    return set()


def _render(body: Any, values: Mapping[str, str], *, numbers: bool) -> Any:
    """The JSON body with every template rendered; a lone ``{value}`` of a ``number``
    format becomes a JSON number."""
    if isinstance(body, Template):
        if numbers and body.single == "value":
            return int(values["value"])
        return body.render(values)
    if isinstance(body, dict):
        return {k: _render(v, values, numbers=numbers) for k, v in body.items()}
    if isinstance(body, list):
        return [_render(v, values, numbers=numbers) for v in body]
    return body
