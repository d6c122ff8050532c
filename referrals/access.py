"""Who coordinates referrals: staff and the coordinators of an organization."""

from __future__ import annotations

from typing import Any

from scheduling.audit.models import AuditRole
from scheduling.audit.services import Subject


def is_coordinating(user: Any) -> bool:
    """Staff, superusers and coordinators of an organization create and manage referrals."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff or user.is_superuser or hasattr(user, "coordinator"))


def audit_role(user: Any, *, coordinating: bool) -> tuple[str, int | None]:
    """The role and organization the access log records: a coordinator with their
    organization, staff, or the provider (an offered referral in their inbox)."""
    if not coordinating:
        return AuditRole.PROVIDER, None
    coordinator = getattr(user, "coordinator", None)  # loaded already by is_coordinating()
    if coordinator is not None:
        return AuditRole.COORDINATOR, coordinator.organization_id
    return AuditRole.STAFF, None


def referral_subject(referral: Any) -> Subject:
    return Subject("referral", str(referral.pk), referral.patient_id)
