"""`python manage.py run_replies`: the reply runner (the Procfile's `replies` process)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand

from replies.runner import Options, ReplyRunner


class Command(BaseCommand):
    help = "Answer customers from the reply stream: many replies waiting on models, few database connections."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", default=None, help="this runner's consumer name (default: host-pid)")
        parser.add_argument("--concurrency", type=int, default=None, help="replies in progress at most")
        parser.add_argument("--db-threads", type=int, default=None, help="database threads (connections)")

    def handle(self, *args: Any, **options: Any) -> None:
        settings_options = Options()
        if options["concurrency"]:
            settings_options.concurrency = options["concurrency"]
        if options["db_threads"]:
            settings_options.db_threads = options["db_threads"]
        asyncio.run(self._run(ReplyRunner(options["name"], settings_options)))

    async def _run(self, runner: ReplyRunner) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runner.stop)

        def ready() -> None:
            self.stdout.write(
                f"Reply runner {runner.name}: {runner.options.concurrency} replies at most, "
                f"{runner.options.per_seller} per seller, {runner.options.db_threads} database threads",
            )
            self.stdout.flush()

        await runner.run(ready)
        self.stdout.write(f"Reply runner {runner.name} stopped: {runner.stats.as_dict()}")
