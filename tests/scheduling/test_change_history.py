"""Changes to the directory, hours, time off, referrals and coordinators keep their history
(django-simple-history): who, when, and the record as it was."""

from __future__ import annotations

import pytest
import time_machine

from referrals.models import Coordinator, Organization, Referral
from scheduling.directory import import_directory
from scheduling.models import Provider, Service, TimeOff, WeeklyHours
from tests.factories import StaffFactory, UserFactory
from tests.scheduling.directory_documents import document, provider
from tests.scheduling.pages_helpers import NOW, make_service
from tests.scheduling.referral_helpers import offer_referral

pytestmark = pytest.mark.django_db


def test_hours_added_in_the_portal_keep_who_added_them(client):
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        service.provider.user = UserFactory(username="dana")
        service.provider.save()
        client.force_login(service.provider.user)
        response = client.post(
            "/portal/availability/hours/",
            {"hours-weekday": "5", "hours-start": "10:00", "hours-end": "12:00"},
        )
    assert response.status_code == 302
    added = WeeklyHours.history.filter(weekday=5).get()
    assert (added.history_type, added.history_user) == ("+", service.provider.user)


def test_time_off_removed_in_the_portal_keeps_what_it_was(client):
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        service.provider.user = UserFactory(username="dana")
        service.provider.save()
        off = TimeOff.objects.create(
            provider=service.provider, start=NOW.replace(day=10), end=NOW.replace(day=11)
        )
        client.force_login(service.provider.user)
        client.post(f"/portal/availability/time-off/{off.pk}/delete/")
    assert not TimeOff.objects.exists()
    removed = TimeOff.history.get(history_type="-")
    assert (removed.id, removed.start, removed.history_user) == (
        off.pk,
        off.start,
        service.provider.user,
    )


def test_an_import_that_replaces_hours_keeps_the_old_and_the_new_in_bulk():
    import_directory(document=document(provider()))
    dana = Provider.objects.get(slug="dana-whitfield")
    old = set(dana.weekly_hours.values_list("pk", flat=True))
    friday = [{"weekday": "fri", "start": "09:00", "end": "13:00"}]
    import_directory(document=document(provider(weekly_hours=friday, name="Dana W. Whitfield")))

    history = WeeklyHours.history.filter(provider_id=dana.pk)
    assert set(history.filter(history_type="-").values_list("id", flat=True)) == old
    assert history.filter(history_type="+", weekday=4).count() == 1
    names = list(dana.history.order_by("history_date").values_list("name", flat=True))
    assert names == ["Dana Whitfield", "Dana W. Whitfield"]


def test_an_import_that_drops_a_service_keeps_its_deactivation():
    import_directory(document=document(provider()))
    import_directory(document=document(provider(services=[])))
    changed = Service.history.filter(slug="intake").order_by("history_date")
    assert [(h.history_type, h.is_active) for h in changed] == [("+", True), ("~", False)]


def test_a_referral_keeps_each_status_and_the_coordinator_who_changed_it():
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        referral, _ = offer_referral([service.provider])
    statuses = list(
        Referral.history.filter(id=referral.pk)
        .order_by("history_date", "history_id")
        .values_list("status", flat=True)
    )
    assert statuses[0] == "new"
    assert statuses[-1] == "offered"


def test_no_token_salt_or_hash_enters_the_history():
    for model in (Provider, Referral):
        names = {f.name for f in model.history.model._meta.fields}  # type: ignore[attr-defined]
        assert not {n for n in names if n.endswith(("token_salt", "token_hash"))}


def test_a_coordinator_moved_to_another_organization_keeps_the_first_one_in_history(client):
    first = Organization.objects.create(slug="a", name="A")
    second = Organization.objects.create(slug="b", name="B")
    coordinator = Coordinator.objects.create(user=UserFactory(), organization=first)
    client.force_login(StaffFactory(username="root", is_superuser=True))
    response = client.post(
        f"/admin/referrals/coordinator/{coordinator.pk}/change/",
        {"user": coordinator.user_id, "organization": second.pk},
    )
    assert response.status_code == 302
    kept = Coordinator.history.filter(id=coordinator.pk).order_by("history_date")
    assert [h.organization_id for h in kept] == [first.pk, second.pk]
    assert kept.last().history_user.username == "root"
