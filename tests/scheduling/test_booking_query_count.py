"""A booking through the API costs a bounded number of SQL statements (issue 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from notifications.models import Notification
from scheduling.models import Patient
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, make_service, payload

# A real transaction, so BEGIN, COMMIT and the after-commit hand-off to the queue count.
pytestmark = pytest.mark.django_db(transaction=True)

# Measured: 14 on SQLite (the overlap check there, the task queue in the database), 12 on
# PostgreSQL with Redis as the queue, one of them the proof-of-possession lookup (issue 11)
# and one the access log's row (issue 12), then one more for the outbound webhook
# endpoints subscribed to the event (issue 17: a SELECT, plus an INSERT when any are).
# Before messages were recorded as one batch: 50 and 46; before issue 18: 17 and 16.
QUERY_BUDGET = 15  # 14, plus the Provider row lock bookings and waitlist offers share


def test_a_booking_with_its_messages_stays_within_the_query_budget(settings):
    settings.REMINDER_OFFSETS_HOURS = [24, 2]
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        client = APIClient()
        body = payload(service, WED_10)  # the verification row is written before, by the code step
        with CaptureQueriesContext(connection) as captured:
            response = client.post(BOOK_URL, body, format="json")

    assert response.status_code == 201, response.content
    # Texts, emails and both reminders were all recorded: the budget covers them.
    assert Notification.objects.count() == 5
    assert len(captured.captured_queries) <= QUERY_BUDGET, "\n".join(
        q["sql"][:120] for q in captured.captured_queries
    )


# Issue 18: the slot check is one statement (hours, overrides, time off and appointments in
# one UNION ALL) and the patient one INSERT … ON CONFLICT … RETURNING. The 12: the service,
# the proof of possession, BEGIN, the patient, the slot check, the appointment, its event,
# the opt-out check, the messages, the webhook endpoints, COMMIT, the access log's row;
# 13 with the Provider row lock that bookings and waitlist offers share (issue 14).
POSTGRES_BUDGET = 13


@pytest.mark.postgres
@pytest.mark.redis
def test_a_booking_costs_at_most_thirteen_statements_on_postgresql(
    settings, django_assert_max_num_queries
):
    settings.REMINDER_OFFSETS_HOURS = [24, 2]
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        body = payload(service, WED_10)
        client = APIClient()
        with django_assert_max_num_queries(POSTGRES_BUDGET):
            response = client.post(BOOK_URL, body, format="json")

    assert response.status_code == 201, response.content
    assert Notification.objects.count() == 5


@pytest.mark.postgres
@pytest.mark.redis
def test_a_returning_patient_books_within_the_same_budget(settings, django_assert_max_num_queries):
    settings.REMINDER_OFFSETS_HOURS = [24, 2]
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        first = APIClient().post(BOOK_URL, payload(service, WED_10), format="json")
        assert first.status_code == 201, first.content
        again = payload(service, WED_10 + timedelta(hours=1))
        with django_assert_max_num_queries(POSTGRES_BUDGET):
            response = APIClient().post(BOOK_URL, again, format="json")

    assert response.status_code == 201, response.content
    assert Patient.objects.count() == 1
