"""Referral pages: the coordinator board, the patient's self-scheduling link and the
provider's referral inbox.

They live in the referrals app (which may import scheduling, never the reverse) and reuse
the scheduling pages' picker and booking form through a BookingFlow.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from referrals import selectors, services
from referrals.access import audit_role, is_coordinating, referral_subject
from referrals.forms import DeclineForm
from referrals.links import referral_for_token
from referrals.models import OfferStatus, Referral, ReferralOffer, ReferralStatus
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.availability import selectors as availability
from scheduling.booking import links
from scheduling.booking.access import user_provider
from scheduling.models import Provider
from scheduling.web.booking import BookingFlow, book, provider_page
from scheduling.web.portal import provider_required
from scheduling.web.zones import visitor_zone


def _referral(token: str) -> Referral:
    referral = referral_for_token(token)
    if referral is None:
        raise Http404("This link does not work.")
    return referral


def _audit(
    request: HttpRequest,
    channel: str,
    action: str,
    referrals: list[Referral],
    *,
    coordinating: bool = False,
    patient: bool = False,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    role, organization_id = (
        (AuditRole.PATIENT, None)
        if patient
        else audit_role(request.user, coordinating=coordinating)
    )
    record(
        request,
        channel=channel,
        role=role,
        organization_id=organization_id,
        action=action,
        subjects=[referral_subject(r) for r in referrals],
        changes=changes,
    )


def _flow(token: str, referral: Referral, offers: list[ReferralOffer]) -> BookingFlow:
    return BookingFlow(
        provider_url=lambda p: reverse("referral-provider", args=[token, p.slug]),
        book_url=lambda p: reverse("referral-book", args=[token, p.slug]),
        back_url=reverse("referral", args=[token]),
        back_label="Back to your choices",
        book_kwargs={"referral_token": token, "consent_source": "referral_link"},
        initial={
            "name": referral.patient_name,
            "phone": referral.patient_phone,
            "email": referral.patient_email,
            "state": referral.patient_state,
            "sms_consent": referral.patient_sms_consent,
        },
        show_when_not_accepting=True,
        only_services=frozenset(o.service_id for o in offers),
    )


@never_cache
@require_GET
def referral_choices(request: HttpRequest, token: str) -> HttpResponse:
    """The providers this referral offers, each with its next opening."""
    referral = _referral(token)
    _audit(request, AuditChannel.LINK, AuditAction.VIEW, [referral], patient=True)
    zone = visitor_zone(request, state=referral.patient_state)
    context: dict[str, Any] = {"referral": referral, "zone": zone, "token": token}
    if referral.status == ReferralStatus.SCHEDULED and referral.appointment is not None:
        context["manage_url"] = links.manage_url(referral.appointment)
        return render(request, "referrals/link/scheduled.html", context)
    if referral.is_closed or not referral.is_bookable:
        return render(request, "referrals/link/closed.html", context, status=410)
    offers = services.bookable_offers(referral)
    soonest = availability.next_available([o.service for o in offers])
    context["choices"] = [
        {"offer": o, "provider": o.provider, "next": soonest.get(o.service_id)} for o in offers
    ]
    return render(request, "referrals/link/choices.html", context)


def _offered(token: str, slug: str) -> tuple[Referral, list[ReferralOffer]]:
    referral = _referral(token)
    if not referral.is_bookable:
        raise Http404("This link is not open for booking.")
    offers = [o for o in services.bookable_offers(referral) if o.provider.slug == slug]
    if not offers:
        raise Http404("This provider is not one of your choices.")
    return referral, offers


@never_cache
@require_GET
def referral_provider(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    referral, offers = _offered(token, slug)
    return provider_page(request, slug, flow=_flow(token, referral, offers))


@never_cache
def referral_book(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    referral, offers = _offered(token, slug)
    if request.method == "GET":  # the form, filled in with what the referral was given
        _audit(request, AuditChannel.LINK, AuditAction.VIEW, [referral], patient=True)
    return book(request, slug, flow=_flow(token, referral, offers))


# Provider portal: the referral inbox


@require_GET
@provider_required
def inbox(request: HttpRequest, provider: Provider) -> HttpResponse:
    offers = (
        ReferralOffer.objects.filter(
            provider=provider, status__in=(OfferStatus.OPEN, OfferStatus.ACCEPTED)
        )
        .exclude(referral__status__in=(ReferralStatus.CANCELLED, ReferralStatus.COMPLETED))
        .select_related("referral__specialty", "service")
        .order_by("-referral__urgency", "created_at")
    )
    shown = list(offers)
    _audit(request, AuditChannel.PORTAL, AuditAction.LIST, [o.referral for o in shown])
    context = {
        "provider": provider,
        "offers": shown,
        "decline_form": DeclineForm(),
        "nav": "referrals",
    }
    return render(request, "referrals/inbox.html", context)


def _changed(request: HttpRequest, before: Referral, after: Referral) -> None:
    changes = {"status": (before.status, after.status)}
    _audit(request, AuditChannel.PORTAL, AuditAction.CHANGE, [after], changes=changes)


def _offer_to(provider: Provider, referral_id: Any) -> Referral:
    offer = get_object_or_404(
        ReferralOffer.objects.select_related("referral"),
        provider=provider,
        referral_id=referral_id,
    )
    return offer.referral


@require_POST
@provider_required
def accept(request: HttpRequest, provider: Provider, referral_id: Any) -> HttpResponse:
    referral = _offer_to(provider, referral_id)
    try:
        accepted = services.accept_referral(
            referral=referral, provider=provider, actor_user=request.user
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        _changed(request, referral, accepted)
        messages.success(request, "Accepted. The patient can now book a time with you.")
    return HttpResponseRedirect(reverse("portal-referrals"))


@require_POST
@provider_required
def decline(request: HttpRequest, provider: Provider, referral_id: Any) -> HttpResponse:
    referral = _offer_to(provider, referral_id)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you are declining, so the referrer can find someone else.")
        return HttpResponseRedirect(reverse("portal-referrals"))
    try:
        declined = services.decline_referral(
            referral=referral,
            provider=provider,
            reason=form.cleaned_data["reason"],
            actor_user=request.user,
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        _changed(request, referral, declined)
        messages.success(request, "Declined. The referrer is told.")
    return HttpResponseRedirect(reverse("portal-referrals"))


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """Open referrals by status and age, for coordinators."""
    if not is_coordinating(request.user):
        raise PermissionDenied
    now = timezone.now()
    rows = list(selectors.open_referrals_board(request.user))
    _audit(request, AuditChannel.BOARD, AuditAction.LIST, rows, coordinating=True)
    groups: dict[str, list[dict[str, Any]]] = {}
    for referral in rows:
        groups.setdefault(referral.get_status_display(), []).append(
            {
                "referral": referral,
                "age": referral.age(now),
                "overdue": referral.deadline_at <= now,
            }
        )
    return render(request, "referrals/board.html", {"groups": groups, "now": now})


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """Send a signed-in person to their own workspace: portal, referral board or admin."""
    if user_provider(request.user) is not None:
        return redirect("portal")
    if is_coordinating(request.user):
        return redirect("referral-board")
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("find-help")
