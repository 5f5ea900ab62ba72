"""Meta's webhook under load: signed deliveries through the real endpoint of the real server.

Starts the web process as `make run` does (daphne, the Procfile's `web`; settings
bench/settings_meta.py) on the benchmark database, with SELLERS sellers each linked to a
Messenger Page and an Instagram account (rows made directly, tokens encrypted, connected), then
posts deliveries in the shapes of channels_app/meta/tests/fixtures/, signed with
X-Hub-Signature-256 over the bytes sent (`signature.meta_json`, `signature.sign`), with fresh
message ids and customers. A delivery carries 1, 10 or 50 entries of one object (`page` or
`instagram`, alternately), each entry one event of a random seller's account: text messages
mostly, some images, reads and echoes (the seller's own replies from Meta's inbox).

1. paced: RATE events a second for PACED_SECONDS per batch size, on a fixed schedule whatever
   the answers (open loop): the answer time counted from the moment a delivery was due, client
   side (p50/p99), and the time Django spent on it (the Server-Timing header, bench/timing.py);
2. throughput: CLIENTS concurrent httpx clients posting as fast as they are answered, EVENTS
   events per batch size, against the same server's bare endpoint (one row stored per request,
   bench/urls_public.py) with as many clients; ROUNDS rounds alternated; medians and the ratio;
3. every message sent stored exactly once, in its seller's schema (rows counted per schema),
   and one media follow-up enqueued per image.

Only the web process runs: no worker, no reply runner. Replies are asked for as in production
(REPLY_RUNNER=async: an entry on the reply stream, here under a prefix of this benchmark's own)
and the follow-ups (media, profiles) are enqueued to the broker under a key prefix of their own
(bench/settings_meta.py); nothing consumes either, so what is measured is the webhook's own
cost, and no Graph call or download is made (Graph's address and the images' are a closed
loopback port anyway). Both are counted at the end, then deleted.

Targets: at least half the bare endpoint's throughput (one event per delivery against one row
per request); answer p99 under 100 ms at 200 events/s.

    python scripts/devenv.py exec -- python bench/meta_webhook.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import ROOT, django_setup, progress, use_bench_database
from meta_deliveries import (
    APP_ID,
    APP_SECRET,
    CLOSED_PORT_URL,
    KINDS,
    REDELIVERIES,
    SETTINGS,
    STREAM_PREFIX,
    Deliveries,
    Request,
    bare_requests,
    prepare,
)
from widget_load import percentile


@dataclass
class Phase:
    """What one phase measured."""

    events: int = 0
    requests: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, from due (paced) or sent
    server_ms: list[float] = field(default_factory=list)  # Server-Timing of the answers
    redeliveries: int = 0
    redelivered: list[bytes] = field(default_factory=list)  # the bodies posted again
    statuses: Counter[int] = field(default_factory=Counter)  # of the answers that were not 200/201
    late: list[float] = field(default_factory=list)  # paced: how late the client sent, seconds
    started: float = 0.0
    finished: float = 0.0
    web_cpu: float = 0.0  # seconds of CPU of the web process during the phase
    client_cpu: float = 0.0  # of this process (the load client)
    db_cpu: float | None = None  # of this database's PostgreSQL backends, when readable

    @property
    def rate(self) -> float:
        return self.events / max(self.finished - self.started, 1e-9)


# --- Sellers, their accounts and their known customers --------------------------------------


class Web:
    """The web process of the Procfile (daphne), on the bench database, alone."""

    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.logs = Path(tempfile.mkdtemp(prefix=f"ma5zani-bench-meta-{port}-"))
        log = (self.logs / "web.log").open("wb")
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ma5zani.asgi:application"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",  # as in production (the setup above runs with DEBUG on)
        "META_APP_SECRET": APP_SECRET,
        "META_APP_ID": APP_ID,
        "META_GRAPH_URL": CLOSED_PORT_URL,
        "META_INSTAGRAM_GRAPH_URL": CLOSED_PORT_URL,
        "REPLY_RUNNER": "async",
        "REPLY_STREAM_PREFIX": STREAM_PREFIX,
    }


def process_cpu(pid: int) -> float:
    """CPU seconds (user and system, all threads) of a process of this machine; 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DatabaseCpu:
    """CPU of this database's PostgreSQL backends (other databases on the same server are left
    out), when PostgreSQL runs on this machine and /proc shows its processes."""

    def __init__(self) -> None:
        self.start: dict[int, float] = {}

    def _backends(self) -> dict[int, float]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            pids = [int(row[0]) for row in cursor.fetchall()]
        return {pid: process_cpu(pid) for pid in pids if Path(f"/proc/{pid}").exists()}

    def begin(self) -> None:
        self.start = self._backends()

    def seconds(self) -> float | None:
        now = self._backends()
        if not now:
            return None
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in now.items())


