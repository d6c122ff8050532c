"""Provider page with the slot picker, and the booking form."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from common.errors import DomainError
from common.formatting import format_when, get_language_code
from common.states import STATES
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import links, series, services
from scheduling.booking.patients import PatientDetails
from scheduling.booking.throttling import enforce_booking_rate, enforce_provider_cap
from scheduling.models import Provider, Service
from scheduling.web import verify
from scheduling.web.forms import BookForm, StateForm, parse_start
from scheduling.web.helpers import add_domain_error, allow_photos, state_from
from scheduling.web.picker import build_week, default_week, is_offered, parse_week, week_of
from scheduling.web.zones import VisitorZone, remember_zone, visitor_zone


@dataclass(frozen=True)
class BookingFlow:
    """How the picker and form are reached: the public directory, or another app's link."""

    provider_url: Callable[[Provider], str]
    book_url: Callable[[Provider], str]
    back_url: str
    back_label: str | Promise = gettext_lazy("Find someone else")
    book_kwargs: dict[str, Any] = field(default_factory=dict)
    initial: dict[str, Any] = field(default_factory=dict)
    # Offered providers through a referral are shown even when not taking new patients.
    show_when_not_accepting: bool = False
    # When set, only these services can be picked (a referral books the offered one).
    only_services: frozenset[int] | None = None


def public_flow() -> BookingFlow:
    return BookingFlow(
        provider_url=lambda p: reverse("provider", args=[p.slug]),
        book_url=lambda p: reverse("book", args=[p.slug]),
        back_url=reverse("find-help"),
    )


def _query(**params: object) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _services(provider: Provider, flow: BookingFlow) -> list[Service]:
    active = provider.services.filter(is_active=True)
    if flow.only_services is not None:
        active = active.filter(pk__in=flow.only_services)
    return list(active)


def _chosen_service(
    provider: Provider, slug: object, flow: BookingFlow
) -> tuple[list[Service], Service | None]:
    offered = _services(provider, flow)
    chosen = next((s for s in offered if s.slug == slug), offered[0] if offered else None)
    return offered, chosen


def provider_page(
    request: HttpRequest, slug: str, *, flow: BookingFlow | None = None
) -> HttpResponse:
    """Profile, service choice and the week-by-week picker in the visitor's zone."""
    flow = flow or public_flow()
    provider = get_object_or_404(
        Provider.objects.prefetch_related("specialties", "languages", "insurance", "licenses"),
        slug=slug,
    )
    state = state_from(request.GET.get("state")) or state_from(flow.initial.get("state"))
    zone = visitor_zone(request, state=state)
    offered, service = _chosen_service(provider, request.GET.get("service"), flow)
    licensed_states = sorted(lic.state for lic in provider.licenses.all())
    # A peer-led group open to every state needs no licence (directory: open_to_all_states).
    licensed = state in licensed_states or bool(service and service.open_to_all_states)
    taking = provider.accepting_new_patients or flow.show_when_not_accepting

    week = None
    if service is not None and licensed and taking:
        start = parse_week(request.GET.get("week")) or default_week(service, zone)
        week = build_week(service, zone, start)

    tz_param = zone.name if zone.source == "chosen" else ""
    base = {"service": service.slug if service else "", "state": state, "tz": tz_param}
    context = {
        "provider": provider,
        # The public profile lists credentials: they are what a person checks before choosing.
        "show_credentials": True,
        "services": offered,
        "service": service,
        "state": state,
        "state_name": STATES.get(state, ""),
        "state_form": StateForm(initial={"state": state}),
        "licensed": licensed,
        "licensed_state_names": [STATES[s] for s in licensed_states],
        "taking": taking,
        "zone": zone,
        "week": week,
        "flow": flow,
        "elsewhere_url": f"{flow.back_url}?{_query(state=state)}",
        "page_url": flow.provider_url(provider),
        "book_url": flow.book_url(provider),
        "slot_query": _query(**base),
        "week_query": _query(**base),
        "hidden": {
            "service": base["service"],
            "state": state,
            "week": week.start.isoformat() if week else "",
        },
    }
    response = remember_zone(render(request, "scheduling/provider.html", context), zone)
    return allow_photos(response, [provider.photo_url])


