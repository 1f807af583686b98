"""Paging helpers for the three shapes real APIs use: a next link, a page number, an offset.

Each helper asks a function of the connector for one page at a time and yields the page's
items, so the connector keeps the request (method, body, headers) and the reading of the
answer, and the helper keeps the rules every connector needs:

* **bounded** — at most ``max_pages`` requests; a list with more raises
  :class:`TooManyPages` (a :class:`~borgersag.sdk.errors.FatalError` naming the
  ``max_pages`` setting), never an endless loop or a silently cut answer;
* **it ends where the API says** — a page-number or offset list ends at a short or empty
  page, or when ``total`` items were read; a next-link list ends without a link;
* **links are checked** — a next link must stay on the configured server (the portal's
  credentials go with the request) and must lead on: a link seen before, or one whose
  ``order_param`` does not grow, is refused.

A connector's function returns a :class:`Page`::

    def fetch(link):
        body = self.http.post_json(link or "zaken/_zoek", criteria)
        return Page(body["results"], next_link=body.get("next"))

    for items in pages_by_link(fetch, source=self.display_name, base_url=self.http.base_url,
                               max_pages=self.settings["max_pages"], what="sager"):
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from borgersag.sdk.errors import FatalError

__all__ = ["Page", "TooManyPages", "pages_by_link", "pages_by_number", "pages_by_offset"]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list as the connector read it.

    ``items``: the page's records; ``next_link``: the link to the next page (next-link
    paging; ``None`` or ``""`` on the last page); ``total``: how many items the whole
    list has, when the API says so.
    """

    items: Sequence[Any]
    next_link: str | None = None
    total: int | None = None


class TooManyPages(FatalError):
    """The list has more pages than ``max_pages`` allows; ``seen`` items were read."""

    def __init__(self, message: str, *, seen: int):
        super().__init__(message)
        self.seen = seen


def pages_by_number(
    fetch: Callable[[int], Page],
    *,
    source: str,
    page_size: int,
    max_pages: int,
    what: str = "elementer",
    first: int = 1,
) -> Iterator[Sequence[Any]]:
    """Items of each page, asking ``fetch(number)`` for ``first``, ``first + 1``, …

    The list ends at a page shorter than ``page_size`` (or empty), or when ``total`` items
    were read.
    """
    return _counted(lambda i, _seen: fetch(first + i), source, page_size, max_pages, what)


def pages_by_offset(
    fetch: Callable[[int], Page],
    *,
    source: str,
    limit: int,
    max_pages: int,
    what: str = "elementer",
    start: int = 0,
) -> Iterator[Sequence[Any]]:
    """Items of each page, asking ``fetch(offset)`` for ``start``, ``start + limit``, …

    The list ends at a page shorter than ``limit`` (or empty), or when ``total`` items
    were read.
    """
    return _counted(lambda _i, seen: fetch(start + seen), source, limit, max_pages, what)


def _counted(
    ask: Callable[[int, int], Page], source: str, size: int, max_pages: int, what: str
) -> Iterator[Sequence[Any]]:
    """The loop of page-number and offset paging: ``ask(index, items seen so far)``
    until a short page or ``total``, at most ``max_pages`` times."""
    seen = 0
    for index in range(max_pages):
        page = ask(index, seen)
        seen += len(page.items)
        yield page.items
        if _last(page, size, seen):
            return
    raise _too_many(source, what, seen, max_pages, size)


def pages_by_link(
    fetch: Callable[[str | None], Page],
    *,
    source: str,
    base_url: str,
    max_pages: int,
    what: str = "elementer",
    order_param: str | None = None,
    rebase: bool = False,
) -> Iterator[Sequence[Any]]:
    """Items of each page, asking ``fetch(None)`` for the first and ``fetch(link)`` for
    the ones its ``next_link`` points at (absolute, resolved against ``base_url``).

    A link to another server than ``base_url``'s is refused; with ``rebase=True`` its path
    and query are used on ``base_url``'s server instead (for a server behind a proxy that
    writes its internal address into links). ``order_param`` names a query parameter
    (``page``) that must grow from link to link.
    """
    seen, link = 0, None
    visited: set[str] = set()
    for _ in range(max_pages):
        page = fetch(link)
        seen += len(page.items)
        yield page.items
        if not page.next_link:
            return
        following = _checked_link(page.next_link, link, base_url, source, rebase)
        if following in visited or following == link:
            raise FatalError(f"{source}: næste side-linket fører tilbage til en hentet side.")
        if order_param is not None:
            _check_order(following, link, order_param, source)
        visited.add(following)
        link = following
    raise _too_many(source, what, seen, max_pages, None)


def _last(page: Page, size: int, seen: int) -> bool:
    return len(page.items) < size or (page.total is not None and seen >= page.total)


def _too_many(source: str, what: str, seen: int, max_pages: int, size: int | None) -> TooManyPages:
    pages = f"{max_pages} sider à {size}" if size else f"{max_pages} sider"
    return TooManyPages(
        f"{source} har flere end {seen} {what}; kun {pages} må hentes (indstillingen max_pages).",
        seen=seen,
    )


def _checked_link(raw: str, current: str | None, base_url: str, source: str, rebase: bool) -> str:
    link = urljoin(current or base_url, raw.strip())
    parts, base = urlsplit(link), urlsplit(base_url)
    if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return link
    if rebase and parts.scheme in ("http", "https"):
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    raise FatalError(
        f"{source}: næste side-linket peger på en anden server end base_url; det følges ikke."
    )


def _check_order(link: str, current: str | None, name: str, source: str) -> None:
    value = dict(parse_qsl(urlsplit(link).query)).get(name, "")
    before = dict(parse_qsl(urlsplit(current).query)).get(name, "1") if current else None
    if not (value.isascii() and value.isdigit()):
        raise FatalError(f"{source}: næste side-linket har ingen gyldig {name}.")
    if before is not None and before.isdigit() and int(value) <= int(before):
        raise FatalError(f"{source}: næste side-linket fører ikke til en senere side ({name}).")
    if before is None and int(value) <= 1:
        raise FatalError(f"{source}: næste side-linket fører ikke til en senere side ({name}).")
