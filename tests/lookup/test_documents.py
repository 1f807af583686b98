"""The download safety of the one document path, against hostile names and media types.

Back ends send whatever they like as a document's filename and media type; hypothesis
generates the hostile ones.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from borgersag.lookup.documents import OCTET_STREAM, safe_filename, safe_media_type

RENDERABLE_MARKS = ("html", "xml", "xsl", "script")
# Filenames built from the characters that do harm, mixed with ordinary ones.
HOSTILE_NAMES = st.text(
    alphabet=st.sampled_from(list('abc.é /\\:*?"<>|\x00\x1f\x7f\x85\u0301\u202e\u200b')),
    max_size=300,
) | st.text(max_size=300)
# Media types built from the words of real ones, with parameters and odd case.
MEDIA_TYPES = st.builds(
    lambda top, sub, params: f"{top}/{sub}{params}",
    st.sampled_from(["text", "application", "image", "multipart", "message", "TEXT", "x"]),
    st.sampled_from(
        [
            "html",
            "plain",
            "csv",
            "pdf",
            "svg+xml",
            "xhtml+xml",
            "xml",
            "javascript",
            "ecmascript",
            "x-javascript",
            "vnd.ms-excel",
            "json",
            "png",
            "xslt+xml",
            "mixed",
            "HTML",
            "x-shockwave-flash",
            "java-archive",
        ]
    ),
    st.sampled_from(["", "; charset=utf-8", ";charset=x", "; boundary=y"]),
) | st.text(max_size=80)


@settings(database=None, max_examples=400)
@given(HOSTILE_NAMES)
def test_a_download_name_never_carries_a_path_or_a_control_character(name):
    safe = safe_filename(name, "dokument-1")
    assert safe and len(safe) <= 150
    assert not any(ch in safe for ch in '/\\:*?"<>|')
    # No control or format character, C1 and bidi overrides included.
    assert not any(unicodedata.category(ch).startswith("C") for ch in safe)
    assert safe == safe.strip(" ._") or safe == "dokument-1"


@settings(database=None, max_examples=400)
@given(MEDIA_TYPES)
def test_a_served_media_type_is_never_one_a_browser_renders_or_runs(media_type):
    served = safe_media_type(media_type)
    top, _, sub = served.partition("/")
    assert served == served.lower() and ";" not in served
    assert served == OCTET_STREAM or not any(mark in sub for mark in RENDERABLE_MARKS)
    assert top not in ("multipart", "message")
    assert top != "text" or served in ("text/plain", "text/csv")


def test_a_right_to_left_override_cannot_disguise_a_programme_as_a_pdf():
    assert safe_filename("faktura\u202efdp.exe", "dokument-1") == "faktura_fdp.exe"
    assert safe_filename("brev\x85\x9b.pdf", "dokument-1") == "brev_.pdf"