async def wait_up(port: int) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(120):
            try:
                if (await client.get(f"http://localhost:{port}/health/live/", timeout=5)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("The web process did not start (see its log).")


# --- Sending --------------------------------------------------------------------------------


def _limits(connections: int) -> Any:
    import httpx

    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


async def _post(client: Any, request: Request, phase: Phase, since: float) -> None:
    """Post until answered 200/201 (a delivery answered otherwise is posted again, as Meta does)."""
    for attempt in range(REDELIVERIES + 1):
        response = await client.post(request.url, content=request.body, headers=request.headers)
        if response.status_code in (200, 201):
            break
        phase.statuses[response.status_code] += 1
        if attempt == REDELIVERIES:
            raise RuntimeError(f"A delivery was refused {REDELIVERIES + 1} times: {response.status_code}")
        phase.redeliveries += 1
        phase.redelivered.append(request.body)
        await asyncio.sleep(0.1)
    done = time.perf_counter()
    phase.latencies.append(done - since)
    phase.finished = max(phase.finished, done)
    timing = response.headers.get("server-timing", "")
    if "dur=" in timing:
        phase.server_ms.append(float(timing.split("dur=", 1)[1].split(",")[0]))
    phase.requests += 1
    phase.events += request.events


async def _show(phase: Phase, total: int, label: str, done: asyncio.Event) -> None:
    while not done.is_set():
        progress(min(phase.events, total - 1), total, label)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.5)
    progress(total, total, label)


async def paced(requests: list[Request], rate: float, connections: int, label: str) -> Phase:
    """Open loop: delivery i is due at i × (its events / rate) whatever the answers; its answer
    time counts from when it was due, so a server falling behind shows in the figures. At most
    `connections` are open (Meta's own senders are few); what is due beyond them waits in the
    client, in order, and that wait counts (left to httpx's pool, hundreds of waiting requests
    cost the client more CPU than the server it shares the cores with)."""
    import httpx

    phase = Phase()
    total = sum(r.events for r in requests)
    done = asyncio.Event()
    shower = asyncio.create_task(_show(phase, total, label, done))
    slots = asyncio.Semaphore(connections)

    async def send(client: httpx.AsyncClient, request: Request, due: float) -> None:
        async with slots:
            await _post(client, request, phase, due)

    async with httpx.AsyncClient(timeout=60, limits=_limits(connections)) as client:
        phase.started = time.perf_counter() + 0.05
        due = phase.started
        tasks = []
        for request in requests:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            phase.late.append(max(0.0, time.perf_counter() - due))
            tasks.append(asyncio.create_task(send(client, request, due)))
            due += request.events / rate
        await asyncio.gather(*tasks)
    done.set()
    await shower
    return phase


async def flood(requests: list[Request], clients: int, label: str) -> Phase:
    """Closed loop: `clients` clients, each posting the next request once answered."""
    import httpx

    phase = Phase()
    total = sum(r.events for r in requests)
    waiting = deque(requests)
    done = asyncio.Event()
    shower = asyncio.create_task(_show(phase, total, label, done))

    async def one_client(client: httpx.AsyncClient) -> None:
        while waiting:
            request = waiting.popleft()
            await _post(client, request, phase, time.perf_counter())

    async with httpx.AsyncClient(timeout=60, limits=_limits(clients)) as client:
        phase.started = time.perf_counter()
        await asyncio.gather(*(one_client(client) for _ in range(clients)))
    done.set()
    await shower
    return phase


def measured(web: Web, database: DatabaseCpu, run: Coroutine[Any, Any, Phase]) -> Phase:
    """A phase with the CPU the web process, this database's backends and the client spent on it."""
    web_before, client_before = process_cpu(web.process.pid), time.process_time()
    database.begin()
    phase = asyncio.run(run)
    phase.web_cpu = process_cpu(web.process.pid) - web_before
    phase.client_cpu = time.process_time() - client_before
    phase.db_cpu = database.seconds()
    return phase


# --- Checks and clean-up --------------------------------------------------------------------


def verify(deliveries: Deliveries, schemas: list[str]) -> tuple[int, set[str], int, int]:
    """Messages of this run stored, those missing, stored twice and stored in the wrong schema."""
    from django_tenants.utils import schema_context

    from conversations.models import Message

    stored = twice = misplaced = 0
    missing: set[str] = set()
    for schema in schemas:
        with schema_context(schema):
            ids = Counter(
                Message.objects.filter(external_id__contains=f"_{deliveries.run}_").values_list(
                    "external_id", flat=True
                )
            )
        wanted = deliveries.expected.get(schema, set())
        stored += sum(count for mid, count in ids.items() if mid in wanted)
        missing |= wanted - set(ids)
        twice += sum(count - 1 for count in ids.values() if count > 1)
        misplaced += sum(count for mid, count in ids.items() if mid not in wanted)
    return stored, missing, twice, misplaced