def _back_to_picker(
    request: HttpRequest,
    provider: Provider,
    service: Service,
    flow: BookingFlow,
    *,
    state: str,
    start: datetime | None,
    zone: VisitorZone,
) -> HttpResponseRedirect:
    week = week_of(start.astimezone(zone.zone).date()).isoformat() if start else ""
    query = _query(service=service.slug, state=state, week=week)
    return HttpResponseRedirect(f"{flow.provider_url(provider)}?{query}")


ATTEMPTS_KEY = "bw_booking_attempts"


def _earlier_attempt(request: HttpRequest) -> str | None:
    """The page this browser session already got for this form (its booking), if any."""
    token = _earlier_token(request)
    if token is None:
        return None
    if token.startswith("s:"):
        return reverse("series-manage", args=[token[2:]])
    return reverse("booked", args=[token])


def _earlier_token(request: HttpRequest) -> str | None:
    """The manage token this browser session already got for this form, if any."""
    attempt = request.POST.get("attempt", "")
    return request.session.get(ATTEMPTS_KEY, {}).get(attempt) if attempt else None


def _remember_attempt(request: HttpRequest, token: str) -> None:
    attempt = request.POST.get("attempt", "")
    if not attempt:
        return
    attempts = dict(list(request.session.get(ATTEMPTS_KEY, {}).items())[-9:])
    attempts[attempt] = token
    request.session[ATTEMPTS_KEY] = attempts


def book(request: HttpRequest, slug: str, *, flow: BookingFlow | None = None) -> HttpResponse:
    """GET shows the form for a picked time; POST books it or explains what to fix."""
    flow = flow or public_flow()
    provider = get_object_or_404(Provider, slug=slug)
    data = request.POST if request.method == "POST" else request.GET
    offered, service = _chosen_service(provider, data.get("service"), flow)
    if service is None or data.get("service") != service.slug:
        raise Http404("No such service.")
    state = state_from(data.get("state")) or state_from(flow.initial.get("state"))
    zone = visitor_zone(request, state=state)

    status = 200
    if request.method == "POST":
        form = BookForm(request.POST)
        if service.is_group:
            form.for_group()
        earlier = _earlier_attempt(request)
        if earlier:
            # A second tap on "Book" (slow phone, back button) shows the first booking.
            return HttpResponseRedirect(earlier)
        if form.is_valid():
            page = _context(request, provider, service, offered, flow, form, zone, state=state)
            phone = form.cleaned_data["phone"]
            try:
                enforce_booking_rate(request)
                if "code" in request.POST:  # the code step posted back
                    code_form = verify.CodeForm(request.POST)
                    if not verify.check(request, phone, code_form):
                        return verify.code_step(request, page, code_form, status=400)
                if form.cleaned_data["repeat"] and "preview" in request.POST:
                    return _preview(request, page, form, service)
                possession = verify.session_proves(request, phone)
                if possession or flow.book_kwargs.get("referral_token"):
                    enforce_provider_cap(request, provider.slug)
                if form.cleaned_data["repeat"]:
                    return _book_series(request, form, service, zone, possession, flow)
                appointment = services.book_appointment(
                    service=service,
                    start=form.cleaned_data["start"],
                    patient=PatientDetails(
                        name=form.cleaned_data["name"],
                        phone=phone,
                        email=form.cleaned_data["email"],
                        timezone=zone.name,
                        state=form.cleaned_data["state"],
                        language=get_language_code(),
                    ),
                    sms_consent=form.cleaned_data["sms_consent"],
                    possession=possession,
                    **flow.book_kwargs,
                )
            except DomainError as error:
                if error.code == "verification_required":
                    return verify.send_code(
                        request, page, form, form_template="scheduling/book.html"
                    )
                if error.code in ("slot_unavailable", "series_conflict"):
                    taken = (
                        _("None of those dates is free.")
                        if error.code == "series_conflict"
                        else _("Someone else just booked that time.")
                    )
                    messages.error(request, f"{taken} {_('Please choose another time.')}")
                    return _back_to_picker(
                        request,
                        provider,
                        service,
                        flow,
                        state=form.cleaned_data["state"],
                        start=form.cleaned_data["start"],
                        zone=zone,
                    )
                add_domain_error(form, error, field_names={"patient": "name"})
                if error.status == 429:
                    status = 429
            else:
                record(
                    request,
                    channel=AuditChannel.PAGE,
                    role=AuditRole.PATIENT,
                    action=AuditAction.CHANGE,
                    subjects=[appointment_subject(appointment)],
                )
                token = links.manage_token(appointment)
                _remember_attempt(request, token)
                return HttpResponseRedirect(reverse("booked", args=[token]))
        start = form.cleaned_data.get("start") if hasattr(form, "cleaned_data") else None
    else:
        start = parse_start(request.GET.get("start", ""))
        if start is None or not is_offered(service, start):
            messages.error(
                request,
                _("That time is no longer available. Please choose another time."),
            )
            return _back_to_picker(
                request, provider, service, flow, state=state, start=start, zone=zone
            )
        form = BookForm(
            initial={
                **flow.initial,
                "state": state,
                "start": start.isoformat(),
                "tz": zone.name,
                "attempt": secrets.token_urlsafe(12),
            }
        )
        if service.is_group:
            form.for_group()

    context = _context(
        request, provider, service, offered, flow, form, zone, state=state, start=start
    )
    return remember_zone(render(request, "scheduling/book.html", context, status=status), zone)


