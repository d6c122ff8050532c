"""A referral driven only through FHIR: ServiceRequest -> Task updates -> Slot search ->
Appointment create -> Task completed; organization scoping; Task status rules."""

from __future__ import annotations

from typing import Any

import pytest

from fhir.mapping import PART2_LABEL, TZ_EXTENSION
from notifications import webhooks
from notifications.models import WebhookDelivery
from referrals.models import Referral, ReferralStatus
from tests.fhir.conftest import SPECIALTY, coordinator_of

pytestmark = pytest.mark.django_db

REFERRAL = {
    "resourceType": "ServiceRequest",
    "status": "active",
    "intent": "order",
    "priority": "urgent",
    "contained": [
        {
            "resourceType": "Patient",
            "id": "pt",
            "name": [{"text": "Riley Jordan"}],
            "telecom": [{"system": "phone", "value": "+12125550199"}],
            "address": [{"state": "NY"}],
            "extension": [{"url": TZ_EXTENSION, "valueCode": "America/New_York"}],
        }
    ],
    "subject": {"reference": "#pt"},
    "code": {"coding": [{"code": SPECIALTY}]},
    "reasonCode": [{"text": "Follow-up after an ED visit"}],
    "requester": {"display": "Dr. Kim, County ED"},
}


def task_of(client: Any, request_id: str) -> dict[str, Any]:
    bundle = client.get("Task", focus=f"ServiceRequest/{request_id}").body
    (entry,) = bundle["entry"]
    return entry["resource"]


def test_a_referral_runs_its_whole_loop_through_fhir(service, time_machine, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    webhooks.register_endpoint(url="http://127.0.0.1:9/hook", events=["referral.status_changed"])
    coordinator = coordinator_of("county-ed")

    created = coordinator.post("ServiceRequest", REFERRAL)
    assert created.status_code == 201, created.body
    request_id = created.body["id"]
    assert PART2_LABEL in created.body["meta"]["security"]
    assert created.body["priority"] == "urgent"
    assert task_of(coordinator, request_id)["status"] == "requested"

    offered = coordinator.patch(
        f"Task/{request_id}",
        {"status": "received", "owner": {"reference": f"Practitioner/{service.provider_id}"}},
    )
    assert offered.status_code == 200, offered.body
    assert offered.body["status"] == "received"
    assert offered.body["businessStatus"]["coding"][0]["code"] == "offered"

    slots = coordinator.get(
        "Slot", schedule=f"Schedule/{service.pk}", start=["ge2026-03-04", "lt2026-03-05"]
    ).body
    slot = slots["entry"][0]["resource"]
    booked = coordinator.post(
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "basedOn": [{"reference": f"ServiceRequest/{request_id}"}],
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "participant": [
                {"actor": {"reference": f"HealthcareService/{service.pk}"}, "status": "accepted"}
            ],
        },
    )
    assert booked.status_code == 201, booked.body
    assert booked.body["basedOn"] == [{"reference": f"ServiceRequest/{request_id}"}]
    task = task_of(coordinator, request_id)
    assert task["status"] == "in-progress"
    assert task["output"][0]["valueReference"]["reference"] == f"Appointment/{booked.body['id']}"

    time_machine.move_to(booked.body["end"].replace("Z", "+00:00"), tick=False)
    attended = coordinator.patch(f"Appointment/{booked.body['id']}", {"status": "fulfilled"})
    assert attended.status_code == 200, attended.body
    assert attended.body["status"] == "fulfilled"
    assert task_of(coordinator, request_id)["status"] == "completed"
    assert coordinator.get(f"ServiceRequest/{request_id}").body["status"] == "completed"

    steps = [
        d.payload["data"]["referral"]["status"] for d in WebhookDelivery.objects.order_by("pk")
    ]
    assert steps == ["new", "offered", "scheduled", "completed"]


def test_another_organizations_referral_is_404(service):
    ours = coordinator_of("county-ed")
    request_id = ours.post("ServiceRequest", REFERRAL).body["id"]
    theirs = coordinator_of("other-clinic")
    assert theirs.get(f"ServiceRequest/{request_id}").status_code == 404
    assert theirs.get(f"Task/{request_id}").status_code == 404
    assert theirs.patch(f"Task/{request_id}", {"status": "cancelled"}).status_code == 404
    assert theirs.get("ServiceRequest").body["total"] == 0
    assert theirs.get("Task").body["total"] == 0
    assert ours.get("Task").body["total"] == 1


