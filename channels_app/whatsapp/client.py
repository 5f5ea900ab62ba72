"""The WhatsApp client behind one interface: the gateway drives a `SessionClient`, and only
`NeonizeSessionClient` knows neonize. Tests and benchmarks drive the gateway with events built
from neonize's own protobuf classes through the same interface.

One client per seller. `run()` blocks for the life of the connection (neonize's connect runs
until it is stopped or fails), so the gateway calls it on a thread of its own; events arrive on
neonize's threads and are handed to the gateway's `EventSink`, one at a time per client.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

logger = logging.getLogger(__name__)

STORE_SCHEMA = "wa"


class EventSink(Protocol):
    def __call__(self, event: Any) -> None: ...


@dataclass(frozen=True)
class SentMessage:
    id: str
    timestamp: int


class ClientError(Exception):
    """The client refused or failed an operation (WhatsApp's error text is the message)."""


class SessionClient(abc.ABC):
    """What the gateway needs of one seller's WhatsApp connection."""

    def __init__(self, *, session_key: str, jid: str = "", on_event: EventSink, on_qr: Callable[[str], None]):
        self.session_key = session_key
        self.jid = jid
        self.on_event = on_event
        self.on_qr = on_qr

    @abc.abstractmethod
    def run(self) -> None:
        """Connect and stay connected until `stop()`; raises ClientError when the connection fails."""

    @abc.abstractmethod
    def stop(self) -> None:
        """End `run()` (idempotent)."""

    @abc.abstractmethod
    def logout(self) -> None:
        """Unlink this device from the seller's phone; the stored session becomes unusable."""

    @abc.abstractmethod
    def pair_phone(self, phone: str) -> str:
        """Ask WhatsApp for a pairing code for `phone` (digits, country code first)."""

    @abc.abstractmethod
    def send_text(self, chat: str, text: str) -> SentMessage:
        """Send `text` to the chat JID; returns WhatsApp's id for the message."""

    @abc.abstractmethod
    def mark_read(self, chat: str, sender: str, message_ids: list[str]) -> None: ...

    @abc.abstractmethod
    def typing(self, chat: str, *, on: bool) -> None: ...

    @abc.abstractmethod
    def download(self, message: Any) -> bytes:
        """The media of a received message (neonize's waE2E.Message), decrypted."""

    @abc.abstractmethod
    def me(self) -> tuple[str, str, str]:
        """(JID, LID, push name) of the linked device once paired; empty strings before."""

    @abc.abstractmethod
    def phone_for_lid(self, lid: str) -> str:
        """The phone-number JID behind a LID, from the session store ("" when unknown)."""

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool: ...


def store_url(application_name: str = "ma5zani-wa") -> str:
    """whatsmeow's session store URL: WHATSAPP_STORE_URL, or the project's PostgreSQL with
    `search_path=wa` (neonize 0.5.2 opens PostgreSQL when its first argument starts with
    `postgres`; its driver is lib/pq).

    `binary_parameters=yes` is added unless the URL says otherwise: lib/pq then sends each
    query with parameters in one round trip (Parse, Bind, Execute, Sync). Without it the statement
    is parsed, synced, then bound: behind PgBouncer in transaction mode the bind can reach another
    server connection and run another client's statement there (docs/deploy.md)."""
    if settings.WHATSAPP_STORE_URL:
        return with_query_defaults(settings.WHATSAPP_STORE_URL, binary_parameters="yes")
    params = connection.get_connection_params()
    host = str(params.get("host") or "")
    user = params.get("user") or ""
    password = params.get("password") or ""
    auth = user + (f":{password}" if password else "")
    query: dict[str, str] = {
        "search_path": STORE_SCHEMA,
        "application_name": application_name,
        "binary_parameters": "yes",
    }
    if host.startswith("/"):  # a Unix socket folder (the embedded PostgreSQL)
        query["host"] = host
        netloc = f"{auth}@" if auth else ""
    else:
        query["sslmode"] = "disable" if host in {"127.0.0.1", "localhost", "::1"} else "prefer"
        netloc = f"{auth}@{host}:{params.get('port') or 5432}"
    return urlunsplit(("postgres", netloc, f"/{params['dbname']}", urlencode(query), ""))


def with_query_defaults(url: str, **defaults: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in defaults.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


# lib/pq's own options: not run-time parameters of PostgreSQL, so libpq (psycopg) refuses them.
_LIBPQ_UNKNOWN = {"binary_parameters", "disable_prepared_binary_result", "krbsrvname", "krbspn"}


def store_schema(url: str | None = None) -> str:
    """The schema whatsmeow's tables land in through `url` (the store URL by default): what
    PostgreSQL's search path gives first. Behind PgBouncer the URL carries no search_path (it
    refuses that startup parameter); its entry's connect_query must set it."""
    import psycopg

    parts = urlsplit(url or store_url())
    query = {key: value for key, value in parse_qsl(parts.query) if key not in _LIBPQ_UNKNOWN}
    search_path = query.pop("search_path", "")
    if search_path:
        query["options"] = f"-csearch_path={search_path}"
    dsn = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=10) as conn:
        row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else ""


def store_schema_check() -> None:
    """Refuse to start a gateway whose store would not be the `wa` schema (whatsmeow would
    create its tables wherever the search path points and start every seller unpaired)."""
    schema = store_schema()
    if schema != STORE_SCHEMA:
        raise ImproperlyConfigured(
            f"whatsmeow's store (WHATSAPP_STORE_URL) opens in schema {schema!r}, not {STORE_SCHEMA!r}: "
            "behind PgBouncer give its [databases] entry connect_query='SET search_path TO wa' "
            "(deploy/pgbouncer/pgbouncer.ini); directly, add search_path=wa to the URL."
        )


def with_application_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["application_name"] = name
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_jid(value: str) -> Any:
    """A neonize JID from "user@server" or "user@server:device" / "user:device@server"."""
    from neonize.proto.Neonize_pb2 import JID

    user, _, server = value.partition("@")
    device = 0
    if ":" in user:
        user, _, raw = user.partition(":")
        device = int(raw or 0)
    return JID(User=user, Server=server or "s.whatsapp.net", Device=device, RawAgent=0, Integrator=0, IsEmpty=False)


def jid_string(jid: Any) -> str:
    """ "user@server" of a neonize JID (the device part dropped); "" for an empty JID."""
    if jid is None or not getattr(jid, "User", "") or getattr(jid, "IsEmpty", False):
        return ""
    return f"{jid.User}@{jid.Server}"


class NeonizeSessionClient(SessionClient):
    """One seller's session on neonize 0.5.2 (whatsmeow), its store in PostgreSQL's `wa` schema."""

    def __init__(self, *, session_key: str, jid: str = "", on_event: EventSink, on_qr: Callable[[str], None]):
        super().__init__(session_key=session_key, jid=jid, on_event=on_event, on_qr=on_qr)
        from neonize.client import NewClient
        from neonize.events import EVENT_TO_INT

        self._client = NewClient(
            store_url(),
            jid=parse_jid(jid) if jid else None,
            uuid=session_key,
            new_device=not jid,
        )
        self._client.qr(lambda _client, data: self.on_qr(data.decode() if isinstance(data, bytes) else str(data)))
        for event_class in EVENT_TO_INT:
            if event_class.__name__ == "Device":
                continue
            self._client.event(event_class)(self._forward)

    def _forward(self, _client: Any, event: Any) -> None:
        self.on_event(event)

    def run(self) -> None:
        from neonize.exc import NeonizeError

        try:
            self._client.connect()
        except NeonizeError as exc:
            raise ClientError(str(exc)) from exc

    def stop(self) -> None:
        try:
            self._client.disconnect()
        finally:
            self._client.stop()

    def logout(self) -> None:
        self._call(self._client.logout)

    def pair_phone(self, phone: str) -> str:
        return str(self._call(self._client.PairPhone, phone, True))

    def send_text(self, chat: str, text: str) -> SentMessage:
        response = self._call(self._client.send_message, parse_jid(chat), text)
        return SentMessage(id=response.ID, timestamp=int(response.Timestamp))

    def mark_read(self, chat: str, sender: str, message_ids: list[str]) -> None:
        from neonize.utils.enum import ReceiptType

        self._call(
            self._client.mark_read,
            *message_ids,
            chat=parse_jid(chat),
            sender=parse_jid(sender),
            receipt=ReceiptType.READ,
        )

    def typing(self, chat: str, *, on: bool) -> None:
        from neonize.utils.enum import ChatPresence, ChatPresenceMedia

        state = ChatPresence.CHAT_PRESENCE_COMPOSING if on else ChatPresence.CHAT_PRESENCE_PAUSED
        self._call(self._client.send_chat_presence, parse_jid(chat), state, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT)

    def download(self, message: Any) -> bytes:
        from channels_app.whatsapp.events import downloadable

        return bytes(self._call(self._client.download_any, downloadable(message)))

    def me(self) -> tuple[str, str, str]:
        try:
            device = self._client.get_me()
        except Exception:
            return "", "", ""
        return jid_string(device.JID), jid_string(device.LID), device.PushName

    def phone_for_lid(self, lid: str) -> str:
        try:
            return jid_string(self._client.get_pn_from_lid(parse_jid(lid)))
        except Exception:
            return ""

    @property
    def is_connected(self) -> bool:
        return bool(self._client.is_connected)

    @staticmethod
    def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ClientError:
            raise
        except Exception as exc:  # neonize raises one exception class per call
            raise ClientError(f"{exc.__class__.__name__}: {exc}") from exc


ClientFactory = Callable[..., SessionClient]


def default_client_factory(**kwargs: Any) -> SessionClient:
    return NeonizeSessionClient(**kwargs)
