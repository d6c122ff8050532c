"""A small world in which every kind of access to a patient's data can happen: the audit
tests' shared set-up (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from notifications.models import InboundMessage, Notification
from referrals.models import Coordinator, Organization
from referrals.services import assign_referral, create_referral
from scheduling.booking import links
from scheduling.models import AppointmentStatus, IdempotencyKey
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    ProviderFactory,
    ServiceFactory,
    SpecialtyFactory,
    StaffFactory,
    UserFactory,
)
from tests.scheduling.pages_helpers import NY

# Monday 2 March 2026, noon UTC; the provider works Mon-Fri 09:00-17:00 New York time.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WED_10 = datetime(2026, 3, 4, 10, 0, tzinfo=NY)
WED_14 = datetime(2026, 3, 4, 14, 0, tzinfo=NY)
THU_10 = datetime(2026, 3, 5, 10, 0, tzinfo=NY)
FRI_10 = datetime(2026, 3, 6, 10, 0, tzinfo=NY)


class World:
    """A provider with a login, a patient with three visits, a referral offered to the
    provider, a coordinator, a superuser, and a message, a reply and a stored answer."""

    def __init__(self) -> None:
        specialty = SpecialtyFactory(slug="opioid-use-disorder")
        self.provider = ProviderFactory(states=["NY"], user=UserFactory(username="dana"))
        self.provider.specialties.add(specialty)
        self.service = ServiceFactory(provider=self.provider, slug="intake")
        self.patient = PatientFactory(phone="+12125550142", email="alex@example.net")
        self.appointment = AppointmentFactory(
            service=self.service, patient=self.patient, start=WED_10
        )
        self.requested = AppointmentFactory(
            service=self.service,
            patient=self.patient,
            start=THU_10,
            status=AppointmentStatus.REQUESTED,
        )
        self.past = AppointmentFactory(
            service=self.service, patient=self.patient, start=NOW - timedelta(days=3)
        )
        self.token = links.manage_token(self.appointment)
        organization = Organization.objects.create(slug="county", name="County ED")
        self.coordinator = UserFactory(username="casey")
        Coordinator.objects.create(user=self.coordinator, organization=organization)
        self.organization = organization
        self.staff = StaffFactory(username="root", is_superuser=True)
        self.referral = create_referral(
            created_by=self.coordinator,
            patient={
                "name": "Riley Jordan",
                "phone": "+12125550199",
                "timezone": "America/New_York",
                "state": "NY",
            },
            referrer={"name": "Dr. Kim", "email": "kim@example.org"},
            reason="Follow-up after an ED visit",
            specialty="opioid-use-disorder",
        )
        self.referral = assign_referral(
            referral=self.referral, providers=[self.provider], actor_user=self.coordinator
        )
        self.referral_version = self.referral.history.latest().history_id
        self.notification = Notification.objects.create(
            channel="sms",
            recipient=self.patient.phone,
            template="confirmation",
            body="Your appointment is confirmed.",
            dedupe_key="walk-1",
            subject_ref=f"appointment:{self.appointment.pk}",
        )
        self.inbound = InboundMessage.objects.create(
            message_sid="SM1", from_number=self.patient.phone, body="C"
        )
        self.stored = IdempotencyKey.objects.create(
            key="k",
            scope="appointments.book:address:127.0.0.1",
            request_hash="h",
            response_status=201,
            response_body={"id": str(self.appointment.pk), "patient": {"name": "Alex"}},
        )

    def api(self, user: Any = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    def page(self, user: Any = None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client
