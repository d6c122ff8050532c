"""The referrer's texts, rendered for each outcome: discreet initials, no doubled full stop."""

from __future__ import annotations

import pytest

from notifications import text
from notifications.text import render_sms

OUTCOMES = ["scheduled", "completed", "declined", "escalated"]


def render(what: str) -> str:
    return render_sms(
        "referrals/messages/referrer_sms.txt",
        {
            "what": what,
            "initials": "S.J.",
            "provider": "Dana W.",
            "when": "Tue Dec 8, 6:00 PM EST",
            "ref": "R-7K2M",
        },
    )


@pytest.mark.parametrize("what", OUTCOMES)
def test_a_referrer_text_never_doubles_the_full_stop_after_initials(what):
    assert ".." not in render(what)


@pytest.mark.parametrize("what", OUTCOMES)
def test_a_referrer_text_is_one_gsm7_segment_or_two(what):
    body = render(what)

    assert body.startswith("Bridgeway: ")
    assert text.is_gsm7(body) and text.sms_segments(body) <= 2
