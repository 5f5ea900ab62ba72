"""Shared set-up of the benchmarks: a database of their own next to the configured one."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def use_bench_database(suffix: str = "_bench") -> str:
    """Point DATABASE_URL at `<name><suffix>` (created if missing) and return the new URL."""
    from urllib.parse import unquote

    import psycopg

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + suffix
    bench_url = urlunsplit(parts._replace(path="/" + name))
    host = unquote(parts.hostname or "") if parts.hostname else None
    with psycopg.connect(
        host=host,
        port=parts.port,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = bench_url
    return name


def django_setup(settings_module: str = "ma5zani.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def timed(func: Callable[[], object], repeat: int) -> float:
    """The median wall-clock seconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return median(samples)


def progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    print(f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", flush=True)
    if done >= total:
        print(flush=True)


def bench_seller(slug: str, name: str):  # type: ignore[no-untyped-def]
    """The benchmark database's shared schemas migrated, and the seller `slug` (made once)."""
    from django.core.management import call_command

    from sellers.models import Seller
    from sellers.services import public_tenant_ensure, seller_provision, template_tenant_ensure

    print(f"Preparing the bench seller {slug}…", flush=True)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    public_tenant_ensure()
    template_tenant_ensure()
    return Seller.objects.filter(slug=slug).first() or seller_provision(name=name, slug=slug, owner=None)
