"""`insert`: a new row as `save()` would store it, with a statement built once."""

from __future__ import annotations

import pytest
from django.db.models import signals

from conversations.models import Conversation, Message
from conversations.services import ingest
from conversations.tests.factories import widget_inbound
from ma5zani.db import insert

pytestmark = pytest.mark.django_db


def test_insert_stores_what_save_stores_and_sends_the_model_signals(shop_a, queued, django_capture_on_commit_callbacks):
    seen: list[tuple[str, bool]] = []

    def before(sender, instance, **kwargs):
        seen.append(("pre", instance.pk is None))

    def after(sender, instance, created, **kwargs):
        seen.append(("post", created))

    signals.pre_save.connect(before, sender=Message)
    signals.post_save.connect(after, sender=Message)
    try:
        with shop_a.schema():
            with django_capture_on_commit_callbacks(execute=True):
                conversation_id = ingest(widget_inbound(shop_a, "Salam")).conversation_id
            conversation = Conversation.objects.get(pk=conversation_id)
            fields = {
                "conversation": conversation,
                "direction": Message.Direction.OUT,
                "author": Message.Author.BOT,
                "channel": "widget",
                "text": "Salam <b>!</b>",
                "quick_replies": ["Oui", "Non"],
                "cards": [{"title": "Sac", "price": "7 600 DA"}],
                "status": Message.Status.QUEUED,
            }
            fast = Message(**fields)
            insert(fast)
            usual = Message.objects.create(**fields)
            assert fast.pk and fast.pk < usual.pk and not fast._state.adding
            stored, expected = Message.objects.get(pk=fast.pk), Message.objects.get(pk=usual.pk)
            skip = {"id", "idempotency_key", "created_at"}
            for field in Message._meta.concrete_fields:
                if field.name not in skip:
                    assert getattr(stored, field.attname) == getattr(expected, field.attname), field.name
            assert stored.idempotency_key and stored.idempotency_key != expected.idempotency_key
            assert stored.created_at == fast.created_at  # auto_now_add applied once, before the INSERT
    finally:
        signals.pre_save.disconnect(before, sender=Message)
        signals.post_save.disconnect(after, sender=Message)
    assert ("pre", True) in seen and ("post", True) in seen
