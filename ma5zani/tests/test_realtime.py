"""The dashboard websocket: tenant resolved from the host, members only, live events."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction

from ma5zani.asgi import application
from ma5zani.realtime import publish, seller_group
from ma5zani.testing import committed_db
from sales.services.catalog import ProductChanges, VariantData, product_save

pytestmark = committed_db


def session_cookie(shop, user) -> str:
    client = shop.client(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def connect(host: str, cookie: str = "", origin: str | None = None):
    headers = [(b"host", host.encode())]
    if origin != "":
        headers.append((b"origin", (origin or f"http://{host}").encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, "/ws/dashboard/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


def test_a_member_receives_the_status_then_live_catalog_changes(drop_new_sellers, shop_a):
    cookie = session_cookie(shop_a, shop_a.owner)

    async def scenario():
        communicator, connected, _ = await connect(shop_a.host, cookie)
        assert connected
        first = await communicator.receive_json_from(timeout=5)
        assert first["event"] == "status"
        assert first["payload"]["products_active"] == 0

        def add_product():
            with shop_a.schema():
                product_save(
                    product=None,
                    changes=ProductChanges(
                        fields={"name_fr": "Live", "price": 100}, variants=[VariantData(sku="LIVE-1", stock=2)]
                    ),
                )

        from channels.db import database_sync_to_async

        await database_sync_to_async(add_product)()
        event = await communicator.receive_json_from(timeout=5)
        assert event["event"] == "catalog.changed"
        assert event["payload"]["products_active"] == 1
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_user_of_another_seller_and_anonymous_visitors_are_refused(drop_new_sellers, shop_a, shop_b):
    cookie_b = session_cookie(shop_b, shop_b.owner)

    async def refused_with(host: str, cookie: str = "") -> int | None:
        # A refusal is accepted, then closed with its code, so that the page sees the code (the
        # dashboard's script stops reconnecting on 4403) instead of a failed handshake.
        communicator, connected, _code = await connect(host, cookie)
        assert connected
        close = await communicator.receive_output(timeout=5)
        assert close["type"] == "websocket.close"
        return close.get("code")

    async def scenario():
        assert await refused_with(shop_a.host, cookie_b) == 4403
        assert await refused_with(shop_a.host) == 4403
        assert await refused_with("nobody.localhost", cookie_b) == 4403

    async_to_sync(scenario)()


def test_a_page_of_another_host_cannot_open_a_members_socket(drop_new_sellers, shop_a, shop_b):
    # The member's cookie, sent by a page on another shop's subdomain (or anywhere else).
    cookie = session_cookie(shop_a, shop_a.owner)

    async def scenario():
        others = (
            f"http://{shop_b.host}",
            f"http://{settings.BASE_DOMAIN}",
            "https://evil.example",
            "null",
            "",
            f"https://{shop_a.host}",
        )  # fmt: skip  (https is another origin than this ws:// socket's)
        for origin in others:
            communicator, connected, _code = await connect(shop_a.host, cookie, origin=origin)
            assert connected, origin  # accepted, then closed with the code the page reads
            close = await communicator.receive_output(timeout=5)
            assert (close["type"], close.get("code")) == ("websocket.close", 4403), origin
        communicator, connected, _ = await connect(shop_a.host, cookie, origin=f"http://{shop_a.host}")
        assert connected
        assert (await communicator.receive_json_from(timeout=5))["event"] == "status"
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_events_of_one_seller_never_reach_another(drop_new_sellers, shop_a, shop_b):
    cookie_b = session_cookie(shop_b, shop_b.owner)

    async def scenario():
        communicator, connected, _ = await connect(shop_b.host, cookie_b)
        assert connected
        await communicator.receive_json_from(timeout=5)  # the status
        await sync_to_async(publish)(shop_a.seller.schema_name, "catalog.changed", {"products_active": 99})
        assert await communicator.receive_nothing(timeout=0.5)
        await sync_to_async(publish)(shop_b.seller.schema_name, "catalog.changed", {"products_active": 7})
        assert (await communicator.receive_json_from(timeout=5))["payload"] == {"products_active": 7}
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_publish_waits_for_the_commit(drop_new_sellers, shop_a):
    import threading

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    published, checked = threading.Event(), threading.Event()

    def publish_in_transaction(fail: bool) -> None:
        try:
            with transaction.atomic():
                publish("s_alpha", "rolled-back" if fail else "committed", {})
                published.set()
                checked.wait(5)
                if fail:
                    raise RuntimeError("rollback")
        except RuntimeError:
            pass

    # One receive for the whole test, as a consumer has: the pub/sub layer treats a cancelled
    # receive as the consumer leaving and drops its channel.
    arrived: asyncio.Queue[dict] = asyncio.Queue()

    async def receive_all(channel: str) -> None:
        while True:
            await arrived.put(await layer.receive(channel))

    async def nothing_arrives(channel: str) -> bool:
        try:
            await asyncio.wait_for(arrived.get(), 0.3)
        except TimeoutError:
            return True
        return False

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(seller_group("s_alpha"), channel)
        receiver = asyncio.ensure_future(receive_all(channel))
        try:
            for fail in (False, True):
                published.clear()
                checked.clear()
                worker = asyncio.get_running_loop().run_in_executor(None, publish_in_transaction, fail)
                await asyncio.get_running_loop().run_in_executor(None, published.wait, 5)
                assert await nothing_arrives(channel)  # not before the commit
                checked.set()
                await worker
                if fail:
                    assert await nothing_arrives(channel)  # never after a rollback
                else:
                    message = await asyncio.wait_for(arrived.get(), 3)
                    assert message["event"] == "committed"
        finally:
            receiver.cancel()
            await layer.group_discard(seller_group("s_alpha"), channel)

    async_to_sync(scenario)()


def test_an_idle_dashboard_socket_stays_open(drop_new_sellers, shop_a):
    """Longer than the channel layer's blocking read and redis-py's default socket timeout."""
    cookie = session_cookie(shop_a, shop_a.owner)

    async def scenario():
        communicator, connected, _ = await connect(shop_a.host, cookie)
        assert connected
        await communicator.receive_json_from(timeout=5)  # the status
        assert await communicator.receive_nothing(timeout=7)
        await sync_to_async(publish)(shop_a.seller.schema_name, "catalog.changed", {"products_active": 3})
        assert (await communicator.receive_json_from(timeout=5))["payload"] == {"products_active": 3}
        await communicator.disconnect()

    async_to_sync(scenario)()
