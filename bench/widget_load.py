"""Many concurrent widget conversations against the running server.

Starts the web process (daphne), a worker and a reply runner on the benchmark database, then:

1. overhead: CONVERSATIONS visitors chat over the widget websocket at a paced load (each writes
   every INTERVAL seconds) with a zero-latency engine and no pause: for every message, the time
   from the frame sent to the bot's answer pushed back (p50/p95/p99);
2. throughput: the same visitors writing as fast as they are answered (messages answered per
   second, from the moment all are connected to the last answer), against the same server's
   throughput on a bare endpoint that stores one row, with as many clients: ROUNDS rounds of
   each, alternated, and the ratio of the medians;
3. a simulated model that takes 1.5 s, the reply runner: the time from the customer's
   last message of a burst to the answer.

Targets: overhead p99 under 200 ms; at least half the bare endpoint's throughput; with the
1.5 s model, under 3 s on average.

    python scripts/devenv.py exec -- python bench/widget_load.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from common import ROOT, django_setup, progress, use_bench_database

SCHEMA = "s_bench_load"
CATCH_UP_SECONDS = 5.0  # what static/widget/widget.js waits before asking for a missed answer


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def prepare() -> str:
    """The bench seller and its widget key (the load client sends no Origin, like a script)."""
    from django.core.management import call_command
    from django_tenants.utils import schema_exists

    from channels_app.widget.services import widget_account_ensure
    from sellers.models import Seller
    from sellers.services import public_tenant_ensure, seller_provision, template_tenant_ensure

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    public_tenant_ensure()
    template_tenant_ensure()
    seller = Seller.objects.filter(slug="bench-load").first() or seller_provision(
        name="Bench load", slug="bench-load", owner=None
    )
    assert schema_exists(SCHEMA)
    call_command("migrate_schemas", "benchapp", tenant=True, schema_name=SCHEMA, interactive=False, verbosity=0)
    key = widget_account_ensure(seller).external_id
    settle_database()
    return key


def setup() -> str:
    """The bench database, Django, the bench seller; its widget key."""
    use_bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_load"
    django_setup("bench.settings_load")
    return prepare()


def server_env() -> dict[str, str]:
    """The environment of the processes a load benchmark starts."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_load",
        "PYTHONPATH": str(ROOT),
        "SWEEP_EVERY_SECONDS": "3600",
        "DEBUG": "false",  # as in production (the setup above runs with DEBUG on)
        # All the load comes from one address and a few visitors: lift the per-IP and
        # per-visitor limits that protect a real server.
        "WIDGET_RATE_LIMIT_IP": "1000000/minute",
        "WIDGET_RATE_LIMIT_VISITOR": "100000/minute",
    }


