"""Delivery: retries with backoff, never sends twice, ends failed with the error visible."""

from __future__ import annotations

import pytest

from channels_app.base import DeliveryError, SendResult
from conversations.models import DeliveryAttempt, Message
from conversations.services import delivery_backoff, ingest, message_deliver, message_send_by_seller
from conversations.tests.factories import widget_inbound

pytestmark = pytest.mark.django_db


class FlakyAdapter:
    """Fails `failures` times, then sends; counts what really went out."""

    def __init__(self, failures: int, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.sent: list[str] = []

    def send(self, *, account, schema, message):
        if self.failures:
            self.failures -= 1
            raise DeliveryError("503 from the channel", retryable=self.retryable)
        self.sent.append(message.idempotency_key)
        return SendResult(external_id=f"ext-{len(self.sent)}")

    def typing(self, **kwargs):
        return None


@pytest.fixture
def outbound(shop_a, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_delivery", lambda *a, **k: None)
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(widget_inbound(shop_a, "Bonjour"))
        from conversations.models import Conversation

        conversation = Conversation.objects.get(pk=result.conversation_id)
        message = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Bonjour, oui ?")
    return message


def use(monkeypatch, adapter):
    monkeypatch.setattr("conversations.services.delivery.adapter_for", lambda channel: adapter)


def test_failing_twice_then_succeeding_sends_once(shop_a, outbound, monkeypatch):
    adapter = FlakyAdapter(failures=2)
    use(monkeypatch, adapter)
    with shop_a.schema():
        outcomes = [message_deliver(outbound.pk) for _ in range(3)]
        assert [o.status for o in outcomes] == ["retry", "retry", "sent"]
        assert outcomes[0].countdown > 0
        assert message_deliver(outbound.pk).status == "skipped"  # a repeated task
        message = Message.objects.get(pk=outbound.pk)
        assert message.status == Message.Status.SENT and message.sent_at is not None
        assert message.external_id == "ext-1" and message.error == ""
        assert list(DeliveryAttempt.objects.filter(message=message).values_list("number", "succeeded")) == [
            (1, False), (2, False), (3, True),
        ]  # fmt: skip
    assert adapter.sent == [str(outbound.idempotency_key)]  # sent exactly once


def test_failing_always_ends_in_failed_with_the_error_visible(shop_a, outbound, monkeypatch, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 4
    use(monkeypatch, FlakyAdapter(failures=100))
    with shop_a.schema():
        outcomes = [message_deliver(outbound.pk).status for _ in range(5)]
        assert outcomes == ["retry", "retry", "retry", "failed", "skipped"]
        message = Message.objects.get(pk=outbound.pk)
        assert message.status == Message.Status.FAILED
        assert message.error == "503 from the channel"
        assert message.attempts.count() == 4
    page = shop_a.client().get(f"/dashboard/conversations/{message.conversation_id}/")
    assert "503 from the channel" in page.content.decode()


def test_a_refusal_that_retrying_cannot_fix_fails_at_once(shop_a, outbound, monkeypatch):
    use(monkeypatch, FlakyAdapter(failures=1, retryable=False))
    with shop_a.schema():
        assert message_deliver(outbound.pk).status == "failed"
        assert Message.objects.get(pk=outbound.pk).attempts.count() == 1


def test_backoff_grows_exponentially_with_bounded_jitter(settings):
    settings.DELIVERY_BACKOFF_SECONDS = 2
    settings.DELIVERY_BACKOFF_MAX_SECONDS = 60
    for attempt, base in [(1, 2), (2, 4), (3, 8), (4, 16), (6, 60), (10, 60)]:
        samples = [delivery_backoff(attempt) for _ in range(50)]
        assert all(base <= sample <= base + 2 for sample in samples)
        assert len({round(sample, 6) for sample in samples}) > 1  # jittered
