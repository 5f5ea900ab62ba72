"""The WhatsApp gateway: one process holding one client per connected seller.

- Leases (channels_app.whatsapp.sessions) decide which sessions this gateway holds; it takes
  its fair share of the live gateways' sessions, renews its leases, and stops a session the
  moment it no longer holds it.
- Clients start one after another (a gap between starts); a stuck connect is restarted; a
  failed one reconnects with exponential backoff and jitter, capped; logged out, replaced,
  banned and expired pairings each get their own state and stop sending.
- Events of a client are stored through a small pool of database threads (so the number of
  database connections does not grow with the sessions) and the client's thread waits only for
  that store: never for the AI, which runs on the Celery workers.
- Outbound messages come from each account's Redis stream; per session one at a time: rate
  limits, mark read, typing for a time that grows with the text, send, record.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import queue
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from limits import parse

from channels_app import transcription
from channels_app.models import WhatsAppSession
from channels_app.ratelimit import limiter
from channels_app.whatsapp import outbox, services, sessions
from channels_app.whatsapp.client import ClientError, ClientFactory, SessionClient, default_client_factory
from channels_app.whatsapp.events import WaMessage, event_name, parse_message
from conversations import services as kit
from ma5zani.backoff import backoff_seconds

logger = logging.getLogger(__name__)
State = WhatsAppSession.State
Wanted = WhatsAppSession.Wanted

# Storing a customer's message: errors of an unreachable database are retried until it is back
# (waits of STORE_RETRY_SECONDS doubling to STORE_RETRY_MAX_SECONDS), any other STORE_ATTEMPTS times.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)
STORE_ATTEMPTS = 6
STORE_RETRY_SECONDS = 0.5
STORE_RETRY_MAX_SECONDS = 30.0
CONNECT_FAILURE_STATES = {2: State.LOGGED_OUT, 3: State.BANNED, 4: State.LOGGED_OUT, 5: State.LOGGED_OUT}
IGNORED_EVENTS = frozenset(
    {
        "CallOffer",
        "CallAccept",
        "CallPreAccept",
        "CallTransport",
        "CallOfferNotice",
        "CallRelayLatency",
        "CallTerminate",
        "UnknownCallEvent",
        "NewsLetterMessageMeta",
        "NewsletterJoin",
        "NewsletterLeave",
        "NewsletterMuteChange",
        "NewsletterLiveUpdate",
    }
)


def typing_seconds(text: str) -> float:
    """How long to show typing before a reply: grows with its length, bounded."""
    seconds = len(text) * settings.WHATSAPP_TYPING_SECONDS_PER_CHAR
    return max(settings.WHATSAPP_TYPING_MIN_SECONDS, min(settings.WHATSAPP_TYPING_MAX_SECONDS, seconds))


# --- Small parts ------------------------------------------------------------------------------


class Scheduler:
    """Run callables later on a pool, from one timer thread."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._cv = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="wa-scheduler", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, function: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay), next(self._counter), function))
            self._cv.notify()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cv.wait(None if not self._heap else max(0.0, self._heap[0][0] - time.monotonic()))
                if self._stopped:
                    return
                _, _, function = heapq.heappop(self._heap)
            try:
                self._pool.submit(function)
            except RuntimeError:  # the pool is shutting down
                return


