"""Django settings for ma5zani Bot.

Every value that changes between machines comes from the environment through the one
typed reader below (django-environ). `.env.example` and the README list them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` (never committed) is read when present; real environment variables win.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=False)

_DEV_SECRET = "dev-only-secret-key-never-use-in-production-0123456789abcdefghijklmnop"  # noqa: S105
SECRET_KEY: str = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# Sellers are reached at <slug>.<BASE_DOMAIN>; the public site at BASE_DOMAIN itself.
BASE_DOMAIN: str = env.str("BASE_DOMAIN", default="localhost").lower().strip(".")
PORT: int = env.int("PORT", default=8000)
# Where the public site is reached from outside (links in e-mails, the widget's script tag).
SITE_URL: str = env.str(
    "SITE_URL", default=f"http://{BASE_DOMAIN}:{PORT}" if DEBUG else f"https://{BASE_DOMAIN}"
).rstrip("/")
ALLOWED_HOSTS: list[str] = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env.list("ALLOWED_HOSTS", default=[])]
if DEBUG:
    ALLOWED_HOSTS += ["localhost", ".localhost", "127.0.0.1", "testserver"]
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -------------------------------------------------------------------------

SHARED_APPS = [
    "django_tenants",
    "daphne",
    "sellers",
    "channels_app",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "health_check",
    "review",
    # The reply runner (no models: it answers in each seller's schema)
    "replies",
]

TENANT_APPS = [
    # Content types and permissions live in the public schema only (one id per model for
    # everyone); each seller's schema keeps its own admin log.
    "django.contrib.admin",
    "conversations",
    "sales",
    "learning",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "sellers.Seller"
TENANT_DOMAIN_MODEL = "sellers.Domain"
PUBLIC_SCHEMA_URLCONF = "ma5zani.urls_public"
ROOT_URLCONF = "ma5zani.urls_tenant"
# New seller schemas are cloned from a migrated template schema instead of replaying every
# migration (Seller.create_schema; docs/architecture.md, "Provisioning").
TENANT_TEMPLATE_SCHEMA = "tenant_template"
TENANT_CLONE_TEMPLATE: bool = env.bool("TENANT_CLONE_TEMPLATE", default=True)
# Issue `SET search_path` only when the schema changes, not before every query.
TENANT_LIMIT_SET_CALLS = True
TENANT_MULTIPROCESSING_MAX_PROCESSES: int = env.int("MIGRATE_PROCESSES", default=2)

MIDDLEWARE = [
    # With DEBUG on, public endpoints still answer errors without the debug pages.
    "ma5zani.public_errors.PublicErrorsMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (CONTENT_SECURITY_POLICY below), a fresh nonce per response.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL in a path, query string, form field or file name: 400 before any view (ma5zani.inputs).
    "ma5zani.inputs.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "sellers.middleware.SellerAccessMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "sellers.context_processors.seller",
                "channels_app.context_processors.meta_reconnect",
            ],
        },
    },
]

WSGI_APPLICATION = "ma5zani.wsgi.application"
ASGI_APPLICATION = "ma5zani.asgi.application"

# --- Data stores --------------------------------------------------------------------------

if "DATABASE_URL" not in env:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Start commands through `make` (or "
        "`python scripts/devenv.py exec -- <command>`), which starts the embedded PostgreSQL "
        "and Redis when no servers are configured."
    )
DATABASES = {
    "default": env.db_url("DATABASE_URL", engine="django_tenants.postgresql_backend"),
}
# A Unix-socket folder may be given percent-encoded as the URL's host.
DATABASES["default"]["HOST"] = unquote(str(DATABASES["default"].get("HOST", "")))
# Opening a connection costs more than most queries, and the web process (ASGI) runs sync code
# in a new thread per request, where kept connections would pile up: each process therefore
# shares a psycopg pool of connections (DB_POOL_MAX_SIZE at most).
DB_POOL_MAX_SIZE: int = env.int("DB_POOL_MAX_SIZE", default=10)
if DB_POOL_MAX_SIZE > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
# Connections are checked before use (with the pool: psycopg_pool's check_connection, an empty
# query, each time one is taken), so the connections a PostgreSQL restart broke are replaced
# instead of failing the next requests and tasks.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Values bound by the server, and a statement run a few times on a connection prepared there:
# PostgreSQL then parses and plans the message path's statements once per connection (about a
# third of its CPU per message in bench/widget_load.py). Behind PgBouncer in session mode they
# work (its server_reset_query, DISCARD ALL, drops them when a client leaves). Turn off behind a
# pooler that cannot keep prepared statements.
if env.bool("DB_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
# A pooler in front of DATABASE_URL (docs/deploy.md, "PostgreSQL behind PgBouncer"): "" (none) or
# "session" (PgBouncer's session mode: a client keeps its server connection, as without a pooler).
# Transaction mode is refused: django-tenants sets the search path once per connection
# (TENANT_LIMIT_SET_CALLS) and trusts it afterwards, while PgBouncer runs each transaction on
# whichever server connection is free, where another seller's search path may be set
# (ma5zani/tests/test_pgbouncer.py shows the leak).
DB_POOLER_MODE: str = env.str("DB_POOLER_MODE", default="").strip().lower()
if DB_POOLER_MODE not in {"", "session"}:
    raise ImproperlyConfigured(
        f"DB_POOLER_MODE={DB_POOLER_MODE!r} is not supported: put PgBouncer in session mode in front of "
        "DATABASE_URL (DB_POOLER_MODE=session). In transaction mode django-tenants' search path, set once "
        "per connection, would run one seller's queries in another seller's schema. Only whatsmeow's "
        "store (WHATSAPP_STORE_URL) may go through transaction mode (docs/deploy.md)."
    )
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if "REDIS_URL" not in env:
    raise ImproperlyConfigured("REDIS_URL is not set (see DATABASE_URL above).")
REDIS_URL: str = env.str("REDIS_URL")
# Redis holds hints only (cache, rate-limit counters, queue, live events): every client on a
# request path connects and reads with this timeout, and a Redis that timed out is skipped by
# this process for REDIS_PAUSE_SECONDS (ma5zani.redis_guard), so a hanging Redis holds no request.
REDIS_TIMEOUT_SECONDS: float = env.float("REDIS_TIMEOUT_SECONDS", default=1.0)
REDIS_PAUSE_SECONDS: float = env.float("REDIS_PAUSE_SECONDS", default=5.0)

CACHES = {
    "default": {
        # Django's Redis cache where an unavailable Redis is a miss (reads find nothing, writes
        # are dropped): nothing may rely on the cache for a decision that must fail closed.
        "BACKEND": "ma5zani.redis_guard.FailOpenRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS},
        # Keys carry the tenant schema, so one seller's cache entries never serve another.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": "ma5zani",
    }
}

CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        # Redis pub/sub: a group message is one PUBLISH, read by one task per process. The list-based
        # layer (channels_redis.core) cost several round trips per message and lost a message for
        # one consumer when another consumer of the process disconnected at that moment
        # (django/channels#1683). Delivery is at most once either way: the database holds every
        # message, and the widget and the inbox read what they missed.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            # redis-py 8 times socket reads out after 5 s by default; read longer.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}],
            "prefix": "ma5zani:asgi",
        },
    }
}

# Sessions live in the database only: a Redis outage must not sign sellers out, and a sign-out
# whose cache delete failed must not leave the session alive in the cache (cached_db would).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery -------------------------------------------------------------------------------

CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL)
if CELERY_BROKER_URL.startswith("redis://"):  # kombu's Redis transport, sharing its clients
    CELERY_BROKER_TRANSPORT = "ma5zani.broker:Transport"
CELERY_RESULT_BACKEND: str = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    # A task taken by a worker that died is delivered again after this many seconds (the
    # sweeper answers the customer sooner; the redelivered task then finds nothing to do).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often workers look for such tasks.
    "unacked_restore_interval": env.int("CELERY_RESTORE_EVERY_SECONDS", default=10),
    "unacked_restore_throttle": 1,
    # Publishes (after a commit, on request paths) wait this long for a hanging Redis, not forever
    # (kombu's default); the consuming connection runs in the event loop, which has its own checks.
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
}
# How often beat sweeps for unanswered messages and stuck deliveries.
SWEEP_EVERY_SECONDS: float = env.float("SWEEP_EVERY_SECONDS", default=15.0)

# --- Accounts -----------------------------------------------------------------------------

AUTH_USER_MODEL = "sellers.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION: str = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_ADAPTER = "sellers.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "sellers.forms.SellerSignupForm"}
ACCOUNT_LOGOUT_ON_GET = False
# Sign-in attempts (counted before the password is checked; a right one starts its address's
# count for the account over): sellers.login_throttle (every sign-in form, the admin's too) instead of
# allauth's per-account limit, which let anyone lock an owner out.
LOGIN_FAILURES_PER_ADDRESS_ACCOUNT: str = env.str("LOGIN_FAILURES_PER_ADDRESS_ACCOUNT", default="5/5 minutes")
LOGIN_FAILURES_PER_ADDRESS: str = env.str("LOGIN_FAILURES_PER_ADDRESS", default="60/15 minutes")
LOGIN_FAILURES_PER_ACCOUNT: str = env.str("LOGIN_FAILURES_PER_ACCOUNT", default="50/hour")
LOGIN_FAILURES_PER_DEVICE: str = env.str("LOGIN_FAILURES_PER_DEVICE", default="10/hour")
ACCOUNT_RATE_LIMITS: dict[str, str | bool] | bool = {
    "login_failed": False,
    "signup": "20/h/ip",
    "reset_password": "20/m/ip,5/m/key",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND: str = _email["EMAIL_BACKEND"]
EMAIL_HOST: str = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT: int = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER: str = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD: str = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS: bool = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL: bool = bool(_email.get("EMAIL_USE_SSL", False))
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="ma5zani Bot <no-reply@ma5zani.com>")

DEMO_PASSWORD: str = env.str("DEMO_PASSWORD", default="ma5zani-demo-2026")
ADMIN_EMAIL: str = env.str("ADMIN_EMAIL", default="admin@ma5zani.local")

# --- API ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that a request without credentials gets 401 with WWW-Authenticate.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sellers.permissions.IsSellerMember"],
    # JSON of bounded size and depth, with no NUL, lone surrogate or non-finite number (ma5zani.inputs).
    "DEFAULT_PARSER_CLASSES": [
        "ma5zani.inputs.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_RATE_LIMIT", default="600/minute")},
}
# API tokens are stored as digests only (django-rest-knox); the key is shown once.
REST_KNOX = {
    "TOKEN_TTL": None,
    "AUTO_REFRESH": False,
    "TOKEN_PREFIX": "m5z_",
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ma5zani Bot API",
    "DESCRIPTION": "Catalog API of one seller, served under the seller's own domain.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["sellers.permissions.IsSellerMember"],
}

# --- Internationalization -----------------------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("ar", _("Arabic")), ("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Africa/Algiers"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "ma5zani_language"

# --- Files --------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT: Path = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT: Path = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media")))
STORAGES = {
    # Files of a seller live under MEDIA_ROOT/<schema>/ (django-tenants' storage).
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760

# --- Conversations ------------------------------------------------------------------------

# Who answers: "async", the reply runner (`replies`, the Procfile's `replies` process: an event
# loop waiting on models without holding threads or connections), or "celery", a Celery task
# per reply on the worker (a thread held through the pause and the model call).
REPLY_RUNNER: str = env.str("REPLY_RUNNER", default="async")
if REPLY_RUNNER not in {"async", "celery"}:
    raise ImproperlyConfigured("REPLY_RUNNER must be 'async' or 'celery'.")
# The Celery path's pause before answering, so that a burst of quick messages gets one answer.
REPLY_PAUSE_SECONDS: float = env.float("REPLY_PAUSE_SECONDS", default=0.8)
# The runner starts at once (a newer message cancels the reply in progress and starts it again
# with the whole burst); a pause here is a scheduled wake-up, holding nothing.
REPLY_RUNNER_PAUSE_SECONDS: float = env.float("REPLY_RUNNER_PAUSE_SECONDS", default=0.0)
REPLY_STREAM_PREFIX: str = env.str("REPLY_STREAM_PREFIX", default="ma5zani")
# Per runner process: replies in progress (waiting on a model costs a coroutine), and per seller,
# so that one seller's flood never holds back the others (sellers take turns).
REPLY_CONCURRENCY: int = env.int("REPLY_CONCURRENCY", default=2000)
REPLY_SELLER_CONCURRENCY: int = env.int("REPLY_SELLER_CONCURRENCY", default=200)
# Threads (so database connections) of a web process for its websockets' database work.
WEB_DB_THREADS: int = env.int("WEB_DB_THREADS", default=4)
# Threads (so database connections) of a runner, whatever the number of replies in progress.
REPLY_DB_THREADS: int = env.int("REPLY_DB_THREADS", default=8)
# Entries a runner read and did not finish for this long are taken over by another runner.
REPLY_CLAIM_IDLE_SECONDS: float = env.float("REPLY_CLAIM_IDLE_SECONDS", default=30.0)
# On SIGTERM a runner finishes its replies in progress for this long, then hands the rest back.
REPLY_SHUTDOWN_SECONDS: float = env.float("REPLY_SHUTDOWN_SECONDS", default=15.0)
# The engine that answers: the router picks OpenRouter when the seller has a key and budget left,
# and the built-in engine otherwise or when the provider fails.
BOT_ENGINE_CLASS: str = env.str("BOT_ENGINE_CLASS", default="sales.engine.router.RoutingEngine")
DELIVERY_MAX_ATTEMPTS: int = env.int("DELIVERY_MAX_ATTEMPTS", default=6)
DELIVERY_BACKOFF_SECONDS: float = env.float("DELIVERY_BACKOFF_SECONDS", default=2.0)
DELIVERY_BACKOFF_MAX_SECONDS: float = env.float("DELIVERY_BACKOFF_MAX_SECONDS", default=120.0)
SWEEP_REPLY_AFTER_SECONDS: int = env.int("SWEEP_REPLY_AFTER_SECONDS", default=20)
SWEEP_DELIVERY_AFTER_SECONDS: int = env.int("SWEEP_DELIVERY_AFTER_SECONDS", default=30)
SWEEP_MAX_AGE_HOURS: int = env.int("SWEEP_MAX_AGE_HOURS", default=24)
MESSAGE_MAX_CHARS: int = env.int("MESSAGE_MAX_CHARS", default=2000)
WIDGET_RATE_LIMIT_VISITOR: str = env.str("WIDGET_RATE_LIMIT_VISITOR", default="20/minute")
WIDGET_RATE_LIMIT_IP: str = env.str("WIDGET_RATE_LIMIT_IP", default="120/minute")
RATE_LIMIT_PREFIX = "ma5zani"

# --- WhatsApp gateway ---------------------------------------------------------------------

# whatsmeow's session store: the same PostgreSQL, schema `wa` (neonize opens it from this URL).
# Empty: DATABASE_URL's server with search_path=wa. Every neonize client keeps connections of its
# own, so a gateway of hundreds of sessions points this at PgBouncer in transaction mode, whose
# entry sets the search path (connect_query='SET search_path TO wa'): see docs/deploy.md.
WHATSAPP_STORE_URL: str = env.str("WHATSAPP_STORE_URL", default="")
# Leases: a gateway renews its sessions every third of this; a dead gateway's sessions move after it.
WHATSAPP_LEASE_SECONDS: float = env.float("WHATSAPP_LEASE_SECONDS", default=30.0)
# Clients are started one after another, this far apart.
WHATSAPP_START_GAP_SECONDS: float = env.float("WHATSAPP_START_GAP_SECONDS", default=0.5)
WHATSAPP_MAX_SESSIONS: int = env.int("WHATSAPP_MAX_SESSIONS", default=500)
# Threads that store events and send (each holds one database connection at most).
WHATSAPP_DB_THREADS: int = env.int("WHATSAPP_DB_THREADS", default=4)
WHATSAPP_SEND_THREADS: int = env.int("WHATSAPP_SEND_THREADS", default=16)
# Customers' messages arriving within this window are stored together (one commit per batch).
WHATSAPP_BATCH_THREADS: int = env.int("WHATSAPP_BATCH_THREADS", default=1)
WHATSAPP_BATCH_LINGER_SECONDS: float = env.float("WHATSAPP_BATCH_LINGER_SECONDS", default=0.004)
# Reconnection: exponential backoff with jitter, capped; a connect that takes longer is restarted.
WHATSAPP_RECONNECT_BASE_SECONDS: float = env.float("WHATSAPP_RECONNECT_BASE_SECONDS", default=2.0)
WHATSAPP_RECONNECT_MAX_SECONDS: float = env.float("WHATSAPP_RECONNECT_MAX_SECONDS", default=300.0)
WHATSAPP_CONNECT_TIMEOUT_SECONDS: float = env.float("WHATSAPP_CONNECT_TIMEOUT_SECONDS", default=60.0)
# A connected session that received nothing for this long and missed keep-alives is flagged.
WHATSAPP_SILENT_SECONDS: float = env.float("WHATSAPP_SILENT_SECONDS", default=600.0)
# Our own QR login timeout (whatsmeow raises no event when its QR codes run out).
WHATSAPP_LOGIN_TIMEOUT_SECONDS: float = env.float("WHATSAPP_LOGIN_TIMEOUT_SECONDS", default=150.0)
# Before a reply: typing for a time that grows with its length, bounded.
WHATSAPP_TYPING_SECONDS_PER_CHAR: float = env.float("WHATSAPP_TYPING_SECONDS_PER_CHAR", default=0.03)
WHATSAPP_TYPING_MIN_SECONDS: float = env.float("WHATSAPP_TYPING_MIN_SECONDS", default=1.0)
WHATSAPP_TYPING_MAX_SECONDS: float = env.float("WHATSAPP_TYPING_MAX_SECONDS", default=6.0)
# Anti-ban limits (the `limits` library on Redis): per seller, per chat, and a gap with jitter.
WHATSAPP_RATE_PER_MINUTE: str = env.str("WHATSAPP_RATE_PER_MINUTE", default="30/minute")
WHATSAPP_RATE_PER_DAY: str = env.str("WHATSAPP_RATE_PER_DAY", default="1000/day")
WHATSAPP_RATE_PER_CHAT: str = env.str("WHATSAPP_RATE_PER_CHAT", default="8/minute")
WHATSAPP_CHAT_GAP_SECONDS: float = env.float("WHATSAPP_CHAT_GAP_SECONDS", default=2.0)
WHATSAPP_JITTER_SECONDS: float = env.float("WHATSAPP_JITTER_SECONDS", default=0.8)
# /health/ reads the workers' heartbeats (ma5zani.heartbeat): written this often, stale after that.
WORKER_HEARTBEAT_SECONDS: float = env.float("WORKER_HEARTBEAT_SECONDS", default=5.0)
WORKER_HEARTBEAT_STALE_SECONDS: float = env.float("WORKER_HEARTBEAT_STALE_SECONDS", default=20.0)
HEALTH_REDIS_TIMEOUT_SECONDS: float = env.float("HEALTH_REDIS_TIMEOUT_SECONDS", default=0.5)
# Bearer token that unlocks /health/?details=1 (per-seller WhatsApp sessions); empty: never.
HEALTH_TOKEN: str = env.str("HEALTH_TOKEN", default="")
# Redis keys of the gateway (outbound streams); carries the test run in the tests.
WHATSAPP_REDIS_PREFIX: str = env.str("WHATSAPP_REDIS_PREFIX", default="wa")
WHATSAPP_MEDIA_MAX_BYTES: int = env.int("WHATSAPP_MEDIA_MAX_BYTES", default=16 * 1024 * 1024)
# Voice notes: an OpenAI-compatible /audio/transcriptions endpoint (empty: ask for text instead).
TRANSCRIPTION_BASE_URL: str = env.str("TRANSCRIPTION_BASE_URL", default="")
TRANSCRIPTION_API_KEY: str = env.str("TRANSCRIPTION_API_KEY", default="")
TRANSCRIPTION_MODEL: str = env.str("TRANSCRIPTION_MODEL", default="whisper-1")
TRANSCRIPTION_TIMEOUT_SECONDS: float = env.float("TRANSCRIPTION_TIMEOUT_SECONDS", default=30.0)

# --- Meta (Messenger and Instagram) -------------------------------------------------------

# The Graph API version and hosts (Facebook Login for Business and Instagram API with
# Instagram Login); tests point the hosts at a loopback Graph server.
META_GRAPH_VERSION: str = env.str("META_GRAPH_VERSION", default="v26.0")
META_GRAPH_URL: str = env.str("META_GRAPH_URL", default="https://graph.facebook.com")
META_INSTAGRAM_GRAPH_URL: str = env.str("META_INSTAGRAM_GRAPH_URL", default="https://graph.instagram.com")
# Where the OAuth dialogs are (the seller's browser goes there).
META_FACEBOOK_DIALOG_URL: str = env.str("META_FACEBOOK_DIALOG_URL", default="https://www.facebook.com")
META_INSTAGRAM_DIALOG_URL: str = env.str("META_INSTAGRAM_DIALOG_URL", default="https://www.instagram.com")
# Where Instagram Login's authorization code is exchanged for a token (POST /oauth/access_token).
META_INSTAGRAM_OAUTH_URL: str = env.str("META_INSTAGRAM_OAUTH_URL", default="https://api.instagram.com")
# The Meta app (Facebook Login for Business, Messenger, Instagram via a Page).
META_APP_ID: str = env.str("META_APP_ID", default="")
META_APP_SECRET: str = env.str("META_APP_SECRET", default="")
# Facebook Login for Business names the permissions it asks for with a configuration made in
# the app's dashboard; empty: the dialog asks for the scopes of channels_app.meta.accounts.
META_FACEBOOK_CONFIG_ID: str = env.str("META_FACEBOOK_CONFIG_ID", default="")
# The Instagram app of the same Meta app (Instagram API with Instagram Login has its own id
# and secret); empty: the Meta app's.
META_INSTAGRAM_APP_ID: str = env.str("META_INSTAGRAM_APP_ID", default="")
META_INSTAGRAM_APP_SECRET: str = env.str("META_INSTAGRAM_APP_SECRET", default="")
# The token Meta echoes back when it verifies the webhook (GET hub.verify_token).
META_VERIFY_TOKEN: str = env.str("META_VERIFY_TOKEN", default="")
META_TIMEOUT_SECONDS: float = env.float("META_TIMEOUT_SECONDS", default=10.0)
# Sends per second per Page or Instagram account (Meta allows 300; audio and video 10).
META_SEND_RATE_PER_SECOND: float = env.float("META_SEND_RATE_PER_SECOND", default=250.0)
# Hosts (and their subdomains) attachments are fetched from: Meta's CDNs only.
META_MEDIA_HOSTS: list[str] = env.list(
    "META_MEDIA_HOSTS", default=["fbcdn.net", "fbsbx.com", "cdninstagram.com", "facebook.com", "instagram.com"]
)

# --- Sales engine -------------------------------------------------------------------------

OPENROUTER_BASE_URL: str = env.str("OPENROUTER_BASE_URL", default="https://openrouter.ai/api/v1")
# A platform key used for sellers who have not set their own (empty: only sellers' own keys).
OPENROUTER_API_KEY: str = env.str("OPENROUTER_API_KEY", default="")
OPENROUTER_TIMEOUT_SECONDS: float = env.float("OPENROUTER_TIMEOUT_SECONDS", default=20.0)
OPENROUTER_MAX_RETRIES: int = env.int("OPENROUTER_MAX_RETRIES", default=2)
# The async path (sales.engine.provider): one connection pool per event loop for every key, and
# how long a request may wait for its key's rate limit (429) before the built-in engine answers.
OPENROUTER_MAX_CONNECTIONS: int = env.int("OPENROUTER_MAX_CONNECTIONS", default=1000)
OPENROUTER_RATE_LIMIT_MAX_WAIT_SECONDS: float = env.float("OPENROUTER_RATE_LIMIT_MAX_WAIT_SECONDS", default=8.0)
# Sent as HTTP-Referer and X-Title (OpenRouter's app attribution).
OPENROUTER_APP_URL: str = env.str("OPENROUTER_APP_URL", default="https://ma5zani.com")
OPENROUTER_APP_TITLE: str = env.str("OPENROUTER_APP_TITLE", default="ma5zani Bot")
ENGINE_MAX_TOOL_ROUNDS: int = env.int("ENGINE_MAX_TOOL_ROUNDS", default=5)
# After this many provider failures in a row the built-in engine answers for a while.
ENGINE_BREAKER_FAILURES: int = env.int("ENGINE_BREAKER_FAILURES", default=3)
ENGINE_BREAKER_OPEN_SECONDS: int = env.int("ENGINE_BREAKER_OPEN_SECONDS", default=60)
# Fernet keys for secrets stored in the database, newest first (ma5zani.crypto).
FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- Catalog ------------------------------------------------------------------------------

CATALOG_IMPORT_MAX_BYTES: int = env.int("CATALOG_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
CATALOG_IMPORT_MAX_ROWS: int = env.int("CATALOG_IMPORT_MAX_ROWS", default=50_000)
PRODUCT_IMAGE_MAX_BYTES: int = env.int("PRODUCT_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)

# --- Security -----------------------------------------------------------------------------

# Addresses (or networks) of the proxies in front of the web process, e.g. 127.0.0.1 for an nginx
# on the same machine: only their X-Forwarded-For / X-Forwarded-Proto are believed (ma5zani.asgi).
# Empty: none, the connection's peer is the client. HTTPS then comes from the ASGI scope's scheme,
# never from a header anyone can send (so no SECURE_PROXY_SSL_HEADER).
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
# Scripts run only from our own files or with the response's nonce (`request.csp_nonce` on each
# <script>): an injected script, inline or from another site, never runs. Styles may be inline
# (Django's admin and the API docs use style attributes; the widget styles its shadow root).
# Images: our files, data URIs (the WhatsApp QR code) and Meta's CDNs (an Instagram story is
# shown from its link, never copied). Websockets and fetches: our own host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:", "https://*.fbcdn.net", "https://*.cdninstagram.com", "https://*.fbsbx.com"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE: bool = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE: bool = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=False)
# The load balancer probes /health/ over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^health/live/$"]
SILENCED_SYSTEM_CHECKS: list[str] = []
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- Logging ------------------------------------------------------------------------------

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "health_check": {"level": "ERROR"},
    },
}
