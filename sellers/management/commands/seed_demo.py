"""Create (or bring up to date) the demo seller with its catalog. Idempotent."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import algeria_wilayas_communes as dz
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw, ImageFont

from channels_app.widget.services import widget_account_ensure, widget_settings_update
from sales.models import DeliveryRate, Product, ProductImage
from sales.services.catalog_csv import catalog_import_text
from sales.services.settings import RateData, delivery_rates_update
from sellers.models import Membership, Seller, User
from sellers.services import seller_provision

DEMO_CATALOG = Path(__file__).resolve().parents[3] / "sales" / "fixtures" / "demo_catalog.csv"
DEMO_EMAIL = "demo@ma5zani.local"
DEMO_SLUG = "demo"

# Wilayas of the north (closest to the demo shop in Algiers) pay less for delivery.
NEAR = {9, 10, 15, 16, 26, 35, 42, 44}


def placeholder_image(product: Product) -> ContentFile:
    """A square picture in a colour of the product's own, with its initial."""
    digest = hashlib.sha256(product.code.encode()).digest()
    background = (60 + digest[0] % 150, 60 + digest[1] % 150, 60 + digest[2] % 150)
    picture = Image.new("RGB", (480, 480), background)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=220)
    letter = (product.name_fr or product.name_en or product.code)[:1].upper()
    draw.text((240, 240), letter, fill=(255, 255, 255), font=font, anchor="mm")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=f"{product.code}.png")


class Command(BaseCommand):
    help = "Create the demo seller 'demo' with about twenty products."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(email=DEMO_EMAIL, password=settings.DEMO_PASSWORD)
                EmailAddress.objects.create(user=user, email=DEMO_EMAIL, primary=True, verified=True)
            elif not user.check_password(settings.DEMO_PASSWORD):
                user.set_password(settings.DEMO_PASSWORD)
                user.save(update_fields=["password"])
            seller = Seller.objects.filter(slug=DEMO_SLUG).first()
            if seller is None:
                seller = seller_provision(name="Boutique Demo", slug=DEMO_SLUG, owner=user)
                self.stdout.write("Created the demo seller.")
            Membership.objects.get_or_create(user=user, seller=seller, defaults={"role": Membership.Role.OWNER})
            # The demo shop page on the public site embeds the demo seller's widget.
            account = widget_account_ensure(seller)
            origins = sorted({*account.config.get("allowed_origins", []), settings.SITE_URL})
            widget_settings_update(account=account, origins=origins)
        with tenant_context(seller):
            summary = catalog_import_text(DEMO_CATALOG.read_text(encoding="utf-8"))
            if summary.error_rows:
                self.stderr.write(f"Demo catalog rows rejected: {summary.errors}")
            for product in Product.objects.filter(images__isnull=True):
                ProductImage.objects.create(
                    product=product, image=placeholder_image(product), alt_text=product.display_name()
                )
            if not DeliveryRate.objects.exists():
                delivery_rates_update(
                    rates=[
                        RateData(
                            wilaya=int(w["wilaya_num"]),
                            is_served=True,
                            home_fee=500 if int(w["wilaya_num"]) in NEAR else 900,
                            desk_fee=350 if int(w["wilaya_num"]) in NEAR else 600,
                        )
                        for w in dz.get_wilayas()
                    ]
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo seller ready: {summary.created} created, {summary.updated} updated, "
                f"{summary.unchanged} unchanged catalog rows."
            )
        )
