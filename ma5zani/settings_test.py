"""Settings for the test suite: the real settings with test-only secrets and faster hashing."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from ma5zani.settings import *  # noqa: F403
from ma5zani.settings import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS, CHANNEL_LAYERS, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Shared with the processes a test starts, like TEST_RUN_ID below.
MEDIA_ROOT = Path(os.environ.setdefault("TEST_MEDIA_ROOT", tempfile.mkdtemp(prefix="ma5zani-test-media-")))
STATIC_ROOT = Path(os.environ.setdefault("TEST_STATIC_ROOT", tempfile.mkdtemp(prefix="ma5zani-test-static-")))
WHITENOISE_USE_FINDERS = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test session gets its own key space in the shared Redis.
# Shared with the processes a test starts (a server, a worker), so they meet on the same keys.
_RUN = os.environ.setdefault("TEST_RUN_ID", uuid.uuid4().hex[:8])
RATE_LIMIT_PREFIX = f"test-{_RUN}"
WIDGET_RATE_LIMIT_IP = "100000/minute"
CACHES["default"]["KEY_PREFIX"] = f"test-{_RUN}"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{_RUN}:asgi"
CELERY_TASK_ALWAYS_EAGER = False
# Queues of this run only, whoever else uses the same Redis.
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": f"test-{_RUN}:"}
ACCOUNT_RATE_LIMITS = False
REPLY_STREAM_PREFIX = os.environ.get("REPLY_STREAM_PREFIX", f"test-{_RUN}")
WHATSAPP_REDIS_PREFIX = os.environ.get("WHATSAPP_REDIS_PREFIX", f"test-{_RUN}:wa")
