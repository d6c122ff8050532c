"""Referrals and their timeline."""

from __future__ import annotations
