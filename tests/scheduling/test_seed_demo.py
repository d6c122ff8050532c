"""seed_demo: a realistic, idempotent demo directory with bookings inside the hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from common.tokens import derive_token, hash_token
from notifications.models import Notification
from referrals.demo import seed_demo
from referrals.models import Coordinator, Organization, Referral, ReferralEvent, ReferralOffer
from scheduling.availability import selectors as availability
from scheduling.demo.seed import SeedResult
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    DateOverride,
    Insurance,
    Language,
    Patient,
    Provider,
    ProviderKind,
    ProviderLicense,
    Service,
    Specialty,
    TimeOff,
    WeeklyHours,
)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
MODELS = (
    Provider,
    ProviderLicense,
    Service,
    WeeklyHours,
    DateOverride,
    TimeOff,
    Specialty,
    Insurance,
    Language,
    Patient,
    Appointment,
    AppointmentEvent,
    Organization,
    Coordinator,
    Referral,
    ReferralOffer,
    ReferralEvent,
    Notification,
)
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """Seed twice once for the module (seeding takes seconds), then clean up."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        first = seed_demo(now=NOW, with_logins=True)
        after_first = counts()
        ids_first = set(Appointment.objects.values_list("id", flat=True))
        second = seed_demo(now=NOW, with_logins=True)
        yield {
            "first": first,
            "second": second,
            "after_first": after_first,
            "after_second": counts(),
            "ids_first": ids_first,
        }
        for model in reversed(MODELS):
            model.objects.all().delete()
        # What seeding wrote besides: change history, events, tokens. Left behind, a later
        # test that looks history up by a reused id would find these rows too.
        for label in ("referrals", "scheduling", "notifications", "knox"):
            for model in apps.get_app_config(label).get_models():
                model.objects.all().delete()
        get_user_model().objects.all().delete()


pytestmark = pytest.mark.django_db


def test_seeding_twice_on_one_day_adds_no_rows(seeded: dict):
    assert seeded["after_second"] == seeded["after_first"]
    assert set(Appointment.objects.values_list("id", flat=True)) == seeded["ids_first"]


def test_the_second_run_updates_instead_of_creating(seeded: dict):
    second: SeedResult = seeded["second"]
    assert second.directory.providers_created == 0
    assert second.directory.providers_updated == seeded["after_first"]["Provider"]
    assert (second.appointments_created, second.appointments_moved) == (0, 0)
    assert second.appointments_removed == 0
    assert (seeded["first"].referrals_created, second.referrals_created) == (4, 0)


def test_the_directory_has_forty_providers_of_every_kind(seeded: dict):
    assert Provider.objects.count() >= 40
    assert set(Provider.objects.values_list("kind", flat=True)) == set(ProviderKind.values)


def test_the_directory_spans_eight_states_and_the_five_zones(seeded: dict):
    assert ProviderLicense.objects.values("state").distinct().count() >= 8
    assert set(Provider.objects.values_list("timezone", flat=True)) >= {
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
    }


def test_the_vocabularies_are_realistic(seeded: dict):
    languages = set(Language.objects.filter(providers__isnull=False).values_list("code", flat=True))
    assert {"en", "es", "zh", "vi", "ru", "ht"} <= languages
    insurers = set(Insurance.objects.filter(providers__isnull=False).values_list("slug", flat=True))
    assert {"medicaid", "medicare", "aetna", "bcbs", "cigna", "united", "self-pay"} <= insurers
    specialties = set(
        Specialty.objects.filter(providers__isnull=False).values_list("slug", flat=True)
    )
    assert {
        "opioid-use-disorder",
        "benzodiazepines",
        "stimulants",
        "family-therapy",
        "trauma",
        "co-occurring-disorders",
        "pain-management",
        "harm-reduction",
    } <= specialties
    assert Language.objects.get(code="ht").name == "Haitian Creole"


def test_every_provider_has_hours_and_an_active_service(seeded: dict):
    for provider in Provider.objects.all():
        assert provider.weekly_hours.exists(), provider.slug
        assert provider.services.filter(is_active=True).exists(), provider.slug


def test_group_services_have_seats(seeded: dict):
    groups = Service.objects.filter(capacity__gt=1)
    assert groups.filter(capacity=12, slug="weekly-support-group").exists()
    assert all(g.provider.kind == ProviderKind.GROUP_FACILITATOR for g in groups)
    sessions = {a.session_key for a in Appointment.objects.filter(service__in=groups)}
    shared = [k for k in sessions if Appointment.objects.filter(session_key=k).count() > 1]
    assert shared, "some group session should have several people registered"


def test_overrides_and_time_off_lie_ahead_of_today(seeded: dict):
    assert DateOverride.objects.filter(date__gt=NOW.date()).count() >= 10
    assert DateOverride.objects.filter(windows=[]).exists()
    assert TimeOff.objects.filter(start__gt=NOW).count() >= 5


def test_bookings_carry_derived_fields_and_working_manage_tokens(seeded: dict):
    appointments = list(Appointment.objects.select_related("service"))
    assert len(appointments) >= 60
    for a in appointments:
        service = a.service
        assert a.end - a.start == timedelta(minutes=service.duration_minutes)
        assert a.start - a.blocked_start == timedelta(minutes=service.buffer_before_minutes)
        assert a.blocked_end - a.end == timedelta(minutes=service.buffer_after_minutes)
        assert a.manage_token_hash == hash_token(derive_token("manage", a.id, a.manage_token_salt))
        assert a.provider_id == service.provider_id
        if service.capacity > 1:
            assert a.session_key == f"group:{service.pk}:{a.start.isoformat()}"
    assert Appointment.objects.filter(start__lt=NOW, status="attended").exists()
    assert Appointment.objects.filter(status="requested").exists()


