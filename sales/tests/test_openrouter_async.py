"""The OpenRouter engine from async code (`areply`, `guarded_reply_async`) against the loopback
chat-completions server: the same requests and answers as the sync path, tools run through the
caller's database runner, the same fallbacks, a 429 that pauses only its own key (in this
process and through Redis), a cancellation that closes the HTTP request and counts as no
failure, and one client per key and loop over one connection pool.

The tests drive the coroutines with `async_to_sync` (a fresh event loop per call) and a database
runner that runs each function on the test's own thread (`sync_to_async(thread_sensitive=True)`),
in the seller's schema, so the ORM sees the test's transaction; an ORM call made on the event
loop's thread would raise SynchronousOnlyOperation."""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx2
import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import transaction

from conversations.models import Conversation
from conversations.services import ingest
from conversations.tests.factories import widget_inbound
from ma5zani.testing import wait_for
from sales.engine import provider
from sales.engine.base import EngineContext, EngineReply, engine_reply_async
from sales.engine.guardrails import guarded_reply_async
from sales.engine.openrouter import OpenRouterEngine
from sales.engine.provider import AsyncOpenRouter, aclose_clients, async_client, key_id, retry_at
from sales.engine.router import RoutingEngine
from sales.engine.tools import ToolRun
from sales.models import Order, OrderItem, Variant
from sales.services.settings import bot_settings_set_openrouter_key
from sales.tests.chat_server import empty_turn, error_turn, hold_turn, text_turn, tool_turn
from sales.tests.test_sales_conversations import prepare

pytestmark = pytest.mark.django_db

T = TypeVar("T")
KEY_A = "sk-or-platform-test"  # the platform key of the `server` fixture: shop A has none of its own
KEY_B = "sk-or-seller-bravo"
VISITOR = "00000000-0000-4000-8000-00000000a5c1"


@pytest.fixture(autouse=True)
def _no_pauses() -> None:
    provider.forget_pauses()  # Redis keys carry the test's own prefix; this process's do not


def db_runner(shop: Any) -> Callable[..., Awaitable[Any]]:
    """Runs `fn(*args)` on the test's thread (its transaction), in `shop`'s schema."""

    def db(fn: Callable[..., T], *args: Any) -> Awaitable[T]:
        def in_schema() -> T:
            with shop.schema():
                return fn(*args)

        return sync_to_async(in_schema, thread_sensitive=True)()

    return db


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """`scenario()` on a fresh event loop, whose clients are closed at the end."""

    async def main() -> T:
        try:
            return await scenario()
        finally:
            await aclose_clients()

    return async_to_sync(main)()


def context_for(shop: Any, capture: Any, text: str, visitor: str = VISITOR) -> EngineContext:
    """The engine's view of a widget conversation of `shop` where the customer said `text`."""
    with shop.schema():
        with capture(execute=True):
            ingest(widget_inbound(shop, text, visitor=visitor))
        conversation = Conversation.objects.get(identity__external_id=visitor)
    return EngineContext(
        conversation_id=conversation.pk,
        channel="widget",
        burst=(text,),
        history=(),
        shop_name=shop.seller.name,
        language="fr",
        max_discount_percent=10,
    )


def orders() -> list[tuple[Any, ...]]:
    """What the tools stored, without ids (a rolled-back run's sequences moved on)."""
    return [
        (
            order.status,
            order.subtotal,
            order.total,
            [(item.sku, item.quantity, item.unit_price) for item in order.items.order_by("pk")],
        )
        for order in Order.objects.order_by("pk").prefetch_related("items")
    ]


def breaker_failures() -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    for schema in client.keys(f"{settings.RATE_LIMIT_PREFIX}:engine-breaker:*:failures"):
        return int(client.get(schema) or 0)
    return 0


async def until(condition: Callable[[], T], timeout: float = 10) -> T:
    """Wait (on the loop, holding nothing) until `condition()` is true, and return it."""
    async with asyncio.timeout(timeout):
        while not (value := condition()):
            await asyncio.sleep(0.01)
    return value


# --- The same exchange as the sync path -----------------------------------------------------


