"""The WhatsApp gateway: memory for 500 sessions, inbound events per second, failover time.

WhatsApp's servers cannot be reached here, so the sessions are loopback clients
(channels_app.whatsapp.testing.FakeSessionClient); everything else is the production gateway
(leases, lifecycle, the database threads, the message path). whatsmeow's own memory per real
session is not in these figures.

1. Memory: one gateway process (`manage.py run_whatsapp_gateway --fake-clients`) holding 500
   sessions, resident set size once they are all connected; baseline: the same process holding
   none. Target: under 1 GB for our own bookkeeping.
2. Inbound: text events in neonize's own protobuf class (MessageEv) from 2,000 customers
   (known ones: a first round creates them) delivered to the handlers of 500 sessions from 250
   threads (neonize calls each session's handlers on its own thread), through the handlers into
   the message path (stored and committed in batches, live events, replies enqueued); baseline:
   the same messages through `ingest()` one by one from the same number of threads. Target: at
   least 500 events per second.
3. Failover: two gateway processes share the 500 sessions; one is killed (SIGKILL); the time
   until its sessions are connected on the other, against the lease time.

    python scripts/devenv.py exec -- python bench/whatsapp_gateway.py [--sessions 500] [--events 5000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, bench_seller, django_setup, progress, use_bench_database

SLUG_PREFIX = "bench-wa"
SELLERS = 10


def rss_mb(pid: int) -> float:
    with Path(f"/proc/{pid}/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    # neonize calls the handlers on one thread per session: many at once.
    parser.add_argument("--threads", type=int, default=250)
    parser.add_argument("--lease", type=float, default=10.0)
    args = parser.parse_args()

    name = use_bench_database()
    os.environ["WHATSAPP_REDIS_PREFIX"] = f"bench-wa-{os.getpid()}"
    os.environ["WHATSAPP_LEASE_SECONDS"] = str(args.lease)
    os.environ["WHATSAPP_START_GAP_SECONDS"] = "0.001"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("DEBUG", "false")  # no query log: figures of a production process
    django_setup()
    from django.conf import settings
    from django.db import connection
    from django_tenants.utils import get_public_schema_name, schema_context

    from channels_app.models import ChannelAccount, Gateway, WhatsAppSession
    from conversations.models import ChannelIdentity, Conversation, Customer, Message

    print(f"Database {name}", flush=True)
    sellers = [bench_seller(f"{SLUG_PREFIX}-{n}", f"Bench WhatsApp {n}") for n in range(SELLERS)]

    def reset_sessions() -> list[int]:
        with schema_context(get_public_schema_name()):
            Gateway.objects.all().delete()
            ChannelAccount.objects.filter(seller__slug__startswith=SLUG_PREFIX, channel="whatsapp").delete()
            accounts = ChannelAccount.objects.bulk_create(
                ChannelAccount(seller=sellers[n % SELLERS], channel="whatsapp", external_id=f"2136700{n:05d}")
                for n in range(args.sessions)
            )
            rows = WhatsAppSession.objects.bulk_create(
                WhatsAppSession(account=a, jid=f"{a.external_id}@s.whatsapp.net", state="connecting") for a in accounts
            )
            return [row.pk for row in rows]

    def states() -> Counter[tuple[str, str]]:
        with schema_context(get_public_schema_name()):
            return Counter(WhatsAppSession.objects.filter(account__seller__slug__startswith=SLUG_PREFIX)
                           .values_list("lease_owner", "state"))  # fmt: skip

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}

    def start_gateway(gateway_name: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "manage.py", "run_whatsapp_gateway", "--fake-clients", "--name", gateway_name]
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_connected(owner: str | None, count: int, label: str, timeout: float = 300) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            counts = states()
            done = sum(
                n for (lease, state), n in counts.items() if state == "connected" and (owner is None or lease == owner)
            )
            progress(min(done, count), count, label)
            if done >= count:
                return time.monotonic() - started
            time.sleep(0.5)
        raise SystemExit(f"{label}: timed out")

    # 1. Memory -------------------------------------------------------------------------------
    print(f"\n1. Memory of one gateway process with {args.sessions} sessions", flush=True)
    with schema_context(get_public_schema_name()):
        ChannelAccount.objects.filter(seller__slug__startswith=SLUG_PREFIX, channel="whatsapp").delete()
        Gateway.objects.all().delete()
    idle = start_gateway("bench-idle")
    time.sleep(6)
    idle_rss = rss_mb(idle.pid)
    idle.send_signal(signal.SIGTERM)
    idle.wait(30)
    reset_sessions()
    busy = start_gateway("bench-500")
    took = wait_connected("bench-500", args.sessions, "sessions connected")
    time.sleep(3)
    busy_rss = rss_mb(busy.pid)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        (db_connections,) = cursor.fetchone() or (0,)
    busy.send_signal(signal.SIGTERM)
    busy.wait(60)
    per_session_kb = (busy_rss - idle_rss) * 1024 / max(1, args.sessions)
    print(f"  gateway holding none           {idle_rss:8.1f} MB resident")
    print(f"  gateway holding {args.sessions:<4}          {busy_rss:8.1f} MB resident ({took:.1f} s to connect all)")
    print(f"  per session                    {per_session_kb:8.1f} KB")
    print(f"  ratio to the idle process      {busy_rss / max(idle_rss, 1):8.2f}x   target: under 1024 MB -> "
          f"{'met' if busy_rss < 1024 else 'NOT met'}")  # fmt: skip
    print(f"  database connections (all)     {db_connections:8d}   (gateway threads: {settings.WHATSAPP_DB_THREADS})")

    # 2. Inbound events per second ------------------------------------------------------------
    print(f"\n2. Inbound: {args.events} text events through the handlers of {args.sessions} sessions", flush=True)
    from channels_app.base import InboundMessage
    from channels_app.whatsapp.gateway import Gateway as GatewayRuntime
    from channels_app.whatsapp.testing import FakeSessionClient, message_event
    from ma5zani.celery import app as celery_app

    def clear_messages(*, customers: bool = True) -> None:
        for seller in sellers:
            with schema_context(seller.schema_name):
                Message.objects.all().delete()
                if customers:
                    Conversation.objects.all().delete()
                    ChannelIdentity.objects.all().delete()
                    Customer.objects.all().delete()

    session_ids = reset_sessions()
    gateway = GatewayRuntime(name="bench-inbound", client_factory=FakeSessionClient, start_gap=0.0)
    runner_thread = threading.Thread(target=gateway.run, kwargs={"tick_seconds": 0.5}, daemon=True)
    runner_thread.start()
    while sum(1 for r in list(gateway.runners.values()) if r.connected.is_set()) < len(session_ids):
        time.sleep(0.2)
    runners = list(gateway.runners.values())
    clear_messages()
    customers = 2000

    def chat(n: int) -> str:
        return f"2135{n % customers:08d}@s.whatsapp.net"

    print("  a first message from each customer (not timed)…", flush=True)
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(lambda n: runners[n % len(runners)].on_event(
            message_event(chat=chat(n), text="salam", message_id=f"3AW{n:010d}"), runners[n % len(runners)].generation
        ), range(customers)))  # fmt: skip
    clear_messages(customers=False)
    events = [
        (
            runners[n % len(runners)],
            message_event(chat=chat(n), text=f"salam {n}", message_id=f"3AB{n:010d}"),
        )
        for n in range(args.events)
    ]
    done = 0
    lock = threading.Lock()

    def deliver(item: tuple) -> None:
        nonlocal done
        runner, event = item
        runner.on_event(event, runner.generation)
        with lock:
            done += 1
            if done % 250 == 0 or done == args.events:
                progress(done, args.events, "events")

    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(deliver, events))
    gateway_seconds = time.perf_counter() - started
    gateway.stop()
    runner_thread.join(60)
    stored = sum(_count(seller.schema_name, Message) for seller in sellers)

    # Baseline: the same messages through ingest() directly, one by one.
    clear_messages(customers=False)
    from django.db import close_old_connections
    from django.utils import timezone

    from conversations.services import ingest

    inbounds = []
    for n in range(args.events):
        runner = runners[n % len(runners)]
        account_id, schema = runner.spec.account_id, runner.schema
        inbounds.append((schema, InboundMessage(
            channel="whatsapp", channel_account_id=account_id, sender_id=chat(n),
            external_id=f"3AC{n:010d}", text=f"salam {n}", timestamp=timezone.now(),
        )))  # fmt: skip

    def direct(item: tuple) -> None:
        schema, inbound = item
        with schema_context(schema):
            ingest(inbound)
        close_old_connections()

    baseline_threads = min(args.threads, settings.DB_POOL_MAX_SIZE - 2)  # one connection each
    started = time.perf_counter()
    with ThreadPoolExecutor(baseline_threads) as pool:
        list(pool.map(direct, inbounds))
    direct_seconds = time.perf_counter() - started
    gateway_rate = args.events / gateway_seconds
    direct_rate = args.events / direct_seconds
    print(f"  through the gateway handlers   {gateway_rate:8.0f} events/s  ({stored} stored)")
    print(f"  ingest() one by one (baseline) {direct_rate:8.0f} messages/s  ({baseline_threads} threads)")
    print(f"  ratio                          {gateway_rate / direct_rate:8.2f}   target: 500 events/s -> "
          f"{'met' if gateway_rate >= 500 else 'NOT met'}")  # fmt: skip
    clear_messages()
    # The reply tasks went to the broker for real (no worker runs here): drop them.
    print(f"  (replies enqueued and live events published for real; {celery_app.control.purge()} tasks purged)")

    # 3. Failover -----------------------------------------------------------------------------
    print(f"\n3. Failover: two gateways share {args.sessions} sessions; one is killed (lease {args.lease:.0f} s)")
    reset_sessions()
    first = start_gateway("bench-a")
    second = start_gateway("bench-b")
    wait_connected(None, args.sessions, "sessions connected")
    while True:  # until both hold their share
        owners = Counter({lease: n for (lease, state), n in states().items() if lease and state == "connected"})
        if len(owners) == 2 and min(owners.values()) >= args.sessions // 2 - 1:
            break
        time.sleep(0.5)
    moved = owners["bench-a"]
    first.kill()
    first.wait()
    killed_at = time.monotonic()
    wait_connected("bench-b", args.sessions, "sessions running again on the survivor", timeout=args.lease * 10)
    failover = time.monotonic() - killed_at
    second.send_signal(signal.SIGTERM)
    second.wait(60)
    print(f"  sessions moved                 {moved:8d}")
    print(f"  time until running again       {failover:8.1f} s")
    print(f"  ratio to the lease time        {failover / args.lease:8.2f}")
    with schema_context(get_public_schema_name()):
        ChannelAccount.objects.filter(seller__slug__startswith=SLUG_PREFIX, channel="whatsapp").delete()
        Gateway.objects.all().delete()


def _count(schema: str, model: type) -> int:
    from django_tenants.utils import schema_context

    with schema_context(schema):
        return int(model.objects.count())  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
