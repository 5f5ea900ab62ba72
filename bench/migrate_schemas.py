"""How long does one new migration take over every seller schema?

Applies one new tenant migration (bench/benchapp) to every schema of the benchmark database
(run bench/provision.py first: it leaves 1,000+ sellers there) with django-tenants' parallel
executor, and, as the baseline measured in the same run, with the standard (one schema after
another) executor. Prints both times, the time per schema and the ratio.

    python scripts/devenv.py exec -- python bench/migrate_schemas.py
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

from common import ROOT, django_setup, use_bench_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=int(os.environ.get("MIGRATE_PROCESSES", "2")))
    args = parser.parse_args()

    name = use_bench_database()
    sys.path.insert(0, str(ROOT))
    os.environ["MIGRATE_PROCESSES"] = str(args.processes)
    django_setup("bench.settings_bench")
    from django.core.management import call_command

    from sellers.models import Seller

    schemas = Seller.objects.exclude(schema_name="public").count()
    print(f"Database {name}: {schemas} seller schemas (template included).", flush=True)

    def run(executor: str, target: str) -> float:
        out = io.StringIO()
        start = time.perf_counter()
        call_command(
            "migrate_schemas",
            "benchapp",
            target,
            tenant=True,
            executor=executor,
            interactive=False,
            verbosity=1,
            stdout=out,
        )
        return time.perf_counter() - start

    # Start from the state before the migration.
    print("Reverting the benchmark migration where it is applied…", flush=True)
    run("multiprocessing", "zero")
    print("Applying it with the standard executor…", flush=True)
    standard = run("standard", "0001")
    run("multiprocessing", "zero")
    print(f"Applying it with the multiprocessing executor ({args.processes} processes)…", flush=True)
    parallel = run("multiprocessing", "0001")
    run("multiprocessing", "zero")

    print()
    print(f"One new migration over {schemas} schemas")
    print(f"  standard executor         {standard:8.1f} s   {standard / schemas * 1000:6.1f} ms per schema")
    print(
        f"  multiprocessing ({args.processes} proc.) {parallel:8.1f} s   {parallel / schemas * 1000:6.1f} ms per schema"
    )
    print(f"  ratio standard / parallel {standard / parallel:8.2f}x")


if __name__ == "__main__":
    main()