def test_a_text_turn_asks_and_answers_as_the_sync_path(server, chat, shop_a, django_capture_on_commit_callbacks):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Bonjour, combien coûtent les baskets ?")
    answer = "Les «Baskets de sport» sont à 5 900 DA."
    server.script(text_turn(answer, cost=0.0005), text_turn(answer, cost=0.0005))
    sync_reply = OpenRouterEngine().reply(context)
    async_reply = run(lambda: OpenRouterEngine().areply(context, db_runner(shop_a)))
    assert async_reply == sync_reply
    assert (async_reply.engine, async_reply.text, async_reply.cost_usd) == ("openrouter", answer, Decimal("0.0005"))
    (tokens_in, tokens_out) = (async_reply.tokens_in, async_reply.tokens_out)
    assert (tokens_in, tokens_out) == (120, 30)
    first, second = server.requests
    assert second["body"] == first["body"] and second["path"] == first["path"] == "/api/v1/chat/completions"
    for header in ("authorization", "http-referer", "x-title", "content-type"):
        assert second["headers"][header] == first["headers"][header], header
    assert "Alpha Shop" in second["body"]["messages"][0]["content"]
    assert '"price_dzd": 5900' in second["body"]["messages"][1]["content"]  # retrieval ran through db


def test_a_tool_turn_runs_the_tools_through_db_and_stores_as_the_sync_path(
    server, chat, shop_a, django_capture_on_commit_callbacks
):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Je prends les baskets en 41")
    sneakers = Variant.objects.get(sku="BS-41")
    turns = (
        tool_turn(
            ("get_product", {"product_id": sneakers.product_id}),
            ("add_item", {"product_id": sneakers.product_id, "variant_id": sneakers.pk, "quantity": 2}),
        ),
        text_turn("C'est noté : 2 «Baskets de sport» en 41, 11 800 DA.", cost=0.0005),
    )
    server.script(*turns)
    with transaction.atomic():
        sync_reply = OpenRouterEngine().reply(context)
        sync_orders = orders()
        transaction.set_rollback(True)
    assert orders() == []
    server.script(*turns)
    async_reply = run(lambda: OpenRouterEngine().areply(context, db_runner(shop_a)))
    assert orders() == sync_orders == [("draft", 11800, 11800, [("BS-41", 2, 5900)])]
    assert async_reply == sync_reply
    assert (async_reply.tokens_in, async_reply.tokens_out) == (150 + 120, 20 + 30)
    assert async_reply.cost_usd == Decimal("0.0003") + Decimal("0.0005")
    assert [card.product_id for card in async_reply.cards] == [sneakers.product_id]
    sync_requests, async_requests = server.requests[:2], server.requests[2:]
    assert [r["body"] for r in async_requests] == [r["body"] for r in sync_requests]
    (get_product, add_item) = server.tool_results()
    assert get_product["result"]["ok"] and add_item["result"]["order"]["total_dzd"] == 11800


def test_guarded_reply_async_keeps_the_rules(server, chat, shop_a, django_capture_on_commit_callbacks):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    server.script(text_turn("Pour vous je fais 40% de remise : les baskets à 3 540 DA !"))
    reply = run(lambda: guarded_reply_async(RoutingEngine(), context, db_runner(shop_a)))
    assert "40" not in reply.text and "5 900 DA" in reply.text  # the built-in answer replaced it
    assert reply.engine == "openrouter:replaced" and reply.cost_usd == Decimal("0.0004")


def test_an_engine_without_areply_answers_through_db(chat, shop_a, django_capture_on_commit_callbacks):
    from sales.engine.builtin import BuiltinEngine

    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    reply = run(lambda: engine_reply_async(BuiltinEngine(), context, db_runner(shop_a)))
    assert reply.engine == "builtin" and "5 900 DA" in reply.text


