"""Sending on Messenger and Instagram through the real client against the loopback Graph
server: what Meta receives, the window, the errors (retry, fail with the reason, reconnect),
an outcome that is unknown, private replies to comments, token refresh and `meta_link`."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.base import InboundMessage
from channels_app.meta import accounts
from channels_app.meta.client import Token
from channels_app.meta.comment_replies import asks_to_be_answered, comment_reply
from channels_app.meta.tests.conftest import INSTAGRAM_A, PAGE_A, fixture, forget, link
from channels_app.models import ChannelAccount, MetaAccount
from conversations.content import ProductCard
from conversations.models import Comment, Conversation, DeliveryAttempt, Message
from conversations.services import ingest, message_deliver, message_send_by_seller
from ma5zani.crypto import decrypt, encrypt

pytestmark = pytest.mark.django_db

PSID = "6897412335561204"


@pytest.fixture
def page(shop_a, graph, meta_settings):
    token = graph.issue_token("page", PAGE_A)
    graph.add_page(PAGE_A, "Alpha Shop", token)
    return link(shop_a, "messenger", PAGE_A, token=token)


def customer_wrote(shop, account, text="Ch7al?", *, hours_ago: float = 0) -> Conversation:
    with shop.schema():
        result = ingest(
            InboundMessage(
                channel=account.channel,
                channel_account_id=account.pk,
                sender_id=PSID,
                external_id=f"m_in_{text}_{hours_ago}",
                text=text,
                timestamp=timezone.now(),
            ),
            reply=False,
        )
        if hours_ago:
            Conversation.objects.filter(pk=result.conversation_id).update(
                last_inbound_at=timezone.now() - dt.timedelta(hours=hours_ago)
            )
        return Conversation.objects.get(pk=result.conversation_id)


def seller_says(shop, conversation, text: str) -> Message:
    with shop.schema():
        return message_send_by_seller(conversation=conversation, member_id=shop.owner.pk, text=text)


def deliver(shop, message: Message) -> str:
    with shop.schema():
        return message_deliver(message.pk).status


def stored(shop, message: Message) -> Message:
    with shop.schema():
        return Message.objects.get(pk=message.pk)


def test_a_reply_reaches_meta_as_a_response_with_our_metadata(shop_a, page, graph, queued):
    conversation = customer_wrote(shop_a, page)
    message = seller_says(shop_a, conversation, "السومة 4500 دج 🚚")
    assert deliver(shop_a, message) == "sent"
    [sent] = graph.messages
    assert sent["recipient"] == {"id": PSID} and sent["messaging_type"] == "RESPONSE"
    assert sent["message"]["text"] == "السومة 4500 دج 🚚"
    assert sent["message"]["metadata"] == f"ma5zani:{message.pk}"
    assert stored(shop_a, message).external_id == sent["message_id"]


def test_a_long_answer_is_split_and_cards_become_a_carousel(shop_a, page, graph, queued):
    conversation = customer_wrote(shop_a, page)
    long_text = "\n\n".join(f"Paragraphe {n} : " + "livraison rapide partout en Algérie. " * 12 for n in range(6))
    with shop_a.schema():
        message = Message.objects.create(
            conversation=conversation,
            direction="out",
            author="bot",
            channel="messenger",
            text=long_text,
            status="queued",
            quick_replies=["Commander", "Parler à quelqu'un"],
            cards=[ProductCard(product_id=7, title="Sac cuir", price=4500, in_stock=True).__dict__],
        )
    assert deliver(shop_a, message) == "sent"
    texts = [m["message"].get("text") for m in graph.messages if "text" in m["message"]]
    assert len(texts) > 1 and all(len(t) <= 2000 for t in texts)
    assert " ".join(" ".join(texts).split()) == " ".join(long_text.split())
    assert "quick_replies" in graph.messages[len(texts) - 1]["message"]
    template = graph.messages[-1]["message"]["attachment"]["payload"]
    assert template["template_type"] == "generic"
    assert [b["payload"] for b in template["elements"][0]["buttons"]] == ["ORDER:7", "DETAILS:7"]


def test_a_person_answering_after_24_hours_uses_the_human_agent_tag(shop_a, page, graph, queued):
    conversation = customer_wrote(shop_a, page, hours_ago=30)
    message = seller_says(shop_a, conversation, "Mazal disponible, rani hna")
    assert deliver(shop_a, message) == "sent"
    assert (graph.messages[-1]["messaging_type"], graph.messages[-1]["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_an_invalid_token_fails_the_send_stops_the_channel_and_tells_the_owner_once(
    shop_a, page, graph, queued, settings
):
    conversation = customer_wrote(shop_a, page)
    first, second = seller_says(shop_a, conversation, "Salam"), seller_says(shop_a, conversation, "Rak hna?")
    graph.fail("me/messages", code=190, subcode=463, status=400, times=5)
    assert deliver(shop_a, first) == "failed"
    assert stored(shop_a, first).error == "reconnect"
    forget()
    assert deliver(shop_a, second) == "failed"  # nothing more goes out
    assert stored(shop_a, second).error == "reconnect"
    with schema_context(get_public_schema_name()):
        meta = MetaAccount.objects.get(account=page)
        assert meta.state == "reconnect" and meta.owner_told_at is not None
        assert ChannelAccount.objects.get(pk=page.pk).status == "error"
    assert len(mail.outbox) == 1 and shop_a.owner.email in mail.outbox[0].to


@pytest.mark.parametrize(
    ("code", "subcode", "reason"),
    [(10, 2018278, "window_closed"), (551, None, "unavailable"), (10, 1893063, "restricted"), (100, None, "invalid")],
)
def test_refusals_fail_for_good_with_the_reason(shop_a, page, graph, queued, code, subcode, reason):
    conversation = customer_wrote(shop_a, page)
    message = seller_says(shop_a, conversation, "Salam")
    graph.fail("me/messages", code=code, subcode=subcode, status=400)
    assert deliver(shop_a, message) == "failed"
    failed = stored(shop_a, message)
    assert failed.error == reason and failed.error_text != reason  # shown in words


def test_rate_limits_and_temporary_errors_are_retried_with_a_new_attempt(shop_a, page, graph, queued):
    conversation = customer_wrote(shop_a, page)
    message = seller_says(shop_a, conversation, "Salam")
    graph.fail("me/messages", code=613, status=400, times=1)
    graph.fail("me/messages", code=2, status=500, times=1)
    assert [deliver(shop_a, message) for _ in range(3)] == ["retry", "retry", "sent"]
    with shop_a.schema():
        attempts = list(DeliveryAttempt.objects.filter(message=message).values_list("number", "succeeded"))
    assert attempts == [(1, False), (2, False), (3, True)] and len(graph.messages) == 1


def test_a_send_that_timed_out_is_never_repeated(shop_a, page, graph, queued, monkeypatch):
    import httpx

    conversation = customer_wrote(shop_a, page)
    message = seller_says(shop_a, conversation, "Salam")

    def timeout(self, *args, **kwargs):
        raise httpx.ReadTimeout("no answer")

    monkeypatch.setattr(httpx.Client, "request", timeout)
    assert deliver(shop_a, message) == "failed"
    monkeypatch.undo()
    assert deliver(shop_a, message) == "skipped"
    assert stored(shop_a, message).error == "unknown_outcome" and graph.messages == []


def test_the_bot_sends_nothing_outside_the_window(shop_a, page, graph, queued):
    conversation = customer_wrote(shop_a, page, hours_ago=26)
    with shop_a.schema():
        message = Message.objects.create(
            conversation=conversation, direction="out", author="bot", channel="messenger", text="Ahlan", status="queued"
        )
    assert deliver(shop_a, message) == "failed"
    assert stored(shop_a, message).error == "window_closed" and graph.messages == []


# --- Comments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["ch7al?", "Prix svp", "بشحال", "السعر من فضلك", "dispo en 38?", "mp", "en mp svp", "شحال التوصيل لوهران", "inbox"],
)
def test_comments_that_ask_are_answered(text):
    assert asks_to_be_answered(text)


@pytest.mark.parametrize("text", ["Trop beau 😍", "ماشاء الله", "tbarkallah 3likom", "@amina.dz regarde", "❤️❤️", ""])
def test_comments_that_do_not_ask_are_left_alone(text):
    assert not asks_to_be_answered(text)


def test_a_comment_gets_one_private_reply_that_opens_the_conversation(
    shop_a, graph, meta_settings, webhook, queued, follow_ups
):
    token = graph.issue_token("instagram", INSTAGRAM_A)
    account = link(shop_a, "instagram", INSTAGRAM_A, token=token, comment_public_reply=True)
    webhook.post(fixture("instagram/comments__add"))
    with shop_a.schema():
        comment = Comment.objects.get()
        assert comment_reply(comment.pk) == "sent"
        assert comment_reply(comment.pk) == "skipped"  # one per comment
        comment.refresh_from_db()
        conversation = comment.conversation
        assert comment.reply == "sent" and conversation is not None
        assert (conversation.source, conversation.source_detail["comment_id"]) == ("comment", comment.external_id)
        [opening] = Message.objects.filter(conversation=conversation)
        assert (opening.author, opening.status) == ("bot", "sent")
    private = [m for m in graph.messages if "comment_id" in m["recipient"]]
    assert len(private) == 1 and private[0]["recipient"] == {"comment_id": comment.external_id}
    assert len(graph.comment_replies) == 1  # the short public reply
    assert account.pk == conversation.channel_account_id


def test_a_comment_older_than_seven_days_is_not_answered(shop_a, graph, meta_settings, queued):
    token = graph.issue_token("instagram", INSTAGRAM_A)
    account = link(shop_a, "instagram", INSTAGRAM_A, token=token)
    with shop_a.schema():
        comment = Comment.objects.create(
            channel="instagram",
            channel_account_id=account.pk,
            external_id="17900000000000001",
            text="ch7al?",
            commented_at=timezone.now() - dt.timedelta(days=8),
        )
        assert comment_reply(comment.pk) == "failed"
        comment.refresh_from_db()
        assert (comment.reply, comment.reply_reason) == ("failed", "too_old")
    assert graph.messages == []


# --- Tokens and linking ------------------------------------------------------------------------


def test_instagram_tokens_are_refreshed_well_before_they_expire_and_a_dead_one_asks_to_reconnect(
    shop_a, shop_b, graph, meta_settings
):
    alive = graph.issue_token("instagram", INSTAGRAM_A, expires_in=10 * 86400)
    dead = graph.issue_token("instagram", "17841400000000099", expires_in=5 * 86400)
    graph.expire(dead)
    week_ago = timezone.now() - dt.timedelta(days=7)
    soon = timezone.now() + dt.timedelta(days=10)
    fresh = link(shop_a, "instagram", INSTAGRAM_A, token=alive, token_expires_at=soon, token_refreshed_at=week_ago)
    stale = link(
        shop_b, "instagram", "17841400000000099", token=dead, token_expires_at=soon, token_refreshed_at=week_ago
    )
    later = link(
        shop_b,
        "instagram",
        "17841400000000098",
        token="far-future",
        token_expires_at=timezone.now() + dt.timedelta(days=50),
        token_refreshed_at=week_ago,
    )
    assert accounts.tokens_refresh_due() == (1, 1)
    with schema_context(get_public_schema_name()):
        refreshed = MetaAccount.objects.get(account=fresh)
        assert decrypt(refreshed.token_encrypted) != alive
        assert refreshed.token_expires_at is not None and refreshed.token_expires_at > soon
        assert MetaAccount.objects.get(account=stale).state == "reconnect"
        assert decrypt(MetaAccount.objects.get(account=later).token_encrypted) == "far-future"
    assert len(graph.calls_to("refresh_access_token")) == 2


def test_meta_link_lists_and_links_a_page_and_its_instagram_account(shop_a, graph, meta_settings):
    user = graph.issue_token("user", graph.user_id)
    page_token = graph.issue_token("page", PAGE_A)
    graph.add_page(PAGE_A, "Alpha Shop", page_token, ig_account={"id": INSTAGRAM_A, "username": "alpha.dz"})
    out = io.StringIO()
    call_command("meta_link", shop_a.seller.slug, "--token", user, "--list", stdout=out)
    assert PAGE_A in out.getvalue() and "@alpha.dz" in out.getvalue()
    call_command("meta_link", shop_a.seller.slug, "--token", user, "--page", PAGE_A, "--instagram", stdout=out)
    with schema_context(get_public_schema_name()):
        linked = {(a.channel, a.external_id) for a in ChannelAccount.objects.filter(seller=shop_a.seller)}
        assert {("messenger", PAGE_A), ("instagram", INSTAGRAM_A)} <= linked
        meta = MetaAccount.objects.get(account__external_id=PAGE_A)
        assert meta.linked_by_operator and decrypt(meta.token_encrypted) == page_token
        assert page_token not in meta.token_encrypted  # stored encrypted
    assert set(graph.subscriptions[PAGE_A]) >= {"messages", "message_echoes", "feed"}
    with pytest.raises(CommandError, match="cannot manage"):
        call_command("meta_link", shop_a.seller.slug, "--token", user, "--page", "999")


def test_a_page_of_another_shop_is_refused(shop_a, shop_b, graph, meta_settings):
    from django.core.exceptions import ValidationError

    token = graph.issue_token("page", PAGE_A)
    graph.add_page(PAGE_A, "Alpha Shop", token)
    link(shop_b, "messenger", PAGE_A, token=encrypt("x"))
    candidate = accounts.Candidate(kind="page", external_id=PAGE_A, name="Alpha Shop", token=token, page_id=PAGE_A)
    with pytest.raises(ValidationError, match="another shop"):
        accounts.account_link(shop_a.seller, candidate)


def test_an_instagram_login_token_linked_by_an_operator_is_refreshed_too(shop_a, graph, meta_settings):
    token = graph.issue_token("instagram", graph.instagram_login["user_id"])
    call_command("meta_link", shop_a.seller.slug, "--token", token, "--instagram-login", stdout=io.StringIO())
    with schema_context(get_public_schema_name()):
        meta = MetaAccount.objects.get(account__external_id=graph.instagram_login["user_id"])
        assert meta.token_expires_at is not None  # counted from the link: it will be refreshed
        # 45 days later: due.
        MetaAccount.objects.filter(pk=meta.pk).update(
            token_expires_at=timezone.now() + dt.timedelta(days=15),
            token_refreshed_at=timezone.now() - dt.timedelta(days=45),
        )
    assert accounts.tokens_refresh_due() == (1, 0)


def test_unlinking_one_of_two_channels_of_a_page_keeps_the_pages_webhooks(shop_a, graph, meta_settings):
    token = graph.issue_token("page", PAGE_A)
    graph.add_page(PAGE_A, "Alpha Shop", token, ig_account={"id": INSTAGRAM_A, "username": "alpha.dz"})
    user = Token(access_token=graph.issue_token("user", graph.user_id), expires_at=None)
    candidates = accounts.facebook_candidates(user)
    linked = [accounts.account_link(shop_a.seller, candidate) for candidate in candidates]
    instagram = next(a for a in linked if a.channel == "instagram")
    messenger = next(a for a in linked if a.channel == "messenger")
    accounts.account_unlink(instagram)
    assert PAGE_A in graph.subscriptions  # Messenger still receives
    accounts.account_unlink(messenger)
    assert PAGE_A not in graph.subscriptions


def test_a_page_unlinked_by_one_shop_may_be_linked_by_another(shop_a, shop_b, graph, meta_settings):
    token = graph.issue_token("page", PAGE_A)
    graph.add_page(PAGE_A, "Alpha Shop", token)
    candidate = accounts.Candidate(kind="page", external_id=PAGE_A, name="Alpha Shop", token=token, page_id=PAGE_A)
    first = accounts.account_link(shop_b.seller, candidate)
    accounts.account_unlink(first)
    moved = accounts.account_link(shop_a.seller, candidate)
    assert moved.pk == first.pk and moved.seller_id == shop_a.seller.pk


def test_comments_still_waiting_are_asked_again_by_the_sweep(shop_a, meta_settings, follow_ups):
    from channels_app.meta.tasks import sweep_comments_task

    account = link(shop_a, "instagram", INSTAGRAM_A)
    now = timezone.now()
    with shop_a.schema():

        def comment(external_id: str, **values) -> Comment:
            return Comment.objects.create(
                channel="instagram", channel_account_id=account.pk, external_id=external_id, text="ch7al?", **values
            )

        waiting = comment("c_waiting", commented_at=now - dt.timedelta(hours=2))
        lost_claim = comment(
            "c_lost",
            commented_at=now - dt.timedelta(hours=1),
            reply_reason="in progress",
            claimed_at=now - dt.timedelta(hours=1),
        )
        comment("c_sending", commented_at=now, reply_reason="in progress", claimed_at=now)  # a worker is on it
        comment("c_old", commented_at=now - dt.timedelta(days=8))
        comment("c_done", commented_at=now, reply="sent")
    assert sweep_comments_task.apply().get() >= 2
    asked = {
        args[0] for name, args, schema in follow_ups if name == "reply_task" and schema == shop_a.seller.schema_name
    }
    assert asked == {waiting.pk, lost_claim.pk}
