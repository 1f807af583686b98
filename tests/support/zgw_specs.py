"""Validate JSON against the official ZGW OpenAPI specifications (tests only).

The specifications are read once per test session from :data:`SPECS_DIR` — the shared
folder the project was given, when it is there — or else from the copies in
``tests/specs/`` (see the README there), so a clean clone tests the same contract.

``assert_valid(api, schema, body)`` validates ``body`` against
``#/components/schemas/<schema>`` of the ``"zaken"``, ``"catalogi"`` or ``"documenten"``
specification
with openapi-schema-validator's OpenAPI 3.0 read validator (``nullable``, ``readOnly``,
``discriminator`` and formats as OpenAPI 3.0 means them).

``openapi(api)`` is the whole specification as an openapi-core ``OpenAPI`` object, for
validating requests and responses of every operation (``tests/sandbox/test_sandbox_zgw_spec.py``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

SPECS_DIR = Path("/work/shared/specs")
"""Where the project's shared copy of the specifications lives; the repo copy is the fallback."""
REPO_SPECS_DIR = Path(__file__).resolve().parents[1] / "specs"
SPEC_FILES = {
    "zaken": "zgw-zaken-1.5.1.openapi.yaml",
    "catalogi": "zgw-catalogi-1.3.1.openapi.yaml",
    "documenten": "zgw-documenten-1.4.2.openapi.yaml",
}


def spec_path(api: str) -> Path:
    """The specification file of ``api``: the shared one if present, else the repo copy."""
    name = SPEC_FILES[api]
    shared = SPECS_DIR / name
    return shared if shared.is_file() else REPO_SPECS_DIR / name


@functools.cache
def _spec(api: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec_path(api).open(encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    return {
        **spec,
        "paths": _url_parameters(spec["paths"]),
        "components": _pragmatic(spec["components"]),
    }


def _url_parameters(paths: dict[str, Any]) -> dict[str, Any]:
    """A query parameter the spec describes as a "URL-referentie" but types as
    ``integer`` (a generator's slip, e.g. ``statussen?zaak=``) is a URL string, as Open
    Zaak reads it and every client sends it."""
    for operations in paths.values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                described = parameter.get("description", "").startswith("URL-referentie")
                if parameter.get("in") == "query" and described and schema.get("type") == "integer":
                    parameter["schema"] = {"type": "string", "format": "uri"}
    return paths


def components(api: str) -> dict[str, Any]:
    """The spec's ``components``, read pragmatically (see :func:`_pragmatic`)."""
    return _spec(api)["components"]


@functools.cache
def openapi(api: str) -> OpenAPI:
    """The specification of ``api`` for openapi-core, with the same pragmatic reading;
    problem bodies (``application/problem+json``) are read as JSON."""
    config = Config(
        spec_validator_cls=None,  # the published file is the contract as it is
        extra_media_type_deserializers={"application/problem+json": json.loads},
    )
    return OpenAPI.from_dict(_spec(api), config=config)


def _pragmatic(node: Any) -> Any:
    """Two readings the generated specs need:

    * ``nullable: true`` next to ``allOf``/``oneOf`` without a ``type`` (how drf-spectacular
      writes a nullable nested object, e.g. ``Zaak.verlenging``) allows ``null``, as Open
      Zaak means it; a strict OpenAPI 3.0.3 reader would not, since there nullable only
      widens ``type``.
    * A remote ``$ref`` becomes ``{}``: only ``ExpandZaak._expand.zaaktype`` has one (the
      Catalogi API 1.2.0 on GitHub); nothing here sends ``_expand`` or fetches anything.
    """
    if isinstance(node, list):
        return [_pragmatic(item) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        return {}
    converted = {key: _pragmatic(value) for key, value in node.items()}
    composed = any(k in node for k in ("allOf", "oneOf", "anyOf", "$ref"))
    if node.get("nullable") is True and "type" not in node and composed:
        del converted["nullable"]
        return {"anyOf": [{"enum": [None]}, converted]}
    return converted


@functools.cache
def validator(api: str, schema: str) -> OAS30ReadValidator:
    """A validator for ``#/components/schemas/<schema>`` of ``api``."""
    root = {"$ref": f"#/components/schemas/{schema}", "components": components(api)}
    return OAS30ReadValidator(root, format_checker=oas30_format_checker)


def errors(api: str, schema: str, body: Any) -> list[str]:
    """Every violation, as ``path: message`` lines (empty when ``body`` is valid)."""
    found = validator(api, schema).iter_errors(body)
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found)


def assert_valid(api: str, schema: str, body: Any) -> None:
    """Fail with every violation listed when ``body`` does not match ``schema``."""
    problems = errors(api, schema, body)
    assert not problems, f"{schema} ({api}) is invalid:\n" + "\n".join(problems[:20])