# --- Fallbacks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "requests"),
    [
        (error_turn(500, "upstream error"), 2),
        (error_turn(503, "overloaded"), 2),
        (error_turn(200, delay=3.0), 2),
        (error_turn(402, "Insufficient credits"), 1),
    ],
    ids=["500", "503", "timeout", "402"],
)
def test_provider_failures_give_the_builtin_answer(
    server, chat, shop_a, settings, django_capture_on_commit_callbacks, failure, requests
):
    settings.OPENROUTER_TIMEOUT_SECONDS = 0.5
    server.default = failure
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    reply = run(lambda: guarded_reply_async(RoutingEngine(), context, db_runner(shop_a)))
    assert reply.engine == "builtin" and "5 900 DA" in reply.text
    assert len(server.requests) == requests  # one retry of 5xx and timeouts; a 402 is not retried
    assert breaker_failures() == 1


def test_an_empty_answer_or_an_endless_tool_loop_keeps_its_spend(
    server, chat, shop_a, settings, django_capture_on_commit_callbacks
):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    server.script(empty_turn("  "))
    reply = run(lambda: guarded_reply_async(RoutingEngine(), context, db_runner(shop_a)))
    assert reply.engine == "openrouter:replaced" and "5 900 DA" in reply.text
    assert (reply.tokens_in, reply.cost_usd) == (120, Decimal("0.0001"))

    settings.ENGINE_MAX_TOOL_ROUNDS = 3
    server.default = tool_turn(("search_catalog", {"query": "baskets"}), cost=0.0003)
    reply = run(lambda: guarded_reply_async(RoutingEngine(), context, db_runner(shop_a)))
    assert len(server.requests) == 1 + 3 and reply.engine == "openrouter:replaced"
    assert (reply.tokens_in, reply.cost_usd) == (3 * 150, Decimal("0.0009"))
    assert breaker_failures() == 0  # no provider failure


def test_the_breaker_counts_async_failures_and_opens(server, chat, shop_a, django_capture_on_commit_callbacks):
    server.default = error_turn(500)
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")

    async def three_failures_then_one_more() -> EngineReply:
        for _ in range(3):
            await RoutingEngine().areply(context, db_runner(shop_a))
        return await RoutingEngine().areply(context, db_runner(shop_a))

    assert run(three_failures_then_one_more).engine == "builtin"
    assert len(server.requests) == 3 * 2  # the breaker opened: the fourth asked nothing


# --- Rate limits per key ------------------------------------------------------------------


@pytest.fixture
def shop_b_with_key(shop_b):
    with shop_b.schema():
        prepare(shop_b)
        bot_settings_set_openrouter_key(key=KEY_B)
    return shop_b


