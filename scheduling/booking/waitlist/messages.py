"""What the waitlist texts: the offer (recorded in the outbox with the offer) and the
answers to a reply. Discreet like every text: the provider as "Dana W.", the time in the
reader's zone, a link; never the service, the group's topic or a seat-holder's name."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from common.formatting import format_when
from notifications import recording as outbox
from notifications.models import Channel
from scheduling.booking.messages import render_sms, sms_name
from scheduling.booking.waitlist.links import entry_url, sealed_entry_url
from scheduling.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from scheduling.circle.contact import safe_contact


def hold_minutes() -> int:
    """WAITLIST_HOLD_MINUTES: how long an offered place is held for the person texted."""
    return int(getattr(settings, "WAITLIST_HOLD_MINUTES", 30))


def provider_page_url(entry: WaitlistEntry) -> str:
    return f"{settings.PUBLIC_BASE_URL}/providers/{entry.provider.slug}/"


def offer_context(offer: WaitlistOffer, *, sealed: bool = True) -> dict[str, Any]:
    entry = offer.entry
    contact = safe_contact(entry.patient)
    return {
        "provider_name": contact.provider_name(sms_name(entry.provider.name)),
        "when": format_when(offer.start, entry.patient.timezone),
        "minutes": hold_minutes(),
        "url": sealed_entry_url() if sealed else entry_url(entry),
        "contact_line": settings.SERVICE_CONTACT_LINE,
    }


def offer_message(offer: WaitlistOffer) -> outbox.Outgoing:
    """The one text an offer sends, to be recorded in the offer's transaction."""
    entry = offer.entry
    return outbox.Outgoing(
        channel=Channel.SMS,
        recipient=entry.patient.phone,
        template="waitlist_offer",
        body=render_sms("waitlist_offer", offer_context(offer)),
        dedupe_key=f"waitlist_offer:{offer.id}",
        subject_ref=f"waitlist:{entry.id}",
    )


def taken_reply(entry: WaitlistEntry, position: int | None) -> str:
    """A kind answer to a Y that came too late, with where to look next."""
    context = {
        "position": position,
        "url": entry_url(entry) if position else provider_page_url(entry),
        "contact_line": settings.SERVICE_CONTACT_LINE,
    }
    return render_sms("waitlist_taken", context)
