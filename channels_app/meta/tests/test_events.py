"""Webhook deliveries in, neutral events out: one test per fixture (every fixture must have an
expectation here), then the rules the fixtures do not show one by one (ordering, echoes of our
app, stickers in their two shapes, times, bodies that are no delivery)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

import pytest

from channels_app.meta.attachments import TYPES, parse_attachments
from channels_app.meta.events import KINDS, Delivery, MalformedDelivery, MetaEvent, parse
from channels_app.meta.tests.conftest import fixture_body, fixture_bytes, fixture_names
from channels_app.meta.values import epoch_time

PAGE = "104857329461722"
PAGE_B = "112093847561038"
PSID = "6897412335561204"
IG = "17841458392017465"
IGSID = "1049283746501928"
OUR_APP_ID = "884213097765432"
INBOX_APP_ID = "263902037430900"
POST = f"{PAGE}_1093847561209384"
CUSTOMER_COMMENT = "1093847561209384_2049385761023847"
IG_COMMENT = "17865799348089039"


class Ref:
    """A value of the fixture itself, by its path in the body ("entry.0.messaging.0.message.mid"):
    the expectation says where the parser must have found it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def resolve(self, body: Any) -> Any:
        node = body
        for part in self.path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node


def at(hour: int, minute: int, second: int, day: int = 4, month: int = 12, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


E0 = "entry.0.messaging.0"  # the first (only) messaging event of the first entry
MSG = f"{E0}.message"
ATTACHMENT_URL = Ref(f"{MSG}.attachments.0.payload.url")


def customer_says(customer: str, account: str, **fields: Any) -> dict[str, Any]:
    """What a customer sent (kind, ids), with the fields particular to the fixture."""
    return {"sender_id": customer, "recipient_id": account, "customer_id": customer, "account_id": account, **fields}


def m(**fields: Any) -> dict[str, Any]:
    return {"platform": "messenger", **customer_says(PSID, PAGE, **fields)}


def ig(**fields: Any) -> dict[str, Any]:
    return {"platform": "instagram", **customer_says(IGSID, IG, **fields)}


EXPECTED: dict[str, dict[str, Any]] = {
    # --- Messenger ---------------------------------------------------------------------------
    "messenger/message__text": {
        "events": [
            m(
                kind="message",
                mid=Ref(f"{MSG}.mid"),
                text="السلام عليكم، شحال سومة هاد الصاك؟ كاين التوصيل لوهران؟",
                timestamp=at(9, 1, 40),
                attachments=[],
                is_echo=False,
                standby=False,
                referral=None,
            )
        ]
    },
    "messenger/message__quick_reply": {
        "events": [
            m(kind="message", text="Noir 🖤", quick_reply_payload="COLOR:black:sku-1042", timestamp=at(9, 2, 40))
        ]
    },
    "messenger/message__image": {
        "events": [m(kind="message", text="", attachments=[{"type": "image", "url": ATTACHMENT_URL}])]
    },
    "messenger/message__audio": {
        "events": [m(kind="message", attachments=[{"type": "audio", "url": ATTACHMENT_URL, "meta_type": "audio"}])]
    },
    "messenger/message__video": {"events": [m(kind="message", attachments=[{"type": "video", "url": ATTACHMENT_URL}])]},
    "messenger/message__file": {"events": [m(kind="message", attachments=[{"type": "file", "url": ATTACHMENT_URL}])]},
    "messenger/message__sticker": {
        # The transition's two attachments (image with sticker_id, and sticker) are one sticker.
        "events": [
            m(
                kind="message",
                attachments=[
                    {"type": "sticker", "sticker_id": "369239263222822", "url": ATTACHMENT_URL, "meta_type": "sticker"}
                ],
            )
        ]
    },
    "messenger/message__reply_to": {
        "events": [
            m(kind="message", text="Oui celui-là, vous l'avez en marron ?", reply_to_mid=Ref(f"{MSG}.reply_to.mid"))
        ]
    },
    "messenger/message__fallback_link": {
        "events": [
            m(
                kind="message",
                text="https://www.instagram.com/p/DCx7Yk2MzQa/ rani habba hada",
                attachments=[
                    {
                        "type": "fallback",
                        "url": "https://www.instagram.com/p/DCx7Yk2MzQa/",
                        "title": 'Nour Boutique on Instagram: "Nouvelle collection 👜"',
                    }
                ],
            )
        ]
    },
    "messenger/message__with_ad_referral": {
        "events": [
            m(
                kind="message",
                text="ch7al had sac?",
                referral={
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "ad_id": "120213456789012345",
                    "ad_title": "Sac à main en cuir véritable – livraison 58 wilayas",
                    "photo_url": Ref(f"{MSG}.referral.ads_context_data.photo_url"),
                    "post_id": POST,
                },
            )
        ]
    },
    "messenger/message__dashboard_test": {
        # The App Dashboard's test button: a messaging event as a change, times as strings.
        "events": [
            {
                "platform": "messenger",
                "kind": "message",
                "account_id": "0",
                "customer_id": "12334",
                "mid": "test_message_id",
                "text": "test_message",
                "timestamp": at(22, 23, 44, day=27, month=5, year=2018),
            }
        ]
    },
    "messenger/postback__get_started": {
        "events": [
            m(
                kind="postback",
                postback_payload="GET_STARTED",
                postback_title="Commencer",
                mid=Ref(f"{E0}.postback.mid"),
                referral=None,
            )
        ]
    },
    "messenger/postback__with_referral": {
        "events": [
            m(
                kind="postback",
                postback_payload="GET_STARTED",
                referral={"source": "SHORTLINK", "type": "OPEN_THREAD", "ref": "sac-cuir-noir", "ad_id": ""},
            )
        ]
    },
    "messenger/reaction__react": {
        "events": [m(kind="reaction", reaction="❤️", reaction_action="react", mid=Ref(f"{E0}.reaction.mid"))]
    },
    "messenger/reaction__unreact": {
        "events": [m(kind="reaction", reaction="👍", reaction_action="unreact", mid=Ref(f"{E0}.reaction.mid"))]
    },
    "messenger/read__watermark": {
        "events": [m(kind="read", watermark=at(9, 15, 30), timestamp=at(9, 15, 40), mid="", mids=[])]
    },
    "messenger/delivery__mids": {
        "events": [
            m(
                kind="delivery",
                watermark=at(9, 16, 35),
                mids=[Ref(f"{E0}.delivery.mids.0"), Ref(f"{E0}.delivery.mids.1")],
            )
        ]
    },
    "messenger/echo__app": {
        # The Page sent it: the customer is the recipient.
        "events": [
            {
                "platform": "messenger",
                "kind": "echo",
                "account_id": PAGE,
                "sender_id": PAGE,
                "recipient_id": PSID,
                "customer_id": PSID,
                "is_echo": True,
                "app_id": OUR_APP_ID,
                "echo_metadata": "ma5zani:reply:8f3c2a91",
                "text": "وعليكم السلام! السومة 4500 دج، والتوصيل متوفر لوهران في 48 ساعة 🚚",
                "mid": Ref(f"{MSG}.mid"),
            }
        ]
    },
    "messenger/echo__page_inbox": {
        # The seller answered from Meta's inbox: an echo of another app, without our metadata.
        "events": [
            {
                "kind": "echo",
                "sender_id": PAGE,
                "customer_id": PSID,
                "app_id": INBOX_APP_ID,
                "echo_metadata": "",
                "text": "راني نبعتلك الصور تاع اللون البني دركا",
            }
        ]
    },
    "messenger/referral__ad": {
        "events": [
            m(
                kind="referral",
                timestamp=at(9, 19, 40),
                referral={
                    "source": "ADS",
                    "ref": "promo_hiver",
                    "ad_id": "120213456789012345",
                    "ad_title": "Sac à main en cuir véritable – livraison 58 wilayas",
                    "post_id": POST,
                    "video_url": "",
                },
            )
        ]
    },
    "messenger/referral__m_me": {
        "events": [m(kind="referral", referral={"source": "SHORTLINK", "type": "OPEN_THREAD", "ref": "tiktok_bio"})]
    },
    "messenger/standby__message": {
        "events": [
            m(
                kind="message",
                standby=True,
                text="Bonjour, est-ce que la livraison est disponible à Alger ?",
                mid=Ref("entry.0.standby.0.message.mid"),
            )
        ]
    },
    "messenger/unsupported__pass_thread_control": {"events": [m(kind="unsupported", timestamp=at(9, 22, 40))]},
    "messenger/feed__comment_add": {
        "events": [
            {
                "platform": "messenger",
                "kind": "comment",
                "account_id": PAGE,
                "sender_id": "7391028465520193",
                "customer_id": "7391028465520193",
                "timestamp": at(9, 23, 40),
                "text": "ch7al had sac? w kayen livraison l Sétif?",
                "comment": {
                    "id": CUSTOMER_COMMENT,
                    "from_id": "7391028465520193",
                    "from_name": "Amina Benali",
                    "post_id": POST,
                    "parent_id": POST,
                    "verb": "add",
                    "is_reply": False,
                },
            }
        ]
    },
    "messenger/feed__comment_reply": {
        "events": [
            {
                "kind": "comment",
                "customer_id": "8012938475610294",
                "comment": {"parent_id": CUSTOMER_COMMENT, "is_reply": True, "from_name": "Karim Haddad"},
            }
        ]
    },
    "messenger/feed__comment_by_page": {
        # The Page's own reply to a customer's comment: ours, not a customer's.
        "events": [
            {
                "kind": "echo",
                "is_echo": True,
                "sender_id": PAGE,
                "customer_id": "",
                "text": "Salam Amina, nb3atlek les détails f privé 📩",
                "comment": {"from_id": PAGE, "parent_id": CUSTOMER_COMMENT, "is_reply": True},
            }
        ]
    },
    "messenger/feed__comment_remove": {
        "events": [{"kind": "comment", "text": "", "comment": {"id": CUSTOMER_COMMENT, "verb": "remove"}}]
    },
    "messenger/feed__reaction": {
        "events": [
            {"kind": "unsupported", "account_id": PAGE, "sender_id": "7391028465520193", "timestamp": at(9, 27, 40)}
        ]
    },
    "messenger/multi__two_accounts": {
        # Grouped by account in order of appearance, though the second Page's event is older.
        "events": [
            m(kind="message", text="slm, kayen taille kbira?", timestamp=at(9, 28, 40)),
            {
                "kind": "message",
                "account_id": PAGE_B,
                "customer_id": "7120938475610293",
                "recipient_id": PAGE_B,
                "text": "Bonsoir, je veux commander deux pièces svp",
                "timestamp": at(9, 28, 39),
            },
        ]
    },
    "messenger/multi__out_of_order": {
        # One Page's events from two entries, sorted; the two of the same second keep their order.
        "events": [
            m(text="slm 3likom", timestamp=at(9, 29, 40)),
            m(text="el marron", timestamp=at(9, 29, 45)),
            m(text="taille moyenne", timestamp=at(9, 29, 45)),
            m(text="w l prix?", timestamp=at(9, 29, 49)),
            {"account_id": PAGE_B, "text": "كاين الدفع عند الاستلام؟", "timestamp": at(9, 29, 48)},
        ]
    },
    "messenger/multi__malformed": {
        # No sender, no mid, a message that is no object, an event that is no object, an entry
        # without id, a change without value: six skipped, the good event kept.
        "events": [m(kind="message", text="wach kayen l'orange?")],
        "skipped": 6,
    },
    # --- Instagram ---------------------------------------------------------------------------
    "instagram/message__text": {
        "events": [
            ig(
                kind="message",
                mid=Ref(f"{MSG}.mid"),
                text="السلام عليكم، كاين هاد الموديل بالأكحل؟ قداش التوصيل لقسنطينة؟",
                timestamp=at(9, 33, 20),
                story=None,
                is_deleted=False,
            )
        ]
    },
    "instagram/message__story_reply": {
        "events": [
            ig(
                kind="message",
                text="ch7al hadi? 😍",
                story={"id": "18056273849501928", "url": Ref(f"{MSG}.reply_to.story.url")},
                reply_to_mid="",
            )
        ]
    },
    "instagram/message__story_mention": {
        "events": [ig(kind="message", text="", attachments=[{"type": "story_mention", "url": ATTACHMENT_URL}])]
    },
    "instagram/message__share": {
        "events": [ig(kind="message", attachments=[{"type": "share", "url": ATTACHMENT_URL}])]
    },
    "instagram/message__reel": {
        "events": [
            ig(
                kind="message",
                attachments=[
                    {
                        "type": "reel",
                        "meta_type": "ig_reel",
                        "url": ATTACHMENT_URL,
                        "title": "Nouvelle collection hiver ❄️ sacs en cuir, livraison 58 wilayas",
                    }
                ],
            )
        ]
    },
    "instagram/message__audio": {
        "events": [ig(kind="message", attachments=[{"type": "audio", "url": ATTACHMENT_URL}])]
    },
    "instagram/message__like_heart": {
        "events": [ig(kind="message", attachments=[{"type": "sticker", "meta_type": "like_heart", "url": ""}])]
    },
    "instagram/message__deleted": {
        # The customer unsent the message of message__text (same mid).
        "events": [ig(kind="message", is_deleted=True, text="", mid=Ref(f"{MSG}.mid"))]
    },
    "instagram/message__unsupported": {"events": [ig(kind="message", is_unsupported=True, text="", attachments=[])]},
    "instagram/message__echo": {
        "events": [
            {
                "platform": "instagram",
                "kind": "echo",
                "account_id": IG,
                "sender_id": IG,
                "recipient_id": IGSID,
                "customer_id": IGSID,
                "is_echo": True,
                "app_id": "",
                "text": "Merci ! Le prix est 3900 DA, livraison en 48h 🚚",
            }
        ]
    },
    "instagram/seen__mid": {
        "events": [ig(kind="read", mid=Ref(f"{E0}.read.mid"), mids=[Ref(f"{E0}.read.mid")], watermark=None)]
    },
    "instagram/reaction__react": {
        "events": [ig(kind="reaction", reaction="❤️", reaction_action="react", mid=Ref(f"{E0}.reaction.mid"))]
    },
    "instagram/reaction__unreact": {"events": [ig(kind="reaction", reaction="", reaction_action="unreact")]},
    "instagram/postback__ice_breaker": {
        "events": [
            ig(
                kind="postback",
                postback_title="Quels sont vos prix ?",
                postback_payload="ICE_BREAKER:PRICES",
                mid=Ref(f"{E0}.postback.mid"),
            )
        ]
    },
    "instagram/referral__ig_me": {
        "events": [
            ig(kind="referral", referral={"source": "SHORTLINKS", "type": "OPEN_THREAD", "ref": "story_promo_dec"})
        ]
    },
    "instagram/comments__add": {
        # An Instagram comment has no time of its own: the entry's.
        "events": [
            {
                "platform": "instagram",
                "kind": "comment",
                "account_id": IG,
                "customer_id": "17912345678901234",
                "timestamp": at(9, 48, 20),
                "text": "ch7al? 😍 DM svp",
                "comment": {
                    "id": IG_COMMENT,
                    "from_name": "amina.dz_31",
                    "media_id": "18034567890123456",
                    "media_product_type": "FEED",
                    "parent_id": "",
                    "is_reply": False,
                },
            }
        ]
    },
    "instagram/comments__reply": {
        "events": [
            {
                "kind": "comment",
                "customer_id": "17898765432109876",
                "text": "حتى أنا حاب نعرف السومة",
                "comment": {"parent_id": IG_COMMENT, "is_reply": True, "media_product_type": "REELS"},
            }
        ]
    },
    "instagram/comments__by_account": {
        "events": [{"kind": "echo", "is_echo": True, "customer_id": "", "comment": {"from_id": IG, "is_reply": True}}]
    },
}


def _actual(value: Any, expected: Any) -> Any:
    """The part of `value` that `expected` speaks of, in the expectation's own shapes."""
    if isinstance(expected, Mapping) and value is not None and is_dataclass(value):
        return {key: _actual(getattr(value, key), item) for key, item in expected.items()}
    if isinstance(expected, list) and isinstance(value, tuple):
        return [_actual(item, expected[i]) if i < len(expected) else item for i, item in enumerate(value)]
    return value


def _resolved(expected: Any, body: Any) -> Any:
    if isinstance(expected, Ref):
        return expected.resolve(body)
    if isinstance(expected, Mapping):
        return {key: _resolved(item, body) for key, item in expected.items()}
    if isinstance(expected, list):
        return [_resolved(item, body) for item in expected]
    return expected


def test_every_fixture_has_an_expectation() -> None:
    assert fixture_names() == sorted(EXPECTED), "a fixture without expectation, or an expectation without fixture"


@pytest.mark.parametrize("name", fixture_names())
def test_fixture(name: str) -> None:
    body = fixture_body(name)
    expectation = EXPECTED[name]
    delivery = parse(fixture_bytes(name))

    assert delivery.object == body["object"]
    assert delivery.skipped == expectation.get("skipped", 0)
    wanted = [_resolved(event, body) for event in expectation["events"]]
    got = [
        {key: _actual(getattr(event, key), item) for key, item in want.items()}
        for event, want in zip(delivery.events, wanted, strict=False)
    ]
    assert len(delivery.events) == len(wanted)
    assert got == wanted
    platform = name.partition("/")[0]
    for event in delivery.events:
        assert event.platform == platform
        assert event.kind in KINDS
        assert event.timestamp.tzinfo is dt.UTC
        assert event.is_echo == (event.kind == "echo")
        assert all(attachment.type in TYPES for attachment in event.attachments)
        assert event.raw  # the event as Meta sent it, for logs and replays


def test_parse_takes_the_decoded_body_and_text_alike() -> None:
    raw = fixture_bytes("messenger/message__text")
    assert parse(raw) == parse(raw.decode()) == parse(json.loads(raw))
    assert parse(raw).platform == "messenger"
    assert parse(fixture_bytes("instagram/message__text")).platform == "instagram"


def test_an_echo_says_which_app_sent_it() -> None:
    (ours,) = parse(fixture_bytes("messenger/echo__app")).events
    (inbox,) = parse(fixture_bytes("messenger/echo__page_inbox")).events
    (customer,) = parse(fixture_bytes("messenger/message__text")).events
    assert ours.sent_by_app(OUR_APP_ID) and ours.sent_by_app(int(OUR_APP_ID))
    assert not inbox.sent_by_app(OUR_APP_ID)
    assert not customer.sent_by_app(OUR_APP_ID)
    assert not ours.sent_by_app("")


def test_events_compare_without_raw_and_hash() -> None:
    body = fixture_body("messenger/message__text")
    first = parse(body).events[0]
    body["entry"][0]["messaging"][0]["extra"] = "not part of the neutral event"
    assert parse(body).events[0] == first
    assert hash(first) == hash(parse(body).events[0])


def _message_with(attachments: list[dict[str, Any]], **message: Any) -> MetaEvent:
    body = fixture_body("messenger/message__text")
    body["entry"][0]["messaging"][0]["message"] = {"mid": "m_1", "attachments": attachments, **message}
    (event,) = parse(body).events
    return event


def test_a_sticker_before_and_after_the_transition() -> None:
    url = "https://scontent.xx.fbcdn.net/v/t39.1997-6/sticker.png"
    old = _message_with([{"type": "image", "payload": {"url": url, "sticker_id": 369239263222822}}])
    new = _message_with([{"type": "sticker", "payload": {"url": url, "sticker_id": 369239263222822}}])
    by_message = _message_with([{"type": "image", "payload": {"url": url}}], sticker_id=369239263222822)
    for event in (old, new, by_message):
        assert [(a.type, a.sticker_id, a.url) for a in event.attachments] == [("sticker", "369239263222822", url)]


def test_attachment_types_are_normalised() -> None:
    meta_types = ["image", "ig_reel", "reel", "ig_post", "post", "share", "like_heart", "location", "template", "x"]
    parsed = parse_attachments([{"type": meta_type, "payload": {"url": "u"}} for meta_type in meta_types])
    assert [a.type for a in parsed] == [
        "image", "reel", "reel", "share", "share", "share", "sticker", "location", "fallback", "fallback",
    ]  # fmt: skip
    assert [a.meta_type for a in parsed] == meta_types
    assert parse_attachments([None, "image", {"type": "image", "payload": "not an object"}]) == parse_attachments(
        [{"type": "image"}]
    )
    assert parse_attachments("not a list") == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1796374800123, at(9, 0, 0).replace(microsecond=123000)),  # milliseconds (messaging)
        (1796374800, at(9, 0, 0)),  # seconds (Page feed created_time, Instagram entry.time)
        ("1796374800", at(9, 0, 0)),  # a numeric string (the Dashboard's tests)
        (1796374800.5, at(9, 0, 0).replace(microsecond=500000)),
        ("2026-12-04T10:00:00+0100", at(9, 0, 0)),
        ("2026-12-04T09:00:00", at(9, 0, 0)),  # no zone: UTC
        (0, None),
        (-5, None),
        (True, None),
        (None, None),
        ("soon", None),
        (float("nan"), None),
        ("1e400", None),
        (10**30, None),
        ("9" * 5000, None),
    ],
)
def test_times(value: Any, expected: dt.datetime | None) -> None:
    assert epoch_time(value) == expected


