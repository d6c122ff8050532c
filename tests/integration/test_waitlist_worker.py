"""One freed seat end to end: a real `qcluster` finds the next person, texts the offer
through the Twilio-speaking server, and the person's Y to the webhook books the seat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.test_worker import (  # noqa: F401 (fixtures used by name)
    PHONE,
    Stack,
    migrated_template,
    redis_too,
    shared_db,
    stack,
    wait_for,
)


def _full_group() -> tuple[Any, datetime, list[Any]]:
    from common.events import Actor
    from scheduling.booking import services
    from scheduling.booking.patients import PatientDetails
    from scheduling.models import ProviderKind
    from tests.factories import ProviderFactory, ServiceFactory

    # Noon, so the meeting lies inside the hours whatever the time of day the test runs.
    start = (datetime.now(UTC) + timedelta(days=3)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    provider = ProviderFactory(
        name="Dana Whitfield",
        kind=ProviderKind.GROUP_FACILITATOR,
        timezone="UTC",
        states=["NY"],
        hours=[(day, "00:00", "23:00") for day in range(7)],
    )
    service = ServiceFactory(
        provider=provider,
        capacity=2,
        duration_minutes=60,
        slot_step_minutes=60,
        buffer_after_minutes=0,
        min_notice_hours=0,
    )
    seats = [
        services.book_appointment(
            service=service,
            start=start,
            patient=PatientDetails(
                name=f"Seat{i}", phone=f"+1212555031{i}", timezone="UTC", state="NY"
            ),
            sms_consent=True,
            possession=True,
            actor=Actor.PATIENT,
        )
        for i in range(2)
    ]
    return service, start, seats


@redis_too
def test_a_cancelled_seat_is_texted_to_the_next_person_whose_y_books_it(stack: Stack) -> None:  # noqa: F811
    from scheduling.booking import services
    from scheduling.booking.patients import PatientDetails
    from scheduling.booking.waitlist.services import join_waitlist
    from scheduling.models import ACTIVE_STATUSES, Appointment

    service, start, seats = _full_group()
    entry, _ = join_waitlist(
        service=service,
        patient=PatientDetails(name="Kay", phone=PHONE, timezone="UTC", state="NY"),
        sms_consent=True,
        possession=True,
        start=start,
    )

    services.cancel_appointment(appointment=seats[0], actor="patient")
    offer = wait_for(
        lambda: [t for t in stack.texts_to() if "A time opened with Dana W." in t["body"]],
        what="the offer text",
    )
    assert len(offer) == 1 and "Reply Y within 30 min" in offer[0]["body"]

    answer = stack.text_in("Y")

    assert answer.status_code == 200
    assert "with Dana W. is yours" in answer.text
    booked = Appointment.objects.get(patient=entry.patient, status__in=ACTIVE_STATUSES)
    assert booked.start == start
    assert Appointment.objects.filter(start=start, status__in=ACTIVE_STATUSES).count() == 2
