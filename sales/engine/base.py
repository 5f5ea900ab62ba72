"""What an engine receives and returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from conversations.content import Choice, ProductCard


@dataclass(frozen=True)
class Turn:
    author: str  # customer, bot, seller, system
    text: str


@dataclass(frozen=True)
class EngineContext:
    """A bounded view of one conversation: the customer's unanswered burst and recent history."""

    conversation_id: int
    channel: str
    burst: tuple[str, ...]
    history: tuple[Turn, ...]
    customer_name: str = ""
    persona_name: str = ""
    greeting: str = ""
    is_first_contact: bool = False
    shop_name: str = ""
    language: str = ""  # the conversation's language so far ("" when unknown)
    intensity: str = "balanced"
    max_discount_percent: int = 0
    customer_id: int | None = None
    languages: tuple[str, ...] = ()
    # What the customer picked with a channel's button or quick reply in the burst (the text
    # is its title): a product, a variant, "order" it, "talk to a person", a menu item.
    choice: Choice | None = None
    # A returning customer's short summary (conversations.selectors.customer_summary).
    customer_summary: dict[str, object] = field(
        default_factory=dict
    )  # the seller's languages (BotSettings.languages); empty: all

    @property
    def past_orders(self) -> int:
        """How many orders a returning customer confirmed (0: a new customer)."""
        return int(self.customer_summary.get("orders_count", 0))  # type: ignore[call-overload]

    @property
    def reply_language(self) -> str:
        """The form to answer in: the conversation's language, which ingest keeps up to date
        message by message (detected only when the engine is called without it), within the
        seller's languages."""
        from sales.engine.language import answer_language, detect_language

        return answer_language(self.language or detect_language(self.text), self.languages)

    @property
    def text(self) -> str:
        """The burst as one message."""
        return "\n".join(part for part in self.burst if part)


@dataclass(frozen=True)
class EngineReply:
    text: str
    quick_replies: tuple[str, ...] = ()
    cards: tuple[ProductCard, ...] = ()
    handoff: bool = False
    handoff_reason: str = ""
    engine: str = ""
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: Decimal = field(default_factory=Decimal)


def spent_by(reply: EngineReply, original: EngineReply, **changes: Any) -> EngineReply:
    """`reply` (a replacement) carrying what `original` cost: the model's tokens stay counted
    (budget, usage); `changes` are other fields of the replacement (its engine)."""
    return replace(
        reply,
        model=original.model,
        tokens_in=original.tokens_in,
        tokens_out=original.tokens_out,
        cost_usd=original.cost_usd,
        **changes,
    )


T = TypeVar("T")


class DbRunner(Protocol):
    """Runs a synchronous function that touches the database, in the seller's schema, and
    awaits its result. The reply runner's runs it on a small pool of threads (the database
    connections do not grow with the replies waiting on a model); a cancelled caller does not
    interrupt the function, which finishes its transaction."""

    def __call__(self, fn: Callable[..., T], /, *args: Any) -> Awaitable[T]: ...


class Engine(Protocol):
    name: str
    # Whether answers take long enough (a remote model) to show the customer a typing indicator.
    shows_typing: bool

    def reply(self, context: EngineContext) -> EngineReply: ...


class AsyncEngine(Engine, Protocol):
    """An engine that waits on a remote model without holding a thread: `areply` awaits the
    model and runs its database work (retrieval, tools) through `db`."""

    async def areply(self, context: EngineContext, db: DbRunner) -> EngineReply: ...


async def engine_reply_async(engine: Engine, context: EngineContext, db: DbRunner) -> EngineReply:
    """The engine's answer from async code: its own `areply`, else its `reply` run through `db`
    (the built-in engine: database and CPU only, no wait)."""
    areply = getattr(engine, "areply", None)
    if areply is not None:
        reply: EngineReply = await areply(context, db)
        return reply
    return await db(engine.reply, context)
