"""Settings of the server that bench/widget_load.py starts: production-like (DEBUG off) plus
the bare endpoint and its table."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from bench.settings_bench import *  # noqa: F403

PUBLIC_SCHEMA_URLCONF = "bench.urls_public"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
