"""The webhook fixtures: complete delivery bodies in Meta's documented shapes, one file per event
and variant, under fixtures/<platform>/<event>__<variant>.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_names() -> list[str]:
    """Every fixture as "<platform>/<event>__<variant>"."""
    return sorted(f"{path.parent.name}/{path.stem}" for path in FIXTURES.glob("*/*.json"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(fixture_bytes(name))
    return body
