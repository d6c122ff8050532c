"""Group pages: find a group (public), the waitlist's private link (/w/<token>), the
"tell me if an earlier time opens" button of a visit's private link, and the facilitator's
roster in the portal (aliases and attendance per meeting; no one else ever sees it).

GET only shows; every change is a POST (link scanners fetch GET links on their own).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.states import STATES, is_state
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import Subject, appointment_subject
from scheduling.booking import links
from scheduling.booking.groups import find_groups
from scheduling.booking.patients import details_of
from scheduling.booking.waitlist import services as waitlist
from scheduling.booking.waitlist.links import entry_for_token, entry_token, entry_url
from scheduling.booking.waitlist.models import WaitlistEntry
from scheduling.models import Appointment, Language, Provider
from scheduling.web.portal import provider_required
from scheduling.web.zones import remember_zone, visitor_zone


@require_GET
def find_group(request: HttpRequest) -> HttpResponse:
    """Groups open to the visitor's state, their next meetings in the visitor's zone."""
    state = request.GET.get("state", "").upper()
    state = state if is_state(state) else ""
    language = request.GET.get("language", "")[:16]
    zone = visitor_zone(request, state=state)
    groups = find_groups(state=state, language=language or None) if state else []
    context = {
        "state": state,
        "state_name": STATES.get(state, ""),
        "states": sorted(STATES.items(), key=lambda item: item[1]),
        "language": language,
        "languages": Language.objects.order_by("name"),
        "groups": groups,
        "zone": zone,
    }
    return remember_zone(render(request, "scheduling/groups.html", context), zone)


# ---------------------------------------------------------------- the waitlist's private link


def _entry(token: str) -> WaitlistEntry:
    entry = entry_for_token(token)
    if entry is None:
        raise Http404("This link does not work.")
    return entry


def _audit_entry(request: HttpRequest, entry: WaitlistEntry, action: str) -> None:
    record(
        request,
        channel=AuditChannel.LINK,
        role=AuditRole.PATIENT,
        action=action,
        subjects=[Subject("waitlist_entry", str(entry.pk), entry.patient_id)],
    )


@never_cache
@require_GET
def waitlist_page(request: HttpRequest, token: str) -> HttpResponse:
    entry = _entry(token)
    _audit_entry(request, entry, AuditAction.VIEW)
    context = {
        "entry": entry,
        "token": token,
        "provider": entry.provider,
        "position": waitlist.position_of(entry),
        "offer": waitlist.held_offer(entry),
        "zone": entry.patient.timezone,
        "page_url": entry_url(entry),
    }
    return render(request, "scheduling/waitlist.html", context)


@require_POST
def waitlist_take(request: HttpRequest, token: str) -> HttpResponse:
    entry = _entry(token)
    offer = waitlist.held_offer(entry)
    taken = waitlist.accept_offer(offer=offer) if offer is not None else None
    _audit_entry(request, entry, AuditAction.CHANGE)
    if taken is None or taken.appointment is None:
        messages.error(request, "Sorry, that time was taken. You keep your place in line.")
        return HttpResponseRedirect(reverse("waitlist-page", args=[token]))
    return HttpResponseRedirect(reverse("booked", args=[links.manage_token(taken.appointment)]))


@require_POST
def waitlist_leave(request: HttpRequest, token: str) -> HttpResponse:
    entry = waitlist.leave_waitlist(entry=_entry(token))
    _audit_entry(request, entry, AuditAction.CHANGE)
    messages.success(request, "You left the list. We will not text you about it again.")
    return HttpResponseRedirect(reverse("waitlist-page", args=[token]))


@require_POST
def wait_for_earlier(request: HttpRequest, token: str) -> HttpResponse:
    """From a visit's private link: wait for any earlier time of the same service."""
    appointment = links.appointment_for_token(token)
    if appointment is None:
        raise Http404("This link does not work.")
    try:
        entry, _ = waitlist.join_waitlist(
            service=appointment.service,
            patient=details_of(appointment.patient),
            sms_consent=True,
            possession=True,  # the manage link was texted to this patient
            appointment=appointment,
        )
    except DomainError as error:
        messages.error(request, error.detail)
        return HttpResponseRedirect(reverse("manage", args=[token]))
    record(
        request,
        channel=AuditChannel.LINK,
        role=AuditRole.PATIENT,
        action=AuditAction.CHANGE,
        subjects=[appointment_subject(appointment)],
    )
    return HttpResponseRedirect(reverse("waitlist-page", args=[entry_token(entry)]))


# ---------------------------------------------------------------- the facilitator's roster


@provider_required
@require_GET
def portal_groups(request: HttpRequest, provider: Provider) -> HttpResponse:
    """Each group meeting from a week ago on: who holds a seat (name or alias as given)
    and their attendance, and how many wait."""
    now = timezone.now()
    seats = list(
        Appointment.objects.filter(
            provider=provider, service__capacity__gt=1, start__gte=now - timedelta(days=7)
        )
        .select_related("service", "patient")
        .order_by("start", "created_at")[:500]
    )
    meetings: dict[tuple[Any, Any], list[Appointment]] = defaultdict(list)
    for appointment in seats:
        meetings[(appointment.start, appointment.service)].append(appointment)
    waiting: dict[tuple[Any, Any], int] = defaultdict(int)
    for service_id, start in WaitlistEntry.objects.filter(
        provider=provider, status__in=("waiting", "offered"), session_start__isnull=False
    ).values_list("service_id", "session_start"):
        waiting[(start, service_id)] += 1
    record(
        request,
        channel=AuditChannel.PORTAL,
        role=AuditRole.PROVIDER,
        action=AuditAction.LIST,
        subjects=[appointment_subject(a) for a in seats],
    )
    rows = [
        {
            "start": start,
            "service": service,
            "seats": seated,
            "taken": sum(1 for a in seated if a.is_active or a.status in ("attended", "no_show")),
            "waiting": waiting[(start, service.pk)],
        }
        for (start, service), seated in meetings.items()
    ]
    context = {"provider": provider, "meetings": rows, "zone": provider.timezone, "nav": "groups"}
    return render(request, "scheduling/portal/groups.html", context)
