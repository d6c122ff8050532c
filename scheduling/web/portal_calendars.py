"""The portal's calendar page: the provider's own feed (out) and the calendars whose busy
times block their slots (in, issue 16): each with its last sync, status and busy count;
add one (an iCal address or CalDAV) or remove one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError
from scheduling.calendar import feeds, sync
from scheduling.calendar.models import CalendarSource
from scheduling.models import Provider
from scheduling.web.forms import CalendarSourceForm
from scheduling.web.portal import provider_required


def _sources(provider: Provider) -> list[dict[str, Any]]:
    return [
        {
            "source": source,
            "host": urlsplit(source.url).hostname or "",
            "waiting": source.last_synced_at is None and source.status == "ok",
        }
        for source in CalendarSource.objects.filter(provider=provider).order_by("created_at")
    ]


def _page(
    request: HttpRequest, provider: Provider, form: CalendarSourceForm, status: int = 200
) -> HttpResponse:
    error = ""
    try:
        url = feeds.feed_url(feeds.feed_token(provider=provider))
    except DomainError as exc:
        url, error = "", exc.detail
    context = {
        "provider": provider,
        "zone": provider.timezone,
        "feed_url": url,
        "feed_error": error,
        "sources": _sources(provider),
        "source_form": form,
        "nav": "calendar",
    }
    return render(request, "scheduling/portal/calendar.html", context, status=status)


def _back(request: HttpRequest, message: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return HttpResponseRedirect(reverse("portal-calendar"))


@require_GET
@provider_required
def calendar(request: HttpRequest, provider: Provider) -> HttpResponse:
    return _page(request, provider, CalendarSourceForm(prefix="source"))


@require_POST
@provider_required
def rotate_calendar(request: HttpRequest, provider: Provider) -> HttpResponse:
    feeds.rotate_feed_token(provider=provider)
    return _back(
        request,
        "New calendar address made. The old one has stopped working: "
        "subscribe again with the new one.",
    )


@require_POST
@provider_required
def add_source(request: HttpRequest, provider: Provider) -> HttpResponse:
    form = CalendarSourceForm(request.POST, prefix="source")
    if not form.is_valid():
        return _page(request, provider, form, status=400)
    try:
        sync.add_source(provider=provider, **form.cleaned_data)
    except DomainError as exc:
        for field, errors in (exc.fields or {"__all__": [exc.detail]}).items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _page(request, provider, form, status=400)
    return _back(request, "Calendar added. Its busy times block your schedule within a minute.")


@require_POST
@provider_required
def remove_source(request: HttpRequest, provider: Provider, pk: int) -> HttpResponse:
    get_object_or_404(CalendarSource, provider=provider, pk=pk).delete()
    return _back(request, "Calendar removed. Its busy times no longer block your schedule.")
