"""`manage.py audit_report --patient PHONE`: a person's accounting of accesses, changes and
disclosures."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from notifications.models import Notification
from referrals.links import referral_token
from scheduling.audit.models import AuditEvent
from scheduling.booking import links, services
from tests.referrals.audit_world import FRI_10, NOW, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        yield World()


def report(phone: str) -> str:
    out = StringIO()
    call_command("audit_report", "--patient", phone, stdout=out)
    return out.getvalue()


def test_an_unknown_number_is_refused():
    with pytest.raises(CommandError, match="No patient and no referral"):
        report("+12125550100")


def test_a_number_that_is_not_one_is_refused():
    with pytest.raises(CommandError, match="phone number"):
        report("call me")


def test_the_report_shows_who_looked_who_changed_what_and_every_message(world):
    with time_machine.travel(NOW, tick=False):
        portal = Client()
        portal.force_login(world.provider.user)
        portal.get(f"/portal/appointments/{world.appointment.pk}/")
        services.reschedule_appointment(
            appointment=world.appointment, start=FRI_10, actor="provider", actor_user=None
        )
        Notification.objects.create(
            channel="email",
            recipient=world.provider.email,
            template="provider_rescheduled",
            body="Moved",
            dedupe_key="walk-2",
            subject_ref=f"appointment:{world.appointment.pk}",
        )
        text = report("(212) 555-0142")

    assert f"Accounting for {world.patient.phone} (patient #{world.patient.pk}" in text
    assert "dana (provider)" in text
    assert f"viewed appointment {world.appointment.pk} via portal" in text
    assert f"appointment {world.appointment.pk} rescheduled" in text
    # Disclosures: to the patient, and to someone else about them.
    assert f"sms 'confirmation' to {world.patient.phone} (the patient)" in text
    assert f"email 'provider_rescheduled' to {world.provider.email} (someone else)" in text
    assert links.manage_token(world.appointment) not in text


def test_a_referred_person_without_a_record_gets_the_referrals_accounting(world):
    with time_machine.travel(NOW, tick=False):
        Client().get(f"/r/{referral_token(world.referral)}")
        text = report(world.referral.patient_phone)
    assert "(no patient record yet; 1 referral(s))" in text
    assert f"viewed referral {world.referral.pk} via link" in text
    assert f"referral {world.referral.pk} assigned (new -> offered)" in text


def test_a_person_without_a_record_never_sees_anyone_elses_unbooked_referral(world):
    from referrals.services import create_referral

    with time_machine.travel(NOW, tick=False):
        stranger = create_referral(
            created_by=world.coordinator,
            patient={
                "name": "Sam Other",
                "phone": "+13125550123",
                "timezone": "America/Chicago",
                "state": "IL",
            },
            referrer={"name": "Dr. Lee", "email": "lee@example.org"},
            reason="Intake",
            specialty="opioid-use-disorder",
        )
        text = report(world.referral.patient_phone)
    assert "(no patient record yet; 1 referral(s))" in text
    assert f"referral {stranger.pk} " not in text
    assert not AuditEvent.objects.filter(object_type="referral", object_id=str(stranger.pk))


def test_reading_the_accounting_is_itself_logged(world):
    report(world.patient.phone)
    row = AuditEvent.objects.get(channel="command")
    assert (row.action, row.role, row.patient) == ("export", "system", world.patient)
    assert row.user_agent.startswith("manage.py audit_report (run by ")
