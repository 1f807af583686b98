"""What a refusing API says was wrong: the reasons in a problem body (RFC 7807).

A 400 that only says "HTTP 400" leaves an operator guessing. Many APIs answer with a
problem body naming each bad parameter — the ZGW APIs (Open Zaak) as ``invalidParams``
with ``name``, ``code`` and ``reason``, RFC 7807's example as ``invalid-params`` — and
:func:`problem_reasons` turns that into one short line for the error message. A CPR
number the server echoes back is masked: error messages never hold one.
"""

from __future__ import annotations

from typing import Any

import requests

from borgersag.runtime.logmask import mask_cpr

__all__ = ["problem_reasons"]

MAX_REASONS = 3
MAX_TEXT = 120
MAX_BODY = 64 * 1024  # a problem body is small; a big one is not read for reasons
_LISTS = ("invalidParams", "invalid-params", "invalid_params")


def problem_reasons(response: requests.Response) -> str | None:
    """``"zaak: Ongeldige URL; pageSize: Een geheel getal"`` from a JSON problem body, or
    ``None`` when the body says nothing usable."""
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not (media.endswith("/json") or media.endswith("+json")):
        return None
    if len(response.content) > MAX_BODY:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    reasons = []
    for name in _LISTS:
        items = body.get(name)
        if isinstance(items, list):
            reasons += [r for item in items if (r := _reason(item))]
    if not reasons and isinstance(body.get("detail"), str) and body["detail"].strip():
        reasons.append(_short(body["detail"]))
    if not reasons:
        return None
    more = len(reasons) - MAX_REASONS
    text = "; ".join(reasons[:MAX_REASONS]) + (f" (og {more} mere)" if more > 0 else "")
    return mask_cpr(text)


def _reason(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    reason = item.get("reason") or item.get("detail") or item.get("code")
    if not isinstance(reason, str) or not reason.strip():
        return None
    name = item.get("name")
    prefix = f"{_short(name)}: " if isinstance(name, str) and name.strip() else ""
    return prefix + _short(reason)


def _short(text: str) -> str:
    # masked before it is cut: a CPR number cut in two would no longer look like one
    text = mask_cpr(" ".join(text.split()))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
