"""Real neonize clients that open whatsmeow's store and never reach WhatsApp.

neonize 0.5.2 opens the store in `connect()` (NewClient alone touches nothing): it opens a
database pool of its own (one `sql.DB`, lib/pq), upgrades the tables, reads the device, then
dials WhatsApp. Given a SOCKS proxy on a port where nothing listens, the dial fails at once and
`connect()` returns, leaving the client with its store open: the whatsmeow store calls work
(contacts, the LID map), each a real query on that client's own connections. The store
benchmark (`bench/whatsapp_store.py`) and the pooler tests use these; the gateway never does.

A device must exist in the store for a client to resume it (`linked_devices` writes one per
phone number: random keys, as after a pairing, which is all whatsmeow reads before dialling).
Nothing here imports Django.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterable
from typing import Any

DEVICE_COLUMNS = (
    "jid, registration_id, noise_key, identity_key, signed_pre_key, signed_pre_key_id, "
    "signed_pre_key_sig, adv_key, adv_details, adv_account_sig, adv_account_sig_key, adv_device_sig"
)


class StoreNotOpened(Exception):
    """`connect()` failed before dialling WhatsApp: the store did not open (the message says why)."""


def jid(user: str, server: str = "s.whatsapp.net", device: int = 0) -> Any:
    from neonize.proto.Neonize_pb2 import JID

    return JID(User=user, Server=server, Device=device, RawAgent=0, Integrator=0, IsEmpty=False)


def device_jid(phone: str) -> str:
    return f"{phone}:1@s.whatsapp.net"


def lid_of(phone: str) -> str:
    """The LID the store maps to `phone` (written by `linked_devices`)."""
    return f"8{phone}"


def linked_devices(conn: Any, phones: Iterable[str], *, schema: str = "wa") -> None:
    """Write a linked device per phone number, and its LID mapping, into the store (psycopg)."""
    with conn.cursor() as cursor:
        for phone in phones:
            cursor.execute(
                f"INSERT INTO {schema}.whatsmeow_device ({DEVICE_COLUMNS}) "  # noqa: S608 -- our schema name
                "VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s, %s, %s, %s) ON CONFLICT (jid) DO NOTHING",
                (
                    device_jid(phone),
                    secrets.randbelow(2**31),
                    secrets.token_bytes(32),
                    secrets.token_bytes(32),
                    secrets.token_bytes(32),
                    secrets.token_bytes(64),
                    secrets.token_bytes(32),
                    b"\x00",
                    secrets.token_bytes(64),
                    secrets.token_bytes(32),
                    secrets.token_bytes(64),
                ),
            )
            cursor.execute(
                f"INSERT INTO {schema}.whatsmeow_lid_map (lid, pn) VALUES (%s, %s) ON CONFLICT DO NOTHING",  # noqa: S608
                (lid_of(phone), phone),
            )


def forget_devices(conn: Any, phones: Iterable[str], *, schema: str = "wa") -> None:
    """Delete those devices (their contacts and keys go with them) and their LID mappings."""
    phones = list(phones)
    with conn.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {schema}.whatsmeow_device WHERE jid = ANY(%s)",  # noqa: S608
            ([device_jid(p) for p in phones],),
        )
        cursor.execute(
            f"DELETE FROM {schema}.whatsmeow_lid_map WHERE lid = ANY(%s)",  # noqa: S608
            ([lid_of(p) for p in phones],),
        )


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OfflineClient:
    """One neonize client of a linked device, its store opened through `url`. Without a phone,
    a client of a new device (as before a pairing): opening it makes or upgrades the store's
    tables, and there is no device to call the store for."""

    def __init__(self, url: str, phone: str | None, *, key: str, proxy_port: int | None = None) -> None:
        from neonize.client import NewClient

        self.phone = phone or ""
        self.key = key
        self.proxy_port = proxy_port or closed_port()
        if phone:
            self.client = NewClient(url, jid=jid(phone, device=1), uuid=key)
        else:
            self.client = NewClient(url, uuid=key, new_device=True)
        self.opened = False

    def open(self) -> None:
        """Open the store (and fail to dial WhatsApp through the closed proxy port)."""
        from neonize._binder import ProxySettings

        try:
            self.client.connect(ProxySettings(proxy_address=f"socks5://127.0.0.1:{self.proxy_port}"))
        except Exception as exc:
            if "websocket" not in str(exc):
                raise StoreNotOpened(str(exc)) from exc
        self.opened = True  # only then may the store calls run (neonize crashes on an unknown client)

    def put_contact(self, phone: str, full_name: str, first_name: str) -> None:
        self.client.contact.put_contact_name(jid(phone), full_name, first_name)

    def contacts(self) -> dict[str, tuple[str, str]]:
        """{phone: (first name, full name)} of this device's contacts, read from the store."""
        return {
            contact.JID.User: (contact.Info.FirstName, contact.Info.FullName)
            for contact in self.client.contact.get_all_contacts()
        }

    def phone_for_lid(self, lid: str) -> str:
        return str(self.client.get_pn_from_lid(jid(lid, server="lid")).User)

    def exercise(self, round_number: int) -> None:
        """One round of store work: write a contact, read the LID map and every contact back."""
        contact = f"2136{round_number:03d}{self.phone[-6:]}"
        self.put_contact(contact, f"Customer {round_number} of {self.phone}", f"C{round_number}")
        pn = self.phone_for_lid(lid_of(self.phone))
        if pn != self.phone:
            raise AssertionError(f"{self.phone}: the LID map gave {pn!r}")
        names = self.contacts().get(contact)
        if names is None or f"Customer {round_number} of {self.phone}" not in names:
            raise AssertionError(f"{self.phone}: contact {contact} read back as {names!r}")

    def stop(self) -> None:
        self.client.stop()
