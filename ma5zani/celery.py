"""The Celery application, made tenant-aware with tenant-schemas-celery.

A task sent while a seller's schema is active carries that schema in its headers and runs in
it. Tasks are acknowledged late and rejected when their worker is lost, so a crash puts the
task back on the queue; every task must therefore be idempotent.
"""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from typing import Any

from kombu import Exchange
from kombu import Queue as KombuQueue
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ma5zani.settings")
logger = logging.getLogger(__name__)


class Queue(StrEnum):
    """Every queue the workers consume. Each task names its queue."""

    DEFAULT = "default"
    REPLIES = "replies"
    DELIVERY = "delivery"
    IMPORTS = "imports"
    LEARNING = "learning"
    PERIODIC = "periodic"


# Which queue each task goes to (Celery 6 drops the per-task `queue` attribute).
TASK_ROUTES: dict[str, Queue] = {
    "conversations.tasks.reply_task": Queue.REPLIES,
    "conversations.tasks.reply_many_task": Queue.REPLIES,
    "conversations.tasks.deliver_task": Queue.DELIVERY,
    "conversations.tasks.sweep_conversations": Queue.PERIODIC,
    "sales.tasks.catalog_import_task": Queue.IMPORTS,
    "sales.tasks.sweep_catalog_imports": Queue.PERIODIC,
    "sales.tasks.remind_abandoned_drafts": Queue.PERIODIC,
    "learning.tasks.extract_knowledge_task": Queue.LEARNING,
    "channels_app.meta.tasks.refresh_tokens_task": Queue.PERIODIC,
    "channels_app.meta.tasks.apply_profile_task": Queue.DEFAULT,
    "channels_app.meta.tasks.fetch_media_task": Queue.DEFAULT,
    "channels_app.meta.tasks.fetch_profile_task": Queue.DEFAULT,
    "channels_app.meta.tasks.reply_task": Queue.DELIVERY,
    "channels_app.meta.tasks.sweep_comments_task": Queue.PERIODIC,
}

app = CeleryApp("ma5zani")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Each queue its own exchange and routing key: a task lands in its one queue only.
    task_queues=[KombuQueue(q.value, Exchange(q.value, type="direct"), routing_key=q.value) for q in Queue],
    task_default_queue=Queue.DEFAULT.value,
    task_routes={name: {"queue": queue.value} for name, queue in TASK_ROUTES.items()},
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    result_expires=3600,
    # Tasks report through the database (message status, import rows), not through results.
    task_ignore_result=True,
    # The seller row behind a task's schema header is read once a minute, not for every task.
    task_tenant_cache_seconds=60,
    broker_connection_retry_on_startup=True,
    # A publish that fails is tried once more (a connection broken by a Redis restart is opened
    # again), then given up: the sweepers send it later. With the broker's socket timeouts
    # (settings.CELERY_BROKER_TRANSPORT_OPTIONS) a hanging Redis holds a publish for two
    # timeouts at most.
    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
    timezone="Africa/Algiers",
    enable_utc=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()
# Channel packages keep their tasks in their own package.
app.autodiscover_tasks(["channels_app.meta"])
# Workers write a heartbeat that /health/ reads (ma5zani.heartbeat).
app.steps["consumer"].add("ma5zani.heartbeat:WorkerHeartbeat")
# Periodic work is declared in one module.
app.conf.beat_schedule = {}


def enqueue(task: Any, *args: Any, schema: str, countdown: float | None = None) -> bool:
    """Send `task` to run in `schema`. A broker outage is logged, not raised: what is sent after
    a commit must not turn a stored change into an error, and the sweepers send it again. A
    broker that timed out a moment ago is not tried again yet (`ma5zani.redis_guard`), so a
    hanging Redis costs one request its timeout, not every request."""
    from django_tenants.utils import schema_context

    from ma5zani import redis_guard

    broker = str(app.conf.broker_url or "")
    if redis_guard.paused(broker):
        logger.warning("Broker paused after a timeout; %s%r for %s left to the sweepers", task.name, args, schema)
        return False
    try:
        with schema_context(schema):  # the task header carries the schema
            task.apply_async(args, countdown=countdown)
    except Exception as error:
        redis_guard.failed(broker, error)
        logger.warning("Could not enqueue %s%r for %s", task.name, args, schema, exc_info=True)
        return False
    return True


@app.on_after_finalize.connect
def _load_schedule(sender: CeleryApp, **_: object) -> None:
    from ma5zani.schedule import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE
