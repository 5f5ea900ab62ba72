"""`python manage.py run_whatsapp_gateway`: the `whatsapp` process of the Procfile.

Holds one neonize client per seller session it leases; several gateways share the sessions.
SIGTERM or SIGINT stops the clients and releases the leases so another gateway takes over at
once.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run a WhatsApp gateway (one neonize client per leased seller session)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="", help="Gateway name (default: host-pid).")
        parser.add_argument(
            "--ai-badge",
            choices=["on", "off"],
            default=os.environ.get("WHATSAPP_AI_BADGE", "on"),
            help="Send with WhatsApp's AI badge (on) or without (off); serves the sellers of that setting.",
        )
        parser.add_argument(
            "--fake-clients",
            action="store_true",
            help="Loopback clients that never reach WhatsApp (tests and benchmarks only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # neonize reads this when its library loads: it must be set before the first import.
        os.environ["NEONIZE_BOT_TAG"] = options["ai_badge"]
        from channels_app.whatsapp.gateway import Gateway

        factory: Any = None
        if options["fake_clients"]:
            from channels_app.whatsapp.testing import FakeSessionClient

            factory = FakeSessionClient
        else:
            from channels_app.whatsapp.client import store_schema_check

            store_schema_check()  # whatsmeow's tables in `wa`, also through PgBouncer
        kwargs: dict[str, Any] = {"ai_badge": options["ai_badge"] == "on"}
        if factory is not None:
            kwargs["client_factory"] = factory
        gateway = Gateway(name=options["name"] or None, **kwargs)

        def stop(signum: int, _frame: Any) -> None:
            self.stdout.write(f"Gateway {gateway.name}: stopping (signal {signum}), releasing leases")
            gateway.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Gateway {gateway.name}: serving WhatsApp sessions (AI badge {options['ai_badge']})")
        last: dict[str, Any] = {}

        def progress(g: Gateway) -> None:
            counts = g.metrics.snapshot(list(g.runners.values()))["sessions"]
            if counts != last:
                last.clear()
                last.update(counts)
                summary = ", ".join(f"{state} {n}" for state, n in sorted(counts.items())) or "none"
                self.stdout.write(f"Gateway {g.name}: {len(g.runners)} sessions ({summary})")
                self.stdout.flush()

        gateway.run(on_tick=progress)
        self.stdout.write(f"Gateway {gateway.name}: stopped")
