"""Who coordinates referrals: staff and the coordinators of an organization."""

from __future__ import annotations

from typing import Any


def is_coordinating(user: Any) -> bool:
    """Staff, superusers and coordinators of an organization create and manage referrals."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff or user.is_superuser or hasattr(user, "coordinator"))
