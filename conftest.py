"""Fixtures shared by every app's tests: sellers, their users and clients on their domains."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django_tenants.utils import get_public_schema_name, schema_context

from ma5zani.tenancy import set_public_schema
from ma5zani.testing import LiveStack, live_stack_env
from sellers.models import Membership, Seller, User
from sellers.services import public_tenant_ensure, seller_provision, template_tenant_ensure


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    """The test database with its public tenant and the template that sellers are cloned from."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        public_tenant_ensure()
        template_tenant_ensure()


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    """Tests read English messages; a request of another test must not leave its language on."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits_and_caches(settings: Any) -> None:
    """Each test counts its own hits (the counters live in the shared Redis), and reads the
    settings of its own sellers (schema names repeat from test to test)."""
    from channels_app.selectors import channel_accounts_forget
    from sales.engine.readiness import month_spend_forget
    from sales.selectors import bot_settings_forget

    settings.RATE_LIMIT_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
    bot_settings_forget()
    month_spend_forget()
    channel_accounts_forget()


# A Wednesday at 10:00 in Algiers: within the default business hours.
OPEN_MOMENT = "2026-06-10T10:00:00+01:00"


@pytest.fixture(autouse=True)
def _shop_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """The message path's business-hours clock reads a moment when the shop is open, so that
    no answer depends on the hour the tests run at. Tests of business hours pass `now`."""
    import datetime as dt

    monkeypatch.setattr("conversations.hours.clock", lambda: dt.datetime.fromisoformat(OPEN_MOMENT))


@pytest.fixture(autouse=True)
def _public_schema_between_tests() -> Iterator[None]:
    yield
    set_public_schema()


@dataclass
class Shop:
    seller: Seller
    owner: User
    host: str

    def client(self, user: User | None = None) -> Client:
        """A test client on this seller's domain, signed in as `user` (the owner by default)."""
        client = self.anonymous()
        client.force_login(user or self.owner)
        return client

    def anonymous(self) -> Client:
        # Assertions read English messages; the i18n tests ask for other languages.
        return Client(HTTP_HOST=self.host, HTTP_ACCEPT_LANGUAGE="en")

    def schema(self) -> schema_context:
        return schema_context(self.seller.schema_name)


@pytest.fixture
def make_shop(db: None) -> Callable[..., Shop]:
    """Provision a seller (schema cloned from the template) with an owner."""

    def make(slug: str = "alpha", name: str | None = None, owner_email: str | None = None) -> Shop:
        with schema_context(get_public_schema_name()):
            public_tenant_ensure()
            template_tenant_ensure()
            owner = User.objects.create_user(email=owner_email or f"owner@{slug}.test", password="pw-For-tests-1")
            seller = seller_provision(name=name or slug.title(), slug=slug, owner=owner)
        return Shop(seller=seller, owner=owner, host=f"{slug}.{settings.BASE_DOMAIN}")

    return make


@pytest.fixture
def shop_a(make_shop: Callable[..., Shop]) -> Shop:
    return make_shop("alpha", name="Alpha Shop")


@pytest.fixture
def shop_b(make_shop: Callable[..., Shop]) -> Shop:
    return make_shop("bravo", name="Bravo Shop")


@pytest.fixture
def add_member() -> Callable[..., User]:
    def add(shop: Shop, email: str, role: str = Membership.Role.AGENT) -> User:
        user = User.objects.create_user(email=email, password="pw-For-tests-1")
        Membership.objects.create(user=user, seller=shop.seller, role=role)
        return user

    return add


@pytest.fixture
def drop_new_sellers(transactional_db: None) -> Iterator[None]:
    """For tests whose data is committed: drop the sellers (and schemas) they created."""
    with schema_context(get_public_schema_name()):
        public_tenant_ensure()
        template_tenant_ensure()
        before = set(Seller.objects.values_list("schema_name", flat=True))
    yield
    set_public_schema()
    for seller in Seller.objects.exclude(schema_name__in=before):
        seller.delete(force_drop=True)


@pytest.fixture
def live_stack(drop_new_sellers: None) -> Iterator[Callable[..., LiveStack]]:
    """Start the real web/worker/beat processes on the committed test database."""
    stacks: list[LiveStack] = []

    def make(**env: str) -> LiveStack:
        stack = LiveStack(env=live_stack_env(**env))
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop_all()


@dataclass
class QueueRecorder:
    """What the message path asked of the queue; the tests run those tasks by hand."""

    replies: list[tuple[int, int]] = field(default_factory=list)
    reply_schemas: list[str] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)


@pytest.fixture
def queued(monkeypatch) -> QueueRecorder:
    recorder = QueueRecorder()

    def reply(schema, conversation_id, message_id, countdown=None):
        recorder.reply_schemas.append(schema)
        recorder.replies.append((conversation_id, message_id))

    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", reply)

    def replies(schema, pairs):
        for conversation_id, message_id in pairs:
            reply(schema, conversation_id, message_id)

    monkeypatch.setattr("conversations.services.enqueueing.enqueue_replies", replies)
    monkeypatch.setattr(
        "conversations.services.enqueueing.enqueue_delivery",
        lambda schema, m, countdown=0: recorder.deliveries.append(m),
    )
    return recorder
