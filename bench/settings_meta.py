"""Settings of the server that bench/meta_webhook.py starts: bench/settings_load.py (DEBUG off,
the bare endpoint) plus a Server-Timing header (bench/timing.py) and the Celery broker's keys
under a prefix of their own, so the follow-ups the webhook enqueues (nothing consumes them
during the run) can be counted and then deleted without touching anyone else's queues. The app
secret, Graph's address (a closed loopback port) and the reply stream's prefix come from the
environment the benchmark gives its processes."""

from bench.settings_load import *  # noqa: F403
from bench.settings_load import CELERY_BROKER_TRANSPORT_OPTIONS, MIDDLEWARE

BROKER_KEY_PREFIX = "bench-meta:"
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": BROKER_KEY_PREFIX}
MIDDLEWARE = ["bench.timing.ServerTimingMiddleware", *MIDDLEWARE]
