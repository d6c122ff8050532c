"""No referral reason, note or specialty reaches an SMS body, an email subject or a feed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from notifications.models import Notification
from referrals import tasks
from scheduling.calendar.feeds import feed_token
from tests.referrals.conftest import NOW, book, provider_client

CLINICAL = re.compile(
    r"addiction|opioid|substance|recovery|rehab|detox|therap|counsel|psychiatr|methadone|"
    r"buprenorphine|suboxone|naloxone|overdose|withdrawal|treatment|specialty",
    re.IGNORECASE,
)


def _exposed(notification: Notification) -> str:
    """The text others may see: an SMS body, an email subject."""
    return notification.body if notification.channel == "sms" else notification.subject


def test_no_message_or_feed_of_a_whole_referral_journey_says_why_or_what_care(
    clock, staff_client, provider_factory, create_referral, client
):
    dana = provider_factory("dana-whitfield")
    provider_factory("sam-kerr", name="Sam Kerr")
    referral = create_referral(
        reason="Opioid withdrawal; suboxone induction",
        notes="Overdose last month; wants recovery counseling",
    )
    other = create_referral(
        urgency="urgent",
        reason="Detox follow-up",
        patient={
            "name": "Jo Smith",
            "phone": "+12125550177",
            "timezone": "America/New_York",
            "state": "NY",
            "sms_consent": True,
        },
    )
    for r in (referral, other):
        staff_client.post(
            f"/api/referrals/{r.id}/assign/", {"provider": "dana-whitfield"}, format="json"
        )
    provider_client(dana).post(
        f"/api/referrals/{other.id}/decline/", {"reason": "No buprenorphine waiver"}, format="json"
    )
    start = staff_client.get(f"/api/referrals/{referral.id}/matches/").json()["results"][0][
        "next_available"
    ]
    appointment_id = book(referral, dana, start).json()["id"]
    clock.move_to(NOW + timedelta(hours=80))
    tasks.nudge_unbooked()
    tasks.escalate_overdue()
    clock.move_to(datetime.fromisoformat(start) + timedelta(hours=1))
    provider_client(dana).post(
        f"/api/appointments/{appointment_id}/attendance/", {"status": "attended"}, format="json"
    )

    notifications = list(Notification.objects.filter(subject_ref__startswith="referral:"))
    templates = {n.template for n in notifications}
    assert {
        "referral_link",
        "referral_scheduled",
        "referral_completed",
        "referral_escalated",
    } <= templates
    for notification in notifications:
        exposed = _exposed(notification)
        assert not CLINICAL.search(exposed), (notification.template, exposed)
        for secret in ("waiver", "induction", "month", "Alex Rivera", "Jo Smith"):
            assert secret not in exposed, (notification.template, exposed)
    # Email bodies stay discreet too: the reason and notes never leave the service.
    for notification in notifications:
        assert "suboxone" not in notification.body.lower()
        assert "waiver" not in notification.body

    feed = client.get(f"/calendar/{feed_token(provider=dana)}.ics")
    assert feed.status_code == 200
    text = feed.content.decode()
    assert "BEGIN:VEVENT" in text
    assert "suboxone" not in text.lower() and "Overdose" not in text


def test_a_referral_text_with_a_curly_quote_in_a_name_is_still_gsm7(
    staff_client, provider_factory, create_referral
):
    from notifications import text

    provider_factory("dana-whitfield", name="Dana O’Connell-Whitfield")
    referral = create_referral()
    staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "dana-whitfield"}, format="json"
    )
    link = Notification.objects.get(template="referral_link", channel="sms")
    assert "’" not in link.body
    assert text.is_gsm7(link.body), link.body
