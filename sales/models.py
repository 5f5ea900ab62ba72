"""Catalog, delivery fees and bot settings of one seller. Tenant schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

MAX_PRICE_DZD = 100_000_000


class Category(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet["Product"]):
    def live(self) -> ProductQuerySet:
        """Products the bot may offer: active and not archived."""
        return self.filter(is_active=True, archived_at__isnull=True)


class Product(models.Model):
    """A product; what a customer orders is one of its variants."""

    code = models.SlugField(
        _("product code"),
        max_length=64,
        unique=True,
        help_text=_("Groups the variants of a product in CSV files."),
    )
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    name_fr = models.CharField(_("name (French)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    synonyms = ArrayField(
        models.CharField(max_length=80),
        blank=True,
        default=list,
        verbose_name=_("synonyms"),
        help_text=_("Other words customers use for it, e.g. sabat, chaussure, صباط."),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("category"),
    )
    price = models.PositiveIntegerField(_("price (DZD)"), validators=[MaxValueValidator(MAX_PRICE_DZD)])
    compare_at_price = models.PositiveIntegerField(
        _("compare-at price (DZD)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_PRICE_DZD)],
        help_text=_("The former price, shown struck through. Must be higher than the price."),
    )
    promotion_ends_at = models.DateTimeField(
        _("promotion ends at"),
        null=True,
        blank=True,
        help_text=_("When the compare-at price stops applying; the bot may mention it as a deadline."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    # The names, code and synonyms as the bot searches them (sales.engine.language.search_terms),
    # kept by save() and indexed with trigrams.
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    SEARCH_SOURCES = frozenset({"name_ar", "name_fr", "name_en", "code", "synonyms"})

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="product_search_trgm"),
            models.Index(fields=["category", "price"], name="product_category_price"),
            models.Index(fields=["price"], name="product_price"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name_ar="", name_fr="", name_en=""),
                name="product_has_a_name",
                violation_error_message=_("Give the product a name in at least one language."),
            ),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True) | Q(compare_at_price__gt=models.F("price")),
                name="compare_at_above_price",
                violation_error_message=_("The compare-at price must be higher than the price."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name()

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or self.SEARCH_SOURCES & set(update_fields):
            self.search_text = product_search_text(self)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.compare_at_price is not None and self.price is not None and self.compare_at_price <= self.price:
            raise ValidationError({"compare_at_price": _("The compare-at price must be higher than the price.")})

    def display_name(self, language: str | None = None) -> str:
        order = {"ar": ("ar", "fr", "en"), "en": ("en", "fr", "ar")}.get(language or "", ("fr", "en", "ar"))
        for lang in order:
            value = getattr(self, f"name_{lang}")
            if value:
                return str(value)
        return self.code

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def total_stock(self) -> int:
        """Units in stock over all variants (uses prefetched variants when present)."""
        return sum(variant.stock for variant in self.variants.all())


def product_search_text(product: Product) -> str:
    from sales.engine.language import search_terms

    source = " ".join([product.name_ar, product.name_fr, product.name_en, product.code, *product.synonyms])
    return " ".join(dict.fromkeys(search_terms(source.replace("-", " "))))


class Variant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    size = models.CharField(_("size"), max_length=40, blank=True)
    colour = models.CharField(_("colour"), max_length=40, blank=True)
    stock = models.PositiveIntegerField(_("stock"), default=0)
    price_override = models.PositiveIntegerField(
        _("price override (DZD)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_PRICE_DZD)],
        help_text=_("Leave empty to use the product's price."),
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(fields=["product", "size", "colour"], name="unique_variant_options"),
        ]

    def __str__(self) -> str:
        options = " / ".join(v for v in (self.size, self.colour) if v)
        return f"{self.sku} ({options})" if options else self.sku

    @property
    def price(self) -> int:
        return self.price_override if self.price_override is not None else self.product.price

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


def product_image_path(instance: ProductImage, filename: str) -> str:
    # The storage already puts every file under the seller's schema folder.
    return f"products/{instance.product_id}/{filename}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to=product_image_path)
    alt_text = models.CharField(_("description"), max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return self.image.name


class DeliveryRate(models.Model):
    """Delivery fees to one wilaya. Wilayas come from the algeria-wilayas-communes package."""

    wilaya = models.PositiveSmallIntegerField(
        _("wilaya"), unique=True, validators=[MinValueValidator(1), MaxValueValidator(69)]
    )
    is_served = models.BooleanField(_("served"), default=True)
    home_fee = models.PositiveIntegerField(
        _("home delivery fee (DZD)"), null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )
    desk_fee = models.PositiveIntegerField(
        _("stop-desk fee (DZD)"), null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )
    days = models.PositiveSmallIntegerField(
        _("usual delivery time (days)"), null=True, blank=True, validators=[MaxValueValidator(60)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["wilaya"]
        verbose_name = _("delivery rate")
        verbose_name_plural = _("delivery rates")

    def __str__(self) -> str:
        return f"{self.wilaya:02d}"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_business_hours() -> dict[str, list[list[str]]]:
    # Algerian week: Friday off.
    hours = {day: [["09:00", "18:00"]] for day in WEEKDAYS}
    hours["fri"] = []
    return hours


def default_languages() -> list[str]:
    """A new shop answers in every language it knows (the form then shows them all ticked)."""
    return ["darija", "ar", "fr", "en"]


def default_handoff_keywords() -> list[str]:
    return [
        "نحب نهدر مع واحد",
        "بغيت نهدر مع",
        "hab nahdar m3a",
        "nheb nehder m3a",
        "عبد حقيقي",
        "مسؤول",
        "je veux parler à quelqu'un",
        "conseiller",
        "talk to a human",
        "real person",
        "agent",
    ]


class BotSettings(models.Model):
    """How the seller's bot behaves. One row per seller (pk 1)."""

    class Intensity(models.TextChoices):
        GENTLE = "gentle", _("Gentle")
        BALANCED = "balanced", _("Balanced")
        AGGRESSIVE = "aggressive", _("Aggressive")

    class AfterHours(models.TextChoices):
        ANSWER_AND_TELL = "answer_and_tell", _("Answer, and say when a person is available")
        ANSWER = "answer", _("Answer as usual")
        AWAY = "away", _("Only send an away message with the opening time")

    class Language(models.TextChoices):
        DARIJA = "darija", _("Darija")
        ARABIC = "ar", _("Arabic")
        FRENCH = "fr", _("French")
        ENGLISH = "en", _("English")

    is_enabled = models.BooleanField(_("bot on"), default=True)
    intensity = models.CharField(
        _("sales intensity"), max_length=16, choices=Intensity.choices, default=Intensity.BALANCED
    )
    max_discount_percent = models.PositiveSmallIntegerField(
        _("maximum discount (%)"), default=10, validators=[MaxValueValidator(90)]
    )
    languages = ArrayField(
        models.CharField(max_length=8, choices=Language.choices),
        default=default_languages,
        blank=True,
        verbose_name=_("languages"),
    )
    persona_name = models.CharField(_("persona name"), max_length=60, default="Amina")
    greeting = models.TextField(_("greeting"), blank=True, default="مرحبا بيك! كيفاش نقدر نعاونك اليوم؟")
    handoff_keywords = ArrayField(
        models.CharField(max_length=80),
        default=default_handoff_keywords,
        blank=True,
        verbose_name=_("handoff keywords"),
    )
    business_hours = models.JSONField(_("business hours"), default=default_business_hours)
    timezone = models.CharField(_("time zone"), max_length=64, default="Africa/Algiers")
    after_hours = models.CharField(
        _("outside business hours"),
        max_length=16,
        choices=AfterHours.choices,
        default=AfterHours.ANSWER_AND_TELL,
    )
    group_chats_enabled = models.BooleanField(_("answer in group chats"), default=False)
    bot_resume_after_minutes = models.PositiveIntegerField(
        _("bot answers again after (minutes)"),
        default=30,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_(
            "After this long without a message in a conversation you took over, the bot answers again. 0: never."
        ),
    )
    ai_model = models.CharField(
        _("AI model"),
        max_length=120,
        default="anthropic/claude-haiku-4.5",
        help_text=_("An OpenRouter model id. Used only with an OpenRouter key."),
    )
    # Encrypted at rest (ma5zani.crypto); the page never shows it back.
    openrouter_key_encrypted = models.TextField(blank=True)
    monthly_budget_usd = models.DecimalField(
        _("monthly AI budget (USD)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Past this amount in a month the built-in engine answers until the next month."),
    )
    draft_reminder_minutes = models.PositiveIntegerField(
        _("remind an unfinished order after (minutes)"),
        default=60,
        validators=[MaxValueValidator(23 * 60)],
        help_text=_("One reminder to a customer who stopped in the middle of an order. 0: never."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bot settings")
        verbose_name_plural = _("bot settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="bot_settings_singleton")]

    def __str__(self) -> str:
        return str(_("Bot settings"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @property
    def openrouter_key(self) -> str:
        """The seller's key, or "" when none is stored. SecretUnreadable when the stored value
        cannot be decrypted (keys rotated, a damaged value): see `openrouter_key_unreadable`."""
        from ma5zani.crypto import decrypt

        return decrypt(self.openrouter_key_encrypted) if self.openrouter_key_encrypted else ""

    @openrouter_key.setter
    def openrouter_key(self, value: str) -> None:
        from ma5zani.crypto import encrypt

        self.openrouter_key_encrypted = encrypt(value) if value else ""

    @property
    def openrouter_key_unreadable(self) -> bool:
        """A key is stored but cannot be decrypted with this server's keys: it must be entered again."""
        from ma5zani.crypto import SecretUnreadable

        try:
            self.openrouter_key  # noqa: B018
        except SecretUnreadable:
            return True
        return False

    def is_open_at(self, moment: dt.datetime) -> bool:
        """Whether `moment` falls within business hours, in the seller's time zone."""
        from zoneinfo import ZoneInfo

        local = moment.astimezone(ZoneInfo(self.timezone))
        ranges = self.business_hours.get(WEEKDAYS[local.weekday()], [])
        now = local.strftime("%H:%M")
        return any(start <= now < end for start, end in ranges)

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The first opening time after `moment`, in the seller's time zone (an aware datetime);
        None when the shop is closed every day of the week."""
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        for offset in range(8):  # a week ahead, and the same weekday again
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in sorted(self.business_hours.get(WEEKDAYS[day.weekday()], [])):
                hour, minute = (int(part) for part in start.split(":"))
                opening = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
                if opening > local:
                    return opening
        return None


class CatalogImport(models.Model):
    """One CSV import, run by a worker; the page shows its progress from this row."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    error_message = models.TextField(blank=True)
    # Reasons are written in the language of the person who uploaded the file.
    language = models.CharField(max_length=8, default="fr")
    # The user lives in the public schema; a plain id keeps deleting a user from touching
    # every seller's schema.
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("catalog import")
        verbose_name_plural = _("catalog imports")

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(100 * self.processed_rows / self.total_rows))


# --- Orders -------------------------------------------------------------------------------


class OrderQuerySet(models.QuerySet["Order"]):
    def open(self) -> OrderQuerySet:
        """Drafts the bot is filling and orders waiting for the customer's yes."""
        return self.filter(status__in=Order.OPEN_STATUSES)

    def sold(self) -> OrderQuerySet:
        """Real orders the customer confirmed (shipped and delivered included; no tests)."""
        return self.filter(status__in=Order.SOLD_STATUSES, is_test=False)


class Order(models.Model):
    """A cash-on-delivery order. Prices are copied from the catalog when an item is added, so
    a later price change never alters an order the customer agreed to."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING = "awaiting", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = ("draft", "awaiting")
    SOLD_STATUSES = ("confirmed", "shipped", "delivered")

    class DeliveryType(models.TextChoices):
        HOME = "home", _("Home delivery")
        DESK = "desk", _("Stop desk")

    class CreatedBy(models.TextChoices):
        BOT = "bot", _("Bot")
        SELLER = "seller", _("Seller")

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.CharField(_("created by"), max_length=8, choices=CreatedBy.choices, default=CreatedBy.BOT)
    created_by_member_id = models.BigIntegerField(null=True, blank=True)
    customer = models.ForeignKey(
        "conversations.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    customer_name = models.CharField(_("name"), max_length=200, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True, region="DZ")
    wilaya = models.PositiveSmallIntegerField(
        _("wilaya"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(69)]
    )
    commune = models.CharField(_("commune"), max_length=120, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    delivery_type = models.CharField(_("delivery"), max_length=8, choices=DeliveryType.choices, blank=True)
    subtotal = models.PositiveIntegerField(_("subtotal (DZD)"), default=0)
    discount_percent = models.PositiveSmallIntegerField(_("discount (%)"), default=0)
    discount = models.PositiveIntegerField(_("discount (DZD)"), default=0)
    delivery_fee = models.PositiveIntegerField(_("delivery fee (DZD)"), default=0)
    total = models.PositiveIntegerField(_("total (DZD)"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    # Taken in the "try your bot" sandbox: no stock moves, left out of lists and figures.
    is_test = models.BooleanField(_("test order"), default=False)
    reminded_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["status", "created_at"], name="order_status_created")]
        constraints = [
            # One open draft per conversation: the bot keeps filling the same one.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status="draft") | Q(status="awaiting"),
                name="one_open_order_per_conversation",
            ),
            models.CheckConstraint(condition=Q(discount_percent__lte=90), name="order_discount_bounded"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"#{self.pk:05d}" if self.pk else "#—"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(Variant, on_delete=models.SET_NULL, null=True, related_name="order_items")
    product_name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    options = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    unit_price = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="order_item_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def line_total(self) -> int:
        return self.quantity * self.unit_price


class OrderStatusChange(models.Model):
    class By(models.TextChoices):
        BOT = "bot", _("Bot")
        SELLER = "seller", _("Seller")
        CUSTOMER = "customer", _("Customer")
        SYSTEM = "system", _("System")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    by = models.CharField(max_length=8, choices=By.choices)
    member_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class DiscountGrant(models.Model):
    """Every discount the bot granted (or refused to grant in full): the audit trail of the
    seller's maximum."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.SET_NULL, null=True, related_name="discount_grants"
    )
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="discount_grants")
    requested_percent = models.PositiveSmallIntegerField()
    granted_percent = models.PositiveSmallIntegerField()
    max_percent = models.PositiveSmallIntegerField()
    engine = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(granted_percent__lte=models.F("max_percent")), name="discount_grant_within_max"
            )
        ]

    def __str__(self) -> str:
        return f"{self.granted_percent}% ({self.requested_percent}% asked)"


class DialogueState(models.Model):
    """What the built-in engine remembers of a conversation between two messages: the product
    the customer chose (never one the bot mentioned), the last question it asked and how many
    times, the choices it offered as buttons, details given before an order exists, and a place
    waiting for the customer's confirmation."""

    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="dialogue_state"
    )
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    question = models.CharField(max_length=40, blank=True)
    question_count = models.PositiveSmallIntegerField(default=0)
    # [{"label": "M / Noir", "kind": "variant", "value": 12}, ...]: what each button means.
    offered = models.JSONField(default=list, blank=True)
    # Order details given before a product was chosen, and {"confirm": {...}}: a place to confirm.
    pending = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dialogue state")
        verbose_name_plural = _("dialogue states")

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.question or '-'}"
