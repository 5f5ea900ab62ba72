"""Learning question-and-answer pairs from conversations, reviewing them, and using them.

The built-in extractor pairs each customer question with the answer that followed (the bot's,
or better, the seller's during a handoff). Pairs carrying order-specific details (a name, a
phone, an address, an amount of the order) are never learned. A new pair close to an existing
entry of the same language raises that entry's count and adds its source instead of creating
another; a question that was dismissed does not come back as pending.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.postgres.search import TrigramDistance
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.models import KnowledgeEntry, KnowledgeSource, question_key
from review.services import pending_forget, pending_sync
from sales.engine.language import FORMS, detect_language, normalize, readable_forms
from sales.geo import PHONE_IN_TEXT
from sales.understanding import intents_of

if TYPE_CHECKING:
    from conversations.models import Conversation

NEAR_DUPLICATE = 0.85
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 1500
QUESTION_WORDS = frozenset(
    normalize(word)
    for word in """
    wach wesh chhal ch7al kifach kifech win fin wa9tach waqtach 3lach alach chkoun ana wech
    comment combien quand pourquoi quel quelle quels quelles est-ce ou qui
    how what when where why which who can do does is are
    واش شحال كيفاش وين وقتاش علاش شكون كم هل متى لماذا كيف اين أين ماذا
    """.split()
)
# What the customer writes while giving order details, not asking.
NOT_QUESTIONS = frozenset({"yes", "no", "home", "desk", "thanks", "greeting"})
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
LONG_NUMBER = re.compile(r"\d[\d\s.]{5,}\d")


def is_question(text: str) -> bool:
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_QUESTION_CHARS:
        return False
    intents = intents_of(stripped)
    if intents and intents <= NOT_QUESTIONS:
        return False
    if stripped.endswith(("?", "؟")):
        return True
    words = set(normalize(stripped).split())
    return bool(words & QUESTION_WORDS) or bool(intents & {"price", "stock", "options", "delivery", "payment", "trust"})


@dataclass(frozen=True)
class Pair:
    question: str
    answer: str
    language: str
    origin: str  # bot or seller
    excerpt: str


def _personal_values(conversation: Conversation) -> list[str]:
    """The order-specific details of this conversation that must never be learned."""
    from sales.models import Order

    values: list[str] = []
    if conversation.customer_id and conversation.customer.name:
        values.append(conversation.customer.name)
    for order in Order.objects.filter(conversation=conversation):
        values += [order.customer_name, order.address, str(order.phone), order.reference]
        values += [str(amount) for amount in (order.total, order.subtotal - order.discount) if amount]
        values += [f"{amount:,}".replace(",", " ") for amount in (order.total,) if amount]
    return [value for value in values if value and len(value.strip()) >= 3]


def is_personal(text: str, personal: Iterable[str]) -> bool:
    if PHONE_IN_TEXT.search(text) or EMAIL.search(text) or LONG_NUMBER.search(text.replace(" DA", "")):
        return True
    lowered = normalize(text)
    return any(normalize(value) and normalize(value) in lowered for value in personal)


def extract_pairs(conversation: Conversation, *, sellers_only: bool = False) -> list[Pair]:
    """Customer questions and the answers that followed, without personal details."""
    messages = list(conversation.messages.exclude(author="system").order_by("id"))
    personal = _personal_values(conversation)
    pairs: list[Pair] = []
    for index, message in enumerate(messages):
        if message.author != "customer" or not is_question(message.text):
            continue
        # The answers until the customer writes again; the seller's, when there is one, is the
        # one to learn (the seller stepped in because the bot's was not enough).
        following = []
        for later in messages[index + 1 :]:
            if later.author == "customer":
                break
            following.append(later)
        answer = next((m for m in following if m.author == "seller"), None) or next(iter(following), None)
        if answer is None or not answer.text.strip() or len(answer.text) > MAX_ANSWER_CHARS:
            continue
        if sellers_only and answer.author != "seller":
            continue
        if is_personal(message.text, personal) or is_personal(answer.text, personal):
            continue
        excerpt = "\n".join(f"{m.author}: {m.text[:200]}" for m in messages[max(0, index - 1) : index + 2])
        pairs.append(
            Pair(
                question=message.text.strip(),
                answer=answer.text.strip(),
                language=detect_language(message.text, conversation.language),
                origin=KnowledgeEntry.Origin.SELLER if answer.author == "seller" else KnowledgeEntry.Origin.BOT,
                excerpt=excerpt[:1000],
            )
        )
    return pairs


def _near(key: str, language: str) -> KnowledgeEntry | None:
    """The entry of `language` whose question is closest to `key`, if near enough."""
    if not key:
        return None
    exact = KnowledgeEntry.objects.filter(language=language, question_key=key).order_by("pk").first()
    if exact is not None:
        return exact
    candidates = (
        KnowledgeEntry.objects.filter(language=language)
        .annotate(distance=TrigramDistance("question_key", key))
        .order_by("distance")[:5]
    )
    for entry in candidates:
        if difflib.SequenceMatcher(None, entry.question_key, key).ratio() >= NEAR_DUPLICATE:
            return entry
    return None


@transaction.atomic
def knowledge_learn(pair: Pair, *, conversation_id: int | None) -> tuple[KnowledgeEntry, bool]:
    """Store a pair: a near duplicate counts on the existing entry (dismissed ones stay
    dismissed); a seller's answer replaces a bot's on a pending entry. Returns (entry, created)."""
    key = question_key(pair.question)
    entry = _near(key, pair.language)
    created = entry is None
    if entry is None:
        entry = KnowledgeEntry.objects.create(
            question=pair.question[:MAX_QUESTION_CHARS],
            answer=pair.answer[:MAX_ANSWER_CHARS],
            language=pair.language,
            origin=pair.origin,
        )
    else:
        entry = KnowledgeEntry.objects.select_for_update().get(pk=entry.pk)
        already = conversation_id is not None and entry.sources.filter(conversation_id=conversation_id).exists()
        if not already:
            entry.count = F("count") + 1
        if (
            entry.status == KnowledgeEntry.Status.PENDING
            and pair.origin == KnowledgeEntry.Origin.SELLER
            and entry.origin == KnowledgeEntry.Origin.BOT
        ):
            entry.answer, entry.origin = pair.answer[:MAX_ANSWER_CHARS], pair.origin
        entry.save()
        entry.refresh_from_db()
    if conversation_id is not None:
        try:
            with transaction.atomic():
                KnowledgeSource.objects.create(entry=entry, conversation_id=conversation_id, excerpt=pair.excerpt)
        except IntegrityError:
            pass  # this conversation is a source already
    pending_sync(entry)
    return entry, created


def knowledge_extract(conversation_id: int, *, sellers_only: bool = False) -> int:
    """Learn from one conversation; returns how many pairs were stored or counted."""
    from conversations.models import Conversation

    conversation = Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    if conversation is None or conversation.is_sandbox:
        return 0
    pairs = None
    if not sellers_only:  # the seller's own answers are taken as they are
        from learning.extractors import openrouter_pairs

        pairs = openrouter_pairs(conversation)
    if pairs is None:
        pairs = extract_pairs(conversation, sellers_only=sellers_only)
    for pair in pairs:
        knowledge_learn(pair, conversation_id=conversation.pk)
    return len(pairs)


# --- Review ---------------------------------------------------------------------------------


def _clean_texts(question: str, answer: str) -> tuple[str, str]:
    question, answer = question.strip(), answer.strip()
    errors = {}
    if not question or len(question) > MAX_QUESTION_CHARS:
        errors["question"] = [_("Write the question (at most %(max)s characters).") % {"max": MAX_QUESTION_CHARS}]
    if not answer or len(answer) > MAX_ANSWER_CHARS:
        errors["answer"] = [_("Write the answer (at most %(max)s characters).") % {"max": MAX_ANSWER_CHARS}]
    if errors:
        raise ValidationError(errors)
    return question, answer


@transaction.atomic
def knowledge_review(*, entries: Iterable[KnowledgeEntry], status: str, reviewer_id: int | None) -> int:
    """Approve or dismiss entries (one or many); returns how many changed."""
    if status not in (KnowledgeEntry.Status.APPROVED, KnowledgeEntry.Status.DISMISSED):
        raise ValidationError(_("Unknown review action."))
    ids = [entry.pk for entry in entries]
    changed = (
        KnowledgeEntry.objects.filter(pk__in=ids)
        .exclude(status=status)
        .update(status=status, reviewed_by_id=reviewer_id, reviewed_at=timezone.now(), updated_at=timezone.now())
    )
    pending_forget(ids)
    return changed


@transaction.atomic
def knowledge_edit(
    *, entry: KnowledgeEntry, question: str, answer: str, reviewer_id: int | None, approve: bool = True
) -> KnowledgeEntry:
    question, answer = _clean_texts(question, answer)
    entry = KnowledgeEntry.objects.select_for_update().get(pk=entry.pk)
    entry.question, entry.answer = question, answer
    if approve:
        entry.status, entry.reviewed_by_id, entry.reviewed_at = (
            KnowledgeEntry.Status.APPROVED, reviewer_id, timezone.now(),
        )  # fmt: skip
    entry.save()
    pending_sync(entry)
    return entry


@transaction.atomic
def knowledge_create_manual(*, question: str, answer: str, language: str, reviewer_id: int | None) -> KnowledgeEntry:
    """An entry the seller writes (shipping policy, returns, sizes guide): approved at once."""
    question, answer = _clean_texts(question, answer)
    if language not in FORMS:
        raise ValidationError({"language": [_("Choose a language.")]})
    return KnowledgeEntry.objects.create(
        question=question,
        answer=answer,
        language=language,
        origin=KnowledgeEntry.Origin.MANUAL,
        status=KnowledgeEntry.Status.APPROVED,
        reviewed_by_id=reviewer_id,
        reviewed_at=timezone.now(),
    )


# --- Use ----------------------------------------------------------------------------------

ANSWER_MATCH = 0.75


def knowledge_answer_for(text: str, language: str) -> KnowledgeEntry | None:
    """The approved entry that answers `text` well, counted as used: of the same language, or of
    the other Arabic-script form (Darija and Standard Arabic read each other), the same first."""
    key = question_key(text)
    if not key:
        return None
    candidates = (
        KnowledgeEntry.objects.filter(status=KnowledgeEntry.Status.APPROVED, language__in=readable_forms(language))
        .annotate(distance=TrigramDistance("question_key", key))
        .order_by("distance")[:5]
    )

    def closeness(entry: KnowledgeEntry) -> tuple[float, bool]:
        return difflib.SequenceMatcher(None, entry.question_key, key).ratio(), entry.language == language

    best = max(candidates, key=closeness, default=None)
    if best is None or closeness(best)[0] < ANSWER_MATCH:
        return None
    KnowledgeEntry.objects.filter(pk=best.pk).update(times_used=F("times_used") + 1, last_used_at=timezone.now())
    return best


def knowledge_for_prompt(text: str, language: str, limit: int = 3) -> list[dict[str, str]]:
    """The few approved entries closest to `text`, for the OpenRouter engine's context."""
    key = question_key(text)
    if not key:
        return []
    entries = (
        KnowledgeEntry.objects.filter(
            status=KnowledgeEntry.Status.APPROVED, language__in={*readable_forms(language), "fr", "ar"}
        )
        .annotate(distance=TrigramDistance("question_key", key))
        .filter(distance__lt=0.7)  # similarity above 0.3
        .order_by("distance")[:limit]
    )
    return [{"question": e.question[:300], "answer": e.answer[:600]} for e in entries]
