"""Twilio webhooks and the development SMS outbox page."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from common.phones import phone_key
from notifications import delivery, inbound
from notifications.models import Channel, InboundMessage, Notification
from notifications.sealing import unsealer

OUTBOX_BACKEND = "notifications.backends.outbox.OutboxBackend"


def _signature_is_valid(request: HttpRequest) -> bool:
    """Twilio signs the URL it called plus the POST fields; behind a proxy that URL is
    PUBLIC_BASE_URL + path, not what Django sees."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return bool(RequestValidator(token).validate(url, request.POST.dict(), signature))


def _twiml(reply: str) -> HttpResponse:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return HttpResponse(str(response), content_type="application/xml")


@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    if not _signature_is_valid(request):
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    from_number = request.POST.get("From", "")
    if not sid or not from_number:
        return HttpResponseBadRequest("MessageSid and From are required")
    reply = inbound.handle_inbound(
        message_sid=sid, from_number=from_number, body=request.POST.get("Body", "")
    )
    return _twiml(reply)


@csrf_exempt
@require_POST
def delivery_status(request: HttpRequest) -> HttpResponse:
    if not _signature_is_valid(request):
        return HttpResponseForbidden("invalid signature")
    raw_id = request.GET.get("n", "")
    notification_id = int(raw_id) if raw_id.isdigit() else None
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    if not sid:
        return HttpResponseBadRequest("MessageSid is required")
    delivery.handle_status(
        notification_id=notification_id,
        message_sid=sid,
        message_status=request.POST.get("MessageStatus") or request.POST.get("SmsStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


def dev_outbox_enabled() -> bool:
    return bool(settings.DEBUG) and settings.SMS_BACKEND == OUTBOX_BACKEND


@require_http_methods(["GET", "POST"])
def dev_sms_outbox(request: HttpRequest) -> HttpResponse:
    """What was texted, per number, and a form to answer as the patient (DEBUG only)."""
    if not dev_outbox_enabled():
        raise Http404("The development SMS outbox is off.")
    error = ""
    if request.method == "POST":
        from_number = phone_key(request.POST.get("from_number", ""))
        body = request.POST.get("body", "").strip()
        if from_number and body:
            # The same code path as the Twilio webhook, minus the signature.
            inbound.handle_inbound(
                message_sid=f"SMdev{uuid.uuid4().hex}", from_number=from_number, body=body
            )
            query = urlencode({"number": from_number})
            return HttpResponseRedirect(f"{reverse('dev-sms')}?{query}#reply")
        error = "Choose a number and type a reply."
    texts = list(Notification.objects.filter(channel=Channel.SMS).order_by("-created_at")[:200])
    for text in texts:  # shown as the phone received it: links unsealed (never saved)
        text.body = unsealer(text.subject_ref)(text.body)
    replies = list(InboundMessage.objects.order_by("-received_at")[:200])
    numbers = sorted({t.recipient for t in texts} | {r.from_number for r in replies})
    selected = phone_key(request.GET.get("number", ""))
    timeline: list[dict[str, Any]] = [
        {"kind": "out", "at": t.created_at, "number": t.recipient, "item": t} for t in texts
    ] + [{"kind": "in", "at": r.received_at, "number": r.from_number, "item": r} for r in replies]
    if selected:
        timeline = [entry for entry in timeline if entry["number"] == selected]
    timeline.sort(key=lambda entry: entry["at"], reverse=True)
    return render(
        request,
        "notifications/dev_sms.html",
        {"timeline": timeline, "numbers": numbers, "selected": selected, "error": error},
    )
