"""How fast /health/ answers: readiness (database, Redis, the workers' heartbeats) against the
liveness endpoint of the same server (which touches nothing), with and without a worker.

    python scripts/devenv.py exec -- .venv/bin/python bench/health.py

Prints p50/p95/max of each and the ratio readiness / liveness. Target: readiness well under
100 ms (a load balancer probing with a 1 s timeout must never mark a healthy node down).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from common import ROOT, django_setup, progress, use_bench_database
from widget_load import Server, percentile, prepare


def measure(port: int, path: str, count: int, label: str) -> tuple[list[float], int]:
    import httpx

    samples, last_status = [], 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Host": "localhost"}, timeout=10) as client:
        for done in range(1, count + 1):
            start = time.perf_counter()
            last_status = client.get(path).status_code
            samples.append((time.perf_counter() - start) * 1000)
            progress(done, count, label)
    return samples, last_status


def wait_ready(port: int, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/health/", headers={"Host": "localhost"}, timeout=5).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    sys.exit("The stack did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    use_bench_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_load"
    django_setup("bench.settings_load")
    prepare()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings_load", "PYTHONPATH": str(ROOT), "DEBUG": "false"}
    server = Server(args.port, env, ["-P", "threads", "-c", "2"])
    try:
        wait_ready(args.port)
        measure(args.port, "/health/", 20, "warm-up")
        ready, ready_status = measure(args.port, "/health/", args.requests, "/health/ (readiness)")
        live, _ = measure(args.port, "/health/live/", args.requests, "/health/live/ (liveness)")
        server.worker.terminate()
        server.worker.wait(30)
        down, down_status = measure(args.port, "/health/", args.requests, "/health/ with no worker")
    finally:
        server.stop()

    def line(name: str, values: list[float], status: int | None = None) -> None:
        answer = f" (HTTP {status})" if status else ""
        print(f"{name}: p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
              f"max {max(values):.1f} ms{answer}")  # fmt: skip

    print()
    line("Readiness /health/", ready, ready_status)
    line("Liveness /health/live/ (baseline)", live)
    line("Readiness with the worker stopped", down, down_status)
    print(f"Ratio readiness / liveness (p50): {statistics.median(ready) / statistics.median(live):.1f}")
    print("Target: readiness p95 well under 100 ms, with or without a worker")


if __name__ == "__main__":
    main()
