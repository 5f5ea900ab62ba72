"""Replies at peak: the concurrency sweep through the real widget path.

For each number of conversations open at once (1, 10, 100, 1,000 by default) the customers
write over the widget websocket: a burst of two messages sent back to back, then they wait for
the answer, read and type for a while (THINK seconds, uniformly spread around the mean), and
write again, ROUNDS times. The model takes 1.5 s: by default the real OpenRouter engine (the
OpenAI SDK, its async client in the runner, its sync client on the Celery path) against a model
on loopback (`bench/model_server.py`, which counts the requests cancelled before their answer
and the prompt tokens they carried); `--engine slow` uses `bench.engines.SlowEngine` instead (a
sleep, blocking or awaited).

Two set-ups are measured in the same run, each with web (daphne; `--web N` processes, the
customers spread over them as by a load balancer) and one worker process:
- baseline: the thread-per-reply Celery worker (REPLY_RUNNER=celery, threads, 8, with the
  product's pause before each reply);
- runner: the reply runner (REPLY_RUNNER=async: no pause, a newer message cancels and restarts
  the reply), beside a worker that keeps the other queues.

Printed per level: the mean and p95 of the customer's last message → the answer, answers per
second, the database connections in use at most (all processes, sampled every 0.2 s), the model
calls cancelled by a newer message and their prompt tokens, and the ratio of the runner's mean
to the baseline's. A level whose answers do not all come within LEVEL_DEADLINE
seconds counts the missing ones at the deadline ("censored").

Targets (2 cores, one worker process): mean < 2.0 s at 100 conversations and < 2.5 s at 1,000;
database connections <= 20 whatever the concurrency.

    python scripts/devenv.py exec -- python bench/reply_peak.py [--levels 1,10,100,1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from common import ROOT, progress
from widget_load import percentile, server_env, setup, wait_up

MODEL_SECONDS = 1.5


@dataclass
class Level:
    conversations: int
    latencies: list[float] = field(default_factory=list)
    expected: int = 0
    censored: int = 0
    started: float = 0.0
    finished: float = 0.0
    answered_at: float = 0.0  # the last answer received
    most_connections: int = 0
    cancelled: int = 0
    model: dict[str, int] = field(default_factory=dict)  # the loopback model's counts during the level

    @property
    def mean(self) -> float:
        return statistics.mean(self.latencies) if self.latencies else float("nan")

    @property
    def rate(self) -> float:
        """Answers received per second, from the first customer's arrival to the last answer."""
        return (len(self.latencies) - self.censored) / max(1e-9, self.answered_at - self.started)


class Stack:
    def __init__(self, label: str, ports: list[int], env: dict[str, str], runner: bool) -> None:
        self.label, self.ports, self.env = label, ports, env
        self.logs = Path(tempfile.mkdtemp(prefix=f"ma5zani-peak-{'runner' if runner else 'baseline'}-"))
        self.processes = []
        for number, port in enumerate(ports, 1):
            daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ma5zani.asgi:application"]
            self.processes.append(self._spawn(f"web-{number}", daphne))
        # The baseline's worker answers (8 threads, as measured in the issue); beside the runner
        # it keeps the other queues with the Procfile's 4.
        worker = [sys.executable, "-m", "celery", "-A", "ma5zani", "worker", "-l", "WARNING", "--without-mingle",
                  "--without-gossip", "-P", "threads", "-c", "4" if runner else "8"]  # fmt: skip
        self.processes.append(self._spawn("worker", worker))
        if runner:
            self.processes.append(self._spawn("replies", [sys.executable, "manage.py", "run_replies"]))

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


