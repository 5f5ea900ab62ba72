"""Reading the values of a webhook delivery defensively: Meta's JSON, or anything posing as it.

Every reader returns an empty value for the wrong type instead of raising, so a parser built on
them fails only where it decides to (`Malformed`), never with a TypeError on an odd payload.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MILLISECONDS_FROM = 10**11  # a larger epoch value is in milliseconds (10**11 s is year 5138)


class Malformed(Exception):
    """An entry or event that cannot be read: skipped and counted."""


def scalar(value: Any) -> str:
    """A JSON string or number as text; "" for anything else (Meta sends some ids as numbers)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # beyond Python's digit limit: no id of Meta's
            return ""
    return ""


def obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def required(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Malformed(f"{what} is not an object")
    return value


def epoch_time(value: Any) -> dt.datetime | None:
    """An aware UTC datetime from an epoch in seconds or milliseconds (a number or a numeric
    string: the Dashboard's test deliveries send strings), or from an ISO 8601 string."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return _iso_time(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = round(value * 1000) if value < _MILLISECONDS_FROM else round(value)
    elif value < _MILLISECONDS_FROM:
        value *= 1000
    if value <= 0:
        return None
    try:
        return EPOCH + dt.timedelta(milliseconds=value)
    except OverflowError:
        return None


def _iso_time(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def party(value: Any) -> tuple[str, str]:
    """(id, user_ref) of a sender or recipient."""
    found = obj(value)
    return scalar(found.get("id")), scalar(found.get("user_ref"))