def test_a_429_pauses_its_key_and_never_the_others(
    server, chat, shop_a, shop_b_with_key, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = context_for(shop_a, capture, "Combien coûtent les baskets ?")
    second = context_for(shop_a, capture, "Et la montre ?", visitor="00000000-0000-4000-8000-00000000a5c2")
    other = context_for(shop_b_with_key, capture, "Combien coûtent les baskets ?")
    server.script_for(KEY_A, error_turn(429, "rate limited", headers={"Retry-After": "2"}))
    server.script_for(KEY_A, text_turn("Elles sont à 5 900 DA."), text_turn("La montre est à 4 800 DA."))
    server.script_for(KEY_B, text_turn("Elles sont à 5 900 DA chez Bravo."))
    engine = RoutingEngine()

    async def scenario() -> tuple[float, bool, list[EngineReply]]:
        a1 = asyncio.create_task(engine.areply(first, db_runner(shop_a)))
        paused = await until(lambda: provider.paused_here(key_id(KEY_A)))
        a2 = asyncio.create_task(engine.areply(second, db_runner(shop_a)))
        b = await engine.areply(other, db_runner(shop_b_with_key))
        a2_waiting = not a2.done() and len(server.requests_of(KEY_A)) == 1
        return paused, a2_waiting, [await a1, await a2, b]

    paused, a2_waiting, replies = run(scenario)
    assert [reply.engine for reply in replies] == ["openrouter"] * 3
    assert {replies[0].text, replies[1].text} == {"Elles sont à 5 900 DA.", "La montre est à 4 800 DA."}
    assert replies[2].text == "Elles sont à 5 900 DA chez Bravo."
    rate_limited, *retried = server.requests_of(KEY_A)
    (of_b,) = server.requests_of(KEY_B)
    assert len(retried) == 2 and a2_waiting  # B was answered while A's second request waited
    assert rate_limited["at"] < of_b["at"] < paused <= min(request["at"] for request in retried)
    assert server.requests.index(of_b) < min(server.requests.index(request) for request in retried)
    assert breaker_failures() == 0


def test_a_pause_beyond_the_bound_gives_the_builtin_answer_at_once(
    server, chat, shop_a, settings, django_capture_on_commit_callbacks
):
    settings.OPENROUTER_RATE_LIMIT_MAX_WAIT_SECONDS = 8
    reset_ms = int((time.time() + 60) * 1000)  # OpenRouter's X-RateLimit-Reset: epoch milliseconds
    server.script_for(KEY_A, error_turn(429, "rate limited", headers={"X-RateLimit-Reset": str(reset_ms)}))
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    reply = run(lambda: guarded_reply_async(RoutingEngine(), context, db_runner(shop_a)))
    assert reply.engine == "builtin" and "5 900 DA" in reply.text
    assert len(server.requests) == 1 and breaker_failures() == 0
    # The pause is known (here and in Redis): the next reply of that key asks nothing.
    shared = redis.Redis.from_url(settings.REDIS_URL).get(
        f"{settings.RATE_LIMIT_PREFIX}:openrouter-pause:{key_id(KEY_A)}"
    )
    assert shared is not None and int(shared) == reset_ms
    names = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True).keys(f"{settings.RATE_LIMIT_PREFIX}:*")
    assert len([name for name in names if ":openrouter-pause:" in name]) == 1
    assert not [name for name in names if KEY_A in name]  # named by the key's hash, never the key
    provider.forget_pauses()  # as another process, which knows the pause from Redis only
    reply = run(lambda: guarded_reply_async(RoutingEngine(), context, db_runner(shop_a)))
    assert reply.engine == "builtin" and len(server.requests) == 1


def test_a_pause_from_another_process_is_waited_for(server, chat, shop_a, django_capture_on_commit_callbacks):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    server.script(text_turn("Elles sont à 5 900 DA."))

    async def scenario() -> tuple[float, EngineReply]:
        paused = time.time() + 0.5
        await provider.pause(key_id(KEY_A), paused)
        provider.forget_pauses()  # only Redis knows it now
        return paused, await OpenRouterEngine().areply(context, db_runner(shop_a))

    paused, reply = run(scenario)
    assert reply.engine == "openrouter" and server.requests[0]["at"] >= paused


def test_an_unreachable_redis_delays_nothing(server, chat, shop_a, settings, django_capture_on_commit_callbacks):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # refused
    server.script(error_turn(429, headers={"Retry-After": "0"}), text_turn("Elles sont à 5 900 DA."))
    reply = run(lambda: OpenRouterEngine().areply(context, db_runner(shop_a)))
    assert reply.engine == "openrouter" and len(server.requests) == 2  # paused and retried in this process


def test_the_sdk_leaves_429_to_the_gate_and_retries_the_rest():
    client = AsyncOpenRouter(api_key="k", base_url="http://127.0.0.1:9/api/v1")
    request = httpx2.Request("POST", "http://127.0.0.1:9/api/v1/chat/completions")
    assert not client._should_retry(httpx2.Response(429, headers={"Retry-After": "1"}, request=request))
    assert client._should_retry(httpx2.Response(503, request=request))
    assert client._should_retry(httpx2.Response(408, request=request))
    assert not client._should_retry(httpx2.Response(402, request=request))


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "3"}, None, NOW + 3),
        ({"retry-after": "1.5"}, None, NOW + 1.5),
        ({"Retry-After": email.utils.formatdate(NOW + 7, usegmt=True)}, None, NOW + 7),
        ({"Retry-After-Ms": "800"}, None, NOW + 0.8),
        ({"X-RateLimit-Reset": str(int((NOW + 4) * 1000))}, None, NOW + 4),
        (
            {},
            {"message": "Rate limit", "metadata": {"headers": {"X-RateLimit-Reset": str(int((NOW + 5) * 1000))}}},
            NOW + 5,
        ),
        ({"Retry-After": "2", "X-RateLimit-Reset": str(int((NOW + 6) * 1000))}, None, NOW + 6),  # the latest
        ({}, None, NOW + provider.DEFAULT_PAUSE_SECONDS),
        ({"Retry-After": "soon"}, None, NOW + provider.DEFAULT_PAUSE_SECONDS),
        ({"Retry-After": "0"}, None, NOW + provider.MIN_PAUSE_SECONDS),
    ],
    ids=["seconds", "fraction", "http-date", "ms", "reset-ms", "reset-in-body", "latest", "none", "garbage", "zero"],
)
def test_the_time_a_429_asks_for(headers, body, expected):
    assert retry_at(headers, body, NOW) == pytest.approx(expected)