class Connections:
    """The most connections to the bench database seen while a level runs (every process)."""

    def __init__(self) -> None:
        import psycopg

        self.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            row = self.conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            self.most = max(self.most, int(row[0]) if row else 0)

    def __enter__(self) -> Connections:
        self.most = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def customer(
    port: int, key: str, level: Level, rounds: int, think: float, offset: float, gap: float = 0.0
) -> None:
    import websockets

    visitor = str(uuid.uuid4())
    url = f"ws://localhost:{port}/ws/widget/?key={quote(key)}&visitor={visitor}"
    await asyncio.sleep(offset)  # customers arrive spread over the first think time
    async with websockets.connect(url, max_size=2**20, open_timeout=60) as socket:
        last_id = max((m["id"] for m in json.loads(await socket.recv())["messages"]), default=0)
        for number in range(rounds):
            for part in (1, 2):  # a burst of two, GAP seconds apart
                if part == 2 and gap:
                    await asyncio.sleep(gap)
                frame = {"type": "message", "text": f"question {number}.{part}", "client_id": str(uuid.uuid4())}
                await socket.send(json.dumps(frame))
            sent = time.perf_counter()
            answered = False
            while not answered:
                try:
                    data = json.loads(await asyncio.wait_for(socket.recv(), 5.0))
                except TimeoutError:  # as the widget does: ask for what it may have missed
                    await socket.send(json.dumps({"type": "history", "after": last_id}))
                    continue
                received = [data["message"]] if data["type"] == "message" else data.get("messages", [])
                for message in received:
                    last_id = max(last_id, message["id"])
                    if message["author"] == "bot" and not answered:
                        answered = True
                        level.finished = time.perf_counter()
                        level.latencies.append(level.finished - sent)
            if number < rounds - 1:
                await asyncio.sleep(random.uniform(think / 2, think * 1.5))


async def run_level(
    ports: list[int], key: str, level: Level, rounds: int, think: float, deadline: float, gap: float = 0.0
) -> None:
    """The customers of one level, spread over the web processes (as a load balancer would)."""
    level.expected = level.conversations * rounds
    level.started = time.perf_counter()
    spread = think if level.conversations > 1 else 0.0
    tasks = [
        asyncio.create_task(
            customer(ports[i % len(ports)], key, level, rounds, think, spread * i / level.conversations, gap)
        )
        for i in range(level.conversations)
    ]
    end = level.started + deadline
    while not all(task.done() for task in tasks) and time.perf_counter() < end:
        progress(len(level.latencies), level.expected, f"{level.conversations} conversations")
        await asyncio.sleep(0.5)
    progress(len(level.latencies), level.expected, f"{level.conversations} conversations")
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, asyncio.CancelledError)]
    if errors:
        print(f"\n   {len(errors)} conversation(s) failed, e.g. {errors[0]!r}")
    level.censored = level.expected - len(level.latencies)
    level.answered_at = level.finished
    if level.censored:  # not answered within the deadline: counted as the deadline (an underestimate)
        level.latencies += [deadline] * level.censored
        level.finished = end


def runner_cancelled() -> int:
    """Model calls cancelled by a newer message, as the runners count them."""
    from replies.queue import client, counter_key

    return int(client().get(counter_key("cancelled")) or 0)