def settle_database() -> None:
    """Statistics for the planner and the setup's writes flushed, so that a first run on a new
    database measures the message path rather than PostgreSQL catching up with the migrations."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        try:
            cursor.execute("CHECKPOINT")
        except Exception as exc:  # CHECKPOINT needs a superuser (or pg_checkpoint): not essential
            print(f"   (no CHECKPOINT: {exc.__class__.__name__})")


class Server:
    def __init__(self, port: int, env: dict[str, str], worker_args: list[str]) -> None:
        self.port = port
        self.env = env
        self.logs = Path(tempfile.mkdtemp(prefix=f"ma5zani-bench-{port}-"))
        self.web = self._spawn("web", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                       "ma5zani.asgi:application"])  # fmt: skip
        worker = [sys.executable, "-m", "celery", "-A", "ma5zani", "worker", "-l", "WARNING", "--without-mingle"]
        self.worker = self._spawn("worker", [*worker, "--without-gossip", *worker_args])
        self.replies = self._spawn("replies", [sys.executable, "manage.py", "run_replies"])

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for process in (self.web, self.worker, self.replies):
            process.terminate()
        for process in (self.web, self.worker, self.replies):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


async def wait_up(port: int) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(120):
            try:
                response = await client.get(f"http://localhost:{port}/health/", timeout=5)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("The server did not become healthy.")


class Run:
    """What the visitors of one phase share: the answers' latencies, and when the chat began
    (once every visitor is connected) and ended (the last answer)."""

    def __init__(self, visitors: int) -> None:
        self.latencies: list[float] = []
        self.connected = 0
        self.visitors = visitors
        self.ready = asyncio.Event()
        self.started = 0.0
        self.finished = 0.0
        self.catch_ups = 0  # answers asked for again after CATCH_UP_SECONDS without one

    def visitor_connected(self) -> None:
        self.connected += 1
        if self.connected == self.visitors:
            self.started = time.perf_counter()
            self.ready.set()


async def conversation(
    port: int, key: str, messages: int, burst: int, run: Run, interval: float = 0.0, offset: float = 0.0
) -> None:
    import websockets

    visitor = str(uuid.uuid4())
    url = f"ws://localhost:{port}/ws/widget/?key={quote(key)}&visitor={visitor}"
    async with websockets.connect(url, max_size=2**20) as socket:
        last_id = max((m["id"] for m in json.loads(await socket.recv())["messages"]), default=0)  # history
        run.visitor_connected()
        await run.ready.wait()  # the clock runs from the moment every visitor can write
        await asyncio.sleep(offset)  # paced visitors spread over the interval
        for number in range(messages):
            started = time.perf_counter()
            for part in range(burst):
                frame = {"type": "message", "text": f"message {number}.{part}", "client_id": str(uuid.uuid4())}
                sent = time.perf_counter()
                await socket.send(json.dumps(frame))
            answered = False
            while not answered:
                try:
                    data = json.loads(await asyncio.wait_for(socket.recv(), CATCH_UP_SECONDS))
                except TimeoutError:  # as the widget does when an answer is slow: ask for what it missed
                    run.catch_ups += 1
                    await socket.send(json.dumps({"type": "history", "after": last_id}))
                    continue
                if data["type"] == "error":
                    raise RuntimeError(f"The server refused a message: {data}")
                received = [data["message"]] if data["type"] == "message" else data.get("messages", [])
                for message in received:
                    last_id = max(last_id, message["id"])
                    if message["author"] == "bot" and not answered:
                        answered = True
                        run.finished = time.perf_counter()
                        run.latencies.append(run.finished - sent)
            if interval:  # a person types at their own pace, whatever the server does
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def run_conversations(
    port: int, key: str, count: int, messages: int, burst: int, label: str, interval: float = 0.0
) -> tuple[list[float], float]:
    """The latencies, and the seconds from the first message to the last answer."""
    run = Run(count)
    tasks = [
        asyncio.create_task(conversation(port, key, messages, burst, run, interval, interval * index / count))
        for index in range(count)
    ]
    total = count * messages
    while not all(task.done() for task in tasks):
        progress(len(run.latencies), total, label)
        await asyncio.sleep(0.5)
    progress(len(run.latencies), total, label)
    for task in tasks:
        task.result()
    if run.catch_ups:
        print(
            f"\n   {run.catch_ups} time(s) an answer was asked for again after {CATCH_UP_SECONDS:g} s (as the widget)"
        )
    return run.latencies, run.finished - run.started


async def run_bare(port: int, count: int, requests_each: int) -> float:
    import httpx

    async def one_client(client: httpx.AsyncClient) -> None:
        for number in range(requests_each):
            response = await client.post(
                f"http://localhost:{port}/bench/store-one/?schema={SCHEMA}", content=f"row {number}"
            )
            assert response.status_code == 201

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(one_client(client) for _ in range(count)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--messages", type=int, default=15, help="per visitor, at the paced load")
    parser.add_argument("--throughput-messages", type=int, default=40, help="per visitor (and per bare client)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput and baseline, alternated; medians")
    parser.add_argument("--slow-conversations", type=int, default=8)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a visitor's messages")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    key = setup()
    base_env = server_env()
    worker_args = ["-P", "threads", "-c", "8"]

    offered = args.conversations / args.interval
    print(
        f"1. Overhead: {args.conversations} visitors each writing every {args.interval:g} s "
        f"({offered:.0f} messages/s), instant engine, no pause"
    )
    server = Server(
        args.port,
        {**base_env, "BOT_ENGINE_CLASS": "bench.engines.InstantEngine", "REPLY_PAUSE_SECONDS": "0"},
        worker_args,
    )
    try:
        asyncio.run(wait_up(args.port))
        # Every process's connections, prepared statements and imports warmed up; not measured.
        asyncio.run(run_conversations(args.port, key, args.conversations, 3, 1, "warm-up"))
        latencies, _ = asyncio.run(
            run_conversations(args.port, key, args.conversations, args.messages, 1, "messages", args.interval)
        )
        print(
            f"2. Throughput: {args.conversations} visitors writing as fast as they are answered, against the "
            f"bare endpoint that stores one row with as many clients; {args.rounds} rounds, alternated"
        )
        rates, bare_rates = [], []
        each = args.throughput_messages
        for number in range(1, args.rounds + 1):
            answered, elapsed = asyncio.run(
                run_conversations(args.port, key, args.conversations, each, 1, f"round {number}, widget")
            )
            rates.append(len(answered) / elapsed)
            bare_elapsed = asyncio.run(run_bare(args.port, args.conversations, each))
            bare_rates.append(args.conversations * each / bare_elapsed)
            print(f"   round {number}: widget {rates[-1]:.1f}/s, bare endpoint {bare_rates[-1]:.1f}/s")
        rate, bare_rate = statistics.median(rates), statistics.median(bare_rates)
    finally:
        server.stop()

    print(f"3. A 1.5 s model, bursts of 2 messages, the reply runner, {args.slow_conversations} conversations")
    server = Server(args.port, {**base_env, "BOT_ENGINE_CLASS": "bench.engines.SlowEngine",
                                "ENGINE_DELAY_SECONDS": "1.5"}, worker_args)  # fmt: skip
    try:
        asyncio.run(wait_up(args.port))
        slow, _ = asyncio.run(run_conversations(args.port, key, args.slow_conversations, 3, 2, "bursts"))
    finally:
        server.stop()

    ms = [value * 1000 for value in latencies]
    print()
    print(f"Inbound-to-outbound overhead at {offered:.0f} messages/s over {len(ms)} messages: "
          f"p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, p99 {percentile(ms, 99):.0f} ms "
          "(target p99 < 200 ms)")  # fmt: skip
    print(f"Widget messages answered per second (median of {args.rounds}): {rate:.1f}")
    print(f"Bare endpoint (one row stored) per second (median of {args.rounds}): {bare_rate:.1f}")
    print(f"Ratio widget / bare: {rate / bare_rate:.2f} (target >= 0.50)")
    average = statistics.mean(slow)
    print(f"With a 1.5 s model: last message to answer {average:.2f} s on average, "
          f"p95 {percentile(slow, 95):.2f} s (target average < 3 s)")  # fmt: skip


if __name__ == "__main__":
    main()
