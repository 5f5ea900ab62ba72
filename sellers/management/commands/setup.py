"""Prepare the database: public schema, the template schema, every seller's schema, and the
platform superuser. Safe to run again: it only does what is missing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sellers.models import User
from sellers.selectors import sellers_real
from sellers.services import public_tenant_ensure, template_tenant_ensure


class Command(BaseCommand):
    help = "Migrate the public and seller schemas and create what the platform needs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-superuser", action="store_true", help="Do not create the platform superuser.")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options.get("verbosity", 1))
        self.stdout.write("Migrating the public schema…")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=max(verbosity - 1, 0))
        public_tenant_ensure()
        self.stdout.write("Preparing the template schema that new sellers are cloned from…")
        template_tenant_ensure(verbosity=max(verbosity - 1, 0))
        count = sellers_real().count()
        self.stdout.write(f"Migrating the template and {count} seller schema(s)…")
        call_command(
            "migrate_schemas",
            tenant=True,
            interactive=False,
            verbosity=max(verbosity - 1, 0),
            executor="multiprocessing" if count > 20 else "standard",
        )
        if not options["no_superuser"]:
            self._superuser()
        self.stdout.write(self.style.SUCCESS("Database ready."))

    def _superuser(self) -> None:
        email = settings.ADMIN_EMAIL.lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            User.objects.create_superuser(email=email, password=settings.DEMO_PASSWORD)
            self.stdout.write(f"Created the platform superuser {email}.")
        elif settings.DEBUG and not user.check_password(settings.DEMO_PASSWORD):
            user.set_password(settings.DEMO_PASSWORD)
            user.save(update_fields=["password"])
            self.stdout.write(f"Updated the password of {email} to DEMO_PASSWORD.")
