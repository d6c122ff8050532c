"""Referral API: thin views, one service call each."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError, NotFound
from referrals import selectors, services
from referrals.access import audit_role, is_coordinating, referral_subject
from referrals.models import OfferStatus, Referral, ReferralStatus
from referrals.serializers import (
    AssignInput,
    CancelInput,
    DeclineInput,
    ReferralInput,
    RespondInput,
    match_data,
    referral_data,
)
from scheduling.audit.models import AuditAction, AuditChannel
from scheduling.audit.requests import record
from scheduling.booking.access import user_provider
from scheduling.models import Provider

STAFF = "staff"
PROVIDER = "provider"


def _load(request: Request, referral_id: object) -> tuple[Referral, str]:
    """The referral this user may see, and as whom; else 404 without a hint."""
    try:
        pk = uuid.UUID(str(referral_id))
    except ValueError:
        raise NotFound() from None
    user = request.user
    referral = selectors.visible_referrals(user).filter(pk=pk).first()
    if referral is None:
        raise NotFound()
    provider = user_provider(user)
    if is_coordinating(user) and selectors.staff_can_see(user, referral):
        return referral, STAFF
    if provider is not None:
        return referral, PROVIDER
    raise NotFound()


def _audit(
    request: Request,
    action: str,
    referrals: list[Referral],
    *,
    coordinating: bool,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    role, organization_id = audit_role(request.user, coordinating=coordinating)
    record(
        request,
        channel=AuditChannel.API,
        role=role,
        organization_id=organization_id,
        action=action,
        subjects=[referral_subject(r) for r in referrals],
        changes=changes,
    )


def _require_staff(role: str) -> None:
    if role != STAFF:
        raise exceptions.PermissionDenied("Only the referral's coordinators can do this.")


def _provider_of(request: Request, referral: Referral, role: str, slug: str | None) -> Provider:
    """Who is answering: the provider's own login, or the provider staff name for them."""
    if role == PROVIDER:
        provider = user_provider(request.user)
        assert provider is not None
        return provider
    live = [
        o for o in referral.offers.all() if o.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED)
    ]
    if slug:
        for offer in referral.offers.all():
            if offer.provider.slug == slug:
                return offer.provider
        raise DomainError(
            "provider_not_offered",
            "The referral was not offered to this provider.",
            fields={"provider": slug},
        )
    if len(live) == 1:
        return live[0].provider
    raise DomainError(
        "provider_required",
        "Name the provider who answers (the referral is offered to several, or to none).",
        fields={"provider": "required"},
    )


def _respond(request: Request, referral: Referral, role: str, before: str) -> Response:
    """The referral after a change: logged as the change, with its status before and after."""
    fresh = selectors.referral_queryset().get(pk=referral.pk)
    changes = {"status": (before, fresh.status)}
    _audit(request, AuditAction.CHANGE, [fresh], coordinating=role == STAFF, changes=changes)
    return Response(referral_data(fresh, staff=role == STAFF))


class ReferralListCreateView(APIView):
    @extend_schema(operation_id="referrals_create", request=ReferralInput, responses={201: dict})
    def post(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if not is_coordinating(request.user):
            raise exceptions.PermissionDenied("Only staff and coordinators create referrals.")
        serializer = ReferralInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.create_referral(created_by=request.user, **serializer.validated_data)
        fresh = selectors.referral_queryset().get(pk=referral.pk)
        _audit(request, AuditAction.CHANGE, [fresh], coordinating=True)
        return Response(referral_data(fresh, staff=True), status=201)

    @extend_schema(operation_id="referrals_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        qs = selectors.visible_referrals(request.user)
        status = request.query_params.get("status")
        if status:
            qs = qs.filter(status=status)
        staff = is_coordinating(request.user)
        page = list(qs.order_by("-created_at")[:100])
        _audit(request, AuditAction.LIST, page, coordinating=staff)
        return Response(
            {
                "results": [
                    referral_data(r, staff=staff and selectors.staff_can_see(request.user, r))
                    for r in page
                ]
            }
        )


class ReferralDetailView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, referral_id: str) -> Response:
        referral, role = _load(request, referral_id)
        _audit(request, AuditAction.VIEW, [referral], coordinating=role == STAFF)
        return Response(referral_data(referral, staff=role == STAFF))


class ReferralAssignView(APIView):
    @extend_schema(request=AssignInput, responses={200: dict})
    def post(self, request: Request, referral_id: str) -> Response:
        referral, role = _load(request, referral_id)
        before = referral.status
        _require_staff(role)
        serializer = AssignInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        slugs = list(serializer.validated_data.get("providers") or [])
        if serializer.validated_data.get("provider"):
            slugs.insert(0, serializer.validated_data["provider"])
        providers = None
        if slugs:
            found = Provider.objects.in_bulk(slugs, field_name="slug")
            missing = [s for s in slugs if s not in found]
            if missing:
                raise DomainError(
                    "unknown_provider", "No such provider.", fields={"providers": missing}
                )
            providers = [found[s] for s in dict.fromkeys(slugs)]
        services.assign_referral(referral=referral, providers=providers, actor_user=request.user)
        return _respond(request, referral, role, before)


class ReferralAcceptView(APIView):
    @extend_schema(request=RespondInput, responses={200: dict})
    def post(self, request: Request, referral_id: str) -> Response:
        referral, role = _load(request, referral_id)
        before = referral.status
        serializer = RespondInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral.check_transition(ReferralStatus.ACCEPTED)
        provider = _provider_of(request, referral, role, serializer.validated_data.get("provider"))
        services.accept_referral(referral=referral, provider=provider, actor_user=request.user)
        return _respond(request, referral, role, before)


class ReferralDeclineView(APIView):
    @extend_schema(request=DeclineInput, responses={200: dict})
    def post(self, request: Request, referral_id: str) -> Response:
        referral, role = _load(request, referral_id)
        before = referral.status
        serializer = DeclineInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral.check_transition(ReferralStatus.DECLINED)
        provider = _provider_of(request, referral, role, serializer.validated_data.get("provider"))
        services.decline_referral(
            referral=referral,
            provider=provider,
            reason=serializer.validated_data["reason"],
            actor_user=request.user,
        )
        return _respond(request, referral, role, before)


class ReferralCancelView(APIView):
    @extend_schema(request=CancelInput, responses={200: dict})
    def post(self, request: Request, referral_id: str) -> Response:
        referral, role = _load(request, referral_id)
        before = referral.status
        _require_staff(role)
        serializer = CancelInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cancel_referral(
            referral=referral, reason=serializer.validated_data["reason"], actor_user=request.user
        )
        return _respond(request, referral, role, before)


class ReferralMatchesView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, referral_id: str) -> Response:
        referral, role = _load(request, referral_id)
        _require_staff(role)
        matches, _ = selectors.find_matches(referral)
        _audit(request, AuditAction.VIEW, [referral], coordinating=True)
        return Response({"referral": str(referral.id), "results": [match_data(m) for m in matches]})
