"""Meta's webhook end to end: signed deliveries of every event shape (tests/fixtures) through the
real endpoint into the sellers' schemas, with what is stored, answered and left for later."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.utils import timezone

from channels_app.meta.signature import meta_json, sign
from channels_app.meta.tests.conftest import INSTAGRAM_A, PAGE_A, PAGE_B, fixture, link
from conversations.models import Comment, Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(shop_a, shop_b):
    return {
        "a": link(shop_a, "messenger", PAGE_A),
        "b": link(shop_b, "messenger", PAGE_B),
        "ig": link(shop_a, "instagram", INSTAGRAM_A),
    }


def messages(shop, **filters):
    with shop.schema():
        return list(Message.objects.filter(**filters).order_by("id"))


# --- Verification and signatures ---------------------------------------------------------------


def test_meta_verifies_the_webhook_with_the_configured_token(webhook):
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    answer = webhook.client.get("/webhooks/meta/", query)
    assert (answer.status_code, answer.content) == (200, b"1158201444")
    wrong = webhook.client.get("/webhooks/meta/", {**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


@pytest.mark.parametrize("how", ["forged", "wrong_secret", "missing", "sha1"])
def test_a_bad_or_missing_signature_gets_403_and_stores_nothing(webhook, pages, shop_a, queued, how):
    raw = meta_json(fixture("messenger/message__text"))
    headers = {
        "forged": sign(raw, "meta-secret"),
        "wrong_secret": sign(raw, "another-secret"),
        "missing": None,
        "sha1": "sha1=" + sign(raw, "meta-secret").partition("=")[2],
    }
    if how == "forged":  # signed, then one byte of the body changed
        raw = raw.replace(b"6897412335561204", b"6897412335561205")
    answer = webhook.post(raw, header=headers[how], secret=None) if headers[how] else webhook.post(raw, secret=None)
    assert answer.status_code == 403
    assert messages(shop_a) == [] and queued.replies == []


def test_a_signed_body_that_is_no_delivery_gets_400(webhook, pages):
    assert webhook.post(b'{"object": "whatsapp_business_account", "entry": []}').status_code == 400
    assert webhook.post(b"not json").status_code == 400


# --- Messages ------------------------------------------------------------------------------------


def test_a_customer_message_is_stored_in_the_pages_shop_and_answered(
    webhook, pages, shop_a, shop_b, queued, follow_ups
):
    answer = webhook.post(fixture("messenger/message__text"))
    assert (answer.status_code, answer.content) == (200, b"EVENT_RECEIVED")
    [message] = messages(shop_a)
    assert (message.channel, message.author, message.direction) == ("messenger", "customer", "in")
    assert message.text.startswith("السلام عليكم، شحال")
    with shop_a.schema():
        conversation = Conversation.objects.get(pk=message.conversation_id)
        assert conversation.identity.external_id == "6897412335561204"
        assert conversation.channel_account_id == pages["a"].pk
    assert queued.replies == [(message.conversation_id, message.pk)]
    assert messages(shop_b) == []
    # The customer's name is asked of Meta's profile API, later.
    assert [(name, args[2]) for name, args, _schema in follow_ups] == [("fetch_profile_task", "6897412335561204")]


@pytest.mark.parametrize("remembered", [True, False])
def test_a_burst_from_a_new_customer_looks_the_name_up_once(
    webhook, pages, shop_a, queued, follow_ups, monkeypatch, remembered
):
    from conversations import services as kit

    lookups = []

    def identities_without_name(**kwargs):
        lookups.append(sorted(kwargs["external_ids"]))
        return real(**kwargs)

    real = kit.identities_without_name
    monkeypatch.setattr(kit, "identities_without_name", identities_without_name)
    if not remembered:  # once the process's memory of it has expired, it is looked up again
        monkeypatch.setattr("channels_app.meta.inbound.PROFILE_ASKED_SECONDS", 0.0)
    first = fixture("messenger/message__text")
    second = copy.deepcopy(first)
    second["entry"][0]["messaging"][0]["message"]["mid"] = "m_second_of_the_burst"
    second["entry"][0]["messaging"][0]["timestamp"] += 2000
    assert webhook.post(first).status_code == 200
    assert webhook.post(second).status_code == 200
    assert len(messages(shop_a)) == 2
    assert lookups == [["6897412335561204"]] * (1 if remembered else 2)
    # Asked of Meta once either way (at most hourly per customer).
    assert [name for name, _args, _schema in follow_ups] == ["fetch_profile_task"]


def test_the_same_delivery_twice_is_stored_once(webhook, pages, shop_a, queued, follow_ups):
    body = fixture("messenger/message__text")
    assert webhook.post(body).status_code == 200
    assert webhook.post(copy.deepcopy(body)).status_code == 200
    assert len(messages(shop_a)) == 1 and len(queued.replies) == 1


def test_one_delivery_with_two_sellers_entries_goes_to_each_shop(webhook, pages, shop_a, shop_b, queued, follow_ups):
    assert webhook.post(fixture("messenger/multi__two_accounts")).status_code == 200
    mine, theirs = messages(shop_a), messages(shop_b)
    assert len(mine) == 1 and len(theirs) == 1
    with shop_a.schema():
        assert Conversation.objects.get().channel_account_id == pages["a"].pk
    with shop_b.schema():
        assert Conversation.objects.get().channel_account_id == pages["b"].pk


def test_entries_of_an_unknown_page_are_skipped_and_the_rest_stored(webhook, shop_a, queued, follow_ups):
    link(shop_a, "messenger", PAGE_A)
    answer = webhook.post(fixture("messenger/multi__two_accounts"))  # PAGE_B is nobody's
    assert answer.status_code == 200
    assert len(messages(shop_a)) == 1


def test_out_of_order_deliveries_are_stored_in_timestamp_order(webhook, pages, shop_a, queued, follow_ups):
    assert webhook.post(fixture("messenger/multi__out_of_order")).status_code == 200
    stored = messages(shop_a)
    assert len(stored) >= 2
    times = [m.channel_timestamp for m in stored]
    assert times == sorted(times)


def test_a_quick_reply_is_a_structured_choice_and_an_ad_click_the_source(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("messenger/message__quick_reply"))
    webhook.post(fixture("messenger/message__with_ad_referral"))
    stored = messages(shop_a)
    choices = [m.extra.get("choice") for m in stored if m.extra.get("choice")]
    assert choices and choices[0]["kind"] in ("order", "product", "variant", "person", "other")
    with shop_a.schema():
        sources = set(Conversation.objects.values_list("source", flat=True))
    assert "ad" in sources


def test_attachments_are_fetched_later_and_the_answer_waits(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("messenger/message__image"))
    webhook.post(fixture("messenger/message__audio"))
    image, audio = messages(shop_a)
    assert (image.media_kind, audio.media_kind) == ("image", "audio")
    assert not image.media and not image.media_url  # the CDN link is fetched, not kept
    fetches = [args for name, args, _s in follow_ups if name == "fetch_media_task"]
    assert [args[0] for args in fetches] == [image.pk, audio.pk]
    assert all(args[1].startswith("https://") for args in fetches)
    assert queued.replies == []  # answered once the files are attached


def test_an_instagram_story_reply_keeps_the_link_never_the_media(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("instagram/message__story_reply"))
    webhook.post(fixture("instagram/message__story_mention"))
    reply, mention = messages(shop_a)
    assert reply.media_kind == "story" and reply.media_url.startswith("https://") and not reply.media
    assert reply.extra["story"]["id"]
    assert mention.media_kind == "story" and mention.extra.get("story_mention") is True
    assert not [name for name, _a, _s in follow_ups if name == "fetch_media_task"]


def test_unsend_marks_the_message_deleted_and_unsupported_is_stored_unanswered(
    webhook, pages, shop_a, queued, follow_ups
):
    webhook.post(fixture("instagram/message__text"))
    deleted = fixture("instagram/message__deleted")
    # The customer unsends the message just stored.
    [original] = messages(shop_a)
    deleted["entry"][0]["messaging"][0]["message"]["mid"] = original.external_id
    webhook.post(deleted)
    assert messages(shop_a)[0].deleted_at is not None
    webhook.post(fixture("instagram/message__unsupported"))
    unsupported = messages(shop_a)[-1]
    assert unsupported.extra.get("unsupported") is True
    assert queued.replies == [(original.conversation_id, original.pk)]


def test_standby_messages_are_stored_without_an_answer(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("messenger/standby__message"))
    assert len(messages(shop_a)) == 1 and queued.replies == []


# --- Echoes, receipts, reactions, referrals ----------------------------------------------------------


def test_our_own_echo_is_ignored_and_a_sellers_reply_from_metas_inbox_takes_over(
    webhook, pages, shop_a, queued, follow_ups
):
    webhook.post(fixture("messenger/message__text"))
    webhook.post(fixture("messenger/echo__app"))
    assert [m.author for m in messages(shop_a)] == ["customer"]
    webhook.post(fixture("messenger/echo__page_inbox"))
    stored = messages(shop_a)
    assert [m.author for m in stored] == ["customer", "seller"]
    with shop_a.schema():
        conversation = Conversation.objects.get()
        assert (conversation.mode, conversation.handoff_reason) == ("human", "seller_replied_from_meta")


def test_reads_and_deliveries_move_our_messages_forward(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("messenger/message__text"))
    [customer] = messages(shop_a)
    delivered = fixture("messenger/delivery__mids")
    mids = delivered["entry"][0]["messaging"][0]["delivery"]["mids"]
    with shop_a.schema():
        ours = Message.objects.create(
            conversation_id=customer.conversation_id,
            direction="out",
            author="bot",
            channel="messenger",
            external_id=mids[0],
            text="4500 DA",
            status="sent",
            sent_at=timezone.now() - dt.timedelta(days=3650),
        )
    webhook.post(delivered)
    assert messages(shop_a, pk=ours.pk)[0].status == "delivered"
    webhook.post(fixture("messenger/read__watermark"))
    assert messages(shop_a, pk=ours.pk)[0].status == "read"


def test_a_reaction_lands_on_its_message(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("messenger/message__text"))
    react = fixture("messenger/reaction__react")
    [customer] = messages(shop_a)
    react["entry"][0]["messaging"][0]["reaction"]["mid"] = customer.external_id
    webhook.post(react)
    assert messages(shop_a)[0].reaction


def test_a_link_referral_of_a_known_customer_becomes_the_source(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("messenger/message__text"))
    webhook.post(fixture("messenger/referral__m_me"))
    with shop_a.schema():
        conversation = Conversation.objects.get()
    assert conversation.source == "link" and conversation.source_detail.get("ref")


# --- Comments -------------------------------------------------------------------------------


def test_a_comment_asking_the_price_is_kept_and_its_private_reply_queued_once(
    webhook, pages, shop_a, queued, follow_ups
):
    body = fixture("instagram/comments__add")
    webhook.post(body)
    webhook.post(copy.deepcopy(body))
    with shop_a.schema():
        [comment] = Comment.objects.all()
    assert comment.channel == "instagram" and comment.reply == "pending"
    # Asked again by the repeated delivery while it waits; the claim sends it once (test_sending).
    assert {args for name, args, _s in follow_ups if name == "reply_task"} == {(comment.pk,)}
    webhook.post(fixture("instagram/comments__by_account"))
    with shop_a.schema():
        assert Comment.objects.count() == 1  # the shop's own comment is not a customer's


def test_a_comment_on_a_page_that_turned_comment_replies_off_is_kept_unanswered(webhook, shop_a, queued, follow_ups):
    link(shop_a, "messenger", PAGE_A, comment_replies="off")
    webhook.post(fixture("messenger/feed__comment_add"))
    with shop_a.schema():
        [comment] = Comment.objects.all()
    assert (comment.reply, comment.reply_reason) == ("skipped", "off")
    assert not [name for name, _a, _s in follow_ups if name == "reply_task"]


def _instagram_echo(text: str, mid: str) -> dict:
    body = fixture("instagram/message__echo")
    body["entry"][0]["messaging"][0]["message"].update({"text": text, "mid": mid})
    return body


def test_instagram_echoes_of_our_sends_are_ours_even_in_parts_and_before_the_send_is_recorded(
    webhook, pages, shop_a, queued, follow_ups
):
    webhook.post(fixture("instagram/message__text"))
    [customer] = messages(shop_a)
    part_one = "Merci ! " + "Le sac existe en noir, beige et bordeaux. " * 20
    part_two = "La livraison prend 48 heures partout en Algérie, paiement à la livraison."
    with shop_a.schema():
        Message.objects.create(  # queued: its send is under way, nothing recorded yet
            conversation_id=customer.conversation_id,
            direction="out",
            author="bot",
            channel="instagram",
            text=f"{part_one}\n\n{part_two}",
            status="queued",
        )
    webhook.post(_instagram_echo(part_two, "aWdfZWNob19wYXJ0XzI"))  # Instagram's echo: no app id, no metadata
    webhook.post(_instagram_echo(part_one.strip(), "aWdfZWNob19wYXJ0XzE"))
    with shop_a.schema():
        assert Conversation.objects.get().mode == "bot"
    assert [m.author for m in messages(shop_a)] == ["customer", "bot"]
    # What the seller writes in Instagram's own inbox is theirs.
    webhook.post(_instagram_echo("Salam, c'est Yacine de la boutique, je m'en occupe.", "aWdfc2VsbGVy"))
    assert [m.author for m in messages(shop_a)] == ["customer", "bot", "seller"]
    with shop_a.schema():
        assert Conversation.objects.get().mode == "human"


def test_a_seller_whose_events_fail_gets_them_again_and_the_others_are_kept(
    webhook, pages, shop_a, shop_b, queued, follow_ups, monkeypatch
):
    """Entries of two shops; shop B's storage fails once: 500, shop A's message stays stored
    (and followed up once), and Meta's repeat stores B's without doubling A's."""
    import channels_app.meta.inbound as inbound_module

    real = inbound_module._handle_account
    failures = {"left": 1}

    def flaky(account, events, handled):
        if account.seller_id == shop_b.seller.pk and failures["left"]:
            failures["left"] -= 1
            real(account, events, handled)  # stored, then the transaction fails: rolled back
            raise RuntimeError("database went away")
        return real(account, events, handled)

    monkeypatch.setattr(inbound_module, "_handle_account", flaky)
    body = fixture("messenger/multi__two_accounts")
    assert webhook.post(body).status_code == 500
    assert len(messages(shop_a)) == 1 and messages(shop_b) == []
    assert webhook.post(copy.deepcopy(body)).status_code == 200
    assert len(messages(shop_a)) == 1 and len(messages(shop_b)) == 1
    assert len(queued.replies) == 2


def test_a_repeated_delivery_fetches_media_still_missing(webhook, pages, shop_a, queued, follow_ups):
    body = fixture("messenger/message__image")
    webhook.post(body)
    webhook.post(copy.deepcopy(body))  # the first fetch was lost: asked again
    fetches = [args[0] for name, args, _s in follow_ups if name == "fetch_media_task"]
    [image] = messages(shop_a)
    assert fetches == [image.pk, image.pk]


def test_a_seller_writing_the_same_words_twice_from_metas_inbox_keeps_both(webhook, pages, shop_a, queued, follow_ups):
    webhook.post(fixture("messenger/message__text"))
    for mid in ("m_inbox_1", "m_inbox_2"):
        echo = fixture("messenger/echo__page_inbox")
        echo["entry"][0]["messaging"][0]["message"].update({"mid": mid, "text": "Rani nchouf, dqiqa"})
        webhook.post(echo)
    assert [m.author for m in messages(shop_a)] == ["customer", "seller", "seller"]