class Model:
    """The loopback model (bench/model_server.py) in a process of its own."""

    def __init__(self, port: int, delay: float) -> None:
        import httpx

        self.port = port
        command = [sys.executable, str(ROOT / "bench" / "model_server.py"), "--port", str(port), "--delay", str(delay)]
        self.log = Path(tempfile.mkdtemp(prefix="ma5zani-peak-model-")) / "model.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/counts", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"The model server did not start (log: {self.log})")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def counts(self) -> dict[str, int]:
        import httpx

        return dict(httpx.get(f"http://127.0.0.1:{self.port}/counts", timeout=10).json())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measure(
    label: str, env: dict[str, str], runner: bool, args: argparse.Namespace, key: str, model: Model | None
) -> list[Level]:
    print(f"\n{label}")
    ports = [args.port + number for number in range(args.web)]
    stack = Stack(label, ports, env, runner)
    levels: list[Level] = []
    try:
        for port in ports:
            asyncio.run(wait_up(port))
        asyncio.run(run_level(ports, key, Level(5 * len(ports)), 1, 0.5, 60))  # warm-up, not measured
        for count in args.levels:
            level = Level(count)
            before = runner_cancelled() if runner else 0
            model_before = model.counts() if model else {}
            with Connections() as connections:
                asyncio.run(run_level(ports, key, level, args.rounds, args.think, args.deadline, args.gap))
            level.most_connections = connections.most
            level.cancelled = (runner_cancelled() - before) if runner else 0
            if model is not None:
                after = model.counts()
                level.model = {name: after[name] - model_before.get(name, 0) for name in after}
            levels.append(level)
            tokens = ""
            if level.model:
                tokens = (
                    f"; model: {level.model['answered']} answered, {level.model['aborted']} cancelled "
                    f"({level.model['aborted_prompt_tokens']} prompt tokens of "
                    f"{level.model['prompt_tokens'] + level.model['aborted_prompt_tokens']})"
                )
            print(
                f"\n   {count:>5} conversations: mean {level.mean:.2f} s, p95 {percentile(level.latencies, 95):.2f} s, "
                f"{level.rate:.1f} answers/s, {level.most_connections} connections at most"
                + (f", {level.cancelled} replies restarted" if runner else "")
                + tokens
                + (f", {level.censored} not answered within {args.deadline:g} s" if level.censored else "")
            )
    finally:
        stack.stop()
    return levels


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,10,100,1000", help="conversations at once, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="bursts per conversation")
    parser.add_argument("--think", type=float, default=20.0, help="mean seconds a customer reads and types")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds per level at most")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between the two messages of a burst")
    parser.add_argument("--only", choices=["baseline", "runner"], default=None)
    parser.add_argument("--engine", choices=["openrouter", "slow"], default="openrouter")
    parser.add_argument("--web", type=int, default=1, help="web processes (customers spread over them)")
    parser.add_argument("--port", type=int, default=8766, help="the first web process's port")
    parser.add_argument("--model-port", type=int, default=8799)
    args = parser.parse_args()
    args.levels = [int(part) for part in args.levels.split(",") if part]

    key = setup()
    env = server_env()
    model = None
    if args.engine == "openrouter":
        model = Model(args.model_port, MODEL_SECONDS)
        env |= {"OPENROUTER_API_KEY": "sk-or-bench", "OPENROUTER_BASE_URL": model.base_url,
                "OPENROUTER_TIMEOUT_SECONDS": "60"}  # fmt: skip
    else:
        env |= {"BOT_ENGINE_CLASS": "bench.engines.SlowEngine", "ENGINE_DELAY_SECONDS": str(MODEL_SECONDS)}
    print(
        f"Levels {args.levels}; {args.rounds} bursts of two messages {args.gap:g} s apart per conversation; "
        "customers read and type "
        f"{args.think / 2:g}-{args.think * 1.5:g} s between bursts; a {MODEL_SECONDS:g} s model ({args.engine})"
    )
    baseline: list[Level] = []
    runner: list[Level] = []
    try:
        if args.only != "runner":
            baseline = measure("Baseline: a Celery reply task per reply (threads, 8)",
                               {**env, "REPLY_RUNNER": "celery"}, False, args, key, model)  # fmt: skip
        if args.only != "baseline":
            runner = measure("Reply runner (asyncio)", {**env, "REPLY_RUNNER": "async"}, True, args, key, model)
    finally:
        if model is not None:
            model.stop()

    print("\nLast message → answer (mean / p95), answers per second, connections at most:")
    print(f"{'conversations':>14} | {'baseline':>28} | {'runner':>28} | ratio (runner / baseline mean)")
    for index, count in enumerate(args.levels):
        cells = []
        for levels in (baseline, runner):
            if index < len(levels):
                level = levels[index]
                cells.append(
                    f"{level.mean:5.2f} / {percentile(level.latencies, 95):5.2f} s {level.rate:5.1f}/s "
                    f"{level.most_connections:3d}c"
                )
            else:
                cells.append("-")
        ratio = (
            f"{runner[index].mean / baseline[index].mean:.2f}" if index < len(runner) and index < len(baseline) else "-"
        )
        print(f"{count:>14} | {cells[0]:>28} | {cells[1]:>28} | {ratio}")
    if runner:
        restarted = sum(level.cancelled for level in runner)
        bursts = sum(level.expected for level in runner)
        print(f"\nReplies restarted by the second message of a burst: {restarted} for {bursts} bursts.")
    if model is not None:
        print("Model requests per burst (the tokens the burst rule costs):")
        for label, levels in (("baseline", baseline), ("runner", runner)):
            if not levels:
                continue
            bursts = sum(level.expected - level.censored for level in levels)
            answered = sum(level.model.get("answered", 0) for level in levels)
            aborted = sum(level.model.get("aborted", 0) for level in levels)
            tokens = sum(
                level.model.get("prompt_tokens", 0) + level.model.get("completion_tokens", 0) for level in levels
            )
            wasted = sum(level.model.get("aborted_prompt_tokens", 0) for level in levels)
            print(
                f"   {label}: {answered} answered for {bursts} bursts answered ({answered / max(1, bursts):.2f} each: "
                f"those beyond one were answered and dropped for a newer message), {aborted} cancelled before "
                f"their answer carrying {wasted} prompt tokens ({wasted / max(1, tokens + wasted):.0%} of all tokens)"
            )


if __name__ == "__main__":
    main()
