"""A reply runner on a thread of the test process (its own event loop), for the tests."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from replies.runner import Options, ReplyRunner


class RunningRunner:
    def __init__(self, runner: ReplyRunner, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.runner, self.loop, self.thread = runner, loop, thread

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.runner.stop)
            self.thread.join(60)
            assert not self.thread.is_alive(), "the runner did not stop"


@contextmanager
def running(name: str = "", **options: Any) -> Iterator[RunningRunner]:
    """A reply runner answering until the block ends (then stopped as on SIGTERM)."""
    defaults = {"concurrency": 500, "per_seller": 500, "db_threads": 4, "claim_idle_seconds": 30, "shutdown_seconds": 5}
    runner = ReplyRunner(name or f"runner-{uuid.uuid4().hex[:6]}", Options(**{**defaults, **options}))
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.run(ready.set))
        loop.close()

    thread = threading.Thread(target=main, daemon=True, name=f"reply runner {runner.name}")
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("The reply runner did not start.")
    handle = RunningRunner(runner, loop, thread)
    try:
        yield handle
    finally:
        handle.stop()
