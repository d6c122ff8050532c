"""The benchmark directory builder (bench/_data.py) stays usable by every benchmark."""

from __future__ import annotations

import pytest

from bench._data import build
from scheduling.availability import selectors as availability
from scheduling.models import Appointment, Provider, Service

pytestmark = pytest.mark.django_db


def test_the_bench_builder_makes_the_sizes_asked_for_and_reuses_them():
    data = build(providers=5, appointments=23)
    assert Provider.objects.filter(slug__startswith="bench-").count() == 5
    assert Service.objects.filter(provider__slug__startswith="bench-").count() == 10
    assert Appointment.objects.count() == data.appointments == 23
    zones = set(Provider.objects.values_list("timezone", flat=True))
    assert "America/Phoenix" in zones and len(zones) == 5

    again = build(providers=5, appointments=23)
    assert again.appointments == 23 and Appointment.objects.count() == 23


def test_bench_providers_have_a_next_available_slot():
    build(providers=3, appointments=12)
    firsts = list(Service.objects.filter(position=0).select_related("provider"))
    found = availability.next_available(firsts)
    assert len(found) == 3 and all(found.values())
