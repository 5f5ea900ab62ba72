"""Many concurrent widget conversations against the running server.

Starts the web process (daphne) and a worker on the benchmark database, then:

1. overhead: CONVERSATIONS visitors chat at once over the widget websocket with a zero-latency
   engine and no pause; for every message, the time from the frame sent to the bot's answer
   pushed back (p50/p95/p99) and the messages answered per second;
2. baseline: the same server's throughput on a bare endpoint that stores one row, with the same
   concurrency, and the ratio;
3. a simulated model that takes 1.5 s, with the product's pause: the time from the customer's
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
    return widget_account_ensure(seller).external_id


class Server:
    def __init__(self, port: int, env: dict[str, str], worker_args: list[str]) -> None:
        self.port = port
        self.env = env
        self.logs = Path(tempfile.mkdtemp(prefix=f"ma5zani-bench-{port}-"))
        self.web = self._spawn("web", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                       "ma5zani.asgi:application"])  # fmt: skip
        worker = [sys.executable, "-m", "celery", "-A", "ma5zani", "worker", "-l", "WARNING", "--without-mingle"]
        self.worker = self._spawn("worker", [*worker, "--without-gossip", *worker_args])

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            process.terminate()
        for process in (self.web, self.worker):
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


async def conversation(
    port: int, key: str, messages: int, burst: int, latencies: list[float], done: list[int], interval: float = 0.0
) -> None:
    import websockets

    visitor = str(uuid.uuid4())
    url = f"ws://localhost:{port}/ws/widget/?key={quote(key)}&visitor={visitor}"
    async with websockets.connect(url, max_size=2**20) as socket:
        await socket.recv()  # history
        for number in range(messages):
            started = time.perf_counter()
            for part in range(burst):
                frame = {"type": "message", "text": f"message {number}.{part}", "client_id": str(uuid.uuid4())}
                sent = time.perf_counter()
                await socket.send(json.dumps(frame))
            while True:
                data = json.loads(await socket.recv())
                if data["type"] == "error":
                    raise RuntimeError(f"The server refused a message: {data}")
                if data["type"] == "message" and data["message"]["author"] == "bot":
                    latencies.append(time.perf_counter() - sent)
                    done.append(1)
                    break
            if interval:  # a person types at their own pace, whatever the server does
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def run_conversations(
    port: int, key: str, count: int, messages: int, burst: int, label: str, interval: float = 0.0
) -> tuple[list[float], float]:
    latencies: list[float] = []
    done: list[int] = []
    started = time.perf_counter()
    tasks = []
    for _ in range(count):
        tasks.append(asyncio.create_task(conversation(port, key, messages, burst, latencies, done, interval)))
        if interval:
            await asyncio.sleep(interval / count)  # spread the visitors over the interval
    total = count * messages
    while not all(task.done() for task in tasks):
        progress(len(done), total, label)
        await asyncio.sleep(0.5)
    progress(len(done), total, label)
    for task in tasks:
        task.result()
    return latencies, time.perf_counter() - started


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
    parser.add_argument("--messages", type=int, default=15)
    parser.add_argument("--slow-conversations", type=int, default=8)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a visitor's messages")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    use_bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_load"
    django_setup("bench.settings_load")
    key = prepare()

    base_env = {
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
        latencies, _ = asyncio.run(
            run_conversations(args.port, key, args.conversations, args.messages, 1, "messages", args.interval)
        )
        print(f"   Throughput: {args.conversations} visitors writing as fast as they are answered")
        answered, elapsed = asyncio.run(
            run_conversations(args.port, key, args.conversations, args.messages, 1, "messages")
        )
        rate = len(answered) / elapsed
        print("2. Baseline: the bare endpoint that stores one row, same concurrency")
        bare_elapsed = asyncio.run(run_bare(args.port, args.conversations, args.messages))
        bare_rate = args.conversations * args.messages / bare_elapsed
    finally:
        server.stop()

    print(f"3. A 1.5 s model, bursts of 2 messages, the default pause, {args.slow_conversations} conversations")
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
    print(f"Widget messages answered per second: {rate:.1f}")
    print(f"Bare endpoint (one row stored) per second: {bare_rate:.1f}")
    print(f"Ratio widget / bare: {rate / bare_rate:.2f} (target >= 0.50)")
    average = statistics.mean(slow)
    print(f"With a 1.5 s model: last message to answer {average:.2f} s on average, "
          f"p95 {percentile(slow, 95):.2f} s (target average < 3 s)")  # fmt: skip


if __name__ == "__main__":
    main()