def _redis() -> Any:
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL)


def follow_ups() -> tuple[Counter[str], int]:
    """The tasks waiting on the bench's broker keys by name, and the reply stream's entries."""
    from bench.settings_meta import BROKER_KEY_PREFIX

    client = _redis()
    tasks: Counter[str] = Counter()
    for key in client.scan_iter(match=f"{BROKER_KEY_PREFIX}*"):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            name = json.loads(raw).get("headers", {}).get("task", "?")
            tasks[name.rsplit(".", 1)[-1]] += 1
    stream = f"{STREAM_PREFIX}:reply-stream"
    replies = int(client.xlen(stream)) if client.exists(stream) else 0
    return tasks, replies


def clear_queues() -> None:
    """Delete what this benchmark left on Redis (its broker prefix and its reply stream)."""
    from bench.settings_meta import BROKER_KEY_PREFIX

    client = _redis()
    for pattern in (f"{BROKER_KEY_PREFIX}*", f"{STREAM_PREFIX}:reply-stream*"):
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- Report ---------------------------------------------------------------------------------


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q):7.1f}" if values else "      -"


HEADINGS = "events/s |  answer p50    p99    max |  server p50    p99 | CPU ms/event: web    db client"


def figures(label: str, rate: float, phase: Phase) -> str:
    """One line: the rate, the answer times (ms), Django's own (Server-Timing), CPU per event."""
    answers = [value * 1000 for value in phase.latencies]
    db = f"{phase.db_cpu * 1000 / phase.events:5.2f}" if phase.db_cpu is not None else "    -"
    return (
        f"  {label:>6} {rate:8.1f} | {_ms(answers, 50)} {_ms(answers, 99)} {max(answers):6.1f} | "
        f"{_ms(phase.server_ms, 50)} {_ms(phase.server_ms, 99)} | {phase.web_cpu * 1000 / phase.events:17.2f} {db} "
        f"{phase.client_cpu * 1000 / phase.events:6.2f}"
    )


