"""The two tiny languages of the ``rest`` connector's config: paths and templates.

**Paths** point into a JSON answer: dotted names, ``[n]`` for the n-th element of a list
(``[-1]`` is the last), ``[*]`` for every element, ``["odd name"]`` for a name with dots
or spaces, and an optional leading ``$``. ``data.sager[*]``, ``status.navn``,
``parter[0].cpr``. Nothing is evaluated: a path is parsed once, at start-up, into steps.

**Templates** are strings with placeholders in braces (``api/sager/{value}``); ``{{`` and
``}}`` stand for literal braces. Which placeholder names are allowed depends on where the
template is used, and is checked by the caller at start-up.

Errors while reading an answer are :class:`PathError` with the concrete place (e.g.
``sager[3].status``) and the problem in Danish — never the value found there, which may be
a CPR number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "WILD", "Path", "PathError", "PathSyntaxError", "Template", "describe"]

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""What :meth:`Path.get` returns when a name is absent, null or out of range."""

WILD: Any = type("Wild", (), {"__repr__": lambda self: "[*]"})()
"""The ``[*]`` step of a :class:`Path`."""

_NAME = re.compile(r"[^.\[\]\s\"'{}]+")
_BRACKET = re.compile(r"\[\s*(\*|-?\d+|\"[^\"]*\"|'[^']*')\s*\]")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class PathSyntaxError(ValueError):
    """A path or template in config that cannot be parsed; ``str()`` says why."""


class PathError(Exception):
    """An answer that does not have the shape the config describes."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where} {problem}")
        self.where = where
        self.problem = problem


def describe(value: Any) -> str:
    """The kind of a JSON value in Danish words (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "sand/falsk"
    for typ, word in ((dict, "et objekt"), (list, "en liste"), (str, "en tekst")):
        if isinstance(value, typ):
            return word
    return "et tal" if isinstance(value, int | float) else type(value).__name__


@dataclass(frozen=True, slots=True)
class Path:
    """A parsed path: the text as written and its steps (name, index or :data:`WILD`)."""

    text: str
    steps: tuple[Any, ...]

    @classmethod
    def parse(cls, text: Any) -> Path:
        """Parse ``text``; raises :class:`PathSyntaxError` saying what is wrong and where."""
        if not isinstance(text, str) or not text.strip():
            raise PathSyntaxError("a path is a non-empty string")
        steps: list[Any] = []
        i = 1 if text.startswith("$") else 0
        if i and text[i : i + 1] == ".":
            i += 1
        while i < len(text):
            if text[i] == "[":
                match = _BRACKET.match(text, i)
                if not match:
                    raise PathSyntaxError(
                        f"'[' at position {i + 1} must hold *, a whole number or a quoted"
                        " name, then ']'"
                    )
                inner = match[1]
                if inner == "*":
                    steps.append(WILD)
                elif inner[0] in "\"'":
                    if not inner[1:-1]:
                        raise PathSyntaxError(f"an empty name at position {i + 1}")
                    steps.append(inner[1:-1])
                else:
                    steps.append(int(inner))
                i = match.end()
                continue
            if steps:
                if text[i] != ".":
                    raise PathSyntaxError(f"expected '.' or '[' at position {i + 1}")
                i += 1
            match = _NAME.match(text, i)
            if not match:
                raise PathSyntaxError(f"a name is missing at position {i + 1}")
            steps.append(match[0])
            i = match.end()
        if not steps:
            raise PathSyntaxError("the path selects nothing")
        return cls(text, tuple(steps))

    @property
    def wildcards(self) -> int:
        """How many ``[*]`` steps the path has."""
        return sum(step is WILD for step in self.steps)

    def get(self, data: Any, where: str = "") -> Any:
        """The one value at this path, or :data:`MISSING` (absent, null, out of range).

        A value of the wrong kind on the way (text where an object should be) is a
        :class:`PathError`: the config and the answer disagree, which must not look
        like "no value".
        """
        for step in self.steps:
            if data is None:
                return MISSING
            data, where = _step(data, step, where, strict=False)
            if data is MISSING:
                return MISSING
        return MISSING if data is None else data

    def each(self, data: Any, where: str = "") -> list[tuple[Any, str]]:
        """Every value the path selects, each with its concrete place (``sager[3]``).

        Everything on the way must be there: a missing list is an error, not "none".
        """
        found = [(data, where)]
        for step in self.steps:
            found = [
                item
                for value, at in found
                for item in (
                    _every(value, at) if step is WILD else [_step(value, step, at, strict=True)]
                )
            ]
        return found


def _join(where: str, step: Any) -> str:
    if isinstance(step, int):
        return f"{where}[{step}]"
    if _NAME.fullmatch(step):
        return f"{where}.{step}" if where else step
    return f'{where}["{step}"]'


def _step(data: Any, step: Any, where: str, *, strict: bool) -> tuple[Any, str]:
    here = _join(where, step)
    if isinstance(step, int):
        if not isinstance(data, list):
            raise PathError(where or "svaret", f"skulle være en liste, men er {describe(data)}")
        if not -len(data) <= step < len(data):
            if strict:
                raise PathError(here, f"findes ikke (listen har {len(data)} elementer)")
            return MISSING, here
        return data[step], here
    if not isinstance(data, dict):
        raise PathError(where or "svaret", f"skulle være et objekt, men er {describe(data)}")
    value = data.get(step)
    if value is None and strict:
        raise PathError(here, "mangler" if step not in data else "er null")
    return (MISSING if value is None else value), here


def _every(data: Any, where: str) -> list[tuple[Any, str]]:
    if not isinstance(data, list):
        raise PathError(where or "svaret", f"skulle være en liste, men er {describe(data)}")
    return [(value, f"{where}[{i}]") for i, value in enumerate(data)]


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and placeholder names, in order."""

    text: str
    parts: tuple[tuple[bool, str], ...]  # (is_placeholder, literal text or name)

    @classmethod
    def parse(cls, text: str, allowed: Mapping[str, str]) -> Template:
        """Parse ``text``; ``allowed`` maps each permitted name to what it stands for.

        Raises :class:`PathSyntaxError` for an unknown placeholder or a lone brace.
        """
        parts: list[tuple[bool, str]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > position:
                parts.append((False, text[position : match.start()]))
            position = match.end()
            token = match[0]
            if token in ("{{", "}}"):
                parts.append((False, token[0]))
            elif match[1] is None:
                raise PathSyntaxError(
                    f"a lone '{token}' at position {match.start() + 1}; write {token * 2}"
                    " for a literal brace"
                )
            elif match[1] not in allowed:
                names = " or ".join(f"{{{n}}} ({meaning})" for n, meaning in allowed.items())
                raise PathSyntaxError(f"unknown placeholder {{{match[1]}}}; use {names}")
            else:
                parts.append((True, match[1]))
        if position < len(text):
            parts.append((False, text[position:]))
        return cls(text, tuple(parts))

    @property
    def names(self) -> frozenset[str]:
        """The placeholder names used."""
        return frozenset(text for is_name, text in self.parts if is_name)

    @property
    def single(self) -> str | None:
        """The name when the whole template is one placeholder (``"{value}"``)."""
        if len(self.parts) == 1 and self.parts[0][0]:
            return self.parts[0][1]
        return None

    def render(self, values: Mapping[str, str], escape: Callable[[str], str] = str) -> str:
        """The text with each placeholder replaced by ``escape(value)``."""
        return "".join(escape(values[text]) if is_name else text for is_name, text in self.parts)
