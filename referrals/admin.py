from __future__ import annotations

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from referrals.access import referral_subject
from referrals.models import Coordinator, Organization, Referral, ReferralEvent, ReferralOffer
from scheduling.audit.admin import AuditedAdmin
from scheduling.audit.services import Subject


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Coordinator)
class CoordinatorAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organization"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]


class ReferralOfferInline(admin.TabularInline):
    model = ReferralOffer
    extra = 0
    raw_id_fields = ["provider", "service"]


class ReferralEventInline(admin.TabularInline):
    """The timeline is append-only: shown, never edited here."""

    model = ReferralEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "at",
        "actor",
        "actor_user",
        "kind",
        "from_status",
        "to_status",
        "note",
        "data",
    ]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Referral)
class ReferralAdmin(AuditedAdmin, SimpleHistoryAdmin):
    list_display = ["id", "status", "urgency", "organization", "created_at", "deadline_at"]
    list_filter = ["status", "urgency", "organization"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"
    raw_id_fields = ["patient", "provider", "preferred_provider", "appointment", "created_by"]
    # Status moves only through the workflow (referrals.services), never by hand here.
    readonly_fields = ["status", "token_salt", "token_hash", "escalated_at", "nudged_at"]
    inlines = [ReferralOfferInline, ReferralEventInline]

    def audit_subjects(self, objs: Any) -> list[Subject]:
        return [referral_subject(r) for r in objs]
