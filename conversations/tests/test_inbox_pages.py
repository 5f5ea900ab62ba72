"""The conversations pages of the dashboard."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.services import ingest
from conversations.tests.factories import widget_inbound

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror="alert(1)"><script>alert("owned")</script>'


@pytest.fixture
def chat(shop_a, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_delivery", lambda *a, **k: None)
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        ingest(widget_inbound(shop_a, "Bonjour"))
        result = ingest(widget_inbound(shop_a, XSS))
    return result.conversation_id


def test_list_and_thread_show_customer_text_as_text(shop_a, chat):
    client = shop_a.client()
    listing = client.get("/dashboard/conversations/")
    assert listing.status_code == 200
    assert f'data-conversation="{chat}"' in listing.content.decode()
    page = client.get(f"/dashboard/conversations/{chat}/").content.decode()
    assert XSS not in page
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in page
    data = client.get(f"/dashboard/conversations/{chat}/messages/?after=0").json()
    assert [m["text"] for m in data["messages"]] == ["Bonjour", XSS]  # JSON; the page sets textContent
    with shop_a.schema():
        assert Conversation.objects.get(pk=chat).unread_count == 0  # read by opening it


def test_the_seller_answers_takes_over_and_hands_back(shop_a, chat, add_member):
    agent = add_member(shop_a, "agent@alpha.test")
    client = shop_a.client(agent)
    response = client.post(f"/dashboard/conversations/{chat}/reply/", {"text": "Bienvenue !"})
    assert response.status_code == 302
    with shop_a.schema():
        conversation = Conversation.objects.get(pk=chat)
        assert conversation.mode == Conversation.Mode.HUMAN
        sent = Message.objects.get(author=Message.Author.SELLER)
        assert (sent.text, sent.status, sent.sent_by_id) == ("Bienvenue !", "queued", agent.pk)
    client.post(f"/dashboard/conversations/{chat}/hand-back/")
    with shop_a.schema():
        assert Conversation.objects.get(pk=chat).mode == Conversation.Mode.BOT
    client.post(f"/dashboard/conversations/{chat}/take-over/")
    with shop_a.schema():
        conversation = Conversation.objects.get(pk=chat)
        assert (conversation.mode, conversation.assigned_member_id) == ("human", agent.pk)


def test_an_empty_answer_is_refused(shop_a, chat):
    response = shop_a.client().post(
        f"/dashboard/conversations/{chat}/reply/", {"text": "   "}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    with shop_a.schema():
        assert not Message.objects.filter(author=Message.Author.SELLER).exists()


def test_another_seller_cannot_see_or_answer(shop_a, shop_b, chat):
    outsider = shop_a.anonymous()
    outsider.force_login(shop_b.owner)
    for path in (
        f"/dashboard/conversations/{chat}/",
        "/dashboard/conversations/",
        f"/dashboard/conversations/{chat}/messages/",
    ):
        assert outsider.get(path).status_code == 403
    assert outsider.post(f"/dashboard/conversations/{chat}/reply/", {"text": "hi"}).status_code == 403
    # On its own domain, seller B does not find A's conversation id.
    assert shop_b.client().get(f"/dashboard/conversations/{chat}/").status_code == 404
    with shop_a.schema():
        assert not Message.objects.filter(author=Message.Author.SELLER).exists()


def test_a_story_deleted_and_unsupported_messages_are_shown_as_such_and_links_only_if_https(shop_a, queued):
    from django.utils import timezone

    from conversations.models import Message
    from conversations.services import ingest
    from conversations.tests.factories import widget_inbound

    with shop_a.schema():
        result = ingest(widget_inbound(shop_a, "Salam"))
        conversation_id = result.conversation_id
        base = {"conversation_id": conversation_id, "direction": "in", "author": "customer", "channel": "widget"}
        Message.objects.create(
            **base, text="ch7al?", media_kind="story", media_url="https://lookaside.fbsbx.com/s?1", status="received"
        )
        Message.objects.create(**base, text="x", media_kind="share", media_url="javascript:alert(1)", status="received")
        Message.objects.create(**base, text="oops", deleted_at=timezone.now(), status="received")
        Message.objects.create(**base, text="", extra={"unsupported": True}, status="received")
    page = shop_a.client().get(f"/dashboard/conversations/{conversation_id}/").content.decode()
    assert 'src="https://lookaside.fbsbx.com/s?1"' in page and "data-media-expired" in page
    assert "javascript:alert" not in page
    assert "data-deleted" in page and "data-unsupported" in page
