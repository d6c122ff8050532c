"""The patient's care-circle pages on their private link, the missed-visit rebook link,
and /resources/.

GET only shows; every change is a POST (link scanners fetch GET links on their own).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.events import Actor
from common.formatting import format_day
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import links
from scheduling.circle import support
from scheduling.circle.contact import safe_contact
from scheduling.circle.forms import ContactForm, SupportPersonForm
from scheduling.circle.models import ContactPreference, Resource, ResourceKind, SupportPerson
from scheduling.circle.services import update_contact_preference
from scheduling.models import Appointment

SOURCE = "private link"


def _appointment(token: str) -> Appointment:
    appointment = links.appointment_for_token(token)
    if appointment is None:
        raise Http404("This link does not work.")
    return appointment


def _audit(request: HttpRequest, appointment: Appointment, action: str = AuditAction.VIEW) -> None:
    record(
        request,
        channel=AuditChannel.LINK,
        role=AuditRole.PATIENT,
        action=action,
        subjects=[appointment_subject(appointment)],
    )


def _contact_initial(appointment: Appointment) -> dict[str, object]:
    pref = ContactPreference.objects.filter(patient=appointment.patient).first()
    if pref is None:
        return {"texts_ok": True}
    return {
        "quiet_from": pref.quiet_from,
        "quiet_until": pref.quiet_until,
        "texts_ok": pref.texts_ok,
        "discreet_names": pref.discreet_names,
        "preferred_name": pref.preferred_name,
    }


def _today(appointment: Appointment) -> datetime:
    return timezone.now().astimezone(safe_contact(appointment.patient).zone)


def _page(
    request: HttpRequest,
    appointment: Appointment,
    token: str,
    *,
    contact_form: ContactForm | None = None,
    support_form: SupportPersonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    patient, now = appointment.patient, timezone.now()
    zone = safe_contact(patient).zone
    people = list(SupportPerson.objects.filter(patient=patient))
    context = {
        "token": token,
        "appointment": appointment,
        "contact_form": contact_form or ContactForm(initial=_contact_initial(appointment)),
        "support_form": support_form or SupportPersonForm(today=_today(appointment).date()),
        "people": [
            {
                "person": p,
                "state": p.state_label(now),
                "current": p.is_current(now),
                # The last day it covers: `until` is the midnight after it, in their zone.
                "last_day": format_day((p.until - timedelta(seconds=1)).astimezone(zone).date()),
            }
            for p in people
        ],
        "can_add": sum(p.is_current(now) for p in people) < support.MAX_SUPPORT_PERSONS,
        "max_people": support.MAX_SUPPORT_PERSONS,
        "disclosures": support.disclosures(patient),
    }
    return render(request, "scheduling/circle/circle.html", context, status=status)


@never_cache
@require_GET
def circle(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    _audit(request, appointment)
    return _page(request, appointment, token)


@never_cache
@require_POST
def contact(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    form = ContactForm(request.POST)
    if not form.is_valid():
        _audit(request, appointment)
        return _page(request, appointment, token, contact_form=form, status=400)
    data = form.cleaned_data
    update_contact_preference(
        patient=appointment.patient,
        quiet_from=data["quiet_from"],
        quiet_until=data["quiet_until"],
        texts_ok=data["texts_ok"],
        discreet_names=data["discreet_names"],
        preferred_name=data["preferred_name"],
        actor=Actor.PATIENT,
    )
    _audit(request, appointment, AuditAction.CHANGE)
    messages.success(
        request, "Your contact choices are saved. They apply to every message from now."
    )
    return HttpResponseRedirect(reverse("circle", args=[token]))


@never_cache
@require_POST
def add_person(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    today = _today(appointment)
    form = SupportPersonForm(request.POST, today=today.date())
    if form.is_valid():
        data = form.cleaned_data
        # Through the end of the chosen day, in the patient's zone.
        end = datetime.combine(data["until"] + timedelta(days=1), time(0), tzinfo=today.tzinfo)
        try:
            support.add_support_person(
                patient=appointment.patient,
                name=data["name"],
                phone=data["phone"],
                relationship=data["relationship"],
                until=end,
                source=SOURCE,
            )
        except DomainError as error:
            for field, problems in (error.fields or {}).items():
                form.add_error(field if field in form.fields else None, problems[0])
            if not error.fields:
                form.add_error(None, error.detail)
    if not form.is_valid():
        _audit(request, appointment)
        return _page(request, appointment, token, support_form=form, status=400)
    _audit(request, appointment, AuditAction.CHANGE)
    messages.success(
        request, "We texted them to ask if they agree. Nothing else goes to them until they do."
    )
    return HttpResponseRedirect(reverse("circle", args=[token]))


@never_cache
@require_POST
def revoke_person(request: HttpRequest, token: str, person_id: str) -> HttpResponse:
    appointment = _appointment(token)
    person = SupportPerson.objects.filter(pk=person_id, patient=appointment.patient).first()
    if person is None:
        raise Http404("Not found.")
    support.revoke_support_person(person=person, source=SOURCE)
    _audit(request, appointment, AuditAction.CHANGE)
    messages.success(request, "Done. Nothing more will be sent to them, starting now.")
    return HttpResponseRedirect(reverse("circle", args=[token]))


@never_cache
@require_GET
def rebook(request: HttpRequest, token: str) -> HttpResponse:
    """The missed-visit check-in's link: the same provider's page, ready to pick a time."""
    appointment = _appointment(token)
    _audit(request, appointment)
    query = urlencode({"service": appointment.service.slug, "state": appointment.patient.state})
    return HttpResponseRedirect(reverse("provider", args=[appointment.provider.slug]) + "?" + query)


@require_GET
def resources(request: HttpRequest) -> HttpResponse:
    rows = list(Resource.objects.filter(is_active=True))
    groups = [
        {"label": kind.label, "items": [r for r in rows if r.kind == kind]} for kind in ResourceKind
    ]
    return render(
        request,
        "scheduling/circle/resources.html",
        {"groups": [g for g in groups if g["items"]]},
    )