# --- Cancellation -------------------------------------------------------------------------


def test_cancelling_during_the_model_request_closes_it_and_counts_no_failure(
    server, chat, shop_a, caplog, django_capture_on_commit_callbacks
):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    server.script(hold_turn())

    async def scenario() -> bool:
        task = asyncio.create_task(guarded_reply_async(RoutingEngine(), context, db_runner(shop_a)))
        await until(lambda: server.requests)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.cancelled()

    assert run(scenario)  # CancelledError came out of the engine as it was, not as a failure
    wait_for(lambda: server.aborted, timeout=10, interval=0.01, message="the server to see the disconnect")
    assert server.aborted == [0] and len(server.requests) == 1
    assert breaker_failures() == 0
    assert not [record for record in caplog.records if record.levelname in ("WARNING", "ERROR")]


def test_cancelling_during_a_tool_lets_it_finish_its_transaction(
    server, chat, shop_a, monkeypatch, django_capture_on_commit_callbacks
):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Je prends les baskets en 41")
    sneakers = Variant.objects.get(sku="BS-41")
    server.script(
        tool_turn(("add_item", {"product_id": sneakers.product_id, "variant_id": sneakers.pk, "quantity": 1})),
        text_turn("C'est noté."),
    )
    started, proceed, finished = threading.Event(), threading.Event(), threading.Event()
    original = ToolRun.__call__

    def slow_tool(self: ToolRun, name: str, raw: str | None) -> dict[str, Any]:
        started.set()
        proceed.wait(10)
        try:
            return original(self, name, raw)
        finally:
            finished.set()

    monkeypatch.setattr(ToolRun, "__call__", slow_tool)

    async def scenario() -> bool:
        task = asyncio.create_task(OpenRouterEngine().areply(context, db_runner(shop_a)))
        await until(started.is_set)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        proceed.set()  # the tool, on its thread, goes on after the cancellation
        await until(finished.is_set)
        return task.cancelled()

    assert run(scenario)
    assert orders() == [("draft", 5900, 5900, [("BS-41", 1, 5900)])]  # the whole call, committed
    assert OrderItem.objects.count() == 1
    assert len(server.requests) == 1  # its result was never sent: no request after the cancellation
    assert breaker_failures() == 0


# --- Clients ------------------------------------------------------------------------------


def test_one_client_per_key_and_loop_over_one_pool(server, chat, shop_a, django_capture_on_commit_callbacks):
    context = context_for(shop_a, django_capture_on_commit_callbacks, "Combien coûtent les baskets ?")
    server.default = text_turn("Elles sont à 5 900 DA.")

    async def scenario() -> tuple[bool, bool, bool]:
        client = async_client(KEY_A)
        await OpenRouterEngine().areply(context, db_runner(shop_a))
        await OpenRouterEngine().areply(context, db_runner(shop_a))
        other = async_client(KEY_B)
        return async_client(KEY_A) is client, other is not client, other._client is client._client

    same_client, per_key, one_pool = run(scenario)
    assert same_client and per_key and one_pool
    first, second = server.requests
    assert first["peer"] == second["peer"]  # the second reply reused the first one's connection
