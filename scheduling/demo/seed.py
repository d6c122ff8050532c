"""Load the demo directory through the importer, then demo patients and bookings.

Idempotent: providers upsert by slug, patients by phone, bookings by a deterministic id;
a second run (even on a later day) moves the same rows instead of adding new ones.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from common.events import Actor
from common.phones import phone_hash
from common.tokens import derive_token, hash_token, new_salt
from scheduling.booking.services import session_key_for, video_room_for
from scheduling.demo.document import FIRST_NAMES, LAST_NAMES, REGION_BY_STATE, SEED, build_document
from scheduling.directory import ImportSummary, import_directory
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Patient,
    Provider,
    Service,
)

DEMO_NAMESPACE = uuid.UUID("6f1d7c1e-8a51-4c52-9a43-3f0f1f2b9d10")
PATIENTS_PER_STATE = 4
ADMIN_LOGIN = ("admin", "bridgeway-admin")
PROVIDER_LOGIN = ("dana", "bridgeway-provider")
PROVIDER_LOGIN_SLUG = "dana-whitfield"

Interval = tuple[datetime, datetime]


@dataclass
class SeedResult:
    directory: ImportSummary
    patients: int = 0
    appointments_created: int = 0
    appointments_moved: int = 0
    appointments_removed: int = 0
    referrals_created: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, user, password)
    api_token: str = ""


@dataclass
class _Booking:
    id: uuid.UUID
    service: Service
    patient: Patient
    start: datetime
    status: str


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _overlaps(interval: Interval, taken: list[Interval]) -> bool:
    return any(start < interval[1] and interval[0] < end for start, end in taken)


def _blocked(service: Service, start: datetime) -> Interval:
    return (
        start - timedelta(minutes=service.buffer_before_minutes),
        start + timedelta(minutes=service.duration_minutes + service.buffer_after_minutes),
    )


class _Planner:
    """Picks booking times inside one provider's hours, clear of each other and time off."""

    def __init__(self, provider: Provider, rng: random.Random, today: date) -> None:
        self.provider = provider
        self.rng = rng
        self.today = today
        self.zone = ZoneInfo(provider.timezone)
        self.weekly: dict[int, list[tuple[time, time]]] = {}
        for row in provider.weekly_hours.all():
            self.weekly.setdefault(row.weekday, []).append((row.start, row.end))
        self.overrides = {
            o.date: [
                (time.fromisoformat(w["start"]), time.fromisoformat(w["end"])) for w in o.windows
            ]
            for o in provider.overrides.all()
        }
        self.taken: list[Interval] = [(t.start, t.end) for t in provider.time_off.all()]

    def windows(self, day: date) -> list[tuple[time, time]]:
        return self.overrides.get(day, self.weekly.get(day.weekday(), []))

    def starts(self, service: Service, day: date) -> list[datetime]:
        """Slot starts on `day` as the slot engine steps them: from each window's start."""
        found = []
        for w_start, w_end in self.windows(day):
            start, end = _local(day, w_start, self.zone), _local(day, w_end, self.zone)
            at = start
            while at + timedelta(minutes=service.duration_minutes) <= end:
                found.append(at)
                at += timedelta(minutes=service.slot_step_minutes)
        return found

    def place(self, service: Service, first_day: int, last_day: int) -> datetime | None:
        for _ in range(20):
            day = self.today + timedelta(days=self.rng.randint(first_day, last_day))
            starts = self.starts(service, day)
            if not starts:
                continue
            start = self.rng.choice(starts)
            blocked = _blocked(service, start)
            if not _overlaps(blocked, self.taken):
                self.taken.append(blocked)
                return start
        return None

    def sessions(self, service: Service, count: int) -> list[datetime]:
        found: list[datetime] = []
        for offset in range(1, 22):
            for start in self.starts(service, self.today + timedelta(days=offset)):
                if not _overlaps(_blocked(service, start), self.taken):
                    found.append(start)
            if len(found) >= count:
                break
        return found[:count]


