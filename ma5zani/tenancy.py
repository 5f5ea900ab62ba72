"""Tenant resolution and schema switching outside the HTTP middleware.

HTTP requests get their seller from django-tenants' middleware. Websocket connections,
Celery tasks and gateways use the helpers here. A database connection is shared by whatever
runs on its thread, so the schema is set inside every database call (`run_in_tenant`), never
once per connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from channels.db import DatabaseSyncToAsync
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

if TYPE_CHECKING:
    from sellers.models import Seller

P = ParamSpec("P")
R = TypeVar("R")


def scope_header(scope: dict[str, Any], name: bytes) -> str:
    """A header of an ASGI scope (`name` in lower case), as text; "" when absent."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def hostname_from_headers(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            return host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return ""


def seller_for_hostname(hostname: str) -> Seller | None:
    """The active seller whose domain is `hostname`, looked up in the public schema."""
    from ma5zani.inputs import text_is_clean
    from sellers.models import Domain

    if not text_is_clean(hostname):  # a NUL is no host name, and PostgreSQL refuses it
        return None
    with schema_context(get_public_schema_name()):
        domain = Domain.objects.select_related("tenant").filter(domain=hostname.removeprefix("www.")).first()
    if domain is None:
        return None
    tenant = domain.tenant
    if tenant.schema_name == get_public_schema_name() or not tenant.is_active:
        return None
    return tenant


_db_threads: ThreadPoolExecutor | None = None


def db_threads() -> ThreadPoolExecutor:
    """The process's few threads for websocket consumers' database work (WEB_DB_THREADS: so
    connections), shared by every event loop of the process."""
    global _db_threads
    if _db_threads is None:
        _db_threads = ThreadPoolExecutor(max_workers=settings.WEB_DB_THREADS, thread_name_prefix="ws-db")
    return _db_threads


def db_call(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` (which touches the database) from a consumer, on `db_threads()`: a thousand
    websockets' frames are stored side by side while each waits on PostgreSQL, not one after
    another on the one thread that thread-sensitive calls share. One connection's frames are
    still handled in order (a consumer awaits each before it reads the next)."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=db_threads())


async def run_in_tenant(schema_name: str, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `func` on a database thread with the seller's schema set for exactly that call."""

    def call() -> R:
        with schema_context(schema_name):
            return func(*args, **kwargs)

    return await db_call(call)()


def current_schema() -> str:
    """The schema the default connection is set to (django-tenants adds the attribute)."""
    return str(getattr(connection, "schema_name", get_public_schema_name()))


def set_public_schema() -> None:
    connection.set_schema_to_public()  # type: ignore[attr-defined]


class TenantWebsocketMiddleware(BaseMiddleware):
    """Puts the seller resolved from the Host header into `scope["tenant"]` (or None)."""

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> Any:
        hostname = hostname_from_headers(scope.get("headers", []))
        tenant = await db_call(seller_for_hostname)(hostname) if hostname else None
        return await super().__call__({**scope, "tenant": tenant}, receive, send)


def after_commit(func: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
    """Run `func` once the current transaction commits, in the schema that is current now.

    One transaction may span several sellers' schemas (the WhatsApp gateway commits many
    sellers' batches at once; a test may commit after leaving the schema): a callback that read
    the schema when it runs would act for the wrong seller, or for none."""
    from django.db import transaction

    schema = current_schema()

    def run() -> None:
        with schema_context(schema):
            func(*args, **kwargs)

    transaction.on_commit(run)
