"""A booking through the API costs a bounded number of SQL statements (issue 3)."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from notifications.models import Notification
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, make_service, payload

# A real transaction, so BEGIN, COMMIT and the after-commit hand-off to the queue count.
pytestmark = pytest.mark.django_db(transaction=True)

# Measured: 17 on SQLite (the overlap check there, the task queue in the database), 16 on
# PostgreSQL with Redis as the queue, one of them the proof-of-possession lookup (issue 11)
# and one the access log's row (issue 12), then one more for the outbound webhook
# endpoints subscribed to the event (issue 17: a SELECT, plus an INSERT when any are).
# Before messages were recorded as one batch: 50 and 46.
QUERY_BUDGET = 19  # 18, plus the Provider row lock bookings and waitlist offers share


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
