"""factory_boy factories for the directory, patients and appointments."""

from __future__ import annotations

import secrets
import uuid
from datetime import time, timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from common.phones import to_e164
from common.tokens import derive_token, hash_token, new_salt
from notifications.models import PhoneVerification
from notifications.sealing import unsealer
from scheduling import models
from scheduling.web.verify import PROOFS_KEY, proof_key


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(UserFactory):
    is_staff = True


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Specialty
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"specialty-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class InsuranceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Insurance
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class LanguageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Language
        django_get_or_create = ("code",)

    code = "en"
    name = "English"


class ProviderFactory(factory.django.DjangoModelFactory):
    """A provider licensed in `states`, working `hours` (local wall clock) on `weekdays`."""

    class Meta:
        model = models.Provider
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"provider-{n}")
    name = factory.Sequence(lambda n: f"Dana Whitfield{n}")
    credentials = "LCSW"
    kind = models.ProviderKind.THERAPIST
    timezone = "America/New_York"
    email = factory.LazyAttribute(lambda o: f"{o.slug}@clinic.example.org")
    accepting_new_patients = True
    offers_video = True
    offers_phone = True

    @factory.post_generation
    def states(self, create, extracted, **kwargs):
        if not create:
            return
        for state in extracted if extracted is not None else ["NY"]:
            models.ProviderLicense.objects.get_or_create(provider=self, state=state)

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        """hours=[(weekday, "09:00", "17:00"), ...]; default Mon-Fri 09:00-17:00."""
        if not create:
            return
        rows = extracted if extracted is not None else [(d, "09:00", "17:00") for d in range(5)]
        for weekday, start, end in rows:
            models.WeeklyHours.objects.create(
                provider=self,
                weekday=weekday,
                start=time.fromisoformat(start),
                end=time.fromisoformat(end),
            )


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Service

    provider = factory.SubFactory(ProviderFactory)
    slug = factory.Sequence(lambda n: f"service-{n}")
    name = "Follow-up visit"
    duration_minutes = 50
    buffer_before_minutes = 0
    buffer_after_minutes = 10
    min_notice_hours = 24
    horizon_days = 60
    slot_step_minutes = 30
    requires_approval = False
    capacity = 1


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Patient

    name = factory.Sequence(lambda n: f"Alex Rivera{n}")
    # 1000-8999: the numbers tests write by hand (0000, 01xx, 9999) are never handed out.
    phone = factory.Sequence(lambda n: f"+1212555{1000 + n % 8000:04d}")
    email = factory.Sequence(lambda n: f"patient{n}@example.net")
    timezone = "America/New_York"
    state = "NY"
    sms_consent = True


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An appointment whose end and blocked interval follow from service and start."""

    class Meta:
        model = models.Appointment

    service = factory.SubFactory(ServiceFactory)
    provider = factory.LazyAttribute(lambda o: o.service.provider)
    patient = factory.SubFactory(PatientFactory)
    start = factory.LazyFunction(lambda: None)  # set by the caller
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.service.duration_minutes))
    blocked_start = factory.LazyAttribute(
        lambda o: o.start - timedelta(minutes=o.service.buffer_before_minutes)
    )
    blocked_end = factory.LazyAttribute(
        lambda o: o.end + timedelta(minutes=o.service.buffer_after_minutes)
    )
    session_key = factory.LazyAttribute(
        lambda o: (
            f"group:{o.service.pk}:{o.start.isoformat()}"
            if o.service.capacity > 1
            else str(uuid.uuid4())
        )
    )
    status = models.AppointmentStatus.CONFIRMED
    video_room = factory.LazyFunction(lambda: secrets.token_urlsafe(16))
    manage_token_salt = factory.LazyFunction(new_salt)
    manage_token_hash = factory.LazyAttribute(
        lambda o: hash_token(derive_token("manage", o.id, o.manage_token_salt))
    )
    id = factory.LazyFunction(uuid.uuid4)


def proof_of(phone: str) -> str:
    """A fresh proof-of-possession token for `phone`, as POST /api/verifications/{id}/check/
    hands out after the right code."""
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    PhoneVerification.objects.create(
        phone=to_e164(phone) or phone,
        code_hash="-",
        created_at=now,
        expires_at=now + timedelta(minutes=10),
        verified_at=now,
        token_hash=hash_token(token),
    )
    return token


def prove_in_session(client: Any, phone: str) -> None:
    """Let a test client's browser session hold the proof for `phone` (the code step done)."""
    session = client.session
    session[PROOFS_KEY] = {proof_key(to_e164(phone) or phone): proof_of(phone)}
    session.save()


def as_sent(notification: Any) -> str:
    """A recorded message's body as the phone or inbox receives it: links unsealed."""
    return unsealer(notification.subject_ref)(notification.body)
