"""The private link of a recurring series: every visit, and "cancel this and later ones".

GET only shows; the change is a POST (link scanners fetch GET links on their own). Each
visit keeps its own manage page (reschedule or cancel that one visit), linked from here.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from common.events import Actor
from common.formatting import format_when
from common.timezones import get_zone
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import links
from scheduling.booking import series as series_services
from scheduling.booking.recurrence import describe, describe_shifts, rule_starts
from scheduling.booking.series_views import visits_of
from scheduling.models import Appointment, Series
from scheduling.web.forms import parse_start


def _series(token: str) -> Series:
    found = links.series_for_token(token)
    if found is None:
        raise Http404("This link does not work.")
    return found


def _audit(request: HttpRequest, visits: list[Appointment], action: str) -> None:
    record(
        request,
        channel=AuditChannel.LINK,
        role=AuditRole.PATIENT,
        action=action,
        subjects=[appointment_subject(v) for v in visits],
    )


@never_cache
@require_GET
def manage_series(request: HttpRequest, token: str) -> HttpResponse:
    series = _series(token)
    visits = visits_of(series)
    zone = get_zone(series.patient.timezone)
    starts = rule_starts(
        series.first_start, get_zone(series.provider.timezone), series.every_weeks, series.count
    )
    now = timezone.now()
    rows = [
        {
            "when": format_when(v.start, zone),
            "start": v.start.isoformat(),
            "status": v.get_status_display(),
            "moved": v.series_start is not None and v.start != v.series_start,
            "manage_url": links.manage_url(v),
            "can_cancel": v.is_active and v.start > now,
        }
        for v in visits
    ]
    _audit(request, visits, AuditAction.VIEW)
    context = {
        "series": series,
        "provider": series.provider,
        "token": token,
        "rule": describe(starts, series.every_weeks, zone),
        "shift_note": describe_shifts(starts, zone),
        "rows": rows,
        "skipped": [format_when(s, zone) for s in series.skipped_starts],
        "ics_url": links.series_ics_url(series),
    }
    return render(request, "scheduling/series.html", context)


@never_cache
@require_POST
def cancel_series(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel the chosen visit and every later one."""
    series = _series(token)
    start = parse_start(request.POST.get("from", ""))
    if start is None:
        messages.error(request, _("Please pick a visit from the list."))
    else:
        try:
            cancelled = series_services.cancel_series_from(
                series=series, start=start, actor=Actor.PATIENT
            )
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            _audit(request, cancelled, AuditAction.CHANGE)
            messages.success(
                request,
                ngettext(
                    "%(count)d visit cancelled.", "%(count)d visits cancelled.", len(cancelled)
                )
                % {"count": len(cancelled)},
            )
    return HttpResponseRedirect(reverse("series-manage", args=[token]))
