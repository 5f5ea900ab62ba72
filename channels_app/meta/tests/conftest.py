"""Linked Pages and Instagram accounts for the Meta tests, signed deliveries, and the loopback
Graph server the client talks to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.meta import adapter, inbound
from channels_app.meta.signature import meta_json, sign
from channels_app.meta.testing import GraphServer
from channels_app.models import ChannelAccount, MetaAccount
from channels_app.selectors import channel_accounts_forget
from ma5zani.crypto import encrypt

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "meta-secret"
APP_ID = "884213097765432"  # the app id of the echoes of our own sends in the fixtures
PAGE_A = "104857329461722"  # shop_a's Page in the fixtures
PAGE_B = "112093847561038"  # shop_b's
INSTAGRAM_A = "17841458392017465"  # shop_a's Instagram account


def fixture_names() -> list[str]:
    """Every fixture as "<platform>/<event>__<variant>"."""
    return sorted(f"{path.parent.name}/{path.stem}" for path in FIXTURES.glob("*/*.json"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(fixture_bytes(name))
    return body


def fixture(name: str) -> dict[str, Any]:
    """A delivery of tests/fixtures/<platform>/<event>__<variant>.json (a fresh copy)."""
    return fixture_body(name)


@dataclass
class Webhook:
    """Posts signed deliveries to the real endpoint; what the view leaves for after the commit
    (live events, replies) runs as it would."""

    capture: Any
    client: Client = field(default_factory=lambda: Client(HTTP_HOST="localhost"))

    def post(self, body: dict[str, Any] | bytes, *, secret: str | None = APP_SECRET, header: str | None = None):
        raw = body if isinstance(body, bytes) else meta_json(body)
        headers: dict[str, Any] = {}
        if header is not None:
            headers["HTTP_X_HUB_SIGNATURE_256"] = header
        elif secret is not None:
            headers["HTTP_X_HUB_SIGNATURE_256"] = sign(raw, secret)
        with self.capture(execute=True):
            return self.client.post("/webhooks/meta/", raw, content_type="application/json", **headers)


@pytest.fixture
def follow_ups(monkeypatch) -> list[tuple[str, tuple[Any, ...], str]]:
    """The tasks a delivery leaves for later (name, arguments, schema), not run."""
    asked: list[tuple[str, tuple[Any, ...], str]] = []

    def record(task, *args, schema, countdown=None):
        asked.append((task.name.rsplit(".", 1)[-1], args, schema))
        return True

    monkeypatch.setattr("channels_app.meta.tasks.enqueue", record)
    return asked


@pytest.fixture
def graph(settings) -> Iterator[GraphServer]:
    with GraphServer(app_id=APP_ID, app_secret=APP_SECRET) as server:
        settings.META_GRAPH_URL = server.url
        settings.META_INSTAGRAM_GRAPH_URL = server.url
        settings.META_INSTAGRAM_OAUTH_URL = server.url
        settings.META_FACEBOOK_DIALOG_URL = server.url
        settings.META_INSTAGRAM_DIALOG_URL = server.url
        yield server


@pytest.fixture
def meta_settings(settings):
    settings.META_APP_SECRET = APP_SECRET
    settings.META_APP_ID = APP_ID
    settings.META_INSTAGRAM_APP_ID = "ig-app"
    settings.META_INSTAGRAM_APP_SECRET = "ig-secret"
    settings.META_VERIFY_TOKEN = "verify-me"
    return settings


def link(shop, channel: str, external_id: str, *, kind: str = "", token: str = "page-token", **meta: Any):  # noqa: S107
    """A linked Page or Instagram account of `shop`."""
    kind = kind or (MetaAccount.Kind.PAGE if channel == "messenger" else MetaAccount.Kind.INSTAGRAM_LOGIN)
    with schema_context(get_public_schema_name()):
        account = ChannelAccount.objects.create(
            seller=shop.seller, channel=channel, external_id=external_id, display_name=external_id, status="connected"
        )
        MetaAccount.objects.create(
            account=account,
            kind=kind,
            page_id=external_id if kind != MetaAccount.Kind.INSTAGRAM_LOGIN else "",
            token_encrypted=encrypt(token),
            **meta,
        )
    forget()
    return account


def forget() -> None:
    channel_accounts_forget()
    inbound.routes_forget()
    adapter.meta_accounts_forget()


@pytest.fixture
def webhook(meta_settings, django_capture_on_commit_callbacks) -> Webhook:
    forget()
    return Webhook(capture=django_capture_on_commit_callbacks)
