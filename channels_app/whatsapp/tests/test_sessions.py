"""The seller's side of WhatsApp: the dashboard page, its checks, and what /health/ shows."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import WhatsAppSession
from channels_app.whatsapp.sessions import leases_acquire, session_ensure
from channels_app.whatsapp.tests.conftest import linked_session
from ma5zani.testing import committed_db
from sales.selectors import bot_settings
from sales.services.settings import bot_settings_update

pytestmark = committed_db


def test_the_page_creates_the_session_and_connect_starts_pairing(drop_new_sellers, shop_a):
    page = shop_a.client().get("/dashboard/channels/whatsapp/")
    assert page.status_code == 200
    assert "Not linked" in page.content.decode()
    response = shop_a.client().post("/dashboard/channels/whatsapp/", {"action": "connect"})
    assert response.status_code == 302
    with schema_context(get_public_schema_name()):
        session = WhatsAppSession.objects.get(account__seller=shop_a.seller)
    assert (session.state, session.wanted) == ("pairing", "run")
    status = shop_a.client().get("/dashboard/channels/whatsapp/", HTTP_ACCEPT="application/json").json()
    assert status["state"] == "pairing" and status["has_qr"] is False


def test_a_bad_pairing_number_is_refused_and_nothing_changes(drop_new_sellers, shop_a):
    page = shop_a.client().post("/dashboard/channels/whatsapp/", {"action": "pair_phone", "phone": "12ab"})
    assert page.status_code == 200
    assert "Enter the phone number of your WhatsApp" in page.content.decode()
    with schema_context(get_public_schema_name()):
        session = WhatsAppSession.objects.get(account__seller=shop_a.seller)
    assert session.pair_phone == "" and session.state == "new"


def test_only_an_owner_changes_whatsapp(drop_new_sellers, shop_a, add_member):
    agent = add_member(shop_a, "agent@alpha.test")
    response = shop_a.client(agent).post("/dashboard/channels/whatsapp/", {"action": "logout"})
    assert response.status_code == 403
    with schema_context(get_public_schema_name()):
        assert WhatsAppSession.objects.get(account__seller=shop_a.seller).wanted == "run"


def test_a_seller_sees_only_their_own_session(drop_new_sellers, shop_a, shop_b):
    linked_session(shop_a)
    page = shop_b.client().get("/dashboard/channels/whatsapp/").content.decode()
    assert "+213661000111" not in page and "Not linked" in page
    assert "+213661000111" in shop_a.client().get("/dashboard/channels/whatsapp/").content.decode()


def test_settings_are_saved(drop_new_sellers, shop_a):
    session_ensure(shop_a.seller)
    shop_a.client().post("/dashboard/channels/whatsapp/", {"action": "settings", "groups_enabled": "on"})
    with schema_context(get_public_schema_name()):
        session = WhatsAppSession.objects.get(account__seller=shop_a.seller)
    assert session.ai_badge is False
    with shop_a.schema():  # groups are the bot settings' (the page's old box is gone and changes nothing)
        assert bot_settings().group_chats_enabled is False
    page = shop_a.client().get("/dashboard/channels/whatsapp/").content.decode()
    assert 'data-groups="off"' in page and 'name="groups_enabled"' not in page
    with shop_a.schema():
        bot_settings_update(group_chats_enabled=True)
    assert 'data-groups="on"' in shop_a.client().get("/dashboard/channels/whatsapp/").content.decode()


def test_health_counts_sessions_and_details_need_the_token(drop_new_sellers, shop_a, settings):
    settings.HEALTH_TOKEN = "s3cret-health-token"
    session = linked_session(shop_a, state="connected")
    leases_acquire("gw-health", limit=10, ai_badge=True)
    client = Client(HTTP_HOST="localhost")
    body = client.get("/health/").json()
    assert body["whatsapp"]["sessions"] == {"connected": 1}, body
    assert "session_details" not in client.get("/health/?details=1").json()["whatsapp"]
    wrong = client.get("/health/?details=1", HTTP_AUTHORIZATION="Bearer nope").json()
    assert "session_details" not in wrong["whatsapp"]
    detailed = client.get("/health/?details=1", HTTP_AUTHORIZATION="Bearer s3cret-health-token").json()
    [row] = detailed["whatsapp"]["session_details"]
    assert row["seller"] == shop_a.seller.slug and row["state"] == "connected" and row["gateway"] == "gw-health"
    assert session.pk


def test_the_group_setting_is_read_for_many_sellers_at_once(drop_new_sellers, shop_a, shop_b):
    from channels_app.whatsapp.sessions import groups_enabled_by_schema, session_specs

    with shop_a.schema():
        bot_settings_update(group_chats_enabled=True)
    with shop_b.schema():
        bot_settings()  # the row with its default: off
    a, b = linked_session(shop_a), linked_session(shop_b, jid="213661000222@s.whatsapp.net")
    specs = session_specs([a.pk, b.pk])
    assert (specs[a.pk].groups_enabled, specs[b.pk].groups_enabled) == (True, False)
    schemas = {shop_a.seller.schema_name, shop_b.seller.schema_name, "no_such_schema"}
    assert groups_enabled_by_schema(schemas) == {
        shop_a.seller.schema_name: True, shop_b.seller.schema_name: False, "no_such_schema": False,
    }  # fmt: skip