def _patients(rng: random.Random, now: datetime) -> dict[str, list[Patient]]:
    """A few demo patients in every home state; phones in the fictional 555-01xx range."""
    by_state: dict[str, list[Patient]] = {}
    number = 0
    for state, region in REGION_BY_STATE.items():
        for _ in range(PATIENTS_PER_STATE):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            phone = f"+1{region.area_code}55501{number:02d}"
            details = {
                "name": f"{first} {last}",
                "email": f"{first}.{last}.{number}@example.com".lower(),
                "timezone": region.zone,
                "state": state,
                "sms_consent": True,
                "sms_consent_source": "demo",
            }
            patient, _ = Patient.objects.update_or_create(
                phone_hash=phone_hash(phone),
                defaults=details,
                create_defaults={**details, "phone": phone, "sms_consent_at": now},
            )
            by_state.setdefault(state, []).append(patient)
            number += 1
    return by_state


def _plan_bookings(
    providers: list[Provider], patients: dict[str, list[Patient]], now: datetime
) -> list[_Booking]:
    today = now.date()
    rng = random.Random(SEED + 1)  # noqa: S311 - demo data must be reproducible
    bookings: list[_Booking] = []

    def add(
        slug: str, n: int, service: Service, start: datetime, status: str, who: Patient
    ) -> None:
        bookings.append(_Booking(_demo_id(slug, n), service, who, start, status))

    for index, provider in enumerate(providers):
        services = [s for s in provider.services.all() if s.is_active]
        states = sorted(provider.licenses.values_list("state", flat=True))
        local_patients = [p for s in states for p in patients.get(s, [])]
        if not services or not local_patients:
            continue
        planner = _Planner(provider, rng, today)
        planner.taken += [
            (a.blocked_start, a.blocked_end)
            for a in provider.appointments.filter(
                status__in=ACTIVE_STATUSES, blocked_end__gt=now
            ).exclude(id__in=_demo_ids(provider))
        ]

        group = next((s for s in services if s.capacity > 1), None)
        if group is not None:
            n = 0
            for session, seats in zip(planner.sessions(group, 3), (7, 4, 2), strict=False):
                for who in rng.sample(local_patients, min(seats, len(local_patients))):
                    add(provider.slug, n, group, session, AppointmentStatus.CONFIRMED, who)
                    n += 1
            continue
        if index % 4 == 3:
            continue  # some providers have an empty calendar
        for n in range(rng.randint(2, 5)):
            service = rng.choice(services)
            start = planner.place(service, 2, 14)
            if start is None:
                continue
            status = (
                AppointmentStatus.REQUESTED
                if service.requires_approval
                else AppointmentStatus.CONFIRMED
            )
            add(provider.slug, n, service, start, status, rng.choice(local_patients))
        past = planner.place(services[-1], -14, -1)
        if past is not None:
            status = AppointmentStatus.NO_SHOW if rng.random() < 0.2 else AppointmentStatus.ATTENDED
            add(provider.slug, 99, services[-1], past, status, rng.choice(local_patients))
    return bookings


def _demo_id(slug: str, n: int) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{slug}:{n}")


def _demo_ids(provider: Provider) -> list[uuid.UUID]:
    return [_demo_id(provider.slug, n) for n in range(100)]


def _session_key(booking: _Booking, start: datetime) -> str:
    # Group seats share the booking service's key (and so its room); a demo id keys the rest.
    if booking.service.is_group:
        return session_key_for(booking.service, start)
    return str(booking.id)


