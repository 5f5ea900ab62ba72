"""What the bot learns: question-and-answer entries, reviewed by people. Tenant schema."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.utils.translation import gettext_lazy as _


def question_key(text: str) -> str:
    """A question's words as the matching sees them (sales.engine.language.search_terms)."""
    from sales.engine.language import search_terms

    return " ".join(search_terms(text))[:400]


class KnowledgeEntry(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DISMISSED = "dismissed", _("Dismissed")

    class Origin(models.TextChoices):
        BOT = "bot", _("Learned from the bot's answers")
        SELLER = "seller", _("Learned from your answers")
        MANUAL = "manual", _("Written by you")

    question = models.TextField(_("question"))
    answer = models.TextField(_("answer"))
    language = models.CharField(_("language"), max_length=16)  # sales.engine.language.FORMS
    # Kept by save() from the question (question_key()).
    question_key = models.CharField(max_length=400, db_index=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    origin = models.CharField(_("origin"), max_length=8, choices=Origin.choices, default=Origin.BOT)
    count = models.PositiveIntegerField(_("times seen"), default=1)
    times_used = models.PositiveIntegerField(_("times used"), default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A platform user (public schema): a plain id.
    reviewed_by_id = models.BigIntegerField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-count", "-created_at"]
        verbose_name = _("knowledge entry")
        verbose_name_plural = _("knowledge entries")
        indexes = [
            models.Index(fields=["status", "language"], name="knowledge_status_language"),
            # GiST: the nearest questions by trigram distance come straight from the index.
            GistIndex(fields=["question_key"], opclasses=["gist_trgm_ops"], name="knowledge_question_trgm"),
        ]

    def __str__(self) -> str:
        return self.question[:80]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.question_key = question_key(self.question)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "question_key"}
        super().save(*args, **kwargs)


class KnowledgeSource(models.Model):
    """A conversation an entry was learned from, with the excerpt shown to reviewers."""

    entry = models.ForeignKey(KnowledgeEntry, on_delete=models.CASCADE, related_name="sources")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.SET_NULL, null=True, related_name="knowledge_sources"
    )
    excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["entry", "conversation"], name="one_source_per_conversation")]

    def __str__(self) -> str:
        return f"{self.entry_id} ← {self.conversation_id}"
