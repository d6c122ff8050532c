"""Find a group: group sessions (services with capacity > 1) a visitor may join, with their
next meetings and the seats left in each, in a fixed number of queries however many.

Licensure applies to clinical groups; a peer-led group whose directory entry says
`open_to_all_states` is listed for every state. Full meetings are listed too (0 seats
left): that is where the waitlist starts. Nothing here names a seat-holder.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.timezones import get_zone
from scheduling.availability import slots
from scheduling.availability.selectors import load_times, rules_for
from scheduling.directory.serializers import parse_param, parse_state
from scheduling.models import Provider, ProviderLicense, Service

MEETINGS_SHOWN = 3
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Meeting:
    start: datetime
    end: datetime
    seats_left: int


@dataclass(frozen=True)
class Group:
    service: Service
    languages: list[str]
    meetings: list[Meeting]


def group_services(*, state: str | None = None, language: str | None = None) -> list[Service]:
    """Active group services of the directory open to `state`, speaking `language`."""
    services = Service.objects.select_related("provider").filter(capacity__gt=1, is_active=True)
    if state:
        licensed = ProviderLicense.objects.filter(provider_id=OuterRef("provider_id"), state=state)
        services = services.filter(Q(open_to_all_states=True) | Exists(licensed))
    if language:
        speaks = Provider.languages.through.objects.filter(
            provider_id=OuterRef("provider_id"), language__code=language
        )
        services = services.filter(Exists(speaks))
    return list(services.order_by("provider__name", "position", "pk"))


def next_meetings(
    services: list[Service], *, now: datetime, count: int = MEETINGS_SHOWN
) -> dict[int, list[Meeting]]:
    """Service id -> its next `count` meetings, full ones included; 4 queries in all."""
    result: dict[int, list[Meeting]] = {s.pk: [] for s in services}
    if not services:
        return result
    longest = max(
        min(timedelta(hours=s.min_notice_hours) + timedelta(days=s.horizon_days), _DAY * 800)
        for s in services
    )
    zones = {s.provider_id: s.provider.timezone for s in services}
    times = load_times(zones, start=now - _DAY, end=now + longest + _DAY)
    for service in services:
        rules = rules_for(service)
        schedule = times[service.provider_id].schedule_for(service)
        first = now + rules.min_notice
        last = now + rules.min_notice + rules.horizon
        starts: dict[datetime, datetime] = {}
        for start, end in slots.free_slots(schedule, rules, now=now, start=first, end=last):
            starts[start] = end
            if len(starts) >= count:
                break
        # Full sessions are not offered by the engine; they are meetings all the same.
        for start, taken in schedule.seats_taken.items():
            if taken >= service.capacity and first <= start < last:
                starts[start] = start + rules.duration
        result[service.pk] = [
            Meeting(start, end, slots.seats_left(schedule, rules, start))
            for start, end in sorted(starts.items())[:count]
        ]
    return result


def find_groups(
    *, state: str | None = None, language: str | None = None, now: datetime | None = None
) -> list[Group]:
    """Groups for the finder: services, their providers' languages, next meetings (3 queries)."""
    now = now or timezone.now()
    services = group_services(state=state, language=language)
    spoken: dict[int, list[str]] = defaultdict(list)
    rows = Provider.languages.through.objects.filter(
        provider_id__in={s.provider_id for s in services}
    ).values_list("provider_id", "language__code")
    for provider_id, code in rows.order_by("language__code") if services else []:
        spoken[provider_id].append(code)
    meetings = next_meetings(services, now=now)
    return [Group(s, spoken[s.provider_id], meetings[s.pk]) for s in services]


def group_body(group: Group, zone: ZoneInfo) -> dict[str, Any]:
    service, provider = group.service, group.service.provider
    return {
        "provider": provider.slug,
        "facilitator": provider.name,
        "credentials": provider.credentials,
        "service": service.slug,
        "topic": service.name,
        "languages": group.languages,
        "duration_minutes": service.duration_minutes,
        "capacity": service.capacity,
        "open_to_all_states": service.open_to_all_states,
        "meetings": [
            {
                "start": m.start.astimezone(zone).isoformat(),
                "end": m.end.astimezone(zone).isoformat(),
                "seats_left": m.seats_left,
            }
            for m in group.meetings
        ],
    }


class GroupMeetingSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    seats_left = serializers.IntegerField()


class GroupSerializer(serializers.Serializer):
    provider = serializers.CharField()
    facilitator = serializers.CharField()
    credentials = serializers.CharField()
    service = serializers.CharField()
    topic = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    duration_minutes = serializers.IntegerField()
    capacity = serializers.IntegerField()
    open_to_all_states = serializers.BooleanField()
    meetings = GroupMeetingSerializer(many=True)


class GroupListView(APIView):
    """Group sessions open to the visitor's state, with next meetings and seats left."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state", OpenApiTypes.STR, description="USPS code of the state the visitor is in"
            ),
            OpenApiParameter("language", OpenApiTypes.STR, description="language code, e.g. es"),
            OpenApiParameter("tz", OpenApiTypes.STR, description="IANA zone of the answers"),
        ],
        responses=GroupSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        state = parse_state(parse_param(params, "state"))
        language = parse_param(params, "language")
        zone = get_zone(parse_param(params, "tz") or "UTC")
        groups = find_groups(state=state, language=language)
        return Response([group_body(g, zone) for g in groups])
