"""Our own stylesheets parse: every block closes where it should. A brace lost in a merge
makes the browser read the rest of the file as part of one rule, and every later rule
(the print stylesheet, say) silently stops applying."""

import re
from pathlib import Path

import pytest

CSS = sorted((Path(__file__).resolve().parents[2] / "borgersag" / "static" / "css").glob("*.css"))


@pytest.mark.parametrize("path", CSS, ids=lambda p: p.name)
def test_every_block_closes_and_no_declaration_stands_outside_one(path):
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    depth, outside = 0, ""
    for char in text:
        if char == "{":
            outside = ""
            depth += 1
        elif char == "}":
            depth -= 1
            assert depth >= 0, f"{path.name}: a '}}' closes nothing"
        elif depth == 0:
            outside += char
            assert not re.search(r"[a-z-]+\s*:\s*[^;{]*;", outside), (
                f"{path.name}: a declaration outside any rule: {outside.strip()[:60]!r}"
            )
    assert depth == 0, f"{path.name}: {depth} block(s) never closed"
