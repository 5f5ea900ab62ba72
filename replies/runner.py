"""The reply runner: thousands of replies waiting on a model, on one event loop.

A reply is three steps: `conversations.services.reply_plan` (a few short statements on a database
thread: is there still something to answer, the engine's context, the typing indicator), the
engine (awaited on the loop: a remote model holds no thread and no connection while it thinks),
then `reply_complete` (another short transaction: the answer stored once and handed to
delivery). Between the steps the reply holds nothing but a coroutine.

The burst rule: a reply starts as soon as its message is stored (or after REPLY_RUNNER_PAUSE_SECONDS,
a scheduled wake-up on the loop, not a sleeping thread). When a newer message of the same
conversation arrives while a reply is in progress, that reply is cancelled (its model request
is closed) and a new one starts with the whole burst, so the customer waits about the model's
time. A reply cancelled while it stores its answer finishes on its database thread, and the
store refuses it: a newer message exists. A newer message read by another runner cancels this
runner's reply through a pub/sub message; if that message is lost, the store refuses the older
answer all the same.

Capacity: at most REPLY_CONCURRENCY replies in progress per runner, REPLY_SELLER_CONCURRENCY per
seller, and sellers take turns (`replies.scheduling.FairQueue`). The stream entries of a reply
are acknowledged when it ends; those of a runner that died are claimed by the others after
REPLY_CLAIM_IDLE_SECONDS (a runner refreshes its own in-progress entries well before that), and
a runner that stops puts what it had not finished back into the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings

from conversations.services import reply_complete, reply_plan
from ma5zani.heartbeat import heartbeat_key
from replies import queue
from replies.database import Database, is_transient
from replies.scheduling import FairQueue, Job, Key
from sales.engine.base import DbRunner, Engine, EngineContext, EngineReply

logger = logging.getLogger(__name__)

RUNNER_QUEUE = "reply-runner"  # what the runner's heartbeat says it consumes (ma5zani.health)
# Deletes the "who answers this conversation" key only if it is still this runner's.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
# A seller's waiting replies held by one runner beyond this many caps go back to the stream for
# a moment (another runner may take them), so that one seller's flood never fills a runner.
OVERFLOW_CAPS = 10
GONE_AFTER_MS = 6 * 3600 * 1000  # a consumer idle this long with nothing pending is a runner gone


@dataclass
class Stats:
    started: int = 0
    answered: int = 0
    skipped: int = 0  # nothing to answer any more (newer message, seller's hands, answered)
    cancelled: int = 0  # a newer message arrived while the reply was in progress
    failed: int = 0
    retried: int = 0
    claimed: int = 0  # entries taken over from a runner that stopped answering
    most_in_progress: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Running:
    job: Job
    task: asyncio.Task[str]
    cancelled: bool = False


@dataclass
class Options:
    concurrency: int = field(default_factory=lambda: settings.REPLY_CONCURRENCY)
    per_seller: int = field(default_factory=lambda: settings.REPLY_SELLER_CONCURRENCY)
    db_threads: int = field(default_factory=lambda: settings.REPLY_DB_THREADS)
    claim_idle_seconds: float = field(default_factory=lambda: settings.REPLY_CLAIM_IDLE_SECONDS)
    shutdown_seconds: float = field(default_factory=lambda: settings.REPLY_SHUTDOWN_SECONDS)
    retries: int = 3


async def answer(
    conversation_id: int,
    inbound_id: int,
    db: DbRunner,
    *,
    engine_answer: Callable[..., Awaitable[EngineReply]] | None = None,
    store_attempts: int = 4,
) -> str:
    """Answer one conversation's burst for `inbound_id` (the three steps above): "answered" or
    "skipped" (nothing to answer, or the draft was dropped for a newer message). A store that
    fails on a lost connection is tried again with the same answer: the model is not asked
    twice for a PostgreSQL restart."""
    plan = await db(reply_plan, conversation_id, inbound_id)
    if plan is None:
        return "skipped"
    reply = plan.reply
    if reply is None:
        assert plan.engine is not None and plan.context is not None
        reply = await (engine_answer or engine_answer_guarded)(plan.engine, plan.context, db)
    for attempt in range(1, store_attempts + 1):
        try:
            message = await db(reply_complete, plan, reply)
            break
        except Exception as error:
            if attempt == store_attempts or not is_transient(error):
                raise
            logger.warning("Storing the reply to %s failed (%s); trying again", conversation_id, error)
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter
    return "answered" if message is not None else "skipped"


async def engine_answer_guarded(engine: Engine, context: EngineContext, db: DbRunner) -> EngineReply:
    """The engine's answer under the guardrails, awaited: an engine with `areply` (OpenRouter)
    waits on the loop; another one (the built-in engine) runs on a database thread."""
    from sales.engine.guardrails import guarded_reply_async

    return await guarded_reply_async(engine, context, db)


class ReplyRunner:
    def __init__(self, name: str | None = None, options: Options | None = None) -> None:
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.options = options or Options()
        self.queue = FairQueue(self.options.per_seller)
        self.db = Database(self.options.db_threads)
        self.stats = Stats()
        self.active = 0  # tasks in progress, cancelled ones finishing included
        self._running: dict[Key, _Running] = {}
        self._delayed: dict[Key, Job] = {}
        self._room = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._redis: aioredis.Redis | None = None

    # --- what arrives -----------------------------------------------------------------

    def offer(self, job: Job, *, not_before: float = 0.0) -> None:
        """A conversation to answer for `job.inbound_id` (read from the stream, claimed, or
        scheduled again)."""
        delay = not_before - time.time()
        if delay > 0:
            self._delay(job, delay)
            return
        running = self._running.get(job.key)
        if running is not None and not running.cancelled:
            if job.inbound_id <= running.job.inbound_id:  # the reply in progress answers it
                running.job.entry_ids.extend(job.entry_ids)
                return
            # A newer message of the burst: the reply in progress stops, the new one answers all.
            running.cancelled = True
            running.task.cancel()
            job.entry_ids = running.job.entry_ids + job.entry_ids
            running.job.entry_ids = []
            self._cancelled()
        delayed = self._delayed.get(job.key)
        if delayed is not None and delayed.inbound_id <= job.inbound_id:  # this one answers both
            job.entry_ids = delayed.entry_ids + job.entry_ids
            delayed.entry_ids = []
            del self._delayed[job.key]
        replaced = self.queue.put(job)
        if replaced is job:  # an older message than the one waiting: nothing to start
            return
        self._schedule()

    def _delay(self, job: Job, delay: float) -> None:
        current = self._delayed.get(job.key)
        if current is not None and current.inbound_id >= job.inbound_id:
            current.entry_ids.extend(job.entry_ids)
            return
        if current is not None:
            job.entry_ids = current.entry_ids + job.entry_ids
            current.entry_ids = []
        self._delayed[job.key] = job

        def wake() -> None:
            if self._delayed.get(job.key) is job:
                del self._delayed[job.key]
                self.offer(job)

        asyncio.get_running_loop().call_later(delay, wake)

    def newer_elsewhere(self, schema: str, conversation_id: int, inbound_id: int) -> list[str]:
        """Another runner answers a newer message of this conversation: drop ours. Returns the
        entries to acknowledge."""
        key = (schema, conversation_id)
        entries: list[str] = []
        running = self._running.get(key)
        if running is not None and not running.cancelled and running.job.inbound_id < inbound_id:
            running.cancelled = True
            running.task.cancel()
            entries += running.job.entry_ids
            running.job.entry_ids = []
            self._cancelled()
        waiting = self.queue.waiting(key)
        if waiting is not None and waiting.inbound_id < inbound_id:
            self.queue.discard(key)
            entries += waiting.entry_ids
        return entries

    def _cancelled(self) -> None:
        """A model call cancelled by a newer message: counted here and in Redis (what the
        burst rule costs in model calls, read by /health/ and the benchmarks)."""
        self.stats.cancelled += 1
        self._spawn(self._count("cancelled"))

    async def _count(self, name: str) -> None:
        with contextlib.suppress(Exception):
            await self.redis.incr(queue.counter_key(name))

    # --- starting and ending replies ----------------------------------------------------

    def _schedule(self) -> None:
        while self.active < self.options.concurrency and not self._stopping.is_set():
            job = self.queue.take()
            if job is None:
                return
            self.active += 1
            self.stats.started += 1
            self.stats.most_in_progress = max(self.stats.most_in_progress, self.active)
            task = asyncio.create_task(self._answer(job), name=f"reply {job.schema}:{job.conversation_id}")
            self._running[job.key] = _Running(job, task)
            # The bookkeeping runs when the task ends, however it ends: a task cancelled before
            # it started never runs the body (nor a `finally`) of its coroutine.
            task.add_done_callback(functools.partial(self._ended, job))

    async def _answer(self, job: Job) -> str:
        """How the reply ended: answered, skipped, elsewhere, retry, hand_back or failed (a
        cancelled reply ends with its task cancelled)."""
        if await self._working_elsewhere(job):
            return "elsewhere"
        try:
            return await answer(job.conversation_id, job.inbound_id, self.db.runner(job.schema))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if is_transient(error) and job.attempts < self.options.retries:
                logger.warning("Reply for %s:%s failed (%s); trying again", job.schema, job.conversation_id, error)
                return "hand_back" if self._stopping.is_set() else "retry"
            logger.exception("Reply for conversation %s of %s failed", job.conversation_id, job.schema)
            return "failed"

    def _ended(self, job: Job, task: asyncio.Task[str]) -> None:
        if task.cancelled():
            outcome = "cancelled"
        elif task.exception() is not None:
            logger.error("Reply for conversation %s of %s failed", job.conversation_id, job.schema,
                         exc_info=task.exception())  # fmt: skip
            outcome = "failed"
        else:
            outcome = task.result()
        self.active -= 1
        self.queue.done(job.schema)
        current = self._running.get(job.key)
        if current is not None and current.job is job:
            del self._running[job.key]
        if outcome != "elsewhere":
            self._spawn(self._let_go(job))
        self._finish(job, outcome)
        self._room.set()
        self._schedule()

    def _finish(self, job: Job, outcome: str) -> None:
        if outcome == "answered":
            self.stats.answered += 1
        elif outcome in ("skipped", "elsewhere"):
            self.stats.skipped += 1
        elif outcome == "failed":
            self.stats.failed += 1
        if outcome == "retry":
            self.stats.retried += 1
            job.attempts += 1
            backoff = min(10.0, 0.5 * 2**job.attempts) * (0.5 + random.random())  # noqa: S311 - jitter
            self.offer(job, not_before=time.time() + backoff)
            return
        if outcome == "hand_back" or (outcome == "cancelled" and self._stopping.is_set() and job.entry_ids):
            self._spawn(self._hand_back([job]))  # stopped before it answered: another runner will
            return
        if job.entry_ids:
            ids, job.entry_ids = job.entry_ids, []
            self._spawn(self._ack(ids))

    # --- who works on a conversation ----------------------------------------------------

    def _working_key(self, job: Job) -> str:
        return f"{queue.stream_key()}:working:{job.schema}:{job.conversation_id}"

    async def _working_elsewhere(self, job: Job) -> bool:
        """Whether another live runner is answering this message already (the sweeper asked
        again while it waited on the model); else this runner says it is (fails open)."""
        key = self._working_key(job)
        try:
            held = await self.redis.get(key)
            if held:
                owner, _, inbound = str(held).rpartition("|")
                if owner != self.name and int(inbound) >= job.inbound_id:
                    return True
            await self.redis.set(key, f"{self.name}|{job.inbound_id}", px=self._working_ms())
        except Exception as error:  # Redis unreachable: answered once all the same (the store)
            logger.info("Reply ownership not recorded (%s)", error)
        return False

    def _working_ms(self) -> int:
        return int(self.options.claim_idle_seconds * 2000)

    async def _let_go(self, job: Job) -> None:
        with contextlib.suppress(Exception):
            await self.redis.eval(_RELEASE, 1, self._working_key(job), f"{self.name}|{job.inbound_id}")

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- Redis ----------------------------------------------------------------------------

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            # Callers wait for a free connection rather than fail when many acknowledgements are
            # sent at once.
            pool = aioredis.BlockingConnectionPool.from_url(
                settings.REDIS_URL, max_connections=64, timeout=20,
                decode_responses=True, socket_timeout=10, socket_connect_timeout=5,
            )  # fmt: skip
            self._redis = aioredis.Redis(connection_pool=pool)
        return self._redis

    async def _ack(self, ids: list[str]) -> None:
        try:
            await self.redis.xack(queue.stream_key(), queue.GROUP, *ids)
        except Exception:  # left pending: claimed later, and the reply path answers once
            logger.warning("Could not acknowledge %d reply entries", len(ids), exc_info=True)

    async def _hand_back(self, jobs: list[Job], delay: float = 0.0) -> None:
        """Put unfinished replies back into the stream for the other runners, then let go of
        their entries (if Redis fails, the entries stay pending and are claimed later)."""
        jobs = [job for job in jobs if job.entry_ids]
        if not jobs:
            return
        try:
            pipe = self.redis.pipeline(transaction=True)
            now = time.time()
            for job in jobs:
                fields = queue.entry_fields(job.schema, job.conversation_id, job.inbound_id, now, delay)
                pipe.xadd(queue.stream_key(), fields, maxlen=queue.MAX_LENGTH, approximate=True)
                pipe.xack(queue.stream_key(), queue.GROUP, *job.entry_ids)
            await pipe.execute()
        except Exception:
            logger.warning("Could not hand %d replies back; they will be claimed", len(jobs), exc_info=True)

    def _held(self) -> int:
        """What holds this runner's capacity: replies in progress, waiting ones that could
        start soon (a cap's worth per seller) and delayed ones."""
        return self.queue.startable() + len(self._running) + len(self._delayed)

    def _own_entries(self) -> list[str]:
        jobs = [r.job for r in self._running.values()] + self.queue.jobs() + list(self._delayed.values())
        return [entry for job in jobs for entry in job.entry_ids]

    def _take(self, entries: list[Any]) -> None:
        acks: list[str] = []
        started: list[Job] = []
        overflow: list[Job] = []
        for entry_id, fields in entries:
            if not fields:  # trimmed meanwhile
                acks.append(entry_id)
                continue
            entry = queue.Entry.parse(entry_id, fields)
            if entry is None:
                logger.warning("Malformed reply entry %s dropped: %r", entry_id, fields)
                acks.append(entry_id)
                continue
            job = Job(entry.schema, entry.conversation_id, entry.inbound_id, [entry_id], entry.enqueued_at)
            if (
                self.queue.waiting_of(job.schema) >= self.options.per_seller * OVERFLOW_CAPS
                and self.queue.waiting(job.key) is None
                and job.key not in self._running
            ):
                overflow.append(job)  # this seller has more waiting here than it can start soon
                continue
            self.offer(job, not_before=entry.not_before)
            started.append(job)
        if acks:
            self._spawn(self._ack(acks))
        if overflow:
            self._spawn(self._hand_back(overflow, delay=1.0))
        if started:
            self._spawn(self._tell_newer(started))

    async def _tell_newer(self, jobs: list[Job]) -> None:
        with contextlib.suppress(Exception):
            pipe = self.redis.pipeline(transaction=False)
            for job in jobs:
                pipe.publish(queue.newer_channel(), f"{job.schema}|{job.conversation_id}|{job.inbound_id}|{self.name}")
            await pipe.execute()

    async def _read(self) -> None:
        max_held = max(self.options.concurrency * 2, 100)
        failures = 0
        while not self._stopping.is_set():
            room = max_held - self._held()
            if room <= 0:
                self._room.clear()
                await self._wait(self._room, 1.0)
                continue
            try:
                result: Any = await self.redis.xreadgroup(
                    queue.GROUP, self.name, {queue.stream_key(): ">"}, count=min(room, 500), block=1000
                )
                failures = 0
            except Exception as error:
                failures += 1
                if "NOGROUP" in str(error):
                    await self._ensure_group()
                else:
                    logger.warning("Reading the reply stream failed (%s); trying again", error)
                    await self._wait(self._stopping, min(5.0, 0.2 * 2**failures))
                continue
            for _stream, entries in result or []:
                self._take(entries)

    async def _claim(self) -> None:
        """Keep our own entries fresh, and take over those a silent runner left."""
        every = max(1.0, self.options.claim_idle_seconds / 3)
        rounds = 0
        while not self._stopping.is_set():
            await self._wait(self._stopping, every)
            if self._stopping.is_set():
                return
            rounds += 1
            if rounds % 100 == 1:
                await self._forget_gone_runners()
            try:
                own: list[Any] = self._own_entries()
                mine = set(own)
                for start in range(0, len(own), 500):
                    await self.redis.xclaim(
                        queue.stream_key(), queue.GROUP, self.name, 0, own[start : start + 500], justid=True
                    )
                if self._running:
                    pipe = self.redis.pipeline(transaction=False)
                    for running in list(self._running.values()):
                        pipe.pexpire(self._working_key(running.job), self._working_ms())
                    await pipe.execute()
                cursor = "0-0"
                while not self._stopping.is_set() and self._held() < self.options.concurrency * 2:
                    result = await self.redis.xautoclaim(
                        queue.stream_key(),
                        queue.GROUP,
                        self.name,
                        min_idle_time=int(self.options.claim_idle_seconds * 1000),
                        start_id=cursor,
                        count=200,
                    )
                    cursor, entries = result[0], result[1]
                    entries = [(entry_id, fields) for entry_id, fields in entries if entry_id not in mine]
                    self.stats.claimed += len(entries)
                    self._take(entries)
                    if cursor in ("0-0", b"0-0"):
                        break
            except Exception as error:
                logger.warning("Claiming reply entries failed (%s)", error)

    async def _forget_gone_runners(self) -> None:
        """Consumers of runners long gone (killed, each start has a new name) with nothing pending
        are removed from the group, so that it does not collect one per crash."""
        try:
            consumers = await self.redis.xinfo_consumers(queue.stream_key(), queue.GROUP)
            for consumer in consumers:
                if (
                    consumer.get("name") != self.name
                    and int(consumer.get("pending") or 0) == 0
                    and int(consumer.get("idle") or 0) > GONE_AFTER_MS
                ):
                    await self.redis.xgroup_delconsumer(queue.stream_key(), queue.GROUP, consumer["name"])
        except Exception as error:
            logger.info("Could not tidy the reply group's consumers (%s)", error)

    async def _listen(self) -> None:
        """Newer messages read by other runners."""
        while not self._stopping.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(queue.newer_channel())
                while not self._stopping.is_set():
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    schema, conversation, inbound, runner = str(message["data"]).split("|", 3)
                    if runner == self.name:
                        continue
                    acks = self.newer_elsewhere(schema, int(conversation), int(inbound))
                    if acks:
                        self._spawn(self._ack(acks))
            except Exception as error:
                logger.warning("Listening for newer messages failed (%s); again shortly", error)
                await self._wait(self._stopping, 1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _heartbeat(self) -> None:
        while not self._stopping.is_set():
            await self._beat()
            await self._wait(self._stopping, settings.WORKER_HEARTBEAT_SECONDS)

    async def _beat(self) -> None:
        beat = {
            "at": time.time(),
            "queues": [RUNNER_QUEUE],
            "stats": {**self.stats.as_dict(), "in_progress": self.active, "waiting": len(self.queue)},
        }
        try:
            await self.redis.hset(heartbeat_key(), self.name, json.dumps(beat))
        except Exception:
            logger.warning("Could not write the reply runner's heartbeat", exc_info=True)

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(queue.stream_key(), queue.GROUP, id="0", mkstream=True)
        except Exception as error:
            if "BUSYGROUP" not in str(error):
                logger.warning("Could not create the reply group (%s)", error)

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    # --- the process -------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        self._room.set()

    async def run(self, ready: Callable[[], None] | None = None) -> None:
        """Answer until `stop()`; then finish what is in progress (REPLY_SHUTDOWN_SECONDS at
        most) and put the rest back into the stream."""
        await self._ensure_group()
        await self._beat()
        loops = [asyncio.create_task(coro) for coro in (self._read(), self._claim(), self._listen(), self._heartbeat())]
        if ready is not None:
            ready()
        try:
            await self._stopping.wait()
        finally:
            self._stopping.set()
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._drain()

    async def _drain(self) -> None:
        running = [r.task for r in self._running.values()]
        if running:
            _done, late = await asyncio.wait(running, timeout=self.options.shutdown_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        unfinished = self.queue.jobs() + list(self._delayed.values())
        await self._hand_back(unfinished)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.redis.hdel(heartbeat_key(), self.name)
        with contextlib.suppress(Exception):
            from sales.engine.provider import aclose_clients

            await aclose_clients()
        with contextlib.suppress(Exception):
            await self.redis.aclose()
        await asyncio.get_running_loop().run_in_executor(None, self.db.close)