def test_an_event_without_time_takes_its_entry_time_or_is_skipped() -> None:
    body = fixture_body("messenger/message__text")
    del body["entry"][0]["messaging"][0]["timestamp"]
    (event,) = parse(body).events
    assert event.timestamp == epoch_time(body["entry"][0]["time"])
    del body["entry"][0]["time"]
    assert parse(body) == Delivery(object="page", events=(), skipped=1)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'"page"',
        b'{"entry": []}',
        b'{"object": null, "entry": []}',
        b'{"object": "whatsapp_business_account", "entry": []}',
        b'{"object": "page", "entry": [{"id": "1", "time": NaN}]}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["empty", "text", "bytes", "list", "string", "no-object", "null-object", "other-object", "nan", "deep"],
)
def test_a_body_that_is_no_delivery_raises(body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        parse(body)
    assert issubclass(MalformedDelivery, ValueError)


@pytest.mark.parametrize(
    ("entry", "skipped"),
    [
        (None, 0),
        ([], 0),
        ("entries", 1),
        (["entry"], 1),
        ([{"id": PAGE, "time": 1796374800, "messaging": "not a list"}], 1),
        ([{"id": PAGE, "time": 1796374800, "messaging": [{"sender": {"id": PSID}, "read": {}}]}], 1),
        ([{"id": PAGE, "time": 1796374800, "messaging": [{"sender": {"id": PSID}, "delivery": {"mids": [None]}}]}], 1),
        ([{"id": True, "messaging": []}], 1),
    ],
)
def test_what_cannot_be_read_is_counted(entry: Any, skipped: int) -> None:
    body: dict[str, Any] = {"object": "page"}
    if entry is not None:
        body["entry"] = entry
    assert parse(body) == Delivery(object="page", events=(), skipped=skipped)


def test_a_delivery_without_mids_is_about_its_watermark() -> None:
    body = fixture_body("messenger/delivery__mids")
    del body["entry"][0]["messaging"][0]["delivery"]["mids"]
    (event,) = parse(body).events
    assert (event.kind, event.mids, event.watermark) == ("delivery", (), at(9, 16, 35))


def test_the_fields_of_an_event() -> None:
    # The neutral vocabulary the dispatcher and the adapter build on: kept on purpose.
    assert {f.name for f in fields(MetaEvent)} >= {
        "platform", "kind", "account_id", "sender_id", "recipient_id", "customer_id", "timestamp", "mid", "text",
        "quick_reply_payload", "postback_payload", "postback_title", "attachments", "reply_to_mid", "story",
        "reaction", "reaction_action", "watermark", "mids", "is_echo", "app_id", "echo_metadata", "is_deleted",
        "is_unsupported", "standby", "referral", "comment", "raw",
    }  # fmt: skip
