"""The production client, neonize 0.5.2 itself: its session store opens in PostgreSQL's `wa`
schema from the URL the gateway builds, and a connection that cannot reach WhatsApp ends in a
ClientError (which the gateway turns into a reconnect with backoff). WhatsApp's servers cannot
be reached from the tests; if they could, the client would wait for a QR scan and the test
stops it."""

from __future__ import annotations

import threading

from django.db import connection

from channels_app.whatsapp.client import ClientError, NeonizeSessionClient, jid_string, parse_jid, store_url
from ma5zani.testing import committed_db

pytestmark = committed_db


def test_store_url_points_at_the_wa_schema_of_the_project_database():
    url = store_url()
    assert url.startswith("postgres://")
    assert "search_path=wa" in url and "application_name=ma5zani-wa" in url
    assert f"/{connection.settings_dict['NAME']}?" in url


def test_jids_round_trip():
    jid = parse_jid("213550123456:12@s.whatsapp.net")
    assert (jid.User, jid.Device, jid.Server) == ("213550123456", 12, "s.whatsapp.net")
    assert jid_string(jid) == "213550123456@s.whatsapp.net"
    assert jid_string(parse_jid("98765432101@lid")) == "98765432101@lid"


def test_the_neonize_client_opens_its_store_in_the_wa_schema(drop_new_sellers):
    qrs: list[str] = []
    client = NeonizeSessionClient(session_key="seller-test-store", on_event=lambda event: None, on_qr=qrs.append)
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            client.run()
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():  # WhatsApp reachable after all: it waits for a scan
        client.stop()
        thread.join(30)
        assert qrs, "connected to WhatsApp but showed no QR code"
    else:
        assert isinstance(outcome.get("error"), ClientError), outcome
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'wa'")
        tables = {row[0] for row in cursor.fetchall()}
    assert {"whatsmeow_device", "whatsmeow_sessions", "whatsmeow_lid_map"} <= tables
