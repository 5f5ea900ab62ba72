"""Asking for the next step of the message path (a reply, a delivery) through the queue or the
reply runner's stream. Callers call these through the module (`enqueueing.enqueue_reply`), so
that a test can replace them in one place."""

from __future__ import annotations

from django.conf import settings

from ma5zani.celery import enqueue


def enqueue_reply(schema: str, conversation_id: int, inbound_id: int, *, countdown: float | None = None) -> None:
    """Ask for an answer (the sweeper asks again if Redis is down): the reply runner's stream
    (at once, or after REPLY_RUNNER_PAUSE_SECONDS), or a Celery task after REPLY_PAUSE_SECONDS."""
    if settings.REPLY_RUNNER == "async":
        from replies import queue

        queue.enqueue(
            schema,
            [(conversation_id, inbound_id)],
            delay=settings.REPLY_RUNNER_PAUSE_SECONDS if countdown is None else countdown,
        )
        return
    from conversations.tasks import reply_task

    pause = settings.REPLY_PAUSE_SECONDS if countdown is None else countdown
    enqueue(reply_task, conversation_id, inbound_id, schema=schema, countdown=pause)


def enqueue_replies(schema: str, pairs: list[tuple[int, int]]) -> None:
    """Many conversations to answer (a batch from the WhatsApp gateway): one round trip to
    Redis. On the Celery path, one task that a worker turns into one reply task each."""
    if settings.REPLY_RUNNER == "async":
        from replies import queue

        queue.enqueue(schema, pairs, delay=settings.REPLY_RUNNER_PAUSE_SECONDS)
        return
    from conversations.tasks import reply_many_task

    enqueue(reply_many_task, [list(pair) for pair in pairs], schema=schema)


def enqueue_delivery(schema: str, message_id: int, *, countdown: float = 0) -> None:
    from conversations.tasks import deliver_task

    enqueue(deliver_task, message_id, schema=schema, countdown=countdown)
