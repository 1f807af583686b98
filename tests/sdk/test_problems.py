"""A refusal's reasons from its problem body are in the classified error's message."""

from __future__ import annotations

import pytest
import requests

from borgersag import FatalError
from borgersag.sdk.http import classify


def answer(status, body, media="application/problem+json"):
    response = requests.Response()
    response.status_code = status
    response.headers["Content-Type"] = media
    response._content = body.encode() if isinstance(body, str) else body
    return response


@pytest.mark.parametrize(
    ("body", "media", "says"),
    [
        (
            '{"invalidParams": [{"name": "zaak", "code": "invalid", "reason": "Ongeldige URL"}]}',
            "application/problem+json",
            "(HTTP 400): zaak: Ongeldige URL.",
        ),
        (
            '{"invalid-params": [{"name": "age", "reason": "must be positive"}]}',
            "application/json",
            "age: must be positive.",
        ),
        ('{"detail": "Ukendt felt"}', "application/json", "(HTTP 400): Ukendt felt."),
        ('{"detail": "Ukendt felt"}', "text/html", "(HTTP 400)."),
        ("not json", "application/json", "(HTTP 400)."),
        ("[1, 2]", "application/json", "(HTTP 400)."),
    ],
)
def test_problem_reasons_are_shown(body, media, says):
    with pytest.raises(FatalError) as info:
        classify(answer(400, body, media), "Open Zaak")
    assert info.value.message.startswith("Open Zaak afviste forespørgslen")
    assert info.value.message.endswith(says)


def test_many_reasons_are_cut_and_a_cpr_number_is_masked():
    items = ",".join(
        f'{{"name": "f{i}", "code": "x", "reason": "0101701234 er forkert"}}' for i in range(5)
    )
    with pytest.raises(FatalError) as info:
        classify(answer(400, f'{{"invalidParams": [{items}]}}'), "Open Zaak")
    message = info.value.message
    assert "0101701234" not in message and "010170-xxxx" in message
    assert message.count("er forkert") == 3 and "(og 2 mere)" in message


def test_a_cpr_number_at_the_cut_of_a_long_reason_is_masked_too():
    reason = "x" * 109 + " 0101701234 er ikke kendt"  # nine of its digits before the cut
    with pytest.raises(FatalError) as info:
        classify(answer(400, f'{{"detail": "{reason}"}}'), "Open Zaak")
    assert "010170123" not in info.value.message and "010170-xx" in info.value.message
