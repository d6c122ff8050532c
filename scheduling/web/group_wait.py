"""Join the waitlist of a full group meeting from the group finder, without JavaScript.

The form asks for a first name or alias and a mobile number, then the texted code (the
booking form's code step, scheduling.web.verify), and joins through the waitlist service
POST /api/waitlist/ uses. Until the code is checked every number gets the same pages;
after it, the visitor lands on the entry's private page (/w/<token>): place in line, link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from common.errors import DomainError
from common.formatting import format_when
from common.phones import to_e164
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import Subject
from scheduling.booking.patients import PatientDetails
from scheduling.booking.throttling import enforce_booking_rate
from scheduling.booking.waitlist import services as waitlist
from scheduling.booking.waitlist.links import entry_token
from scheduling.booking.waitlist.messages import hold_minutes
from scheduling.models import Provider, Service
from scheduling.web import verify
from scheduling.web.forms import STATE_FIELD_CHOICES, parse_start
from scheduling.web.helpers import add_domain_error, state_from
from scheduling.web.picker import is_offered
from scheduling.web.zones import VisitorZone, remember_zone, visitor_zone


class WaitForm(forms.Form):
    name = forms.CharField(
        label="First name or alias",
        max_length=160,
        help_text="Only the facilitator sees it.",
        error_messages={"required": "Enter a first name or an alias."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    phone = forms.CharField(
        label="Mobile phone number",
        max_length=32,
        help_text="We text you when a seat opens. Example: 555-123-4567",
        error_messages={"required": "Enter a mobile number so we can text you."},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    state = forms.ChoiceField(
        label="State you will be in during the meeting",
        choices=STATE_FIELD_CHOICES,
        error_messages={"required": "Choose the state you will be in during the meeting."},
    )
    sms_consent = forms.BooleanField(
        label="Yes, text me when a seat opens. Messages do not say what the group is about. "
        "Reply STOP at any time to stop. Message and data rates may apply.",
        error_messages={"required": "Seats are offered by text: tick this box to wait."},
    )
    start = forms.CharField(widget=forms.HiddenInput)
    tz = forms.CharField(widget=forms.HiddenInput)

    def clean_phone(self) -> str:
        phone = to_e164(self.cleaned_data["phone"])
        if phone is None:
            raise forms.ValidationError(
                "Enter a mobile number with its area code, like 555-123-4567."
            )
        return phone

    def clean_start(self) -> datetime:
        start = parse_start(self.cleaned_data["start"])
        if start is None:
            raise forms.ValidationError("Choose a meeting from the list of groups.")
        return start


def _service(provider: Provider, slug: object) -> Service:
    service = provider.services.filter(slug=slug, is_active=True, capacity__gt=1).first()
    if service is None:
        raise Http404("No such group.")
    return service


def _book_url(provider: Provider, service: Service, start: datetime, state: str) -> str:
    query = urlencode({"service": service.slug, "start": start.isoformat(), "state": state})
    return f"{reverse('book', args=[provider.slug])}?{query}"


def wait_for_seat(request: HttpRequest, slug: str) -> HttpResponse:
    """GET shows the form for a full meeting; POST joins its waitlist (after the code)."""
    provider = get_object_or_404(Provider, slug=slug)
    data = request.POST if request.method == "POST" else request.GET
    service = _service(provider, data.get("service"))
    state = state_from(data.get("state"))
    zone = visitor_zone(request, state=state)
    if request.method != "POST":
        start = parse_start(request.GET.get("start", ""))
        if start is None:
            raise Http404("No such meeting.")
        if is_offered(service, start):  # a seat is free: book it instead of waiting
            return HttpResponseRedirect(_book_url(provider, service, start, state))
        initial = {"state": state, "start": start.isoformat(), "tz": zone.name}
        page = _page(provider, service, WaitForm(initial=initial), zone, start)
        return remember_zone(render(request, "scheduling/group_wait.html", page), zone)

    form = WaitForm(request.POST)
    if not form.is_valid():
        start = parse_start(request.POST.get("start", ""))
        page = _page(provider, service, form, zone, start)
        return render(request, "scheduling/group_wait.html", page, status=400)
    start, phone = form.cleaned_data["start"], form.cleaned_data["phone"]
    page = _page(provider, service, form, zone, start)
    try:
        enforce_booking_rate(request)
        if "code" in request.POST:  # the code step posted back
            code_form = verify.CodeForm(request.POST)
            if not verify.check(request, phone, code_form):
                return verify.code_step(request, page, code_form, status=400)
        entry, _ = waitlist.join_waitlist(
            service=service,
            start=start,
            patient=PatientDetails(
                name=form.cleaned_data["name"],
                phone=phone,
                timezone=zone.name,
                state=form.cleaned_data["state"],
            ),
            sms_consent=form.cleaned_data["sms_consent"],
            possession=verify.session_proves(request, phone),
        )
    except DomainError as error:
        if error.code == "verification_required":
            return verify.send_code(request, page, form, form_template="scheduling/group_wait.html")
        if error.code == "seats_available":
            messages.info(request, "A seat is open in this meeting: you can book it now.")
            return HttpResponseRedirect(_book_url(provider, service, start, state))
        add_domain_error(form, error, field_names={"patient": "name"})
        return render(request, "scheduling/group_wait.html", page, status=error.status)
    record(
        request,
        channel=AuditChannel.PAGE,
        role=AuditRole.PATIENT,
        action=AuditAction.CHANGE,
        subjects=[Subject("waitlist_entry", str(entry.pk), entry.patient_id)],
    )
    return HttpResponseRedirect(reverse("waitlist-page", args=[entry_token(entry)]))


def _page(
    provider: Provider,
    service: Service,
    form: WaitForm,
    zone: VisitorZone,
    start: datetime | None,
) -> dict[str, Any]:
    return {
        "provider": provider,
        "service": service,
        "form": form,
        "zone": zone,
        "start": start,
        "when": format_when(start, zone.zone) if start else "",
        "action": reverse("group-wait", args=[provider.slug]),
        "picker_url": f"{reverse('find-group')}?{urlencode({'state': form['state'].value()})}",
        "purpose": "wait",
        "hold_minutes": hold_minutes(),
    }
