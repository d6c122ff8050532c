"""The provider portal: the week, visit status and availability (the calendar page is
portal_calendars.py).

Every view needs a login linked to a provider (Provider.user); every change is a POST that
calls one service or saves one validated form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.events import Actor
from common.timezones import get_zone
from notifications.models import Notification
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import services
from scheduling.booking.access import user_provider
from scheduling.booking.recurrence import describe, rule_starts
from scheduling.booking.series import cancel_series_from
from scheduling.circle.missed import missed_in_a_row
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    DateOverride,
    Provider,
    TimeOff,
    WeeklyHours,
)
from scheduling.web.forms import (
    DateOverrideForm,
    ProviderCancelForm,
    TimeOffForm,
    WeeklyHoursForm,
)

PortalView = Callable[..., HttpResponse]


def provider_required(view: PortalView) -> PortalView:
    """Log in first; then the login must run a provider's portal."""

    @never_cache
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        provider = user_provider(request.user)
        if provider is None:
            return render(request, "scheduling/portal/no_provider.html", status=403)
        return view(request, provider, *args, **kwargs)

    return wrapped


def _zone(provider: Provider) -> ZoneInfo:
    return ZoneInfo(provider.timezone)


def _day_bounds(provider: Provider, now: datetime) -> tuple[datetime, datetime, datetime]:
    """Start of today, start of tomorrow and end of this week (Sunday night), provider's zone."""
    zone = _zone(provider)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), tzinfo=zone)
    tomorrow = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    week_end = datetime.combine(today + timedelta(days=7 - today.weekday()), time(0), tzinfo=zone)
    return start, tomorrow, week_end


