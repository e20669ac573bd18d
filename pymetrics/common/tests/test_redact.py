"""URL secrets are masked in log lines and error reports."""

from __future__ import annotations

import pytest

from pymetrics.common.redact import mask_url, redact_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '10.0.0.7:3538 - "WebSocket /ws/play/487393/?token=eyJhdHRl:1xXd:RqpdJW" [accepted]',
            '10.0.0.7:3538 - "WebSocket /ws/play/487393/?token=[Filtered]" [accepted]',
        ),
        ("Not Found: /play/Zm9vYmFy-123/lobby/", "Not Found: /play/[Filtered]/lobby/"),
        ("POST /api/v1/play/AbC_9/start/ 409", "POST /api/v1/play/[Filtered]/start/ 409"),
        (
            "GET /staff/exports/download/eyJleHBvcnQiOjd9:1x:sig/ 410",
            "GET /staff/exports/download/[Filtered]/ 410",
        ),
        ("/staff/welcome/MTI/c3x-9f2e1d/", "/staff/welcome/MTI/[Filtered]/"),
        ("/report.pdf?lang=de&signature=abc123", "/report.pdf?lang=de&signature=[Filtered]"),
        # not secrets: game session ids, other query parameters, plain messages
        (
            "POST /api/v1/play/game-sessions/42/events/ 400",
            "POST /api/v1/play/game-sessions/42/events/ 400",
        ),
        ("/staff/candidates/?q=jo&page=2", "/staff/candidates/?q=jo&page=2"),
        ("scored 3 attempts", "scored 3 attempts"),
    ],
)
def test_redact_text_masks_exactly_the_secrets(text, expected):
    assert redact_text(text) == expected


def test_mask_url_drops_the_query_and_masks_the_path():
    assert mask_url("/api/v1/play/AbC-123/start/?x=1") == "/api/v1/play/[Filtered]/start/"
    assert mask_url("/staff/assessments/?q=jo") == "/staff/assessments/"
