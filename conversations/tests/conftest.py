from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class QueueRecorder:
    """What the message path asked of the queue; the tests run those tasks by hand."""

    replies: list[tuple[int, int]] = field(default_factory=list)
    reply_schemas: list[str] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)


@pytest.fixture
def queued(monkeypatch) -> QueueRecorder:
    recorder = QueueRecorder()

    def reply(schema, conversation_id, message_id, countdown=None):
        recorder.reply_schemas.append(schema)
        recorder.replies.append((conversation_id, message_id))

    monkeypatch.setattr("conversations.services.enqueue_reply", reply)
    monkeypatch.setattr(
        "conversations.services.enqueue_delivery", lambda schema, m, countdown=0: recorder.deliveries.append(m)
    )
    return recorder
