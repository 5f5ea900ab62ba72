"""Platform staff review the learned answers of every seller in one list."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from learning.models import KnowledgeEntry
from ma5zani.admin_sites import platform_admin
from review.models import PendingKnowledge
from review.services import pending_review


@admin.register(PendingKnowledge, site=platform_admin)
class PendingKnowledgeAdmin(admin.ModelAdmin):
    list_display = ("question", "answer", "language", "count", "seller_name", "created_at")
    list_filter = ("language", "seller")
    search_fields = ("question", "answer", "seller__name")
    list_select_related = ("seller",)
    readonly_fields = ("seller", "entry_id", "question", "answer", "language", "count", "created_at")
    actions = ("approve", "dismiss")

    @admin.display(description=_("seller"), ordering="seller__name")
    def seller_name(self, obj: PendingKnowledge) -> str:
        return obj.seller.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _review(self, request: HttpRequest, queryset: QuerySet[PendingKnowledge], status: str) -> None:
        changed = pending_review(rows=queryset, status=status, reviewer_id=request.user.pk)
        self.message_user(request, _("%(count)d entries reviewed.") % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Approve the selected answers"))
    def approve(self, request: HttpRequest, queryset: QuerySet[PendingKnowledge]) -> None:
        self._review(request, queryset, KnowledgeEntry.Status.APPROVED)

    @admin.action(description=_("Dismiss the selected answers"))
    def dismiss(self, request: HttpRequest, queryset: QuerySet[PendingKnowledge]) -> None:
        self._review(request, queryset, KnowledgeEntry.Status.DISMISSED)