def _audit(
    request: HttpRequest,
    action: str,
    appointments: list[Appointment],
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    record(
        request,
        channel=AuditChannel.PORTAL,
        role=AuditRole.PROVIDER,
        action=action,
        subjects=[appointment_subject(a) for a in appointments],
        changes=changes,
    )


def _appointments(provider: Provider) -> Any:
    return Appointment.objects.filter(provider=provider).select_related("patient", "service")


@require_GET
@provider_required
def home(request: HttpRequest, provider: Provider) -> HttpResponse:
    """Today and the rest of this week, in the provider's zone; requests needing an answer."""
    now = timezone.now()
    start, tomorrow, week_end = _day_bounds(provider, now)
    today = list(_appointments(provider).filter(start__gte=start, start__lt=tomorrow))
    later = list(
        _appointments(provider).filter(
            start__gte=tomorrow, start__lt=week_end, status__in=ACTIVE_STATUSES
        )
    )
    requests = list(
        _appointments(provider).filter(status=AppointmentStatus.REQUESTED, start__gte=now)
    )
    upcoming = list(
        _appointments(provider).filter(start__gte=week_end, status__in=ACTIVE_STATUSES)[:10]
    )
    context = {
        "provider": provider,
        "zone": _zone(provider),
        "today": today,
        "later": later,
        "upcoming": upcoming,
        "requests": requests,
        "now": now,
        "today_date": start.date(),
        "nav": "home",
    }
    _audit(request, AuditAction.LIST, [*today, *later, *requests, *upcoming])
    return render(request, "scheduling/portal/home.html", context)


def _own_appointment(provider: Provider, appointment_id: Any) -> Appointment:
    return get_object_or_404(_appointments(provider).select_related("provider"), pk=appointment_id)


def notification_history(appointment: Appointment) -> list[Notification]:
    """What was sent about this appointment, newest first (notifications' subject_ref label)."""
    return list(Notification.objects.filter(subject_ref=f"appointment:{appointment.pk}"))


@require_GET
@provider_required
def appointment_detail(
    request: HttpRequest, provider: Provider, appointment_id: Any
) -> HttpResponse:
    appointment = _own_appointment(provider, appointment_id)
    now = timezone.now()
    context = {
        "provider": provider,
        "zone": _zone(provider),
        "appointment": appointment,
        "events": list(appointment.events.all()),
        "notifications": notification_history(appointment),
        "can_confirm": appointment.status == AppointmentStatus.REQUESTED
        and not appointment.is_past(now),
        "can_cancel": appointment.is_active and not appointment.is_past(now),
        "can_mark": appointment.is_past(now)
        and appointment.status != AppointmentStatus.CANCELLED
        and appointment.status != AppointmentStatus.REQUESTED,
        "cancel_form": ProviderCancelForm(),
        "series_rule": _series_rule(appointment),
        "missed_in_a_row": missed_in_a_row(patient=appointment.patient, provider=provider),
        "nav": "home",
    }
    _audit(request, AuditAction.VIEW, [appointment])
    return render(request, "scheduling/portal/appointment.html", context)


def _series_rule(appointment: Appointment) -> str:
    series = appointment.series
    if series is None:
        return ""
    own = get_zone(appointment.provider.timezone)
    starts = rule_starts(series.first_start, own, series.every_weeks, series.count)
    return describe(starts, series.every_weeks, own)


@require_POST
@provider_required
def end_series(request: HttpRequest, provider: Provider, appointment_id: Any) -> HttpResponse:
    """Cancel this visit of a series and every later one (the patient gets one message)."""
    appointment = _own_appointment(provider, appointment_id)
    if appointment.series is None:
        raise Http404("Not part of a series.")
    try:
        cancelled = cancel_series_from(
            series=appointment.series,
            start=appointment.start,
            actor=Actor.PROVIDER,
            actor_user=request.user,
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        _audit(request, AuditAction.CHANGE, cancelled)
        messages.success(request, f"Series ended: {len(cancelled)} visit(s) cancelled.")
    return HttpResponseRedirect(reverse("portal-appointment", args=[appointment.pk]))


def _act(
    request: HttpRequest, appointment: Appointment, call: Callable[[], Appointment], done: str
) -> HttpResponseRedirect:
    try:
        changed = call()
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        _audit(
            request, AuditAction.CHANGE, [changed], {"status": (appointment.status, changed.status)}
        )
        messages.success(request, done)
    return HttpResponseRedirect(reverse("portal-appointment", args=[appointment.pk]))


@require_POST
@provider_required
def confirm(request: HttpRequest, provider: Provider, appointment_id: Any) -> HttpResponse:
    appointment = _own_appointment(provider, appointment_id)
    return _act(
        request,
        appointment,
        lambda: services.confirm_appointment(
            appointment=appointment, actor=Actor.PROVIDER, actor_user=request.user
        ),
        "Confirmed. The patient is told.",
    )


@require_POST
@provider_required
def attendance(request: HttpRequest, provider: Provider, appointment_id: Any) -> HttpResponse:
    appointment = _own_appointment(provider, appointment_id)
    status = request.POST.get("status", "")
    if status not in (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW):
        messages.error(request, "Choose attended or no-show.")
        return HttpResponseRedirect(reverse("portal-appointment", args=[appointment.pk]))
    label = "attended" if status == AppointmentStatus.ATTENDED else "a no-show"
    return _act(
        request,
        appointment,
        lambda: services.record_attendance(
            appointment=appointment, status=status, actor=Actor.PROVIDER, actor_user=request.user
        ),
        f"Marked as {label}.",
    )


@require_POST
@provider_required
def cancel(request: HttpRequest, provider: Provider, appointment_id: Any) -> HttpResponse:
    appointment = _own_appointment(provider, appointment_id)
    form = ProviderCancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        appointment,
        lambda: services.cancel_appointment(
            appointment=appointment,
            actor=Actor.PROVIDER,
            actor_user=request.user,
            reason=reason,
        ),
        "Cancelled. The patient is told.",
    )


# Availability


def _availability_context(provider: Provider, now: datetime, **forms: Any) -> dict[str, Any]:
    zone = _zone(provider)
    today = now.astimezone(zone).date()
    return {
        "provider": provider,
        "zone": zone,
        "weekly_hours": list(provider.weekly_hours.all()),
        "overrides": list(provider.overrides.filter(date__gte=today)),
        "time_off": list(provider.time_off.filter(end__gt=now)),
        "hours_form": forms.get("hours_form") or WeeklyHoursForm(provider=provider, prefix="hours"),
        "override_form": forms.get("override_form")
        or DateOverrideForm(provider=provider, today=today, prefix="override"),
        "time_off_form": forms.get("time_off_form")
        or TimeOffForm(provider=provider, now=now, prefix="off"),
        "nav": "availability",
    }


@require_GET
@provider_required
def availability(request: HttpRequest, provider: Provider) -> HttpResponse:
    context = _availability_context(provider, timezone.now())
    return render(request, "scheduling/portal/availability.html", context)


def _saved(request: HttpRequest, message: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return HttpResponseRedirect(reverse("portal-availability"))


def _invalid(request: HttpRequest, provider: Provider, now: datetime, **forms: Any) -> HttpResponse:
    context = _availability_context(provider, now, **forms)
    return render(request, "scheduling/portal/availability.html", context, status=400)


@require_POST
@provider_required
def add_hours(request: HttpRequest, provider: Provider) -> HttpResponse:
    form = WeeklyHoursForm(request.POST, provider=provider, prefix="hours")
    if not form.is_valid():
        return _invalid(request, provider, timezone.now(), hours_form=form)
    form.save()
    return _saved(request, "Weekly hours added.")


@require_POST
@provider_required
def add_override(request: HttpRequest, provider: Provider) -> HttpResponse:
    now = timezone.now()
    today = now.astimezone(_zone(provider)).date()
    form = DateOverrideForm(request.POST, provider=provider, today=today, prefix="override")
    if not form.is_valid():
        return _invalid(request, provider, now, override_form=form)
    override = form.save()
    what = "closed" if not override.windows else "set"
    return _saved(request, f"Hours for {override.date:%A, %B %-d} {what}.")


@require_POST
@provider_required
def add_time_off(request: HttpRequest, provider: Provider) -> HttpResponse:
    now = timezone.now()
    form = TimeOffForm(request.POST, provider=provider, now=now, prefix="off")
    if not form.is_valid():
        return _invalid(request, provider, now, time_off_form=form)
    time_off = form.save()
    clashes = _appointments(provider).filter(
        status__in=ACTIVE_STATUSES, start__lt=time_off.end, end__gt=time_off.start
    )
    message = "Time off added. No one can book during it."
    if count := clashes.count():
        message += (
            f" You already have {count} appointment{'s' if count != 1 else ''} then; "
            "they are not cancelled automatically."
        )
    return _saved(request, message)


_DELETABLE: dict[str, tuple[type[Any], str]] = {
    "hours": (WeeklyHours, "Weekly hours removed."),
    "override": (DateOverride, "Date override removed; the weekly hours apply that day."),
    "time-off": (TimeOff, "Time off removed."),
}


@require_POST
@provider_required
def delete_availability(
    request: HttpRequest, provider: Provider, kind: str, pk: int
) -> HttpResponse:
    if kind not in _DELETABLE:
        raise Http404
    model, message = _DELETABLE[kind]
    get_object_or_404(model, provider=provider, pk=pk).delete()
    return _saved(request, message)