@dataclass
class Metrics:
    messages_in: int = 0
    messages_out: int = 0
    ignored: int = 0
    send_failures: int = 0
    reconnects: int = 0
    send_latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=500))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, value: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + value)

    def snapshot(self, runners: list[SessionRunner]) -> dict[str, Any]:
        with self.lock:
            latencies = sorted(self.send_latency_ms)
            figures: dict[str, Any] = {
                "messages_in": self.messages_in,
                "messages_out": self.messages_out,
                "ignored": self.ignored,
                "send_failures": self.send_failures,
                "reconnects": self.reconnects,
            }
        figures["send_latency_ms_p50"] = latencies[len(latencies) // 2] if latencies else None
        figures["send_latency_ms_p95"] = latencies[int(len(latencies) * 0.95)] if latencies else None
        figures["sessions"] = dict(Counter(runner.state for runner in runners))
        return figures


class RateLimits:
    """The anti-ban limits on Redis (the `limits` library): per seller per minute and per day,
    per chat, and a minimum gap per chat. Keys carry the seller's schema."""

    def __init__(self) -> None:
        self._limiter = limiter()
        self._per_minute = parse(settings.WHATSAPP_RATE_PER_MINUTE)
        self._per_day = parse(settings.WHATSAPP_RATE_PER_DAY)
        self._per_chat = parse(settings.WHATSAPP_RATE_PER_CHAT)
        self._last_sent: dict[tuple[str, str], float] = {}

    def _checks(self, schema: str, chat: str) -> list[tuple[Any, tuple[str, ...]]]:
        return [
            (self._per_minute, ("wa", schema)),
            (self._per_day, ("wa", schema)),
            (self._per_chat, ("wa", schema, chat)),
        ]

    def wait_seconds(self, schema: str, chat: str) -> float:
        """0 when a message may go to `chat` now; otherwise how long to wait."""
        gap = settings.WHATSAPP_CHAT_GAP_SECONDS - (time.monotonic() - self._last_sent.get((schema, chat), -1e9))
        wait = max(0.0, gap)
        try:
            for limit, keys in self._checks(schema, chat):
                if not self._limiter.test(limit, settings.RATE_LIMIT_PREFIX, *keys):
                    reset, _remaining = self._limiter.get_window_stats(limit, settings.RATE_LIMIT_PREFIX, *keys)
                    wait = max(wait, reset - time.time(), 1.0)
        except Exception:
            logger.warning("WhatsApp rate limit store unavailable; waiting", exc_info=True)
            wait = max(wait, 5.0)
        return wait

    def hit(self, schema: str, chat: str) -> None:
        self._last_sent[(schema, chat)] = time.monotonic()
        try:
            for limit, keys in self._checks(schema, chat):
                self._limiter.hit(limit, settings.RATE_LIMIT_PREFIX, *keys)
        except Exception:
            logger.warning("WhatsApp rate limit store unavailable", exc_info=True)


@dataclass
class Job:
    key: str
    entry_id: str
    fields: dict[str, str]
    typed: bool = False
    outgoing: services.Outgoing | None = None

    @property
    def message_id(self) -> int:
        return int(self.fields.get("message_id", 0) or 0)


class InboundBatcher:
    """Customers' text messages of many sessions stored together: handlers (on neonize's
    threads) hand a message over and wait for its commit; a batch thread takes what has arrived
    meanwhile (up to `batch_max`, lingering a few milliseconds), groups it by seller
    (`ingest_many` in each seller's schema) and commits the whole batch once. A batch that fails
    is stored again seller by seller, then message by message, so one bad message never loses
    the others."""

    def __init__(self, gateway: Gateway, *, threads: int, batch_max: int = 256, linger: float = 0.004) -> None:
        self.gateway = gateway
        self.batch_max = batch_max
        self.linger = linger
        self._queue: queue.Queue[tuple[SessionRunner, WaMessage, str, Future[services.Stored]] | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._loop, name=f"wa-batch-{n}", daemon=True) for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def store(self, runner: SessionRunner, message: WaMessage, phone_for_lid: str) -> services.Stored:
        future: Future[services.Stored] = Future()
        self._queue.put((runner, message, phone_for_lid, future))
        return future.result()

    def stop(self) -> None:
        for _thread in self._threads:
            self._queue.put(None)

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            connection.close()  # a pooled connection goes back to the pool with its thread

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            # What arrives within a few milliseconds joins the batch: one commit for all of it.
            deadline = time.monotonic() + self.linger
            while len(batch) < self.batch_max:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            by_schema: dict[str, list[tuple[SessionRunner, WaMessage, str, Future[services.Stored]]]] = {}
            for item in batch:
                by_schema.setdefault(item[0].schema, []).append(item)
            try:
                # Many sellers' messages, one commit: each seller's rows in its own schema.
                with transaction.atomic():
                    stored = {schema: self._store_group(schema, items) for schema, items in by_schema.items()}
            except Exception:
                logger.warning("A batch of %s messages failed; storing it seller by seller", len(batch), exc_info=True)
                for schema, items in by_schema.items():
                    self._store(schema, items)
            else:
                for schema, items in by_schema.items():
                    for (_runner, _message, _phone, future), result in zip(items, stored[schema], strict=True):
                        future.set_result(result)
            close_old_connections()

    @staticmethod
    def _store_group(
        schema: str, items: list[tuple[SessionRunner, WaMessage, str, Future[services.Stored]]]
    ) -> list[services.Stored]:
        with schema_context(schema):
            return services.store_customer_messages(
                [(runner.spec.account_id, message, phone) for runner, message, phone, _f in items]
            )

    def _store(self, schema: str, items: list[tuple[SessionRunner, WaMessage, str, Future[services.Stored]]]) -> None:
        try:
            stored = self._store_group(schema, items)
        except Exception:
            logger.warning("A batch of %s messages failed; storing them one by one", len(items), exc_info=True)
            for runner, message, phone_for_lid, future in items:
                try:
                    with schema_context(schema):
                        future.set_result(
                            services.store_customer_message(
                                runner.spec.account_id, message, phone_for_lid=phone_for_lid
                            )
                        )
                except Exception as exc:
                    future.set_exception(exc)
            return
        for (_runner, _message, _phone, future), result in zip(items, stored, strict=True):
            future.set_result(result)


# --- One session ------------------------------------------------------------------------------


class SessionRunner:
    """One seller's client on this gateway: its thread, its lifecycle and its outbound queue."""

    def __init__(self, gateway: Gateway, spec: sessions.SessionSpec) -> None:
        self.gateway = gateway
        self.spec = spec
        self.client: SessionClient | None = None
        self.thread: threading.Thread | None = None
        self.state = spec.state if spec.state in (State.BANNED,) else State.CONNECTING
        self.failures = 0
        self.started_at = 0.0
        self.next_start_at = 0.0
        self.connected = threading.Event()
        self.pairing_since: float | None = None
        self.pair_code_asked = False
        self.last_event_at = time.monotonic()
        self.keepalive_failing = False
        self.halted = False
        self.released = False
        self.jobs: deque[Job] = deque()
        self.busy = False
        self.lock = threading.Lock()
        self.generation = 0

    # Lifecycle ---------------------------------------------------------------------------

    @property
    def id(self) -> int:
        return self.spec.id

    @property
    def schema(self) -> str:
        return self.spec.schema

    def start(self) -> None:
        """Create a client and run it on its own thread (called by the gateway's starter)."""
        if self.halted or self.state == State.BANNED or self.gateway.stopping.is_set():
            return  # a ban ends in `supervise`, which moves the state on before a start is queued
        self.generation += 1
        generation = self.generation
        self.connected.clear()
        self.started_at = time.monotonic()
        self.keepalive_failing = False
        if not self.spec.jid:  # the login timeout runs from the first QR code shown
            self.report(state=State.PAIRING)
        elif self.state != State.CONNECTING:
            self.set_state(State.CONNECTING)
        try:
            client = self.gateway.client_factory(
                session_key=f"seller-{self.spec.account_id}",
                jid=self.spec.jid,
                on_event=lambda event: self.on_event(event, generation),
                on_qr=lambda data: self.on_qr(data, generation),
            )
        except Exception as exc:
            logger.exception("Could not create the WhatsApp client of session %s", self.id)
            self.failed(f"{exc.__class__.__name__}: {exc}")
            return
        self.client = client
        self.thread = threading.Thread(
            target=self._run, args=(client, generation), name=f"wa-session-{self.id}", daemon=True
        )
        self.thread.start()

    def _run(self, client: SessionClient, generation: int) -> None:
        error = ""
        try:
            client.run()
        except ClientError as exc:
            error = str(exc)
        except Exception as exc:
            logger.exception("WhatsApp client of session %s crashed", self.id)
            error = f"{exc.__class__.__name__}: {exc}"
        if generation == self.generation and not self.halted and not self.gateway.stopping.is_set():
            self.gateway.db_call(self.failed, error or "The connection ended.")

    def failed(self, error: str) -> None:
        """The client ended or never connected: try again after a backoff."""
        self.client = None
        if self.halted:
            return
        self.failures += 1
        self.gateway.metrics.add("reconnects")
        delay = backoff_seconds(
            self.failures, base=settings.WHATSAPP_RECONNECT_BASE_SECONDS, cap=settings.WHATSAPP_RECONNECT_MAX_SECONDS
        )
        self.next_start_at = time.monotonic() + delay
        self.set_state(State.DISCONNECTED, last_error=error[:500], reconnects_add=True)
        logger.info("WhatsApp session %s reconnects in %.1fs: %s", self.id, delay, error)

    def stop_client(self) -> None:
        self.generation += 1
        client, self.client = self.client, None
        thread, self.thread = self.thread, None
        if client is not None:
            try:
                client.stop()
            except Exception:
                logger.warning("Stopping the client of session %s failed", self.id, exc_info=True)
        # The client is really gone before anything else (a release of the lease) happens.
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    def halt(self, state: str, **fields: Any) -> None:
        """Stop the session for good (until the seller acts): its own state, no sending."""
        self.halted = True
        self.stop_client()
        self.set_state(state, **fields)

    def supervise(self, now: float) -> None:
        """Called every tick: restart what is stuck, expire a pairing, flag a silent session."""
        if self.halted:
            return
        if self.state == State.BANNED:
            ban_end = self.spec.ban_expires_at
            if ban_end is None or ban_end <= timezone.now():
                self.state = State.DISCONNECTED
                self.next_start_at = now
            else:
                return
        if self.client is None:
            if now >= self.next_start_at and not self.gateway.is_queued(self):
                self.gateway.queue_start(self)
            return
        if self.pairing_since is not None and not self.spec.jid:
            if now - self.pairing_since > settings.WHATSAPP_LOGIN_TIMEOUT_SECONDS:
                self.halt(State.PAIRING_EXPIRED, qr="", pair_code="")
                self.gateway.release(self)
            return
        if not self.connected.is_set() and now - self.started_at > settings.WHATSAPP_CONNECT_TIMEOUT_SECONDS:
            logger.warning("WhatsApp session %s is stuck connecting; restarting it", self.id)
            self.stop_client()
            self.failed("Connecting took too long.")
            return
        silent = now - self.last_event_at
        if self.state == State.CONNECTED and self.keepalive_failing and silent > settings.WHATSAPP_SILENT_SECONDS:
            self.set_state(State.STALE, last_error="Connected but silent: no events and no keep-alive answers.")
            self.stop_client()
            self.failed("Silent session restarted.")

    # Reports -----------------------------------------------------------------------------

    def report(self, **fields: Any) -> bool:
        return sessions.session_report(self.gateway.name, self.id, **fields)

    def set_state(self, state: str, *, reconnects_add: bool = False, **fields: Any) -> None:
        self.state = state
        if reconnects_add:
            from django.db.models import F

            fields["reconnects"] = F("reconnects") + 1
        self.report(state=state, **fields)

    # Events (called on the client's thread) --------------------------------------------------

    def on_qr(self, data: str, generation: int) -> None:
        if generation != self.generation:
            return
        self.gateway.db_call(self._qr, data)

    def _qr(self, data: str) -> None:
        if self.pairing_since is None:
            self.pairing_since = time.monotonic()
        fields: dict[str, Any] = {"qr": data, "state": State.PAIRING}
        if not self.pair_code_asked:
            fields["pairing_started_at"] = timezone.now()
        self.state = State.PAIRING
        self.report(**fields)
        if self.spec.pair_phone and not self.pair_code_asked and self.client is not None:
            self.pair_code_asked = True
            client = self.client
            self.gateway.media_pool.submit(self._ask_pair_code, client)

    def _ask_pair_code(self, client: SessionClient) -> None:
        try:
            code = client.pair_phone(self.spec.pair_phone)
        except ClientError as exc:
            error = f"Pairing code refused: {exc}"[:500]
            self.gateway.db_call(lambda: self.report(last_error=error))
            return
        self.gateway.db_call(lambda: self.report(pair_code=code))

    def on_event(self, event: Any, generation: int) -> None:
        """Store (or act on) one event; the client's thread waits only for that."""
        if generation != self.generation:
            return
        self.last_event_at = time.monotonic()
        if event_name(event) != "Message":
            self.gateway.db_call(self.handle, event)
            return
        message = parse_message(event)  # once: what it is decides where it goes
        if message is None or not self._wanted(message):
            self.gateway.metrics.add("ignored")
        elif message.from_me or message.needs_download:
            self.gateway.db_call(self._store_message, event, message)
        else:  # the common case, stored together with what other sessions receive meanwhile
            stored = self._store_with_retries(message)
            if stored is not None and stored.created:
                self.gateway.metrics.add("messages_in")

    def _store_with_retries(self, message: WaMessage) -> services.Stored | None:
        """The database may be restarting or failing over: while it cannot be reached this
        seller's events wait (with backoff, until the gateway stops) rather than lose a customer's
        message, which counts as received once the handler returns. Any other error is given up
        after STORE_ATTEMPTS tries (one bad message must not hold the session forever)."""
        attempt = 0
        while True:
            try:
                return self.gateway.batcher.store(self, message, self._phone_for_lid(message))
            except Exception as exc:
                attempt += 1
                unreachable = isinstance(exc, DATABASE_UNREACHABLE)
                logger.warning("Storing message %s failed (attempt %s)", message.id, attempt, exc_info=True)
                if not unreachable and attempt >= STORE_ATTEMPTS:
                    break
                delay = min(STORE_RETRY_MAX_SECONDS, STORE_RETRY_SECONDS * 2 ** min(attempt - 1, 16))
                if self.gateway.stopping.wait(delay):
                    break
        logger.error("Message %s of session %s could not be stored", message.id, self.id)
        return None

    def _phone_for_lid(self, message: WaMessage) -> str:
        if message.chat.endswith("@lid") and not message.sender_phone_jid and self.client is not None:
            return self.client.phone_for_lid(message.chat)
        return ""

    def handle(self, event: Any) -> None:
        name = event_name(event)
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(event)
        elif name in IGNORED_EVENTS:
            self.gateway.metrics.add("ignored")

    def _on_Connected(self, event: Any) -> None:
        self.connected.set()
        self.failures = 0
        self.pairing_since = None
        fields: dict[str, Any] = {"connected_at": timezone.now(), "last_error": "", "qr": "", "pair_code": ""}
        if self.client is not None:
            jid, lid, push_name = self.client.me()
            if jid:
                fields.update(jid=jid, phone="+" + jid.partition("@")[0].partition(":")[0], push_name=push_name)
                self.spec = replace(self.spec, jid=jid)
            if lid:
                fields["lid"] = lid
        self.set_state(State.CONNECTED, **fields)

    def _on_PairStatus(self, event: Any) -> None:
        if event.Status == 2:  # SUCCESS: the phone linked this device
            from channels_app.whatsapp.client import jid_string

            jid = jid_string(event.ID)
            self.spec = replace(self.spec, jid=jid)
            self.pairing_since = None
            self.report(
                jid=jid,
                phone="+" + jid.partition("@")[0],
                push_name=event.BusinessName,
                qr="",
                pair_code="",
                state=State.CONNECTING,
            )
            self.state = State.CONNECTING
        else:
            self.report(last_error=f"Pairing failed: {event.Error}"[:500])

    def _on_Disconnected(self, event: Any) -> None:
        self.connected.clear()
        self.started_at = time.monotonic()  # whatsmeow reconnects; the connect timeout runs again
        self.set_state(State.DISCONNECTED)

    def _on_KeepAliveTimeout(self, event: Any) -> None:
        self.keepalive_failing = True

    def _on_KeepAliveRestored(self, event: Any) -> None:
        self.keepalive_failing = False
        if self.state == State.STALE:
            self.set_state(State.CONNECTED)

    def _on_LoggedOut(self, event: Any) -> None:
        self._logged_out("The phone unlinked this device.")

    def _logged_out(self, error: str) -> None:
        self.halt(State.LOGGED_OUT, jid="", lid="", last_error=error, qr="", pair_code="")
        self.gateway.release(self)

    def _on_StreamReplaced(self, event: Any) -> None:
        self.halt(State.REPLACED, last_error="This WhatsApp session was opened somewhere else.")
        self.gateway.release(self)

    def _on_TemporaryBan(self, event: Any) -> None:
        expires = timezone.now() + dt.timedelta(seconds=max(60, int(event.Expire or 0)))
        self.spec = replace(self.spec, ban_expires_at=expires)
        # Banned before the client stops: a supervisor tick in between must not start another.
        self.set_state(State.BANNED, ban_expires_at=expires, last_error=f"Temporary ban ({event.Code}).")
        self.stop_client()

    def _on_ConnectFailure(self, event: Any) -> None:
        state = CONNECT_FAILURE_STATES.get(int(event.Reason))
        if state == State.LOGGED_OUT:
            self._logged_out(f"WhatsApp refused the session: {event.Message or event.Reason}")
        elif state == State.BANNED:
            self._on_TemporaryBan(type("Ban", (), {"Expire": 3600, "Code": event.Reason})())
        else:
            self.report(last_error=f"Connection refused: {event.Message or event.Reason}"[:500])

    def _store_message(self, event: Any, message: WaMessage) -> None:
        """The seller's own message, or a customer's with a file to fetch first."""
        phone_for_lid = self._phone_for_lid(message)
        with schema_context(self.schema):
            if message.from_me:
                services.store_seller_message(self.spec.account_id, message, phone_for_lid=phone_for_lid)
                return
            stored = services.store_customer_message(self.spec.account_id, message, phone_for_lid=phone_for_lid)
        if stored.created:
            self.gateway.metrics.add("messages_in")
        if stored.needs_media:
            self.gateway.media_pool.submit(self._fetch_media, event.Message, message, stored.message_id)

    def _wanted(self, message: WaMessage) -> bool:
        if message.is_group:
            if message.from_me or not self.spec.groups_enabled:
                return False
            own = {value for value in (self.spec.jid.partition(":")[0], self.spec.lid) if value}
            own |= {value.partition("@")[0] for value in own}
            return any(m in own or m.partition("@")[0] in own for m in message.mentions)
        return True

    def _fetch_media(self, raw: Any, message: WaMessage, message_id: int) -> None:
        """Download the file (and transcribe a voice note) off the event thread, then answer."""
        content: bytes | None = None
        transcript = ""
        try:
            size = _file_length(raw)
            if size and size > settings.WHATSAPP_MEDIA_MAX_BYTES:
                raise ClientError(f"File too large ({size} bytes)")
            if self.client is None:
                raise ClientError("The session is not connected.")
            content = self.client.download(raw)
            if message.is_voice_note and transcription.enabled():
                transcript = transcription.transcribe(content, mime_type=message.mime_type or "audio/ogg")
        except Exception:
            logger.warning("Media of message %s could not be fetched", message_id, exc_info=True)
        filename = message.filename or f"whatsapp-{message.id}{_extension(message.mime_type, message.media_kind)}"
        self.gateway.db_call(self._attach, message_id, content, filename, transcript)

    def _attach(self, message_id: int, content: bytes | None, filename: str, transcript: str) -> None:
        with schema_context(self.schema):
            services.media_attached(message_id, content=content, filename=filename, transcript=transcript)

    def _on_Receipt(self, event: Any) -> None:
        when = dt.datetime.fromtimestamp(event.Timestamp, tz=dt.UTC) if event.Timestamp else timezone.now()
        with schema_context(self.schema):
            services.apply_receipt(list(event.MessageIDs), int(event.Type), when)

    # Outbound ----------------------------------------------------------------------------

    def add_job(self, job: Job) -> None:
        with self.lock:
            if any(queued.entry_id == job.entry_id for queued in self.jobs):
                return
            self.jobs.append(job)
        self.gateway.send_pool.submit(self.pump)

    def pump(self) -> None:
        """Work on the first queued job; one at a time per session, in order."""
        with self.lock:
            if self.busy or not self.jobs or self.released:
                return
            self.busy = True
            job = self.jobs[0]
        delay: float | None = None
        try:
            delay = self.gateway.deliver(self, job)
        except Exception:
            logger.exception("Sending message %s failed unexpectedly", job.message_id)
            delay = 5.0
        finally:
            close_old_connections()
            with self.lock:
                self.busy = False
                if delay is None and self.jobs and self.jobs[0] is job:
                    self.jobs.popleft()
                pending = bool(self.jobs)
        if delay is not None:
            self.gateway.scheduler.call_later(delay, self.pump)
        elif pending:
            self.gateway.send_pool.submit(self.pump)


def _file_length(raw: Any) -> int:
    from channels_app.whatsapp.events import downloadable

    content = downloadable(raw)
    for name in ("imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage"):
        if content.HasField(name):
            return int(getattr(content, name).fileLength or 0)
    return 0


def _extension(mime: str, kind: str) -> str:
    mime = mime.split(";")[0].strip()
    known = {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/webp": ".webp",
        "audio/ogg": ".ogg",
        "audio/mpeg": ".mp3",
        "video/mp4": ".mp4",
        "application/pdf": ".pdf",
    }
    return known.get(mime, {"audio": ".ogg", "image": ".jpg", "video": ".mp4", "sticker": ".webp"}.get(kind, ".bin"))


# --- The gateway ------------------------------------------------------------------------------


class Gateway:
    def __init__(
        self,
        *,
        name: str | None = None,
        client_factory: ClientFactory = default_client_factory,
        ai_badge: bool = True,
        start_gap: float | None = None,
    ) -> None:
        self.name = name or sessions.gateway_name()
        self.client_factory = client_factory
        self.ai_badge = ai_badge
        self.start_gap = settings.WHATSAPP_START_GAP_SECONDS if start_gap is None else start_gap
        self.runners: dict[int, SessionRunner] = {}
        self.runners_lock = threading.Lock()
        self.db_pool = ThreadPoolExecutor(settings.WHATSAPP_DB_THREADS, thread_name_prefix="wa-db")
        self.batcher = InboundBatcher(
            self, threads=settings.WHATSAPP_BATCH_THREADS, linger=settings.WHATSAPP_BATCH_LINGER_SECONDS
        )
        self.send_pool = ThreadPoolExecutor(settings.WHATSAPP_SEND_THREADS, thread_name_prefix="wa-send")
        self.media_pool = ThreadPoolExecutor(2, thread_name_prefix="wa-media")
        self.scheduler = Scheduler(self.send_pool)
        self.metrics = Metrics()
        self.limits = RateLimits()
        self.stopping = threading.Event()
        self._start_queue: deque[SessionRunner] = deque()
        self._start_cv = threading.Condition()
        self._last_renew = 0.0
        self._last_specs = 0.0
        self._connections: dict[str, int] = {}
        self._connections_read_at = 0.0

    # Database work on the bounded pool -------------------------------------------------------

    def db_call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function` on a database thread and wait for it (errors are logged, not raised)."""

        def call() -> Any:
            try:
                return function(*args)
            except Exception:
                logger.exception("WhatsApp gateway work failed: %s", getattr(function, "__name__", function))
                return None
            finally:
                close_old_connections()

        future: Future[Any] = self.db_pool.submit(call)
        return future.result()

    def in_background(self, function: Callable[..., Any], *args: Any) -> None:
        """Run `function` on the send pool, its database connection given back afterwards."""

        def call() -> None:
            try:
                function(*args)
            except Exception:
                logger.exception("WhatsApp gateway work failed: %s", getattr(function, "__name__", function))
            finally:
                close_old_connections()

        self.send_pool.submit(call)

    # Starting clients one after another ---------------------------------------------------------

    def queue_start(self, runner: SessionRunner) -> None:
        with self._start_cv:
            if runner not in self._start_queue:
                self._start_queue.append(runner)
                self._start_cv.notify()

    def is_queued(self, runner: SessionRunner) -> bool:
        with self._start_cv:
            return runner in self._start_queue

    def _starter(self) -> None:
        while not self.stopping.is_set():
            with self._start_cv:
                while not self._start_queue and not self.stopping.is_set():
                    self._start_cv.wait(1.0)
                if self.stopping.is_set():
                    return
                runner = self._start_queue.popleft()
            if runner.released or runner.client is not None:
                continue
            self.db_call(runner.start)  # it reports the state: on a database thread
            self.stopping.wait(self.start_gap)

    # Leases ------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Take a fair share, follow what sellers asked, supervise sessions (the leases are
        renewed on a thread of their own, so a slow tick never lets them expire)."""
        now = time.monotonic()
        if now - self._last_renew >= settings.WHATSAPP_LEASE_SECONDS / 3:
            self._last_renew = self._last_specs = now
            # The heartbeat (with the figures) on the lease's rhythm: it is what "alive" means.
            figures = self.metrics.snapshot(list(self.runners.values()))
            figures["db_connections"] = self._db_connections(now)
            sessions.gateway_heartbeat(self.name, metrics=figures)
            self._follow_wanted()  # what sellers stopped is stopped (and reported), not rebalanced
            share = sessions.fair_share(self.name, ai_badge=self.ai_badge)
            count = len(self.runners)
            if count < share:
                self._adopt(sessions.leases_acquire(self.name, limit=share - count, ai_badge=self.ai_badge))
            elif count > share:  # another gateway joined: give back the excess, idle sessions first
                ordered = sorted(self.runners.values(), key=lambda r: (r.state == State.CONNECTED, r.id))
                for extra in ordered[: count - share]:
                    self.release(extra)
        elif now - self._last_specs >= 2.0:
            self._last_specs = now
            self._follow_wanted()
        for runner in list(self.runners.values()):
            runner.supervise(now)

    def _db_connections(self, now: float) -> dict[str, int]:
        """Database connections: this gateway's own threads, and whatsmeow's session stores
        (`application_name=ma5zani-wa`), read every half minute."""
        if now - self._connections_read_at >= 30 or not self._connections:
            self._connections_read_at = now
            try:
                self._connections = {
                    "own_threads": settings.WHATSAPP_DB_THREADS + 4,
                    "session_stores": sessions.store_connections(),
                }
            except Exception:
                logger.warning("Could not count database connections", exc_info=True)
        return self._connections

    def renew_leases(self) -> None:
        with self.runners_lock:
            held_before = list(self.runners)
        held = sessions.leases_renew(self.name, held_before)
        for lost in set(held_before) - held:
            logger.warning("Lease of WhatsApp session %s was lost; stopping it", lost)
            self._drop(lost)

    def _renewer(self) -> None:
        while not self.stopping.wait(settings.WHATSAPP_LEASE_SECONDS / 3):
            try:
                self.renew_leases()
            except Exception:
                logger.exception("Lease renewal failed")
            finally:
                close_old_connections()
        connection.close()

    def _adopt(self, session_ids: list[int]) -> None:
        if not session_ids:
            return
        specs = sessions.session_specs(session_ids)
        r = outbox.client()
        for spec in specs.values():
            runner = SessionRunner(self, spec)
            with self.runners_lock:
                self.runners[spec.id] = runner
            key = outbox.stream_key(spec.account_id)
            try:
                outbox.ensure_group(r, key)
                for entry_id, fields in outbox.claim_pending(r, key, self.name):
                    runner.add_job(Job(key, entry_id, fields))
            except Exception:
                logger.warning("Outbox of session %s not reachable yet", spec.id, exc_info=True)
            if spec.wanted == Wanted.LOGOUT:
                self.in_background(self._log_out, runner)
            else:
                self.queue_start(runner)

    def _drop(self, session_id: int) -> None:
        with self.runners_lock:
            runner = self.runners.pop(session_id, None)
        if runner is not None:
            runner.released = True
            runner.halted = True
            runner.stop_client()

    def release(self, runner: SessionRunner) -> None:
        """Stop a session here and give its lease back (another gateway may take it at once)."""
        halted = runner.halted
        self._drop(runner.id)
        if not halted:  # handed to another gateway: not connected until that one connects it
            runner.report(state=State.CONNECTING)
        sessions.leases_release(self.name, [runner.id])

    def _follow_wanted(self) -> None:
        if not self.runners:
            return
        specs = sessions.session_specs(list(self.runners))
        for session_id, spec in specs.items():
            runner = self.runners.get(session_id)
            if runner is None:
                continue
            pairing_changed = spec.pair_phone != runner.spec.pair_phone
            runner.spec = replace(
                spec,
                jid=runner.spec.jid or spec.jid,
                ban_expires_at=runner.spec.ban_expires_at or spec.ban_expires_at,
            )
            if spec.wanted == Wanted.STOP:
                runner.halt(State.STOPPED)
                self.release(runner)
            elif spec.wanted == Wanted.LOGOUT:
                self.in_background(self._log_out, runner)
            elif pairing_changed and spec.pair_phone and not spec.jid:
                runner.pair_code_asked = False  # asked again on the next QR of a new client
                runner.stop_client()
                runner.next_start_at = 0.0
            elif spec.ai_badge != self.ai_badge:
                self.release(runner)  # a gateway of the other badge setting takes it

    def _log_out(self, runner: SessionRunner) -> None:
        client = runner.client
        if client is not None and runner.connected.is_set():
            try:
                client.logout()
            except ClientError as exc:
                logger.warning("Log out of session %s failed: %s", runner.id, exc)
        runner.halt(State.NEW, jid="", lid="", phone="", push_name="", qr="", pair_code="", wanted=Wanted.STOP)
        self.release(runner)

    # Outbound ----------------------------------------------------------------------------------

    def _reader(self) -> None:
        r = outbox.client()
        while not self.stopping.is_set():
            with self.runners_lock:
                by_key = {outbox.stream_key(runner.spec.account_id): runner for runner in self.runners.values()}
            if not by_key:
                self.stopping.wait(0.5)
                continue
            try:
                entries = outbox.read(r, self.name, list(by_key), block_ms=1000)
            except Exception as exc:
                if "NOGROUP" in str(exc):
                    for key in by_key:
                        outbox.ensure_group(r, key)
                else:
                    logger.warning("Outbox read failed; retrying", exc_info=True)
                    self.stopping.wait(1.0)
                continue
            for key, entry_id, fields in entries:
                runner = by_key.get(key)
                if runner is not None and not runner.released:
                    runner.add_job(Job(key, entry_id, fields))

    def deliver(self, runner: SessionRunner, job: Job) -> float | None:
        """One step of sending `job`. Returns None when the job is finished (acknowledged), or
        the seconds after which to try the next step."""
        if runner.released:
            return None  # another gateway holds the session now; the entry stays pending for it
        schema = job.fields.get("schema", runner.schema)
        if schema != runner.schema:
            self._ack(job)  # never send a message of another seller through this session
            return None
        if runner.halted or runner.state in WhatsAppSession.HALTED_STATES or runner.state == State.BANNED:
            self.db_call(self._in_schema, schema, kit.message_fail, job.message_id, _halted_error(runner.state))
            self._ack(job)
            return None
        if job.outgoing is None:
            job.outgoing = self.db_call(self._in_schema, schema, services.outgoing, job.message_id)
            if job.outgoing is None:
                self._ack(job)
                return None
        out = job.outgoing
        client = runner.client
        if client is None or not runner.connected.is_set():
            return 2.0  # wait for the connection (the message stays queued, visible as such)
        wait = self.limits.wait_seconds(schema, out.chat)
        if wait > 0:
            return wait + random.uniform(0, settings.WHATSAPP_JITTER_SECONDS)  # noqa: S311
        if not job.typed:
            job.typed = True
            if out.unread:
                try:
                    client.mark_read(out.chat, out.chat, list(out.unread))
                    self.db_call(self._in_schema, schema, services.mark_customer_read, out.conversation_id, out.unread)
                except ClientError:
                    logger.info("Mark read failed for message %s", out.message_id)
            try:
                client.typing(out.chat, on=True)
            except ClientError:
                logger.info("Typing not shown for message %s", out.message_id)
            return typing_seconds(out.text) + random.uniform(0, settings.WHATSAPP_JITTER_SECONDS)  # noqa: S311
        if not self.db_call(self._in_schema, schema, kit.send_started, out.message_id, out.attempt):
            self._ack(job)
            return None
        started = time.monotonic()
        try:
            sent = client.send_text(out.chat, out.text)
        except ClientError as exc:
            self.metrics.add("send_failures")
            delay = self.db_call(
                self._in_schema, schema, kit.send_failed, out.message_id, out.attempt, str(exc)[:500], True
            )
            if delay is None:
                self._ack(job)
                return None
            job.outgoing = None
            job.typed = False
            return float(delay)
        self.metrics.send_latency_ms.append((time.monotonic() - started) * 1000)
        self.limits.hit(schema, out.chat)
        self.db_call(self._in_schema, schema, kit.send_succeeded, out.message_id, out.attempt, sent.id)
        self.metrics.add("messages_out")
        self._ack(job)
        return None

    @staticmethod
    def _in_schema(schema: str, function: Callable[..., Any], *args: Any) -> Any:
        with schema_context(schema):
            return function(*args)

    def _ack(self, job: Job) -> None:
        try:
            outbox.ack(outbox.client(), job.key, job.entry_id, job.fields)
        except Exception:
            logger.warning("Outbox acknowledgement failed for %s", job.entry_id, exc_info=True)

    # Running -----------------------------------------------------------------------------------

    def start_background(self) -> None:
        for target, name in ((self._starter, "wa-starter"), (self._reader, "wa-outbox"), (self._renewer, "wa-leases")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()

    def run(self, *, tick_seconds: float = 1.0, on_tick: Callable[[Gateway], None] | None = None) -> None:
        """Serve until `stop()` (a signal handler calls it); then release every lease."""
        self.start_background()
        try:
            while not self.stopping.is_set():
                try:
                    self.tick()
                except Exception:
                    logger.exception("Gateway tick failed")
                finally:
                    close_old_connections()
                if on_tick is not None:
                    on_tick(self)
                self.stopping.wait(tick_seconds)
        finally:
            self.shutdown()

    def stop(self) -> None:
        self.stopping.set()
        with self._start_cv:
            self._start_cv.notify_all()

    def shutdown(self) -> None:
        """Stop every client and give the leases back, so other gateways take over at once.
        Unacknowledged outbound entries stay pending for the next holder."""
        self.stopping.set()
        with self.runners_lock:
            runners = list(self.runners.values())
            self.runners.clear()
        for runner in runners:
            runner.released = True
            runner.halted = True
            runner.stop_client()
        self.scheduler.stop()
        self.batcher.stop()
        for pool in (self.send_pool, self.media_pool, self.db_pool):
            pool.shutdown(wait=True, cancel_futures=True)
        sessions.leases_release(self.name)
        sessions.gateway_remove(self.name)
        close_old_connections()


def _halted_error(state: str) -> str:
    labels = {
        State.LOGGED_OUT: "WhatsApp is unlinked from the shop's phone; link it again to send.",
        State.REPLACED: "The WhatsApp session was opened somewhere else; reconnect it to send.",
        State.BANNED: "WhatsApp banned the number for a while; nothing is sent until the ban ends.",
        State.STOPPED: "WhatsApp was disconnected from the dashboard.",
        State.PAIRING_EXPIRED: "WhatsApp is not linked.",
    }
    return labels.get(State(state), "WhatsApp is not connected.")
