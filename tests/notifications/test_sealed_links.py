"""The outbox stores no working link: tokens go back in only as a message leaves (issue 12)."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from common.events import Actor
from notifications import delivery, sealing
from notifications.models import Notification
from scheduling.booking import links, services
from tests.notifications.conftest import PHONE, THU_10, book

pytestmark = pytest.mark.django_db


def stored_text() -> str:
    rows = Notification.objects.values_list("subject", "body", "html_body", "attachments")
    return "\n".join(str(value) for row in rows for value in row)


def test_no_outbox_row_of_a_whole_lifecycle_holds_a_working_link(clock, sms_outbox):
    appointment = book()
    appointment = services.reschedule_appointment(
        appointment=appointment, start=THU_10, actor=Actor.PATIENT
    )
    token = links.manage_token(appointment)
    assert Notification.objects.count() > 4
    assert token not in stored_text()
    assert sealing.SEAL in stored_text()


def send_due() -> None:
    for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
        delivery.send(notification_id=pk)


def test_the_text_the_phone_receives_carries_the_working_link(clock, sms_outbox):
    appointment = book()
    send_due()
    texts = [m for m in sms_outbox if m.to == PHONE]
    assert texts and all(links.manage_url(appointment) in m.body for m in texts)
    assert all(sealing.SEAL not in m.body for m in texts)


def test_the_emailed_invite_carries_the_working_link_even_across_a_folded_line(
    clock, sms_outbox, mailoutbox
):
    appointment = book()
    send_due()
    email = next(m for m in mailoutbox if m.to == ["alex@example.net"])
    assert links.manage_url(appointment) in email.body
    ics = next(part for part in email.attachments if "invite.ics" in str(part))
    calendar = Calendar.from_ical(ics.get_payload(decode=True))
    description = str(next(iter(calendar.walk("VEVENT")))["DESCRIPTION"])
    assert links.manage_url(appointment) in description
    assert sealing.SEAL not in email.message().as_string()


def test_a_seal_cut_by_a_folded_line_is_put_back_with_the_fold():
    token = "abcdefghijklmnopqrstuv"
    folded = "DESCRIPTION:see https://x/m/LINK_TOKEN_PLA\r\n CEHOLDER now"
    assert (
        sealing._replace(folded, token)
        == "DESCRIPTION:see https://x/m/abcdefghijklmn\r\n opqrstuv now"
    )


def test_a_message_about_something_gone_keeps_its_seal_rather_than_guessing():
    unseal = sealing.unsealer("appointment:00000000-0000-0000-0000-000000000000")
    assert unseal(f"see /m/{sealing.SEAL}") == f"see /m/{sealing.SEAL}"
    assert sealing.unsealer("appointment:not-a-uuid")("x") == "x"
