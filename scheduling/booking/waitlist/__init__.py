"""Waitlists: wait for a seat in a full group session or for an earlier time; freed places
are offered by text to one person at a time (models, offers, services, replies, API)."""
