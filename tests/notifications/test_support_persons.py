"""Support persons: consent granted, agreed by text, reminders disclosed, withdrawn, expired,
stopped (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.errors import DomainError
from notifications.backends import locmem
from notifications.delivery import sweep
from notifications.inbound import handle_inbound
from notifications.models import Notification, NotificationStatus
from scheduling.booking import services
from scheduling.circle import support
from scheduling.circle.models import Disclosure, SupportPerson, SupportStatus
from tests.notifications.conftest import NOW, PHONE, WED_10, book

pytestmark = pytest.mark.django_db
S = NotificationStatus
JO = "+12125550199"
_sid = iter(range(10_000))


def text_from(phone: str, body: str) -> str:
    return handle_inbound(message_sid=f"SM{next(_sid)}", from_number=phone, body=body)


def name_jo(patient, **kw):  # type: ignore[no-untyped-def]
    values = {
        "patient": patient,
        "name": "Jo Rivera",
        "phone": JO,
        "relationship": "sister",
        "until": NOW + timedelta(days=90),
        "source": "private link",
        **kw,
    }
    return support.add_support_person(**values)


def to_jo(template: str) -> list[Notification]:
    rows = Notification.objects.filter(template=template)
    return [row for row in rows if row.recipient == JO]


def test_a_grant_records_the_consent_signed_by_the_patient_and_asks_the_person(clock):
    appointment = book()
    person = name_jo(appointment.patient)

    assert person.status == SupportStatus.INVITED
    assert (person.signed_at, person.signed_source) == (NOW, "private link")
    assert person.purpose and person.receives == "reminders"
    (invite,) = to_jo("support_invite")
    assert "Reply AGREE" in invite.body and "Reply STOP" in invite.body
    assert "Dana" not in invite.body and "Whitfield" not in invite.body
    assert Disclosure.objects.filter(support_person=person, message_key=invite.dedupe_key).exists()


def test_nothing_but_the_invitation_goes_before_the_person_agrees(clock):
    appointment = book()
    name_jo(appointment.patient)
    services.reschedule_appointment(
        appointment=appointment, start=WED_10 + timedelta(days=1), actor="patient"
    )

    assert to_jo("support_reminder") == []


def test_agree_by_text_turns_on_reminders_of_coming_visits_with_date_and_time_only(clock):
    appointment = book()
    person = name_jo(appointment.patient)

    answer = text_from(JO, "agree")

    person.refresh_from_db()
    assert person.status == SupportStatus.ACTIVE and person.agreed_at == NOW
    assert answer.startswith("Thank you.") and "Reply STOP" in answer
    (reminder,) = to_jo("support_reminder")
    assert reminder.send_after == WED_10 - timedelta(hours=24)
    assert "Wed Mar 4" in reminder.body
    for word in ("Dana", "Whitfield", "visit", "Follow-up", "therap"):
        assert word not in reminder.body
    assert Disclosure.objects.filter(message_key=reminder.dedupe_key).exists()


def test_a_support_persons_texts_are_english_whatever_language_is_active(clock):
    from django.utils import translation

    appointment = book()
    name_jo(appointment.patient)

    with translation.override("es"):  # e.g. left active by a Spanish page in this thread
        answer = text_from(JO, "agree")

    (reminder,) = to_jo("support_reminder")
    assert answer.startswith("Thank you.")
    assert "Wed Mar 4" in reminder.body


def test_a_visit_booked_after_the_agreement_gets_its_support_reminder(clock):
    first = book()
    name_jo(first.patient)
    text_from(JO, "AGREE")
    book(start=WED_10 + timedelta(days=7))

    assert len(to_jo("support_reminder")) == 2


def test_a_reminder_due_after_the_consent_was_withdrawn_is_not_sent(clock):
    appointment = book()
    person = name_jo(appointment.patient)
    text_from(JO, "AGREE")
    (reminder,) = to_jo("support_reminder")
    # Withdrawn behind the outbox's back (a race): the send-time check still holds it.
    SupportPerson.objects.filter(pk=person.pk).update(status=SupportStatus.REVOKED)
    locmem.outbox.clear()

    clock.move_to(reminder.send_after + timedelta(seconds=1))
    sweep()

    reminder.refresh_from_db()
    assert reminder.status == S.SUPPRESSED
    assert JO not in [m.to for m in locmem.outbox]


def test_withdrawing_consent_withholds_the_pending_reminders_at_once(clock):
    appointment = book()
    person = name_jo(appointment.patient)
    text_from(JO, "AGREE")

    support.revoke_support_person(person=person, source="private link")

    person.refresh_from_db()
    assert person.status == SupportStatus.REVOKED and person.ended_at == NOW
    (reminder,) = to_jo("support_reminder")
    assert reminder.status == S.SUPPRESSED
    rows = {row["what"]: row["status"] for row in support.disclosures(appointment.patient)}
    assert rows[support.WHAT_REMINDER] == "Not sent"


def test_a_consent_that_ran_out_sends_nothing_more(clock):
    appointment = book(start=WED_10 + timedelta(days=20))
    name_jo(appointment.patient, until=NOW + timedelta(days=5))
    text_from(JO, "AGREE")

    assert to_jo("support_reminder") == []  # the visit is after the end date
    person = SupportPerson.objects.get()
    assert not person.may_receive(NOW + timedelta(days=6))
    assert person.state_label(NOW + timedelta(days=6)).startswith("Ended")


def test_a_reminder_still_pending_when_the_consent_runs_out_is_held(clock):
    appointment = book()
    name_jo(appointment.patient)
    text_from(JO, "AGREE")
    (reminder,) = to_jo("support_reminder")
    SupportPerson.objects.update(until=reminder.send_after - timedelta(minutes=1))

    clock.move_to(reminder.send_after + timedelta(seconds=1))
    sweep()

    reminder.refresh_from_db()
    assert reminder.status == S.SUPPRESSED


def test_the_support_persons_stop_ends_their_consent(clock):
    appointment = book()
    name_jo(appointment.patient)
    text_from(JO, "AGREE")

    text_from(JO, "STOP")

    person = SupportPerson.objects.get()
    assert person.status == SupportStatus.STOPPED and person.ended_source == "their STOP"
    (reminder,) = to_jo("support_reminder")
    assert reminder.status == S.SUPPRESSED


def test_agree_from_a_number_nobody_named_is_answered_like_any_unknown_word(clock):
    answer = text_from("+12125550111", "AGREE")

    assert "Reply C to confirm" in answer
    assert "988" in answer


def test_a_cancelled_visit_withdraws_its_support_reminder(clock):
    appointment = book()
    name_jo(appointment.patient)
    text_from(JO, "AGREE")

    services.cancel_appointment(appointment=appointment, actor="patient", reason="")

    (reminder,) = to_jo("support_reminder")
    assert reminder.status == S.SUPPRESSED


def test_at_most_three_people_and_at_most_one_year(clock):
    appointment = book()
    for n in range(3):
        name_jo(appointment.patient, phone=f"+1212555030{n}")

    with pytest.raises(DomainError) as too_many:
        name_jo(appointment.patient)
    with pytest.raises(DomainError) as too_long:
        support.add_support_person(
            patient=book(phone="+12125550177").patient,
            name="Jo",
            phone=JO,
            relationship="friend",
            until=NOW + timedelta(days=366),
            source="private link",
        )

    assert too_many.value.code == "too_many_support_persons"
    assert too_long.value.fields == {"until": ["Choose an end date within one year."]}


def test_the_patients_own_number_is_refused(clock):
    appointment = book()

    with pytest.raises(DomainError):
        name_jo(appointment.patient, phone=PHONE)


def test_every_text_to_a_support_person_is_a_disclosure_listed_for_the_patient(clock):
    appointment = book()
    name_jo(appointment.patient)
    text_from(JO, "AGREE")

    rows = support.disclosures(appointment.patient)

    assert [row["what"] for row in rows] == [
        support.WHAT_INVITE,
        support.WHAT_AGREED,
        support.WHAT_REMINDER,
    ] or sorted(row["what"] for row in rows) == sorted(
        [support.WHAT_INVITE, support.WHAT_AGREED, support.WHAT_REMINDER]
    )
    assert {row["to"] for row in rows} == {"Jo Rivera"}
    texts_to_jo = [row for row in Notification.objects.all() if row.recipient == JO]
    keys = set(Disclosure.objects.values_list("message_key", flat=True))
    assert {row.dedupe_key for row in texts_to_jo} <= keys


def test_the_support_reminder_moves_out_of_the_patients_quiet_hours(clock, settings):
    from datetime import time

    from scheduling.circle.models import ContactPreference

    settings.REMINDER_OFFSETS_HOURS = [3]
    appointment = book(timezone="America/New_York")
    ContactPreference.objects.update_or_create(
        patient=appointment.patient,
        defaults={"quiet_from": time(22, 0), "quiet_until": time(8, 0)},
    )
    appointment.patient.refresh_from_db()
    name_jo(appointment.patient)
    text_from(JO, "AGREE")

    (reminder,) = to_jo("support_reminder")
    assert reminder.send_after == datetime(2026, 3, 4, 2, 55, tzinfo=UTC)  # 21:55 EST


def test_erasing_the_patient_erases_the_people_they_named_and_the_texts_to_them(clock):
    from scheduling.booking.erasure import erase_patient

    appointment = book()
    name_jo(appointment.patient)
    text_from(JO, "AGREE")

    erase_patient(patient=appointment.patient)

    assert not SupportPerson.objects.exists() and not Disclosure.objects.exists()
    rows = Notification.objects.filter(template__in=["support_invite", "support_reminder"])
    assert {row.recipient for row in rows} == {"erased"}
    assert {row.body for row in rows} == {""}
    assert S.PENDING not in set(rows.values_list("status", flat=True))
