"""Every SMS body and email subject: discreet, GSM-7, at most two segments, never 'CANCEL'."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common.events import Actor
from notifications import text
from notifications.models import Notification
from scheduling.booking import messages, services
from scheduling.booking.replies import handle_reply
from scheduling.models import ProviderKind
from tests.factories import ProviderFactory, ServiceFactory, SpecialtyFactory
from tests.notifications.conftest import PHONE, THU_10, book

CLINICAL = re.compile(
    r"addiction|opioid|substance|recovery|rehab|detox|therap|counsel|psychiatr|methadone|"
    r"buprenorphine|suboxone|naloxone|overdose|withdrawal|treatment",
    re.IGNORECASE,
)
# "CANCEL" is a carrier opt-out word: a text that puts a reply instruction in the same sentence
# as "cancel" ("Reply X to cancel") invites the patient to answer "Cancel", which stops every
# text and leaves the appointment booked.
ASKS_FOR_CANCEL = re.compile(r"\bCANCEL\b|(?i:\breply\b[^.:]*\bcancel)")
TEMPLATES = Path(messages.__file__).parents[1] / "templates" / "scheduling" / "messages"
PROJECT = Path(messages.__file__).parents[2]
# Every text template of every app: referral links, nudges, referrer texts, verification codes.
EVERY_SMS_FILE = sorted(
    str(p.relative_to(PROJECT))
    for app in ("scheduling", "referrals", "notifications")
    for p in (PROJECT / app / "templates").rglob("*sms*.txt")
)
SMS_TEMPLATES = sorted(p.name.removesuffix(".sms.txt") for p in TEMPLATES.glob("*.sms.txt"))
EMAIL_TEMPLATES = sorted(
    p.name.removesuffix(".subject.txt") for p in TEMPLATES.glob("*.subject.txt")
)
# A worst case for length: long names with characters outside GSM-7, a long base URL.
WORST = {
    "provider_name": messages.sms_name("Zoë-Marguerite Ñúñez-O’Connell"),
    "patient_name": messages.sms_name("Bartholomew-Alexander Quinterovski"),
    "when": "Wed Sep 30, 12:30 PM AKDT",
    "when_provider": "Wed Sep 30, 12:30 PM AKDT",
    "manage_url": "https://appointments.example-county-health.org/m/" + "A" * 22,
    "rebook_url": "https://appointments.example-county-health.org/m/" + "A" * 22,
    "video_url": "https://meet.jit.si/" + "v" * 22,
    "hours": 24,
    "service_name": "Intake",
    "contact_line": "Bridgeway scheduling. Questions: reply or call the clinic.",
    # A series (issue 13): the longest rule text, two shifts named, dates left out.
    "rule": "Every 2 weeks on Wednesdays at 12:30 PM AKDT, 26 visits from Sep 30",
    "rule_provider": "Every 2 weeks on Wednesdays at 12:30 PM AKDT, 26 visits from Sep 30",
    "shift_note": "Your local time changes. From Mar 14: 11:30 AM AKST on Tuesdays; "
    "From Nov 7: 12:30 PM AKDT on Wednesdays; and later.",
    "shift_sms": "From Mar 14: 11:30 AM AKST on Tuesdays.",
    "skipped_count": 25,
    "skipped_dates": "Wed Sep 30, 12:30 PM AKDT",
    "cancelled_count": 26,
    "moved_rule": "Every 2 weeks on Wednesdays at 12:30 PM AKDT, 26 visits from Sep 30",
    # The care circle (issue 15)
    "resources_url": "https://appointments.example-county-health.org/resources/",
    "until": "Wednesday, September 30",
}
CIRCLE = TEMPLATES.parent / "circle" / "messages"
CIRCLE_SMS = sorted(p.name.removesuffix(".sms.txt") for p in CIRCLE.glob("*.sms.txt"))


def clinical_words(text: str) -> list[str]:
    return CLINICAL.findall(text)


def test_the_template_lists_are_found():
    assert len(SMS_TEMPLATES) >= 10 and len(EMAIL_TEMPLATES) >= 10


def test_the_word_check_catches_a_clinical_word():
    assert clinical_words("Your Suboxone visit") == ["Suboxone"]


@pytest.mark.parametrize("name", SMS_TEMPLATES)
def test_every_sms_template_file_is_gsm7_and_never_asks_for_cancel(name):
    raw = (TEMPLATES / f"{name}.sms.txt").read_text()

    assert text.is_gsm7(raw.replace("{", "(").replace("}", ")"))
    assert not ASKS_FOR_CANCEL.search(raw)


@pytest.mark.parametrize("name", SMS_TEMPLATES)
def test_every_sms_renders_discreet_gsm7_in_two_segments(name):
    body = messages.render_sms(name, WORST)

    assert not clinical_words(body)
    assert text.is_gsm7(body), body
    assert text.sms_segments(body) <= text.MAX_SMS_SEGMENTS, (len(body), body)
    assert not ASKS_FOR_CANCEL.search(body)


@pytest.mark.parametrize("name", EMAIL_TEMPLATES)
def test_every_email_subject_is_discreet(name):
    email = messages.render_email(name, WORST)

    assert email.subject
    assert not clinical_words(email.subject)
    assert "\n" not in email.subject


def test_segments_count_extension_characters_twice():
    assert text.sms_segments("a" * 160) == 1
    assert text.sms_segments("a" * 159 + "€") == 2
    assert text.sms_segments("a" * 306) == 2
    assert text.sms_segments("a" * 307) == 3


def test_gsm7_maps_curly_quotes_and_accents_instead_of_forcing_ucs2():
    assert text.gsm7("O’Connell “Zoë” naïve 😀") == 'O\'Connell "Zoe" naive ?'


@pytest.mark.django_db
def test_every_message_of_every_event_is_discreet(clock):
    """Drive each lifecycle event for a provider whose profile is full of clinical words."""
    provider = ProviderFactory(
        name="Dana Whitfield",
        kind=ProviderKind.ADDICTION_MEDICINE,
        credentials="Addiction Medicine, Suboxone provider",
        states=["NY"],
    )
    provider.specialties.add(SpecialtyFactory(slug="opioid-use-disorder", name="Opioid use"))
    service = ServiceFactory(provider=provider, name="Opioid treatment: Suboxone induction")
    approval = ServiceFactory(
        provider=provider, name="Detox counseling intake", requires_approval=True
    )
    first = book(service=service)
    services.reschedule_appointment(appointment=first, start=THU_10, actor=Actor.PATIENT)
    services.cancel_appointment(appointment=first, actor=Actor.PATIENT)
    for actor in (Actor.PROVIDER, Actor.STAFF):
        other = book(service=service)
        services.reschedule_appointment(appointment=other, start=THU_10, actor=actor)
        services.cancel_appointment(appointment=other, actor=actor)
    requested = book(service=approval)
    services.confirm_appointment(appointment=requested, actor=Actor.PROVIDER)
    answers = [handle_reply(from_number=PHONE, body=word) for word in ("C", "X", "?")]
    answers.append(handle_reply(from_number="+15005550006", body="C"))

    sms = list(Notification.objects.filter(channel="sms").values_list("body", flat=True))
    subjects = list(Notification.objects.filter(channel="email").values_list("subject", flat=True))
    templates = set(Notification.objects.values_list("template", flat=True))
    assert {"booking_confirmed", "booking_requested", "approved", "rescheduled", "reminder"} <= (
        templates
    )
    assert {"cancelled_by_patient", "cancelled_by_provider", "cancelled_by_clinic"} <= templates
    for line in sms + subjects + [a for a in answers if a]:
        assert not clinical_words(line), line
        assert not ASKS_FOR_CANCEL.search(line), line
    for body in sms + [a for a in answers if a]:
        assert text.is_gsm7(body) and text.sms_segments(body) <= 2, body


@pytest.mark.parametrize("name", SMS_TEMPLATES)
def test_no_text_doubles_the_period_after_an_initial(name):
    assert ".." not in messages.render_sms(name, WORST).replace("...", "")


def test_the_reply_and_cancel_check_catches_the_old_wording():
    assert ASKS_FOR_CANCEL.search("Reply C to confirm or X to cancel. Join: https://x")
    assert ASKS_FOR_CANCEL.search("Reply X to cancel, STOP to opt out.")
    assert not ASKS_FOR_CANCEL.search("Reply C to confirm. Join, change or cancel: https://x")


@pytest.mark.parametrize("path", EVERY_SMS_FILE)
def test_no_text_of_any_app_puts_a_reply_instruction_next_to_cancel(path):
    raw = (PROJECT / path).read_text()

    assert not ASKS_FOR_CANCEL.search(raw)


@pytest.mark.parametrize(
    "path",
    [
        "referrals/templates/referrals/messages/patient_link_sms.txt",
        "notifications/templates/notifications/verification_code.sms.txt",
        "scheduling/templates/scheduling/circle/messages/support_invite.sms.txt",
    ],
)
def test_a_first_text_to_a_number_names_the_sender_and_how_to_stop(path):
    raw = (PROJECT / path).read_text()

    assert raw.startswith("Bridgeway")
    assert "Reply STOP" in raw


def test_the_care_circle_templates_are_found():
    assert {"support_invite", "support_reminder", "support_agreed", "checkin"} <= set(CIRCLE_SMS)


@pytest.mark.parametrize("name", CIRCLE_SMS)
def test_every_care_circle_text_renders_discreet_gsm7_in_two_segments(name):
    raw = (CIRCLE / f"{name}.sms.txt").read_text()
    body = text.render_sms(f"scheduling/circle/messages/{name}.sms.txt", WORST)

    assert text.is_gsm7(raw.replace("{", "(").replace("}", ")"))
    assert not clinical_words(body)
    assert text.is_gsm7(body), body
    assert text.sms_segments(body) <= text.MAX_SMS_SEGMENTS, (len(body), body)
    assert not ASKS_FOR_CANCEL.search(body)


def test_the_check_in_email_subject_is_discreet():
    subject = text.render_line("scheduling/circle/messages/checkin.subject.txt", WORST)

    assert subject and not clinical_words(subject)


def test_the_help_keyword_answer_is_discreet_gsm7_in_two_segments(settings):
    from notifications.inbound import help_reply

    settings.PUBLIC_BASE_URL = "https://appointments.example-county-health.org"
    body = help_reply()

    assert "988" in body and "/resources/" in body and "Reply STOP" in body
    assert not clinical_words(body)
    assert text.is_gsm7(body) and text.sms_segments(body) <= text.MAX_SMS_SEGMENTS


@pytest.mark.django_db
def test_every_care_circle_message_of_every_event_is_discreet(clock):
    """Support texts and the check-in, for a provider full of clinical words, a patient with
    a preferred name outside GSM-7 and discreet names on."""
    from datetime import timedelta

    from scheduling.circle import support
    from scheduling.circle.models import ContactPreference
    from scheduling.models import AppointmentStatus
    from tests.notifications.conftest import NOW

    provider = ProviderFactory(
        name="Dana Whitfield",
        kind=ProviderKind.ADDICTION_MEDICINE,
        credentials="Addiction Medicine, Suboxone provider",
        states=["NY"],
    )
    service = ServiceFactory(provider=provider, name="Opioid treatment: Suboxone induction")
    first = book(service=service)
    ContactPreference.objects.create(
        patient=first.patient, discreet_names=True, preferred_name="Zoë-Marguerite"
    )
    first.patient.refresh_from_db()
    support.add_support_person(
        patient=first.patient,
        name="Jo Rivera",
        phone="+12125550199",
        relationship="recovery sponsor",
        until=NOW + timedelta(days=365),
        source="private link",
    )
    answers = [handle_reply(from_number="+12125550199", body="AGREE")]
    second = book(service=service, start=THU_10)
    clock.move_to(THU_10 + timedelta(hours=1))
    for visit in (first, second):
        services.record_attendance(
            appointment=visit, status=AppointmentStatus.NO_SHOW, actor=Actor.PROVIDER
        )

    circle = Notification.objects.filter(
        template__in=["support_invite", "support_reminder", "checkin"]
    )
    assert set(circle.values_list("template", flat=True)) == {
        "support_invite",
        "support_reminder",
        "checkin",
    }
    for row in circle:
        for line in (row.body, row.subject):
            assert not clinical_words(line), line
            assert "Dana" not in line and "Whitfield" not in line, line
    for body in [row.body for row in circle if row.channel == "sms"] + answers:
        assert text.is_gsm7(body) and text.sms_segments(body) <= 2, body
        assert not ASKS_FOR_CANCEL.search(body), body
