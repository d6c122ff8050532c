"""How referrals follow appointments (called by scheduling through APPOINTMENT_OBSERVERS)."""

from __future__ import annotations
