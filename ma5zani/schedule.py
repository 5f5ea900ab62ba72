"""All periodic schedules, in one place. Frequent jobs expire so a backlog cannot run twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ma5zani.celery import Queue

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "sweep-conversations": {
        "task": "conversations.tasks.sweep_conversations",
        "schedule": settings.SWEEP_EVERY_SECONDS,
        "options": {"queue": Queue.PERIODIC.value, "expires": max(1.0, settings.SWEEP_EVERY_SECONDS - 1)},
    },
    "remind-abandoned-drafts": {
        "task": "sales.tasks.remind_abandoned_drafts",
        "schedule": 300.0,
        "options": {"queue": Queue.PERIODIC.value, "expires": 290},
    },
    "sweep-catalog-imports": {
        "task": "sales.tasks.sweep_catalog_imports",
        "schedule": 60.0,
        "options": {"queue": Queue.PERIODIC.value, "expires": 55},
    },
    "refresh-meta-tokens": {
        "task": "channels_app.meta.tasks.refresh_tokens_task",
        "schedule": 3600.0,
        "options": {"queue": Queue.PERIODIC.value, "expires": 3500},
    },
    "sweep-meta-comments": {
        "task": "channels_app.meta.tasks.sweep_comments_task",
        "schedule": 120.0,
        "options": {"queue": Queue.PERIODIC.value, "expires": 110},
    },
}
