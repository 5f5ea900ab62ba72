"""The sales engine: one interface, several engines (the built-in one works with no network)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from sales.engine.base import Engine, EngineContext, EngineReply

__all__ = ["Engine", "EngineContext", "EngineReply", "engine_for_seller"]


@cache
def _engine(dotted_path: str) -> Engine:
    engine: Engine = import_string(dotted_path)()
    return engine


def engine_for_seller() -> Engine:
    """The engine that answers for the current seller (BOT_ENGINE_CLASS for now)."""
    return _engine(settings.BOT_ENGINE_CLASS)
