"""Celery tasks of the catalog. Thin: load by id, return quietly when gone, call services."""

from __future__ import annotations

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from ma5zani.celery import enqueue
from sales.services.catalog_csv import catalog_import_run, catalog_imports_stuck

logger = logging.getLogger(__name__)


@shared_task
def catalog_import_task(job_id: int) -> str | None:
    """Run one CSV import in the seller's schema (set from the task headers)."""
    job = catalog_import_run(job_id)
    return job.status if job else None


@shared_task
def sweep_catalog_imports() -> int:
    """Re-enqueue imports left queued or silent by a lost task or worker.

    Runs in the public schema and visits every seller: the queue is only a hint, the rows
    are the truth.
    """
    from sellers.selectors import active_seller_schemas

    enqueued = 0
    for schema in active_seller_schemas():
        with schema_context(schema):
            for job_id in catalog_imports_stuck().values_list("pk", flat=True):
                logger.info("Re-enqueuing catalog import %s of %s", job_id, schema)
                enqueue(catalog_import_task, job_id, schema=schema)
                enqueued += 1
    return enqueued


@shared_task
def remind_abandoned_drafts() -> int:
    """Visit every seller: one reminder per order draft left unfinished."""
    from sales.services.reminders import order_drafts_remind
    from sellers.selectors import active_seller_schemas

    sent = 0
    for schema in active_seller_schemas():
        with schema_context(schema):
            sent += order_drafts_remind()
    return sent
