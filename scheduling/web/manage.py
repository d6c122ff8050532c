"""The patient's private link: confirmation, manage, reschedule and cancel.

GET only shows; every change is a POST, because link scanners in mail and SMS apps fetch
GET links on their own.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError
from common.events import Actor
from common.formatting import format_when
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import links, services
from scheduling.calendar import invites as ical
from scheduling.models import Appointment, AppointmentStatus
from scheduling.web.forms import CancelForm, RescheduleForm, parse_start
from scheduling.web.picker import build_week, default_week, is_offered, parse_week, week_of
from scheduling.web.zones import VisitorZone, remember_zone


def _appointment(token: str) -> Appointment:
    appointment = links.appointment_for_token(token)
    if appointment is None:
        raise Http404("This link does not work.")
    return appointment


def _audit(
    request: HttpRequest,
    appointment: Appointment,
    action: str = AuditAction.VIEW,
    changes: dict[str, tuple[object, object]] | None = None,
) -> None:
    record(
        request,
        channel=AuditChannel.LINK,
        role=AuditRole.PATIENT,
        action=action,
        subjects=[appointment_subject(appointment)],
        changes=changes,
    )


def _zone(request: HttpRequest, appointment: Appointment) -> VisitorZone:
    """The zone the patient booked in, unless they pick another here."""
    chosen = request.GET.get("tz", "")
    try:
        return VisitorZone(chosen, "chosen")
    except DomainError:
        return VisitorZone(appointment.patient.timezone, "patient")


def _texted(appointment: Appointment) -> str:
    return " We sent you a text." if appointment.patient.sms_consent else ""


def _can_change(appointment: Appointment) -> bool:
    return appointment.is_active and not appointment.is_past()


def _context(request: HttpRequest, appointment: Appointment, token: str) -> dict[str, object]:
    zone = _zone(request, appointment)
    return {
        "appointment": appointment,
        "provider": appointment.provider,
        "service": appointment.service,
        "token": token,
        "zone": zone,
        "when": format_when(appointment.start, zone.zone),
        "manage_url": links.manage_url(appointment),
        "ics_url": links.ics_url(appointment),
        "google_url": ical.google_calendar_url(appointment),
        "calendar_title": ical.invite_summary(appointment.provider, patient=appointment.patient),
        "can_change": _can_change(appointment),
        "is_requested": appointment.status == AppointmentStatus.REQUESTED,
        "is_cancelled": appointment.status == AppointmentStatus.CANCELLED,
        "rebook_url": reverse("provider", args=[appointment.provider.slug])
        + "?"
        + urlencode({"service": appointment.service.slug, "state": appointment.patient.state}),
    }


@never_cache
@require_GET
def booked(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation page right after booking."""
    appointment = _appointment(token)
    _audit(request, appointment)
    return render(request, "scheduling/booked.html", _context(request, appointment, token))


@never_cache
@require_GET
def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    context = _context(request, appointment, token)
    context["cancel_form"] = CancelForm()
    _audit(request, appointment)
    return render(request, "scheduling/manage.html", context)


@never_cache
@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    form = CancelForm(request.POST)
    if not form.is_valid():
        context = _context(request, appointment, token)
        context["cancel_form"] = form
        _audit(request, appointment)
        return render(request, "scheduling/manage.html", context, status=400)
    try:
        cancelled = services.cancel_appointment(
            appointment=appointment, reason=form.cleaned_data["reason"], actor=Actor.PATIENT
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        _audit(
            request,
            cancelled,
            AuditAction.CHANGE,
            {"status": (appointment.status, cancelled.status)},
        )
        messages.success(request, "Your appointment is cancelled." + _texted(appointment))
    return HttpResponseRedirect(reverse("manage", args=[token]))


@never_cache
@require_http_methods(["GET", "POST"])
def reschedule(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the picker, or a chosen time to confirm. POST: move the appointment."""
    appointment = _appointment(token)
    if not _can_change(appointment):
        messages.error(request, "This appointment can no longer be changed online.")
        return HttpResponseRedirect(reverse("manage", args=[token]))
    service = appointment.service
    zone = _zone(request, appointment)
    here = reverse("reschedule", args=[token])

    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Please pick a time from the list.")
            return HttpResponseRedirect(here)
        start = form.cleaned_data["start"]
        try:
            moved = services.reschedule_appointment(
                appointment=appointment, start=start, actor=Actor.PATIENT
            )
        except DomainError as error:
            if error.code != "slot_unavailable":
                messages.error(request, error.detail)
                return HttpResponseRedirect(reverse("manage", args=[token]))
            messages.error(
                request, "Someone else just booked that time. Please choose another time."
            )
            week = week_of(start.astimezone(zone.zone).date()).isoformat()
            return HttpResponseRedirect(f"{here}?{urlencode({'week': week})}")
        _audit(request, moved, AuditAction.CHANGE, {"start": (appointment.start, moved.start)})
        messages.success(request, "Your appointment is moved." + _texted(appointment))
        return HttpResponseRedirect(reverse("manage", args=[token]))

    context = _context(request, appointment, token)
    _audit(request, appointment)
    start = parse_start(request.GET.get("start", ""))
    if start is not None:
        if is_offered(service, start, exclude_appointment_id=appointment.pk):
            context.update(
                new_start=start, new_when=format_when(start, zone.zone), form=RescheduleForm()
            )
            return render(request, "scheduling/reschedule_confirm.html", context)
        messages.error(request, "That time is no longer available. Please choose another time.")
    week_start = parse_week(request.GET.get("week")) or default_week(service, zone)
    tz_param = {"tz": zone.name} if zone.source == "chosen" else {}
    context.update(
        week=build_week(
            service, zone, week_start, now=timezone.now(), exclude_appointment_id=appointment.pk
        ),
        slot_url=here,
        slot_query=urlencode(tz_param),
        week_query=urlencode(tz_param),
        hidden=tz_param,
        flow={"back_url": reverse("manage", args=[token]), "back_label": "Keep my current time"},
    )
    return remember_zone(render(request, "scheduling/reschedule.html", context), zone)
