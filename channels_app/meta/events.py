"""Meta's webhook deliveries (Messenger, Instagram, Page and Instagram comments) as neutral,
typed events. Nothing here touches the database or the network.

A delivery is `{"object": "page" | "instagram", "entry": [...]}`; each entry is one Page or
Instagram account (`entry.id`) and carries `messaging[]` (events of the conversations this app
handles), `standby[]` (the same events while another app has the conversation) and `changes[]`
(field-style notifications: Page `feed` comments, Instagram `comments`, and the App Dashboard's
test button, which sends messaging events in this shape too).

`parse` never raises on the content of a delivery: an entry or event it cannot read is skipped
and counted in `Delivery.skipped`, so one odd event does not cost the others (Meta retries a
delivery that is not answered 200, and disables a webhook that keeps failing). Only a body that is
no delivery at all (not JSON, no `object`, an object this app does not subscribe to) raises
`MalformedDelivery`, a ValueError.

Meta sends the events of one account in order but batches several entries, sometimes of the same
account, in one delivery: the events come out grouped by account (in order of first appearance)
and sorted by timestamp within it, keeping Meta's order for equal timestamps.

Who the customer is depends on the event: the sender of what arrives, the recipient of an echo
(what the Page or account sent, by this app or by a person in Meta's inbox). `customer_id` says
it for every kind, beside the raw `sender_id` and `recipient_id`. The account's own comments are
echoes too (kind `echo` with a `comment`).

Not everything of kind `message` is something to answer: an Instagram message the customer
unsent (`is_deleted`) or one the API does not deliver (`is_unsupported`) carries no content, and
a Page comment may be `edited` or `remove`d (`comment.verb`). The flags say it; the dispatcher
decides.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from channels_app.meta.attachments import Attachment, parse_attachments
from channels_app.meta.comments import Comment, instagram_comment, page_comment
from channels_app.meta.values import Malformed, epoch_time, obj, party, required, scalar

__all__ = [
    "KINDS",
    "Attachment",
    "Comment",
    "Delivery",
    "MalformedDelivery",
    "MetaEvent",
    "Referral",
    "Story",
    "parse",
]

log = logging.getLogger(__name__)
_P = ParamSpec("_P")

MESSENGER = "messenger"
INSTAGRAM = "instagram"
PLATFORM_BY_OBJECT = {"page": MESSENGER, "instagram": INSTAGRAM}

MESSAGE = "message"
POSTBACK = "postback"
REACTION = "reaction"
READ = "read"
DELIVERY = "delivery"
ECHO = "echo"
REFERRAL = "referral"
COMMENT = "comment"
UNSUPPORTED = "unsupported"  # well formed, but nothing this project reads (opt-ins, handovers...)
KINDS = frozenset({MESSAGE, POSTBACK, REACTION, READ, DELIVERY, ECHO, REFERRAL, COMMENT, UNSUPPORTED})

# Messaging fields that may come as `changes` (field + value) rather than `messaging[]`.
_MESSAGING_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "message_reactions",
        "message_reads",
        "message_deliveries",
        "messaging_postbacks",
        "messaging_referral",
        "messaging_referrals",
        "messaging_seen",
        "standby",
    }
)


class MalformedDelivery(ValueError):
    """The body is not a webhook delivery of Messenger or Instagram."""


@dataclass(frozen=True)
class Story:
    """The story a customer replied to (`reply_to.story`); the URL is a CDN link, not to store."""

    id: str = ""
    url: str = ""


@dataclass(frozen=True)
class Referral:
    """How the customer came: an ad (source ADS), an m.me or ig.me link (SHORTLINK(S)), ..."""

    source: str = ""
    type: str = ""  # OPEN_THREAD
    ref: str = ""  # the `ref` parameter of the link or the ad
    ad_id: str = ""
    ad_title: str = ""
    photo_url: str = ""
    video_url: str = ""
    post_id: str = ""
    product_id: str = ""
    referer_uri: str = ""


@dataclass(frozen=True)
class MetaEvent:
    platform: str  # messenger, instagram
    kind: str  # one of KINDS
    account_id: str  # entry.id: the Page or the Instagram account
    sender_id: str
    recipient_id: str
    timestamp: dt.datetime  # aware, UTC
    customer_id: str = ""  # the customer's PSID or IGSID, whoever sent the event; a commenter's id
    sender_user_ref: str = ""  # a chat-plugin guest, who has no PSID
    mid: str = ""  # the message; for a reaction or an Instagram read, the message it is about
    text: str = ""
    quick_reply_payload: str = ""
    postback_payload: str = ""
    postback_title: str = ""
    attachments: tuple[Attachment, ...] = ()
    reply_to_mid: str = ""
    story: Story | None = None
    reaction: str = ""  # the emoji, or Meta's name of it (love, like...) when there is none
    reaction_action: str = ""  # react, unreact
    watermark: dt.datetime | None = None  # Messenger reads and deliveries: everything up to it
    mids: tuple[str, ...] = ()  # deliveries and Instagram reads
    is_echo: bool = False
    app_id: str = ""  # the app that sent an echoed message (ours, Meta's inbox, another)
    echo_metadata: str = ""  # the `metadata` string given with the send
    is_deleted: bool = False  # Instagram: the customer unsent `mid`
    is_unsupported: bool = False  # Instagram: content the API does not deliver
    standby: bool = False  # came in `standby[]`: another app has the conversation
    referral: Referral | None = None
    comment: Comment | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def sent_by_app(self, app_id: str | int) -> bool:
        """An echo of a message sent through the app `app_id` (ours: not a person's reply)."""
        return self.is_echo and bool(self.app_id) and self.app_id == str(app_id)


@dataclass(frozen=True)
class Delivery:
    """One webhook POST: its events, grouped by account and in time order within each."""

    object: str  # page, instagram
    events: tuple[MetaEvent, ...]
    skipped: int = 0  # entries and events that could not be read

    @property
    def platform(self) -> str:
        return PLATFORM_BY_OBJECT[self.object]


# --- parts ---------------------------------------------------------------------------------


def _story(value: Any) -> Story | None:
    if not isinstance(value, Mapping):
        return None
    return Story(id=scalar(value.get("id")), url=scalar(value.get("url")))


def _referral(value: Any) -> Referral | None:
    if not isinstance(value, Mapping):
        return None
    ads = obj(value.get("ads_context_data"))
    product = obj(value.get("product"))  # Instagram Shop: the product the customer asks about
    return Referral(
        source=scalar(value.get("source")),
        type=scalar(value.get("type")),
        ref=scalar(value.get("ref")),
        ad_id=scalar(value.get("ad_id")),
        ad_title=scalar(ads.get("ad_title")),
        photo_url=scalar(ads.get("photo_url")),
        video_url=scalar(ads.get("video_url")),
        post_id=scalar(ads.get("post_id")),
        product_id=scalar(ads.get("product_id")) or scalar(product.get("id")),
        referer_uri=scalar(value.get("referer_uri")),
    )


# --- messaging events ----------------------------------------------------------------------


def _messaging_event(
    platform: str, account_id: str, item: Any, entry_time: dt.datetime | None, *, standby: bool
) -> MetaEvent:
    event = required(item, "event")
    sender_id, user_ref = party(event.get("sender"))
    if not sender_id and not user_ref:
        raise Malformed("no sender")
    recipient_id, _ = party(event.get("recipient"))
    timestamp = epoch_time(event.get("timestamp")) or entry_time
    if timestamp is None:
        raise Malformed("no timestamp")
    base: dict[str, Any] = {
        "platform": platform,
        "account_id": account_id,
        "sender_id": sender_id,
        "recipient_id": recipient_id,
        "timestamp": timestamp,
        "sender_user_ref": user_ref,
        "standby": standby,
        "raw": event,
        # What the account itself did (echoes) is about the recipient; all else, the sender.
        "customer_id": recipient_id if sender_id == account_id else sender_id,
    }
    if "message" in event:
        return _message(base, required(event["message"], "message"))
    builders: tuple[tuple[str, Callable[[dict[str, Any], Mapping[str, Any]], MetaEvent]], ...] = (
        ("postback", _postback),
        ("reaction", _reaction),
        ("read", _read),
        ("delivery", _delivery),
        ("referral", _referral_event),
    )
    for key, build in builders:
        if key in event:
            return build(base, required(event[key], key))
    return MetaEvent(kind=UNSUPPORTED, **base)


def _message(base: dict[str, Any], message: Mapping[str, Any]) -> MetaEvent:
    mid = scalar(message.get("mid"))
    if not mid:
        raise Malformed("a message without mid")
    is_echo = message.get("is_echo") is True
    if is_echo:
        base["customer_id"] = base["recipient_id"]
        if not base["customer_id"]:
            raise Malformed("an echo without recipient")
    reply_to = obj(message.get("reply_to"))
    return MetaEvent(
        kind=ECHO if is_echo else MESSAGE,
        mid=mid,
        text=scalar(message.get("text")),
        quick_reply_payload=scalar(obj(message.get("quick_reply")).get("payload")),
        attachments=parse_attachments(message.get("attachments"), scalar(message.get("sticker_id"))),
        reply_to_mid=scalar(reply_to.get("mid")),
        story=_story(reply_to.get("story")),
        is_echo=is_echo,
        app_id=scalar(message.get("app_id")),
        echo_metadata=scalar(message.get("metadata")),
        is_deleted=message.get("is_deleted") is True,
        is_unsupported=message.get("is_unsupported") is True,
        referral=_referral(message.get("referral")),
        **base,
    )


def _postback(base: dict[str, Any], postback: Mapping[str, Any]) -> MetaEvent:
    return MetaEvent(
        kind=POSTBACK,
        mid=scalar(postback.get("mid")),
        postback_payload=scalar(postback.get("payload")),
        postback_title=scalar(postback.get("title")),
        referral=_referral(postback.get("referral")),
        **base,
    )


def _reaction(base: dict[str, Any], reaction: Mapping[str, Any]) -> MetaEvent:
    mid = scalar(reaction.get("mid"))
    if not mid:
        raise Malformed("a reaction without mid")
    return MetaEvent(
        kind=REACTION,
        mid=mid,
        reaction=scalar(reaction.get("emoji")) or scalar(reaction.get("reaction")),
        reaction_action=scalar(reaction.get("action")),
        **base,
    )


def _read(base: dict[str, Any], read: Mapping[str, Any]) -> MetaEvent:
    mid = scalar(read.get("mid"))  # Instagram (messaging_seen)
    watermark = epoch_time(read.get("watermark"))  # Messenger (message_reads)
    if not mid and watermark is None:
        raise Malformed("a read without mid or watermark")
    return MetaEvent(kind=READ, mid=mid, mids=(mid,) if mid else (), watermark=watermark, **base)


def _delivery(base: dict[str, Any], delivery: Mapping[str, Any]) -> MetaEvent:
    raw_mids = delivery.get("mids")
    mids = tuple(mid for mid in map(scalar, raw_mids) if mid) if isinstance(raw_mids, list) else ()
    watermark = epoch_time(delivery.get("watermark"))
    if not mids and watermark is None:
        raise Malformed("a delivery without mids or watermark")
    return MetaEvent(kind=DELIVERY, mids=mids, watermark=watermark, **base)


def _referral_event(base: dict[str, Any], referral: Mapping[str, Any]) -> MetaEvent:
    return MetaEvent(kind=REFERRAL, referral=_referral(referral), **base)


# --- changes (comments) --------------------------------------------------------------------


def _change(platform: str, account_id: str, item: Any, entry_time: dt.datetime | None) -> MetaEvent:
    change = required(item, "change")
    field_name = scalar(change.get("field"))
    value = required(change.get("value"), "change value")
    if field_name in _MESSAGING_FIELDS and "sender" in value:
        return _messaging_event(platform, account_id, value, entry_time, standby=field_name == "standby")
    timestamp = epoch_time(value.get("created_time")) or epoch_time(value.get("timestamp")) or entry_time
    if timestamp is None:
        raise Malformed("a change without time")
    comment: Comment | None = None
    if platform == INSTAGRAM and field_name == "comments":
        comment = instagram_comment(value)
    elif platform == MESSENGER and field_name == "feed" and value.get("item") == "comment":
        comment = page_comment(value)
    if comment is None:
        author = scalar(obj(value.get("from")).get("id"))
        return MetaEvent(
            platform=platform,
            kind=UNSUPPORTED,
            account_id=account_id,
            sender_id=author,
            recipient_id=account_id,
            timestamp=timestamp,
            raw=change,
        )
    if not comment.id:
        raise Malformed("a comment without id")
    own = comment.from_id == account_id  # the Page's or account's own comment (a reply of ours)
    return MetaEvent(
        platform=platform,
        kind=ECHO if own else COMMENT,
        account_id=account_id,
        sender_id=comment.from_id,
        recipient_id=account_id,
        timestamp=timestamp,
        customer_id="" if own else comment.from_id,
        text=comment.text,
        is_echo=own,
        comment=comment,
        raw=change,
    )


# --- deliveries ----------------------------------------------------------------------------


def _attempt(build: Callable[_P, MetaEvent], *args: _P.args, **kwargs: _P.kwargs) -> MetaEvent | None:
    """The event, or None (logged) when it cannot be read."""
    try:
        return build(*args, **kwargs)
    except Malformed as exc:
        log.info("Skipped a Meta webhook event: %s", exc)
    except Exception:
        # A shape this parser did not foresee: still one event, never the whole delivery.
        log.warning("Skipped a Meta webhook event the parser could not read", exc_info=True)
    return None


def _entry_events(platform: str, item: Any) -> tuple[list[MetaEvent], int]:
    entry = required(item, "entry")
    account_id = scalar(entry.get("id"))
    if not account_id:
        raise Malformed("an entry without id")
    entry_time = epoch_time(entry.get("time"))
    events: list[MetaEvent] = []
    skipped = 0
    for list_name in ("messaging", "standby", "changes"):
        items = entry.get(list_name)
        if items is None:
            continue
        if not isinstance(items, list):
            skipped += 1
            continue
        for element in items:
            if list_name == "changes":
                event = _attempt(_change, platform, account_id, element, entry_time)
            else:
                standby = list_name == "standby"
                event = _attempt(_messaging_event, platform, account_id, element, entry_time, standby=standby)
            if event is None:
                skipped += 1
            else:
                events.append(event)
    return events, skipped


def _decode(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    if not isinstance(body, bytes | bytearray | str):
        raise MalformedDelivery(f"a body of type {type(body).__name__}")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedDelivery("the body is not JSON") from exc
    if not isinstance(data, Mapping):
        raise MalformedDelivery("the body is not a JSON object")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(body: bytes | str | Mapping[str, Any]) -> Delivery:
    """The events of a webhook delivery (the raw body, or its decoded JSON).

    Raises MalformedDelivery (a ValueError) only for a body that is not a delivery of the
    objects `page` or `instagram`; anything wrong inside it is skipped and counted.
    """
    data = _decode(body)
    object_name = scalar(data.get("object"))
    if not object_name:
        raise MalformedDelivery("a delivery without object")
    platform = PLATFORM_BY_OBJECT.get(object_name)
    if platform is None:
        raise MalformedDelivery(f"an object this project does not read: {object_name[:40]!r}")
    entries = data.get("entry")
    by_account: dict[str, list[MetaEvent]] = {}
    skipped = 0
    if entries is not None and not isinstance(entries, list):
        entries, skipped = [], 1
    for entry in entries or ():
        try:
            events, entry_skipped = _entry_events(platform, entry)
        except Malformed as exc:
            log.info("Skipped a Meta webhook entry: %s", exc)
            skipped += 1
            continue
        skipped += entry_skipped
        for event in events:
            by_account.setdefault(event.account_id, []).append(event)
    ordered = tuple(
        event for events in by_account.values() for event in sorted(events, key=lambda event: event.timestamp)
    )
    return Delivery(object=object_name, events=ordered, skipped=skipped)
