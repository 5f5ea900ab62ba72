"""What the built-in engine remembers between two messages of a conversation (sales.DialogueState).

The product under discussion is only ever one the customer wrote or chose (a button, a number
from a list); the bot's own messages never set it. A question asked again without anything
gained counts: the second time it comes with buttons and an example, the third time a person
takes over.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from conversations.content import Choice
from sales.engine.base import EngineContext
from sales.models import DialogueState, Product
from sales.understanding.text import clean

MAX_ASKS = 2  # a question is asked at most twice; the third time a person takes over
OFFERED_KINDS = frozenset(
    {"product", "variant", "wilaya", "commune", "delivery", "yes", "no", "order", "cancel", "talk"}
)


def _label_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s/]", " ", clean(text)).split())


# A channel's button (conversations.content.Choice) as one of this engine's own offers.
_CHOICE_KINDS = {"product": "product", "variant": "product", "order": "order", "person": "talk"}


def offer_of(choice: Choice | None) -> dict[str, Any] | None:
    if choice is None or choice.kind not in _CHOICE_KINDS:
        return None
    if choice.kind != "person" and not choice.product_id:
        return None
    return {"kind": _CHOICE_KINDS[choice.kind], "value": choice.product_id, "label": choice.value}


class Memory:
    def __init__(self, conversation_id: int, text: str, *, tapped: dict[str, Any] | None = None) -> None:
        self.conversation_id = conversation_id
        self.text = text
        self.tapped = tapped  # a channel's button the customer tapped (offer_of)
        row = DialogueState.objects.filter(conversation_id=conversation_id).select_related("product").first()
        self.row: DialogueState = row if row is not None else DialogueState(conversation_id=conversation_id)
        self._dirty = False

    # --- The product under discussion --------------------------------------------------------

    @property
    def product(self) -> Product | None:
        product = self.row.product
        if product is None or not product.is_active or product.archived_at is not None:
            return None
        return product

    def choose(self, product: Product | None) -> None:
        if (self.row.product_id or None) != (product.pk if product else None):
            self.row.product = product
            self._dirty = True

    def product_from_customer_history(self, context: EngineContext) -> Product | None:
        """Before this memory existed (or after another engine answered): the latest product
        the customer named, from the customer's own messages only."""
        if self.row.pk is not None:
            return None
        from sales.understanding.catalog import match_products

        burst = set(context.burst)
        for past in reversed(context.history[-8:]):
            if past.author != "customer" or past.text in burst:
                continue
            matches = match_products(past.text, 2)
            if len(matches) == 1:
                return matches[0].product
        return None

    # --- Buttons -----------------------------------------------------------------------------

    @cached_property
    def choice(self) -> dict[str, Any] | None:
        """The button the customer tapped (a channel's, or one of the engine's offers, or its
        copied label), or the number of an item of the list."""
        if self.tapped is not None:
            return self.tapped
        offered = [item for item in self.row.offered or [] if item.get("kind") in OFFERED_KINDS]
        if not offered:
            return None
        wanted = _label_key(self.text)
        for item in offered:
            if _label_key(str(item.get("label", ""))) == wanted:
                return item
        number = re.fullmatch(r"\s*(\d)\s*[.)]?\s*", self.text)
        listed = [item for item in offered if item["kind"] in ("product", "variant")]
        if number and listed and 1 <= int(number.group(1)) <= len(listed) and len(listed) == len(offered):
            return listed[int(number.group(1)) - 1]
        return None

    def offered(self, offers: list[tuple[str, str, object]]) -> None:
        value = [{"label": label, "kind": kind, "value": item} for label, kind, item in offers]
        if value != (self.row.offered or []):
            self.row.offered = value
            self._dirty = True

    # --- Questions ---------------------------------------------------------------------------

    def ask(self, key: str, *, progressed: bool) -> int:
        """Record that `key` is asked now; how many times in a row it was asked without the
        customer giving anything (1: the first time)."""
        if self.row.question == key and not progressed:
            self.row.question_count += 1
        elif self.row.question != key:
            self.row.question, self.row.question_count = key, 1
        self._dirty = True
        return self.row.question_count

    def answered(self) -> None:
        """No question is pending."""
        if self.row.question:
            self.row.question, self.row.question_count = "", 0
            self._dirty = True

    @property
    def question(self) -> str:
        return self.row.question

    # --- Details given before the order exists; a place to confirm ------------------------------

    @property
    def pending(self) -> dict[str, Any]:
        return dict(self.row.pending or {})

    def keep(self, **values: Any) -> None:
        pending = self.pending
        for key, value in values.items():
            if value is None:
                pending.pop(key, None)
            else:
                pending[key] = value
        if pending != (self.row.pending or {}):
            self.row.pending = pending
            self._dirty = True

    def save(self) -> None:
        if self.row.pk is None:
            from conversations.models import Conversation

            # An engine asked about no stored conversation (a preview) remembers nothing.
            if not Conversation.objects.filter(pk=self.conversation_id).exists():
                return
        if self._dirty or self.row.pk is None:
            self.row.save()
            self._dirty = False
