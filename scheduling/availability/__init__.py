"""Availability: the pure slot engine (slots), window parsing (windows), loading rows (selectors)."""
