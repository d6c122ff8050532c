"""Every message kind obeys the patient's safe-contact rules, when recorded and when sent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from common.events import Actor
from notifications import delivery, recording
from notifications.backends import locmem
from notifications.models import Channel, Notification, NotificationStatus
from scheduling.booking import services
from scheduling.circle.contact import QUIET_LEAD
from scheduling.circle.models import ContactPreference
from scheduling.circle.services import update_contact_preference
from tests.factories import PatientFactory
from tests.notifications.conftest import NY, PHONE, WED_10, book

pytestmark = pytest.mark.django_db
S = NotificationStatus
NIGHT = {"quiet_from": time(22, 0), "quiet_until": time(8, 0)}


def patient_with(**rules: object):  # type: ignore[no-untyped-def]
    patient = PatientFactory(phone=PHONE, timezone="America/New_York", sms_consent=True)
    ContactPreference.objects.create(patient=patient, **rules)
    return patient


def texts(template: str) -> list[Notification]:
    return list(Notification.objects.filter(channel=Channel.SMS, template=template))


def test_a_reminder_due_inside_the_quiet_hours_is_recorded_before_they_start(clock, settings):
    settings.REMINDER_OFFSETS_HOURS = [3]  # 07:00 on the visit's morning
    patient_with(**NIGHT)
    book(start=WED_10, timezone="America/New_York")

    (reminder,) = texts("reminder")
    assert reminder.send_after == datetime(2026, 3, 3, 22, 0, tzinfo=NY) - QUIET_LEAD


def test_across_the_spring_forward_night_a_chicago_patient_is_reminded_the_evening_before(
    time_machine, settings
):
    settings.REMINDER_OFFSETS_HOURS = [2]
    time_machine.move_to(datetime(2026, 3, 5, 12, tzinfo=UTC), tick=False)
    patient = patient_with(**NIGHT)
    patient.timezone = "America/Chicago"
    patient.save()
    # Monday 9 March 09:00 New York (EDT): the reminder would be 06:00 Chicago (CDT).
    book(start=datetime(2026, 3, 9, 9, 0, tzinfo=NY), timezone="America/Chicago")

    (reminder,) = texts("reminder")
    assert reminder.send_after == datetime(2026, 3, 9, 2, 55, tzinfo=UTC)  # 21:55 CDT, 8 March


def test_across_the_fall_back_night_the_reminder_keeps_before_the_quiet_hours(
    time_machine, settings
):
    settings.REMINDER_OFFSETS_HOURS = [2]
    time_machine.move_to(datetime(2026, 10, 28, 12, tzinfo=UTC), tick=False)
    patient_with(**NIGHT)
    # Monday 2 November 09:30 New York (EST): the reminder would be 07:30 EST.
    book(start=datetime(2026, 11, 2, 9, 30, tzinfo=NY), timezone="America/New_York")

    (reminder,) = texts("reminder")
    assert reminder.send_after == datetime(2026, 11, 2, 2, 55, tzinfo=UTC)  # 21:55 EST, 1 Nov


def test_a_confirmation_of_the_patients_own_booking_goes_at_once_inside_quiet_hours(
    time_machine,
):
    time_machine.move_to(datetime(2026, 3, 2, 23, 30, tzinfo=NY), tick=False)
    patient_with(**NIGHT)
    book(start=WED_10, timezone="America/New_York")

    (confirmation,) = texts("booking_confirmed")
    assert confirmation.send_after == datetime(2026, 3, 2, 23, 30, tzinfo=NY)
    assert confirmation.queued_at is not None  # handed to the worker at once


def test_a_providers_cancellation_texted_at_night_waits_for_the_morning(time_machine):
    time_machine.move_to(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False)
    patient_with(**NIGHT)
    appointment = book(start=WED_10, timezone="America/New_York")
    time_machine.move_to(datetime(2026, 3, 2, 23, 30, tzinfo=NY), tick=False)
    services.cancel_appointment(appointment=appointment, actor=Actor.PROVIDER, reason="ill")

    (text,) = texts("cancelled_by_provider")
    assert text.status == S.PENDING
    assert text.send_after == datetime(2026, 3, 3, 8, 0, tzinfo=NY)
    email = Notification.objects.get(channel=Channel.EMAIL, template="cancelled_by_provider")
    assert email.send_after == datetime(2026, 3, 2, 23, 30, tzinfo=NY)  # email is never held


def test_texts_off_means_email_only_for_confirmations_and_reminders(clock):
    patient_with(texts_ok=False)
    book(start=WED_10, timezone="America/New_York")

    assert not Notification.objects.filter(channel=Channel.SMS).exists()
    templates = set(Notification.objects.values_list("template", flat=True))
    assert {"booking_confirmed", "reminder"} <= templates
    assert locmem.outbox == []


def test_discreet_names_keep_the_providers_name_out_of_texts_emails_and_the_invite(clock):
    patient_with(discreet_names=True)
    book(start=WED_10, timezone="America/New_York")

    mine = Notification.objects.exclude(template__startswith="provider_")
    assert mine.count() >= 3
    for row in mine:
        words = " ".join(
            [row.subject, row.body, row.html_body, *(a["content"] for a in row.attachments)]
        )
        assert "Whitfield" not in words and "Dana" not in words, row.template
    invite = Notification.objects.get(channel=Channel.EMAIL, template="booking_confirmed")
    assert "SUMMARY:Your appointment" in invite.attachments[0]["content"]


def test_a_preferred_name_is_what_the_provider_is_told(clock):
    patient_with(preferred_name="Sam")
    book(start=WED_10, timezone="America/New_York")

    email = Notification.objects.get(template="provider_booked")
    assert email.subject.startswith("New booking: Sam")


def test_turning_texts_off_replaces_the_pending_text_reminders_with_emails(clock):
    appointment = book(start=WED_10, timezone="America/New_York")
    update_contact_preference(
        patient=appointment.patient,
        quiet_from=None,
        quiet_until=None,
        texts_ok=False,
        discreet_names=True,
        preferred_name="",
        actor=Actor.PATIENT,
    )

    sms = Notification.objects.filter(channel=Channel.SMS, template="reminder")
    assert set(sms.values_list("status", flat=True)) == {S.SUPPRESSED}
    emails = Notification.objects.filter(channel=Channel.EMAIL, template="reminder")
    assert emails.count() == 2
    assert all("Whitfield" not in row.body for row in emails)


def test_a_text_recorded_before_texts_were_turned_off_is_held_when_it_is_due(clock):
    appointment = book(start=WED_10, timezone="America/New_York")
    ContactPreference.objects.create(patient=appointment.patient, texts_ok=False)
    reminder = texts("reminder")[0]

    clock.move_to(reminder.send_after + timedelta(seconds=1))
    from notifications.delivery import sweep

    sweep()
    reminder.refresh_from_db()
    assert reminder.status == S.SUPPRESSED
    assert reminder.last_error == "the patient asked for email only"
    assert reminder.pk not in [m.notification_id for m in locmem.outbox]


def test_a_reminder_reaching_the_worker_in_quiet_hours_that_last_past_the_visit_is_dropped(
    clock, settings
):
    settings.REMINDER_OFFSETS_HOURS = [2]
    appointment = book(start=WED_10, timezone="America/New_York")
    ContactPreference.objects.create(
        patient=appointment.patient, quiet_from=time(6, 0), quiet_until=time(11, 0)
    )
    (reminder,) = texts("reminder")
    clock.move_to(reminder.send_after + timedelta(seconds=1))
    from notifications.delivery import sweep

    sweep()
    reminder.refresh_from_db()
    assert reminder.status == S.SUPPRESSED
    assert reminder.last_error == "quiet hours last until the visit"
    assert reminder.pk not in [m.notification_id for m in locmem.outbox]


def test_a_referral_link_to_a_patient_who_turned_texts_off_is_held(clock):
    patient_with(texts_ok=False)
    row = recording.enqueue(
        channel=Channel.SMS,
        recipient=PHONE,
        template="referral_link",
        body="Bridgeway: pick a time: https://x/r/1",
        dedupe_key="referral:test",
        subject_ref="referral:00000000-0000-0000-0000-000000000000",
    )
    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.SUPPRESSED
    assert locmem.outbox == []