def _write_bookings(
    bookings: list[_Booking], providers: list[Provider], now: datetime, result: SeedResult
) -> None:
    planned = {b.id for b in bookings}
    demo = Appointment.objects.filter(id__in=[i for p in providers for i in _demo_ids(p)])
    # Demo bookings today's plan no longer has go, so reruns on later days never pile up rows.
    result.appointments_removed = (
        demo.exclude(id__in=planned).delete()[1].get(Appointment._meta.label, 0)
    )
    existing = {a.id: a for a in Appointment.objects.filter(id__in=planned)}
    # Park the old demo rows first: on PostgreSQL the exclusion constraint checks every
    # UPDATE, and a row moving into a slot another demo row is about to leave would clash.
    Appointment.objects.filter(id__in=list(existing)).update(status=AppointmentStatus.CANCELLED)
    for booking in bookings:
        start = booking.start.astimezone(UTC)
        key = _session_key(booking, start)
        blocked_start, blocked_end = _blocked(booking.service, start)
        fields: dict[str, Any] = {
            "provider_id": booking.service.provider_id,
            "service": booking.service,
            "patient": booking.patient,
            "start": start,
            "end": start + timedelta(minutes=booking.service.duration_minutes),
            "blocked_start": blocked_start,
            "blocked_end": blocked_end,
            "session_key": key,
            "status": booking.status,
            "modality": "video",
        }
        appointment = existing.get(booking.id)
        if appointment is None:
            salt = new_salt()
            appointment = Appointment(
                id=booking.id,
                video_room=video_room_for(key),
                manage_token_salt=salt,
                manage_token_hash=hash_token(derive_token("manage", booking.id, salt)),
                **fields,
            )
            appointment.save(force_insert=True)
            AppointmentEvent.objects.create(
                appointment=appointment,
                at=min(now, start) - timedelta(days=3),
                actor=Actor.PATIENT,
                kind="booked",
                to_status=AppointmentStatus.REQUESTED
                if booking.status == AppointmentStatus.REQUESTED
                else AppointmentStatus.CONFIRMED,
                data={"source": "demo"},
            )
            if booking.status in (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW):
                AppointmentEvent.objects.create(
                    appointment=appointment,
                    at=fields["end"],
                    actor=Actor.PROVIDER,
                    kind=booking.status,
                    from_status=AppointmentStatus.CONFIRMED,
                    to_status=booking.status,
                    data={"source": "demo"},
                )
            result.appointments_created += 1
        else:
            if appointment.start != start:
                result.appointments_moved += 1
            if key.startswith("group:") and appointment.session_key != key:
                fields["video_room"] = video_room_for(key)
            for name, value in fields.items():
                setattr(appointment, name, value)
            appointment.save()


def _logins(result: SeedResult) -> None:
    """Development-only logins so the admin and the provider portal can be tried."""
    from common.api_tokens import issue_api_token

    user_model = get_user_model()
    username, password = ADMIN_LOGIN
    admin, created = user_model.objects.get_or_create(
        username=username, defaults={"email": "admin@bridgeway.invalid"}
    )
    admin.is_staff = admin.is_superuser = admin.is_active = True
    if created:  # hashing takes a second; and keep a password someone changed
        admin.set_password(password)
    admin.save()
    result.logins.append(("staff superuser", username, password))
    # Tokens are stored hashed, so the one printed last time cannot be shown again: a fresh
    # one each run (the earlier ones expire).
    result.api_token = issue_api_token(user=admin)

    username, password = PROVIDER_LOGIN
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"email": f"{PROVIDER_LOGIN_SLUG}@clinic.example.org"}
    )
    user.is_active = True
    if created:
        user.set_password(password)
    user.save()
    Provider.objects.filter(user=user).exclude(slug=PROVIDER_LOGIN_SLUG).update(user=None)
    Provider.objects.filter(slug=PROVIDER_LOGIN_SLUG).update(user=user)
    result.logins.append((f"provider ({PROVIDER_LOGIN_SLUG})", username, password))


@transaction.atomic
def seed_directory(*, now: datetime | None = None, with_logins: bool | None = None) -> SeedResult:
    """Load (or refresh) the demo directory, patients and bookings; logins only in DEBUG."""
    now = now or timezone.now()
    today = now.date()
    document = build_document(today)
    result = SeedResult(directory=import_directory(document=document))

    slugs = [p["slug"] for p in document["providers"]]
    providers = sorted(
        Provider.objects.filter(slug__in=slugs).prefetch_related(
            "services", "weekly_hours", "overrides", "time_off"
        ),
        key=lambda p: slugs.index(p.slug),
    )
    patients = _patients(random.Random(SEED + 2), now)  # noqa: S311 - reproducible demo
    result.patients = sum(len(group) for group in patients.values())
    _write_bookings(_plan_bookings(providers, patients, now), providers, now, result)

    if settings.DEBUG if with_logins is None else with_logins:
        _logins(result)
    return result