def test_bookings_are_in_licensed_states_and_each_has_an_event(seeded: dict):
    for a in Appointment.objects.select_related("patient", "provider"):
        assert a.provider.licenses.filter(state=a.patient.state).exists()
        assert a.events.filter(kind="booked").exists()


def test_active_bookings_never_overlap_for_one_provider(seeded: dict):
    by_provider: dict[int, list[Appointment]] = {}
    for a in Appointment.objects.filter(status__in=ACTIVE_STATUSES).order_by("blocked_start"):
        by_provider.setdefault(a.provider_id, []).append(a)
    for rows in by_provider.values():
        for prev, nxt in zip(rows, rows[1:], strict=False):
            assert nxt.session_key == prev.session_key or nxt.blocked_start >= prev.blocked_end


def test_future_bookings_sit_on_slots_the_engine_would_offer(seeded: dict):
    """Inside the hours, off overrides and time off: were each one free, it would be offered."""
    earlier = NOW - timedelta(days=3)  # before the bookings, so minimum notice is met
    future = Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__gt=NOW)
    assert future.count() >= 50
    for a in future.select_related("service", "service__provider"):
        assert availability.is_offered(
            a.service, a.start, now=earlier, exclude_appointment_id=a.id
        ), f"{a.provider_id} {a.service.slug} {a.start}"


def test_providers_keep_free_slots_beside_the_bookings(seeded: dict):
    for service in Service.objects.filter(provider__slug="dana-whitfield", is_active=True):
        slots = availability.offered_slots(
            service, start=NOW, end=NOW + timedelta(days=14), now=NOW
        )
        assert len(slots) > 10, service.slug


def test_a_run_on_a_later_day_moves_the_same_rows_to_fresh_dates(seeded: dict):
    ids = set(Appointment.objects.values_list("id", flat=True))
    later_now = NOW + timedelta(days=9)
    later = seed_demo(now=later_now, with_logins=False)
    assert later.appointments_moved > 0
    assert Appointment.objects.count() == (
        len(ids) + later.appointments_created - later.appointments_removed
    )
    assert not Appointment.objects.filter(status="cancelled").exists()
    assert Provider.objects.count() == seeded["after_first"]["Provider"]
    assert not DateOverride.objects.filter(date__lte=later_now.date()).exists()
    assert Appointment.objects.filter(status__in=ACTIVE_STATUSES, start__gt=later_now).count() >= 50


def test_development_logins_are_made_only_in_debug(settings):
    settings.DEBUG = False
    get_user_model().objects.all().delete()  # the module's seeding made them (with_logins)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert not get_user_model().objects.exists()
    assert "no development logins" in out.getvalue()


def test_debug_logins_give_a_superuser_and_a_provider_linked_to_dana(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("seed_demo", stdout=out)
    users = get_user_model().objects
    admin = users.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("bridgeway-admin")
    dana = users.get(username="dana")
    assert not dana.is_staff and dana.check_password("bridgeway-provider")
    assert Provider.objects.get(user=dana).slug == "dana-whitfield"
    assert "admin / bridgeway-admin" in out.getvalue()
    assert "dana / bridgeway-provider" in out.getvalue()
    coordinator = users.get(username="coordinator")
    assert not coordinator.is_staff and coordinator.check_password("bridgeway-coordinator")
    organization = Coordinator.objects.get(user=coordinator).organization
    assert organization.name == "Riverside Primary Care"
    assert "coordinator / bridgeway-coordinator" in out.getvalue()


def test_each_seeding_prints_a_fresh_api_token_that_opens_the_api(seeded: dict):
    from rest_framework.test import APIClient

    tokens = {seeded["first"].api_token, seeded["second"].api_token}
    assert len(tokens) == 2 and "" not in tokens
    for token in tokens:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get("/api/referrals/").status_code == 200


def test_demo_referrals_cover_the_board_statuses_for_the_demo_organization(seeded: dict):
    referrals = Referral.objects.filter(organization__slug="riverside-primary-care")
    assert sorted(referrals.values_list("status", flat=True)) == [
        "escalated",
        "new",
        "offered",
        "scheduled",
    ]
    creator = get_user_model().objects.get(username="coordinator")
    assert all(r.created_by == creator for r in referrals)
    # Made by the services: each has its timeline from "created" on.
    for referral in referrals:
        first = referral.events.order_by("at", "id").first()
        assert first is not None and first.kind == "created"


def test_the_demo_provider_has_offered_referrals_in_her_inbox(seeded: dict):
    dana = Provider.objects.get(slug="dana-whitfield")
    offered = ReferralOffer.objects.filter(provider=dana, status="open")
    assert {o.referral.status for o in offered} == {"offered", "scheduled"}


def test_the_scheduled_referral_was_booked_through_its_link(seeded: dict):
    referral = Referral.objects.get(status="scheduled")
    appointment = referral.appointment
    assert appointment is not None and appointment.provider.slug == "dana-whitfield"
    assert appointment.start > NOW and appointment.status in ACTIVE_STATUSES
    assert referral.events.filter(kind="scheduled").exists()


def test_the_escalated_referral_was_escalated_by_the_sweep(seeded: dict):
    referral = Referral.objects.get(status="escalated")
    assert referral.escalated_at == NOW and referral.deadline_at < NOW
    assert referral.events.filter(kind="escalated", actor="system").exists()


def test_demo_referrals_leave_no_messages_to_send(seeded: dict):
    assert seeded["after_first"]["Notification"] == 0
    assert not Notification.objects.exists()
