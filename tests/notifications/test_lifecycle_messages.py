"""What scheduling.booking.messages records for each appointment event."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from common.events import Actor
from notifications.models import Notification, NotificationStatus
from notifications.optouts import opt_out
from scheduling.booking import services
from tests.notifications.conftest import PHONE, THU_10, WED_10, book, make_service

pytestmark = pytest.mark.django_db
S = NotificationStatus


def rows(appointment, **filters):
    return Notification.objects.filter(subject_ref=f"appointment:{appointment.id}", **filters)


def test_a_booking_without_sms_consent_sends_no_text(clock):
    appointment = book(sms_consent=False)

    assert not rows(appointment, channel="sms").exists()
    reminders = rows(appointment, template="reminder")
    assert {r.channel for r in reminders} == {"email"}


def test_a_booking_to_an_opted_out_number_is_recorded_suppressed(clock):
    opt_out(phone=PHONE, source="keyword")

    appointment = book()

    texts = rows(appointment, channel="sms")
    assert texts.exists()
    assert set(texts.values_list("status", flat=True)) == {S.SUPPRESSED}


def test_a_booking_records_confirmation_emails_and_reminders(clock):
    appointment = book()

    made = sorted(rows(appointment).values_list("channel", "template", "recipient"))
    assert made == sorted(
        [
            ("sms", "booking_confirmed", PHONE),
            ("email", "booking_confirmed", "alex@example.net"),
            ("email", "provider_booked", appointment.provider.email),
            ("sms", "reminder", PHONE),
            ("sms", "reminder", PHONE),
        ]
    )


def test_reminders_are_due_at_the_configured_offsets(clock):
    appointment = book()

    due = sorted(rows(appointment, template="reminder").values_list("send_after", flat=True))
    assert due == [WED_10 - timedelta(hours=24), WED_10 - timedelta(hours=2)]


def test_reminder_keys_name_the_appointment_and_its_start(clock):
    appointment = book()

    keys = set(rows(appointment, template="reminder").values_list("dedupe_key", flat=True))
    start = appointment.start.isoformat()
    assert keys == {
        f"reminder-24h:sms:{appointment.id}:{start}",
        f"reminder-2h:sms:{appointment.id}:{start}",
    }


def test_a_reminder_whose_time_has_passed_is_not_recorded(clock, settings):
    settings.REMINDER_OFFSETS_HOURS = [72, 2]

    appointment = book()

    hours = [r.dedupe_key.split(":")[0] for r in rows(appointment, template="reminder")]
    assert hours == ["reminder-2h"]


def test_the_confirmation_text_shows_the_patients_zone_and_a_manage_link(clock):
    appointment = book(timezone="America/Chicago")

    text = rows(appointment, channel="sms", template="booking_confirmed").get().body
    assert "Dana W." in text
    assert "Wed Mar 4, 9:00 AM CST" in text  # 10:00 in New York is 9:00 in Chicago
    assert "https://bridgeway.example.org/m/" in text


def test_the_provider_email_names_the_patient_by_first_name_and_initial(clock):
    appointment = book()

    email = rows(appointment, template="provider_booked").get()
    assert "Alex R." in email.subject
    assert "Rivera" not in email.subject + email.body
    assert "10:00 AM EST" in email.subject  # the provider's zone


def test_the_patient_email_carries_the_calendar_invite(clock):
    appointment = book()

    email = rows(appointment, channel="email", template="booking_confirmed").get()
    assert email.attachments[0]["content_type"] == "text/calendar"
    assert email.attachments[0]["method"] == "REQUEST"
    assert "BEGIN:VCALENDAR" in email.attachments[0]["content"]


def test_a_reschedule_obsoletes_old_reminders_and_records_new_ones(clock):
    appointment = book()

    appointment = services.reschedule_appointment(
        appointment=appointment, start=THU_10, actor=Actor.PATIENT
    )

    reminders = rows(appointment, template="reminder")
    old = reminders.filter(dedupe_key__endswith=WED_10.astimezone(UTC).isoformat())
    new = reminders.filter(dedupe_key__endswith=appointment.start.isoformat())
    assert set(old.values_list("status", flat=True)) == {S.SUPPRESSED}
    assert set(new.values_list("status", flat=True)) == {S.PENDING}
    assert sorted(new.values_list("send_after", flat=True)) == [
        THU_10 - timedelta(hours=24),
        THU_10 - timedelta(hours=2),
    ]


def test_a_reschedule_tells_the_patient_the_new_time(clock):
    appointment = book()

    services.reschedule_appointment(appointment=appointment, start=THU_10, actor=Actor.PATIENT)

    text = rows(appointment, channel="sms", template="rescheduled").get().body
    assert "Thu Mar 5, 9:00 AM CST" in text


def test_a_cancellation_suppresses_pending_reminders(clock):
    appointment = book()

    services.cancel_appointment(appointment=appointment, actor=Actor.PATIENT)

    reminders = rows(appointment, template="reminder")
    assert set(reminders.values_list("status", flat=True)) == {S.SUPPRESSED}


def test_a_cancellation_by_the_provider_says_so(clock):
    appointment = book()

    services.cancel_appointment(appointment=appointment, actor=Actor.PROVIDER)

    text = rows(appointment, channel="sms", template="cancelled_by_provider").get().body
    assert text.startswith("Bridgeway: Dana W. had to cancel")
    assert not rows(appointment, template="provider_cancelled").exists()


def test_a_cancellation_email_carries_a_calendar_cancel(clock):
    appointment = book()

    services.cancel_appointment(appointment=appointment, actor=Actor.PATIENT)

    email = rows(appointment, channel="email", template="cancelled_by_patient").get()
    assert email.attachments[0]["method"] == "CANCEL"


def test_a_requested_booking_gets_reminders_only_once_approved(clock):
    appointment = book(service=make_service(requires_approval=True))
    assert not rows(appointment, template="reminder").exists()
    assert rows(appointment, channel="sms", template="booking_requested").exists()

    services.confirm_appointment(appointment=appointment, actor=Actor.PROVIDER)

    assert rows(appointment, channel="sms", template="approved").exists()
    assert rows(appointment, template="reminder").count() == 2
