"""Database work of the reply runner, on a small pool of threads.

Every ORM call of a reply (reading the conversation, the engine's retrieval and tools, storing
the answer) runs here, in the seller's schema, while the event loop goes on with the other
replies. The pool's size (REPLY_DB_THREADS) bounds the runner's database connections, whatever
the number of replies waiting on a model. A caller that is cancelled does not interrupt the
function: it finishes (and commits or rolls back) on its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django_tenants.utils import schema_context

T = TypeVar("T")


def _in_schema(schema: str, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    # Each thread keeps its connection from call to call (taking it from the process's pool
    # and checking it on every call cost a round trip each); one that failed is closed, so the
    # call tried again gets a fresh one, checked by the pool.
    try:
        with schema_context(schema):
            return fn(*args)
    except (OperationalError, InterfaceError):
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        raise


class Database:
    """The runner's pool of database threads."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reply-db")

    def run(self, schema: str, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run `fn(*args)` in `schema` on a database thread; await the result."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._pool, _in_schema, schema, fn, args)

    def runner(self, schema: str) -> Callable[..., asyncio.Future[Any]]:
        """A `sales.engine.base.DbRunner` for one seller."""
        return functools.partial(self.run, schema)

    def close(self) -> None:
        """Give every thread's connection back (to the process's pool), then end the threads."""
        started = len(self._pool._threads)
        if started:
            barrier = threading.Barrier(started)

            def close_own() -> None:
                connections.close_all()
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=10)  # each thread takes exactly one of these

            for future in [self._pool.submit(close_own) for _ in range(started)]:
                future.result(timeout=30)
        self._pool.shutdown(wait=True, cancel_futures=True)


def is_transient(error: BaseException) -> bool:
    """A database failure worth trying again soon (the server restarting, a lost connection)."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    )
