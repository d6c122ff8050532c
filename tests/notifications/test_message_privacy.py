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
}


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
    ],
)
def test_a_first_text_to_a_number_names_the_sender_and_how_to_stop(path):
    raw = (PROJECT / path).read_text()

    assert raw.startswith("Bridgeway")
    assert "Reply STOP" in raw