def _context(
    request: HttpRequest,
    provider: Provider,
    service: Service,
    offered: list[Service],
    flow: BookingFlow,
    form: BookForm,
    zone: VisitorZone,
    *,
    state: str,
    start: datetime | None = None,
) -> dict[str, Any]:
    if start is None and hasattr(form, "cleaned_data"):
        start = form.cleaned_data.get("start")
    return {
        "provider": provider,
        "service": service,
        "services": offered,
        "form": form,
        "zone": zone,
        "start": start,
        "when": format_when(start, zone.zone) if start else "",
        "flow": flow,
        "action": flow.book_url(provider),
        "picker_url": f"{flow.provider_url(provider)}?{_query(service=service.slug, state=state)}",
        "now": timezone.now(),
    }


def _preview(
    request: HttpRequest, page: dict[str, Any], form: BookForm, service: Service
) -> HttpResponse:
    """The form again, with each date of the series marked free or taken; nothing is booked."""
    try:
        dates = series.preview_dates(
            service=service,
            start=form.cleaned_data["start"],
            every_weeks=int(form.cleaned_data["repeat"]),
            count=form.cleaned_data["count"],
        )
    except DomainError as error:
        add_domain_error(form, error, field_names={"repeat": "count"})
        return render(request, "scheduling/book.html", page, status=400)
    zone = page["zone"]
    preview = [{"when": format_when(start, zone.zone), "free": free} for start, free in dates]
    return render(request, "scheduling/book.html", {**page, "preview": preview})


def _book_series(
    request: HttpRequest,
    form: BookForm,
    service: Service,
    zone: VisitorZone,
    possession: bool,
    flow: BookingFlow,
) -> HttpResponse:
    """Book every free date of the series (a page books what is free and says what was not)."""
    booked = series.book_series(
        service=service,
        start=form.cleaned_data["start"],
        every_weeks=int(form.cleaned_data["repeat"]),
        count=form.cleaned_data["count"],
        on_conflict="skip",
        patient=PatientDetails(
            name=form.cleaned_data["name"],
            phone=form.cleaned_data["phone"],
            email=form.cleaned_data["email"],
            timezone=zone.name,
            state=form.cleaned_data["state"],
            language=get_language_code(),
        ),
        sms_consent=form.cleaned_data["sms_consent"],
        possession=possession,
        **flow.book_kwargs,
    )
    record(
        request,
        channel=AuditChannel.PAGE,
        role=AuditRole.PATIENT,
        action=AuditAction.CHANGE,
        subjects=[appointment_subject(a) for a in booked.appointments],
    )
    token = links.series_token(booked.series)
    _remember_attempt(request, f"s:{token}")
    if booked.skipped:
        messages.info(
            request,
            ngettext(
                "%(count)d date was already taken and is not booked.",
                "%(count)d dates were already taken and are not booked.",
                len(booked.skipped),
            )
            % {"count": len(booked.skipped)},
        )
    return HttpResponseRedirect(reverse("series-manage", args=[token]))
