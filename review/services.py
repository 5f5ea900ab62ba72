"""Keeping the staff's review queue in step with the sellers' entries, and reviewing from it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django_tenants.utils import schema_context

from ma5zani.tenancy import current_schema
from review.models import PendingKnowledge

if TYPE_CHECKING:
    from learning.models import KnowledgeEntry


def _seller_id() -> int | None:
    """The current seller's id: the tenant of a task or request carries it; a bare schema
    context (a command, a test) is looked up."""
    from django.db import connection

    from sellers.models import Seller
    from sellers.selectors import seller_id_for_schema

    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Seller) and tenant.schema_name == current_schema():
        return int(tenant.pk)
    return seller_id_for_schema(current_schema())


def pending_sync(entry: KnowledgeEntry) -> None:
    """Mirror one entry of the current seller: listed while pending, gone otherwise."""
    from learning.models import KnowledgeEntry

    seller_id = _seller_id()
    if seller_id is None:
        return
    if entry.status != KnowledgeEntry.Status.PENDING:
        PendingKnowledge.objects.filter(seller_id=seller_id, entry_id=entry.pk).delete()
        return
    PendingKnowledge.objects.update_or_create(
        seller_id=seller_id,
        entry_id=entry.pk,
        defaults={
            "question": entry.question,
            "answer": entry.answer,
            "language": entry.language,
            "count": entry.count,
            "created_at": entry.created_at,
        },
    )


def pending_forget(entry_ids: Iterable[int]) -> None:
    seller_id = _seller_id()
    if seller_id is not None:
        PendingKnowledge.objects.filter(seller_id=seller_id, entry_id__in=list(entry_ids)).delete()


def pending_review(*, rows: Iterable[PendingKnowledge], status: str, reviewer_id: int | None) -> int:
    """Approve or dismiss queue rows of any sellers, each in its seller's schema, through the
    sellers' own review service. Returns how many entries changed."""
    from learning.models import KnowledgeEntry
    from learning.services import knowledge_review

    by_seller: dict[str, list[int]] = defaultdict(list)
    for row in PendingKnowledge.objects.filter(pk__in=[row.pk for row in rows]).select_related("seller"):
        by_seller[row.seller.schema_name].append(row.entry_id)
    changed = 0
    for schema, entry_ids in by_seller.items():
        with schema_context(schema), transaction.atomic():
            changed += knowledge_review(
                entries=KnowledgeEntry.objects.filter(pk__in=entry_ids), status=status, reviewer_id=reviewer_id
            )
    return changed