def median_phase(phases: list[Phase]) -> Phase:
    return sorted(phases, key=lambda phase: phase.rate)[len(phases) // 2]


def report(
    args: argparse.Namespace,
    sizes: list[int],
    paced_phases: dict[int, Phase],
    throughput: dict[int, list[Phase]],
    bare: list[Phase],
) -> None:
    print(f"1. Paced at {args.rate:g} events/s, answer time from when each delivery was due (target p99 < 100 ms)")
    print(f"    size  {HEADINGS} | client late p99")
    for size in sizes:
        phase = paced_phases[size]
        print(f"{figures(str(size), phase.rate, phase)} | {_ms([v * 1000 for v in phase.late], 99)}")
        if phase.rate < 0.95 * args.rate:
            print(f"   ({size} per delivery: overloaded, {phase.rate:.0f} of the {args.rate:g} events/s offered were "
                  "answered a second; the answer times grow with the phase's length)")  # fmt: skip
    met = [str(size) for size in sizes if percentile(paced_phases[size].latencies, 99) < 0.1]
    print(f"   p99 < 100 ms met with {', '.join(met) or 'no'} event(s) per delivery")
    print()
    bare_rate = statistics.median(phase.rate for phase in bare)
    print(f"2. Throughput, {args.clients} clients, median of {args.rounds} rounds (the line: the median round's)")
    print(f"    size  {HEADINGS} | ratio to bare")
    for size in sizes:
        rate = statistics.median(phase.rate for phase in throughput[size])
        print(f"{figures(str(size), rate, median_phase(throughput[size]))} | {rate / bare_rate:.2f}")
    print(f"{figures('bare', bare_rate, median_phase(bare))} | 1.00")
    rounds = ", ".join(f"{phase.rate:.0f}" for phase in bare)
    print(f"   bare endpoint (one row stored per request): {bare_rate:.1f}/s (rounds: {rounds})")
    one = statistics.median(phase.rate for phase in throughput[sizes[0]])
    verdict = "met" if one / bare_rate >= 0.5 else "missed"
    print(f"   {sizes[0]} event(s) per delivery / bare: {one / bare_rate:.2f} (target >= 0.50: {verdict})")
    every = [*paced_phases.values(), *(p for phases in throughput.values() for p in phases)]
    redelivered = sum(phase.redeliveries for phase in every)
    if redelivered:
        statuses: Counter[int] = Counter()
        for phase in every:
            statuses.update(phase.statuses)
        print(f"   deliveries posted again after an answer other than 200: {redelivered} ({dict(statuses)})")
    print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sellers", type=int, default=20)
    parser.add_argument("--sizes", default="1,10,50", help="entries per delivery")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second, paced phase")
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="per batch size")
    parser.add_argument("--connections", type=int, default=50, help="open at most, paced phase")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients, throughput phase")
    parser.add_argument("--events", type=int, default=2000, help="per batch size and round (and bare requests)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    use_bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    django_setup(SETTINGS)
    print(f"Load average before: {load_average()} (2 cores; the load client shares them)")
    accounts = prepare(args.sellers)
    schemas = sorted({a.schema for a in accounts})
    clear_queues()
    run = secrets.token_hex(3)
    url = f"http://localhost:{args.port}/webhooks/meta/"
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"Run {run}, seed {seed}")
    deliveries = Deliveries(accounts, url, run, seed)
    database = DatabaseCpu()

    web = Web(args.port, server_env())
    paced_phases: dict[int, Phase] = {}
    throughput: dict[int, list[Phase]] = {size: [] for size in sizes}
    bare: list[Phase] = []
    try:
        asyncio.run(wait_up(args.port))
        # Every account's route, the pool's connections and their prepared statements warmed
        # up, and the bare endpoint too; not measured.
        warm = [deliveries.delivery(1) for _ in range(4 * len(accounts))] + deliveries.batch(10, 20)
        asyncio.run(flood(warm, args.clients, "warm-up"))
        asyncio.run(flood(bare_requests(args.port, schemas[0], 400), args.clients, "warm-up, bare"))

        print(f"1. Paced: {args.rate:g} events/s for {args.paced_seconds:g} s per batch size (open loop)")
        for size in sizes:
            requests = deliveries.batch(size, max(1, round(args.rate * args.paced_seconds / size)))
            label = f"{size:>2} per delivery"
            paced_phases[size] = measured(web, database, paced(requests, args.rate, args.connections, label))
        print(
            f"2. Throughput: {args.clients} clients as fast as answered, {args.events} events per batch size, "
            f"then the bare endpoint (one row per request, {args.clients} clients); {args.rounds} rounds"
        )
        for number in range(1, args.rounds + 1):
            parts = []
            for size in sizes:
                requests = deliveries.batch(size, max(1, args.events // size))
                label = f"round {number}, {size:>2} per delivery"
                throughput[size].append(measured(web, database, flood(requests, args.clients, label)))
                parts.append(f"{size} per delivery {throughput[size][-1].rate:.0f} events/s")
            requests = bare_requests(args.port, schemas[0], args.events)
            bare.append(measured(web, database, flood(requests, args.clients, f"round {number}, bare")))
            print(f"   round {number}: {', '.join(parts)}; bare endpoint {bare[-1].rate:.0f}/s")
    finally:
        web.stop()

    print(f"Load average after: {load_average()}")
    print()
    print(f"Meta webhook, {args.sellers} sellers with a Page and an Instagram account each; daphne alone")
    sent = sum(deliveries.kinds.values())
    print("Events sent: " + ", ".join(f"{k} {deliveries.kinds[k]} ({deliveries.kinds[k] / sent:.0%})" for k in KINDS))
    print()
    report(args, sizes, paced_phases, throughput, bare)
    redelivered = [body for phase in [*paced_phases.values(), *(p for ps in throughput.values() for p in ps)]
                   for body in phase.redelivered]  # fmt: skip

    stored, missing, twice, misplaced = verify(deliveries, schemas)
    tasks, replies = follow_ups()
    clear_queues()
    expected, images = deliveries.stored_expected, deliveries.kinds["image"]
    print(f"3. Stored exactly once: {stored} of {expected} messages in {len(schemas)} schemas "
          f"({len(missing)} missing, {twice} twice, {misplaced} in another seller's schema; run {run})")  # fmt: skip
    for mid in sorted(missing)[:10]:
        posted_again = any(mid.encode() in body for body in redelivered)
        print(f"   missing: {mid} ({deliveries.kind_of[mid]}{', in a delivery posted again' if posted_again else ''})")
    media = tasks.get("fetch_media_task", 0)
    print(f"   follow-ups enqueued: {media} media (images sent: {images}; a delivery posted again asks again for "
          f"what is still missing), {tasks.get('fetch_profile_task', 0)} profiles; {replies} reply requests "
          "on the stream")  # fmt: skip
    if missing or twice or misplaced or stored != expected or media < images:
        raise SystemExit("The webhook lost or repeated messages: the figures above are wrong.")


if __name__ == "__main__":
    main()
