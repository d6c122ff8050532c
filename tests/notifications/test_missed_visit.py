"""A no-show: one caring check-in after the visit, outside quiet hours; two in a row flag
the patient in the provider's portal (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from common.events import Actor
from notifications.models import Channel, Notification, NotificationStatus
from scheduling.booking import services
from scheduling.circle.missed import missed_in_a_row
from scheduling.circle.models import ContactPreference
from scheduling.models import AppointmentStatus
from tests.notifications.conftest import NY, WED_10, book
from tests.notifications.test_message_privacy import ASKS_FOR_CANCEL, clinical_words

pytestmark = pytest.mark.django_db
S = NotificationStatus


def mark(appointment, status: str = AppointmentStatus.NO_SHOW):  # type: ignore[no-untyped-def]
    return services.record_attendance(appointment=appointment, status=status, actor=Actor.PROVIDER)


def checkins() -> list[Notification]:
    return list(Notification.objects.filter(template="checkin"))


def test_a_no_show_marked_during_the_visit_checks_in_once_the_visit_is_over(clock):
    appointment = book()
    clock.move_to(WED_10 + timedelta(minutes=20))
    mark(appointment)

    (text,) = checkins()
    assert text.channel == Channel.SMS
    assert text.send_after == appointment.end


def test_the_check_in_is_caring_discreet_and_has_the_rebook_link_and_988(clock):
    appointment = book()
    clock.move_to(WED_10 + timedelta(hours=2))
    mark(appointment)

    (text,) = checkins()
    assert "988" in text.body
    assert "/m/LINK_TOKEN_PLACEHOLDER/rebook" in text.body
    assert "/resources/" in text.body
    assert clinical_words(text.body) == []
    assert not ASKS_FOR_CANCEL.search(text.body)
    for blame in ("missed", "no-show", "failed", "did not"):
        assert blame not in text.body.lower()


def test_the_check_in_waits_for_the_end_of_the_quiet_hours(clock):
    appointment = book(start=datetime(2026, 3, 4, 16, 0, tzinfo=NY), timezone="America/New_York")
    ContactPreference.objects.create(
        patient=appointment.patient, quiet_from=time(16, 30), quiet_until=time(9, 0)
    )
    appointment.patient.refresh_from_db()
    clock.move_to(datetime(2026, 3, 4, 16, 55, tzinfo=NY))
    mark(appointment)

    (text,) = checkins()
    assert text.send_after == datetime(2026, 3, 5, 9, 0, tzinfo=NY)


def test_a_patient_who_takes_no_texts_gets_the_check_in_by_email(clock):
    appointment = book(sms_consent=False)
    clock.move_to(WED_10 + timedelta(hours=2))
    mark(appointment)

    (email,) = checkins()
    assert email.channel == Channel.EMAIL
    assert clinical_words(email.subject) == []


def test_correcting_attendance_back_and_forth_never_sends_a_second_check_in(clock):
    appointment = book()
    clock.move_to(WED_10 + timedelta(hours=2))
    mark(appointment)
    mark(appointment, AppointmentStatus.ATTENDED)
    mark(appointment)

    (text,) = checkins()
    assert text.status == S.SUPPRESSED  # withdrawn by "attended" and not recorded again


def test_an_attended_visit_gets_no_check_in(clock):
    appointment = book()
    clock.move_to(WED_10 + timedelta(hours=2))
    mark(appointment, AppointmentStatus.ATTENDED)

    assert checkins() == []


def test_two_no_shows_in_a_row_with_a_provider_flag_the_patient(clock):
    first = book()
    second = book(start=WED_10 + timedelta(days=1), service=first.service)
    clock.move_to(WED_10 + timedelta(days=2))
    mark(first)
    assert not missed_in_a_row(patient=first.patient, provider=first.provider)
    mark(second)

    assert missed_in_a_row(patient=first.patient, provider=first.provider)


def test_an_attended_visit_between_two_no_shows_clears_the_flag(clock):
    first = book()
    second = book(start=WED_10 + timedelta(days=1), service=first.service)
    third = book(start=WED_10 + timedelta(days=2), service=first.service)
    clock.move_to(datetime(2026, 3, 10, tzinfo=UTC))
    mark(first)
    mark(second, AppointmentStatus.ATTENDED)
    mark(third)

    assert not missed_in_a_row(patient=first.patient, provider=first.provider)


def test_the_portal_shows_the_flag_to_the_provider(clock, client):
    from tests.factories import UserFactory

    first = book()
    second = book(start=WED_10 + timedelta(days=1), service=first.service)
    clock.move_to(WED_10 + timedelta(days=2))
    mark(first)
    mark(second)
    provider = first.provider
    provider.user = UserFactory()
    provider.save()
    client.force_login(provider.user)

    page = client.get(f"/portal/appointments/{second.pk}/").content.decode()

    assert "Two missed visits in a row" in page
