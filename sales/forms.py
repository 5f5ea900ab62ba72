from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from sales.models import WEEKDAYS, BotSettings, Order, Product, Variant
from sales.services.catalog import (
    VariantData,
    code_from_name,
    product_unique_code,
    validate_image,
)

WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [super(MultipleImageField, self).clean(item, initial) for item in files]
        for upload in cleaned:
            validate_image(upload)
        return cleaned


class ProductForm(forms.ModelForm):
    synonyms = SimpleArrayField(
        forms.CharField(max_length=80),
        required=False,
        label=_("Synonyms"),
        help_text=_("Separated by commas, e.g. sabat, chaussure, صباط."),
    )
    category_name = forms.CharField(label=_("Category"), required=False, max_length=120)
    new_images = MultipleImageField(label=_("Add images"), required=False)

    class Meta:
        model = Product
        fields = [
            "name_ar",
            "name_fr",
            "name_en",
            "code",
            "category_name",
            "price",
            "compare_at_price",
            "description_ar",
            "description_fr",
            "description_en",
            "synonyms",
            "is_active",
        ]
        widgets = {
            "name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "description_ar": forms.Textarea(attrs={"dir": "rtl", "lang": "ar", "rows": 3}),
            "description_fr": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
            "price": forms.NumberInput(attrs={"min": 0, "step": 1, "inputmode": "numeric"}),
            "compare_at_price": forms.NumberInput(attrs={"min": 0, "step": 1, "inputmode": "numeric"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["code"].help_text = _("Left empty, it is made from the name.")
        if self.instance.pk and self.instance.category:
            self.fields["category_name"].initial = self.instance.category.name

    def clean_code(self) -> str:
        code = str(self.cleaned_data.get("code") or "").strip().lower()
        if code:
            return code
        if self.instance.pk:
            return self.instance.code
        data = self.cleaned_data
        name = data.get("name_fr") or data.get("name_en") or data.get("name_ar") or ""
        return product_unique_code(code_from_name(name))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(f"name_{lang}") for lang in ("ar", "fr", "en")):
            raise ValidationError(_("Give the product a name in at least one language."))
        price, compare = data.get("price"), data.get("compare_at_price")
        if compare is not None and price is not None and compare <= price:
            self.add_error("compare_at_price", _("The compare-at price must be higher than the price."))
        return data


class VariantForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = ["sku", "size", "colour", "stock", "price_override"]
        widgets = {
            "stock": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
            "price_override": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
        }

    def to_data(self) -> VariantData:
        data = self.cleaned_data
        return VariantData(
            id=self.instance.pk,
            sku=data["sku"],
            size=data.get("size") or "",
            colour=data.get("colour") or "",
            stock=data.get("stock") or 0,
            price_override=data.get("price_override"),
        )


VariantFormSet = inlineformset_factory(
    Product,
    Variant,
    form=VariantForm,
    extra=1,
    min_num=1,
    validate_min=True,
    can_delete=True,
)


class CatalogImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))


class OpenRouterKeyFields(forms.Form):
    """The seller's OpenRouter key, write-only (the dashboard's and the admin's bot settings):
    never rendered back, not even encrypted; empty keeps the stored key."""

    openrouter_key = forms.CharField(
        label=_("OpenRouter API key"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the current key."),
    )
    forget_openrouter_key = forms.BooleanField(label=_("Remove the stored key"), required=False)

    def clean_openrouter_key(self) -> str:
        key = str(self.cleaned_data.get("openrouter_key") or "").strip()
        if any(ch.isspace() for ch in key):
            raise forms.ValidationError(_("This does not look like an API key."))
        return key


class BotSettingsForm(forms.ModelForm, OpenRouterKeyFields):
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=BotSettings.Language.choices,
        widget=forms.CheckboxSelectMultiple,
        required=True,
    )
    handoff_keywords = forms.CharField(
        label=_("Handoff keywords"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line. A customer writing one of them is handed to you."),
    )

    class Meta:
        model = BotSettings
        fields = [
            "is_enabled",
            "persona_name",
            "greeting",
            "intensity",
            "max_discount_percent",
            "languages",
            "handoff_keywords",
            "group_chats_enabled",
            "bot_resume_after_minutes",
            "draft_reminder_minutes",
            "ai_model",
            "monthly_budget_usd",
            "after_hours",
        ]
        widgets = {
            "intensity": forms.RadioSelect,
            "after_hours": forms.RadioSelect,
            "greeting": forms.Textarea(attrs={"rows": 2}),
            "max_discount_percent": forms.NumberInput(attrs={"min": 0, "max": 90}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["handoff_keywords"] = "\n".join(self.instance.handoff_keywords)
        for day in WEEKDAYS:
            ranges = self.instance.business_hours.get(day, [])
            first = ranges[0] if ranges else None
            self.fields[f"{day}_open"] = forms.BooleanField(
                label=WEEKDAY_LABELS[day], required=False, initial=bool(first)
            )
            self.fields[f"{day}_start"] = forms.TimeField(
                required=False,
                initial=first[0] if first else "09:00",
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
            self.fields[f"{day}_end"] = forms.TimeField(
                required=False,
                initial=first[1] if first else "18:00",
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )

    def day_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": WEEKDAY_LABELS[day],
                "open": self[f"{day}_open"],
                "start": self[f"{day}_start"],
                "end": self[f"{day}_end"],
            }
            for day in WEEKDAYS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            if not data.get(f"{day}_open"):
                hours[day] = []
                continue
            start, end = data.get(f"{day}_start"), data.get(f"{day}_end")
            if not start or not end or start >= end:
                self.add_error(f"{day}_end", _("Opening must come before closing."))
                continue
            hours[day] = [[start.strftime("%H:%M"), end.strftime("%H:%M")]]
        data["business_hours"] = hours
        data["handoff_keywords"] = [
            line.strip() for line in (data.get("handoff_keywords") or "").splitlines() if line.strip()
        ]
        return data

    def settings_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in (*self.Meta.fields, "business_hours")}


def _variant_choices() -> list[tuple[int, str]]:
    variants = (
        Variant.objects.filter(product__is_active=True, product__archived_at__isnull=True, stock__gt=0)
        .select_related("product")
        .order_by("product__name_fr", "position", "id")
    )
    choices = []
    for variant in variants:
        options = " / ".join(value for value in (variant.size, variant.colour) if value)
        label = f"{variant.product.display_name()} {options} ({variant.sku}) · {variant.price} DA · {variant.stock}"
        choices.append((variant.pk, label))
    return choices


def _wilaya_choices() -> list[tuple[int, str]]:
    from django.utils.translation import get_language

    from sales.geo import wilayas

    language = (get_language() or "fr")[:2]
    return [(place.number, f"{place.code} · {place.name(language)}") for place in wilayas()]


class SellerOrderForm(forms.Form):
    """An order the seller took by phone or in person (one product; more from the order page)."""

    variant_id = forms.TypedChoiceField(label=_("Product"), coerce=int)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100, initial=1)
    customer_name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    wilaya = forms.TypedChoiceField(label=_("Wilaya"), coerce=int)
    commune = forms.CharField(label=_("Commune"), max_length=120)
    address = forms.CharField(label=_("Address"), max_length=300)
    delivery_type = forms.ChoiceField(label=_("Delivery"), choices=Order.DeliveryType.choices)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant_id"].choices = _variant_choices()  # type: ignore[attr-defined]
        self.fields["wilaya"].choices = _wilaya_choices()  # type: ignore[attr-defined]
