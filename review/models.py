"""The platform staff's review queue across sellers (public schema): one row per learned entry
waiting for review in some seller's schema, kept by the learning services in the same
transaction as the entry itself."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingKnowledge(models.Model):
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="pending_knowledge")
    entry_id = models.BigIntegerField()
    question = models.TextField(_("question"))
    answer = models.TextField(_("answer"))
    language = models.CharField(_("language"), max_length=16)
    count = models.PositiveIntegerField(_("times seen"), default=1)
    created_at = models.DateTimeField(_("learned at"))

    class Meta:
        ordering = ["-count", "-created_at"]
        verbose_name = _("learned answer to review")
        verbose_name_plural = _("learned answers to review")
        constraints = [models.UniqueConstraint(fields=["seller", "entry_id"], name="one_pending_row_per_entry")]

    def __str__(self) -> str:
        return self.question[:80]
