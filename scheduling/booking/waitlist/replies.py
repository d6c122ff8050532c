"""Y by text takes the place held for the number (scheduling.booking.replies hands it here).

Y is no carrier keyword (YES is: it means START), so it reaches us. A number with no
offer, known or not, gets the same answer as any unknown word.
"""

from __future__ import annotations

from common.phones import phone_hash
from scheduling.booking.messages import message_context, render_sms
from scheduling.booking.waitlist.messages import taken_reply
from scheduling.booking.waitlist.models import OfferStatus, WaitlistOffer
from scheduling.booking.waitlist.services import accept_offer, position_of

ACCEPT_WORDS = frozenset({"Y"})


def answer_accept(*, phone: str) -> str | None:
    """The answer to a Y from `phone`, or None when no offer was ever made to it."""
    offers = WaitlistOffer.objects.filter(entry__patient__phone_hash=phone_hash(phone))
    offer = offers.filter(status=OfferStatus.HELD).order_by("expires_at").first() or (
        offers.exclude(status=OfferStatus.DECLINED).order_by("-created_at").first()
    )
    if offer is None:
        return None
    taken = accept_offer(offer=offer)
    if taken.appointment is None:
        if taken.offer.status == OfferStatus.ACCEPTED:
            return None  # already taken by this number: the confirmation said so
        return taken_reply(taken.entry, position_of(taken.entry))
    # A reply sent straight back: real links; the patient's language and contact rules.
    return render_sms("waitlist_booked", message_context(taken.appointment, sealed=False))