def test_a_coordinator_cannot_book_from_another_organizations_referral(service):
    request_id = coordinator_of("county-ed").post("ServiceRequest", REFERRAL).body["id"]
    response = coordinator_of("other-clinic").post(
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "basedOn": [{"reference": f"ServiceRequest/{request_id}"}],
            "slot": [{"reference": f"Slot/{service.pk}-1772636400"}],
            "participant": [],
        },
    )
    assert response.status_code == 400
    assert response.body["issue"][0]["details"]["coding"][0]["code"] == "unknown_referral"


def test_a_task_cannot_be_marked_completed_directly(service):
    coordinator = coordinator_of("county-ed")
    request_id = coordinator.post("ServiceRequest", REFERRAL).body["id"]
    response = coordinator.patch(f"Task/{request_id}", {"status": "completed"})
    assert response.status_code == 409
    assert response.body["issue"][0]["code"] == "conflict"
    assert Referral.objects.get().status == ReferralStatus.NEW


def test_cancelling_the_task_cancels_the_referral(service):
    coordinator = coordinator_of("county-ed")
    request_id = coordinator.post("ServiceRequest", REFERRAL).body["id"]
    response = coordinator.put(
        f"Task/{request_id}", {**task_of(coordinator, request_id), "status": "cancelled"}
    )
    assert response.body["status"] == "cancelled"
    assert coordinator.get(f"ServiceRequest/{request_id}").body["status"] == "revoked"


def test_a_provider_declines_through_the_task_and_the_reason_is_required(service):
    coordinator = coordinator_of("county-ed")
    request_id = coordinator.post("ServiceRequest", REFERRAL).body["id"]
    owner = {"reference": f"Practitioner/{service.provider_id}"}
    coordinator.patch(f"Task/{request_id}", {"status": "received", "owner": owner})
    refused = coordinator.patch(f"Task/{request_id}", {"status": "rejected"})
    assert refused.status_code == 400
    declined = coordinator.patch(
        f"Task/{request_id}", {"status": "rejected", "statusReason": {"text": "Full caseload"}}
    )
    assert declined.status_code == 200, declined.body
    referral = Referral.objects.get()
    [offer] = referral.offers.all()
    assert (offer.status, offer.decline_reason) == ("declined", "Full caseload")
    assert referral.events.filter(kind="declined").exists()


def test_a_service_request_without_a_patient_is_refused(service):
    body = {**REFERRAL, "contained": []}
    response = coordinator_of("county-ed").post("ServiceRequest", body)
    assert response.status_code == 400
    assert response.body["issue"][0]["expression"] == ["subject"]


def test_a_referral_search_pages_and_filters_by_status(service):
    coordinator = coordinator_of("county-ed")
    ids = [coordinator.post("ServiceRequest", REFERRAL).body["id"] for _ in range(3)]
    coordinator.patch(f"Task/{ids[0]}", {"status": "cancelled"})
    active = coordinator.get("ServiceRequest", status="active", _count=1).body
    assert active["total"] == 2 and len(active["entry"]) == 1
    assert any(link["relation"] == "next" for link in active["link"])
    assert coordinator.get("Task", status="cancelled").body["total"] == 1


def test_a_coordinators_change_through_fhir_is_logged_with_their_organization(service):
    from scheduling.audit.models import AuditAction, AuditEvent

    coordinator = coordinator_of("county-ed")
    request_id = coordinator.post("ServiceRequest", REFERRAL).body["id"]
    coordinator.patch(
        f"Task/{request_id}",
        {"status": "received", "owner": {"reference": f"Practitioner/{service.provider_id}"}},
    )
    slots = coordinator.get(
        "Slot", schedule=f"Schedule/{service.pk}", start=["ge2026-03-04", "lt2026-03-05"]
    ).body
    booked = coordinator.post(
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "basedOn": [{"reference": f"ServiceRequest/{request_id}"}],
            "slot": [{"reference": f"Slot/{slots['entry'][0]['resource']['id']}"}],
            "participant": [{"actor": {"reference": f"HealthcareService/{service.pk}"}}],
        },
    ).body

    cancelled = coordinator.patch(f"Appointment/{booked['id']}", {"status": "cancelled"})

    assert cancelled.status_code == 200, cancelled.body
    change = AuditEvent.objects.get(
        action=AuditAction.CHANGE, object_id=booked["id"], changes__has_key="status"
    )
    assert change.changes["status"] == ["confirmed", "cancelled"]
    assert change.organization_id == Referral.objects.get().organization_id
