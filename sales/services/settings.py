"""Writes to the seller's delivery fees and bot settings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ma5zani.realtime import publish
from ma5zani.tenancy import current_schema
from sales.geo import wilayas
from sales.models import WEEKDAYS, BotSettings, DeliveryRate
from sales.selectors import bot_settings, bot_settings_forget

BOT_SETTINGS_FIELDS = (
    "is_enabled", "intensity", "max_discount_percent", "languages", "persona_name", "greeting",
    "handoff_keywords", "business_hours", "timezone", "group_chats_enabled", "bot_resume_after_minutes",
    "ai_model", "monthly_budget_usd", "draft_reminder_minutes", "after_hours",
)  # fmt: skip
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class RateData:
    wilaya: int
    is_served: bool
    home_fee: int | None
    desk_fee: int | None
    days: int | None = None


def delivery_rate_problems(rate: RateData) -> list[str]:
    """What is wrong with one wilaya's fees (the dashboard's and the admin's rule)."""
    problems = []
    if rate.wilaya not in {place.number for place in wilayas()}:
        problems.append(_("Unknown wilaya."))
    for fee in (rate.home_fee, rate.desk_fee):
        if fee is not None and not 0 <= fee <= 100_000:
            problems.append(_("A fee must be between 0 and 100000 DZD."))
    if rate.days is not None and not 0 < rate.days <= 60:
        problems.append(_("The delivery time must be between 1 and 60 days."))
    if rate.is_served and rate.home_fee is None and rate.desk_fee is None:
        problems.append(_("A served wilaya needs a home or stop-desk fee."))
    return problems


@transaction.atomic
def delivery_rates_update(*, rates: Iterable[RateData]) -> int:
    """Store the fees of the given wilayas; returns how many rows changed.

    A served wilaya needs at least one fee (home or stop-desk).
    """
    rows = list(rates)
    errors = {str(rate.wilaya): problems for rate in rows if (problems := delivery_rate_problems(rate))}
    if errors:
        raise ValidationError(errors)
    stored = {r.wilaya: r for r in DeliveryRate.objects.select_for_update().filter(wilaya__in=[r.wilaya for r in rows])}
    changed = 0
    for rate in rows:
        row = stored.get(rate.wilaya) or DeliveryRate(wilaya=rate.wilaya)
        values: dict[str, Any] = {
            "is_served": rate.is_served,
            "home_fee": rate.home_fee,
            "desk_fee": rate.desk_fee,
            "days": rate.days,
        }
        if row.pk and all(getattr(row, k) == v for k, v in values.items()):
            continue
        for key, value in values.items():
            setattr(row, key, value)
        row.save()
        changed += 1
    return changed


def validate_business_hours(hours: Any) -> dict[str, list[list[str]]]:
    """{"mon": [["09:00", "18:00"]], ...}: every weekday present, ranges ordered."""
    if not isinstance(hours, dict):
        raise ValidationError(_("Business hours must give the hours of each day."))
    clean: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        ranges = hours.get(day, [])
        if not isinstance(ranges, list):
            raise ValidationError(_("Invalid hours for %(day)s.") % {"day": day})
        day_ranges = []
        for item in ranges:
            if (
                not isinstance(item, list | tuple)
                or len(item) != 2
                or not all(isinstance(t, str) and TIME_PATTERN.match(t) for t in item)
                or item[0] >= item[1]
            ):
                raise ValidationError(_("Invalid hours for %(day)s: use HH:MM, opening before closing.") % {"day": day})
            day_ranges.append([item[0], item[1]])
        clean[day] = sorted(day_ranges)
    return clean


def validate_after_hours(value: Any) -> str:
    """What the bot does outside business hours: one of BotSettings.AfterHours."""
    if value not in BotSettings.AfterHours.values:
        raise ValidationError(
            {"after_hours": [_("Choose what the bot does outside business hours.")]}, code="invalid_choice"
        )
    return str(value)


def validate_timezone(value: Any) -> str:
    """A time zone name the server knows (the business hours are read in it)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"timezone": [_("Unknown time zone.")]}, code="invalid") from exc
    return str(value)


@transaction.atomic
def bot_settings_update(**values: Any) -> BotSettings:
    row = bot_settings()
    unknown = set(values) - set(BOT_SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown settings: %(names)s") % {"names": ", ".join(sorted(unknown))})
    if "business_hours" in values:
        values["business_hours"] = validate_business_hours(values["business_hours"])
    if "after_hours" in values:
        values["after_hours"] = validate_after_hours(values["after_hours"])
    if "timezone" in values:
        values["timezone"] = validate_timezone(values["timezone"])
    if "handoff_keywords" in values:
        values["handoff_keywords"] = [
            k for k in dict.fromkeys(" ".join(w.split()) for w in values["handoff_keywords"]) if k
        ]
    before = {key: getattr(row, key) for key in values}
    for key, value in values.items():
        setattr(row, key, value)
    row.full_clean()
    row.save()
    schema = current_schema()
    bot_settings_forget(schema)
    publish(schema, "bot.settings", {"bot_enabled": int(row.is_enabled)})
    changed = {key for key, value in before.items() if getattr(row, key) != value}
    if changed:
        # Messenger's greeting and menu, Instagram's ice breakers are written from these.
        from channels_app.meta.profile import settings_changed

        settings_changed(schema, changed)
    return row


@transaction.atomic
def bot_settings_set_openrouter_key(*, key: str) -> None:
    """Store (encrypted) or clear the seller's own OpenRouter key."""
    key = key.strip()
    if key and (len(key) > 200 or any(ch.isspace() for ch in key)):
        raise ValidationError({"openrouter_key": [_("This does not look like an API key.")]})
    row = bot_settings()
    row.openrouter_key = key
    row.save(update_fields=["openrouter_key_encrypted", "updated_at"])
    bot_settings_forget(current_schema())
