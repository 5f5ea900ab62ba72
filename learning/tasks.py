"""Celery tasks of learning. Thin: ids in, the seller's schema from the task headers."""

from __future__ import annotations

from celery import shared_task

from learning.services import knowledge_extract
from ma5zani.celery import enqueue


@shared_task
def extract_knowledge_task(conversation_id: int, sellers_only: bool = False) -> int:
    return knowledge_extract(conversation_id, sellers_only=sellers_only)


def enqueue_extraction(schema: str, conversation_id: int, *, sellers_only: bool = False) -> None:
    enqueue(extract_knowledge_task, conversation_id, sellers_only, schema=schema)
