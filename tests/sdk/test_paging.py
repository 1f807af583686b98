"""The SDK's paging helpers: bounded, ending where the API says, links checked."""

from __future__ import annotations

import pytest

from borgersag import (
    FatalError,
    Page,
    TooManyPages,
    pages_by_link,
    pages_by_number,
    pages_by_offset,
)

BASE = "https://api.example/v1/"


def numbered(total, size, *, say_total=False):
    asked = []

    def fetch(number):
        asked.append(number)
        start = (number - 1) * size
        items = list(range(start, min(start + size, total)))
        return Page(items, total=total if say_total else None)

    return fetch, asked


@pytest.mark.parametrize(
    ("total", "say_total", "requests"),
    [(7, False, 3), (6, False, 3), (6, True, 2), (0, False, 1), (2, False, 1)],
)
def test_page_numbers_end_at_a_short_page_or_the_total(total, say_total, requests):
    fetch, asked = numbered(total, 3, say_total=say_total)
    items = [
        i for page in pages_by_number(fetch, source="S", page_size=3, max_pages=5) for i in page
    ]
    assert items == list(range(total))
    assert asked == list(range(1, requests + 1))


def test_more_pages_than_allowed_is_an_error_naming_the_setting():
    fetch, asked = numbered(100, 3)
    with pytest.raises(TooManyPages) as info:
        list(pages_by_number(fetch, source="Byg", page_size=3, max_pages=2, what="byggesager"))
    assert asked == [1, 2] and info.value.seen == 6
    assert "Byg har flere end 6 byggesager" in info.value.message
    assert "max_pages" in info.value.message and isinstance(info.value, FatalError)


def test_offsets_advance_by_what_was_read():
    asked = []

    def fetch(offset):
        asked.append(offset)
        return Page(list(range(offset, min(offset + 4, 10))))

    pages = list(pages_by_offset(fetch, source="S", limit=4, max_pages=5))
    assert asked == [0, 4, 8] and [len(p) for p in pages] == [4, 4, 2]


def linked(links):
    """A fetch whose pages link as ``links`` says (page i's next link is links[i])."""
    asked = []

    def fetch(link):
        asked.append(link)
        return Page([len(asked)], next_link=links[len(asked) - 1])

    return fetch, asked


def follow(links, **options):
    fetch, asked = linked(links)
    items = [i for page in pages_by_link(fetch, source="Zaak", base_url=BASE, max_pages=5,
                                         **options) for i in page]  # fmt: skip
    return items, asked


def test_next_links_are_followed_resolved_against_the_page():
    items, asked = follow(["?page=2", BASE + "x?page=3", None], order_param="page")
    assert items == [1, 2, 3]
    assert asked == [None, BASE + "?page=2", BASE + "x?page=3"]


@pytest.mark.parametrize(
    ("links", "options", "says"),
    [
        (["https://evil.example/v1/?page=2"], {}, "anden server"),
        (["http://api.example/v1/?page=2"], {}, "anden server"),  # not the same scheme
        ([BASE + "?page=2", BASE + "?page=2"], {}, "hentet side"),
        ([BASE + "?page=3", BASE + "?page=2"], {"order_param": "page"}, "senere side"),
        ([BASE + "?page=1"], {"order_param": "page"}, "senere side"),
        ([BASE + "?side=2"], {"order_param": "page"}, "ingen gyldig page"),
    ],
)
def test_a_link_elsewhere_or_backwards_is_refused(links, options, says):
    with pytest.raises(FatalError, match=says):
        follow([*links, None], **options)


def test_rebase_reads_a_foreign_link_on_the_configured_server():
    items, asked = follow(["http://openzaak.internal:8000/v1/?page=2", None], rebase=True)
    assert asked == [None, BASE + "?page=2"] and items == [1, 2]


def test_an_endless_next_link_chain_stops_at_max_pages():
    fetch, asked = linked([f"{BASE}?page={n}" for n in range(2, 50)])
    with pytest.raises(TooManyPages, match="max_pages"):
        list(pages_by_link(fetch, source="Zaak", base_url=BASE, max_pages=3))
    assert len(asked) == 3
