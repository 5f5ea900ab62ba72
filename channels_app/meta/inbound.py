"""What a webhook delivery means for each seller: its events routed by Page or Instagram id
(the routing index) to the seller's schema and handed to conversations' services. Nothing is
written here but through them.

- message / postback → a customer's message (text; a button or quick reply as a structured
  choice; attachments fetched after storing, stories and shares kept as links; an ad or link
  referral as the conversation's source); under `standby` (another app has the conversation)
  stored without an answer; unsent → marked deleted; unsupported → stored as such, unanswered.
- reaction → on the message; read (watermark or seen) and delivery → statuses.
- echo → the app's own sends (its app id or its metadata, or a known id) ignored; the seller's
  replies from Meta's inbox stored as the seller's, and the conversation goes to them.
- referral with no message → the known customer's conversation gets it as its source.
- comment → `channels_app.meta.comment_replies`.

The events of an account come in timestamp order (`events.parse`); a message id stored once
makes a repeated delivery change nothing.

Cost (bench/meta_webhook.py): most deliveries carry one message, which goes through `ingest`
(the message path's statements written once as SQL) rather than `ingest_many` (the ORM's,
compiled on every call, worth it for a batch); whether a customer still has no name is looked
up once per process and PROFILE_ASKED_SECONDS, not at every message.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django_tenants.utils import schema_context

from channels_app.base import InboundMedia, InboundMessage, InboundSource
from channels_app.meta import attachments as kinds
from channels_app.meta.adapter import METADATA_PREFIX
from channels_app.meta.events import (
    COMMENT,
    DELIVERY,
    ECHO,
    MESSAGE,
    POSTBACK,
    REACTION,
    READ,
    REFERRAL,
    Delivery,
    MetaEvent,
    Referral,
)
from channels_app.models import ChannelAccount
from conversations import services as kit
from conversations.content import choice_from_payload
from ma5zani.caching import TTLCache

logger = logging.getLogger(__name__)

# Attachments fetched into the seller's storage (the CDN links expire) vs kept as links
# (Meta's policy for stories; shared posts and reels belong to their authors).
_FETCHED = {kinds.IMAGE: "image", kinds.AUDIO: "audio", kinds.VIDEO: "video", kinds.FILE: "document"}
_LINKED = {kinds.STORY_MENTION: "story", kinds.SHARE: "share", kinds.REEL: "reel", kinds.STICKER: "sticker"}
_SOURCES = {"ADS": "ad", "SHORTLINK": "link", "SHORTLINKS": "link", "IG_ME": "link", "MESSENGER_CODE": "link"}

_routes: TTLCache[ChannelAccount | None] = TTLCache(10.0)

# Customers this process looked up for a name lately (found named, or their profile asked for),
# until when (monotonic): their next messages skip the query. A burst from a new customer asks
# once; a profile that could not be read is asked again after this long (and at most hourly
# across processes, `tasks.enqueue_follow_ups`).
PROFILE_ASKED_SECONDS = 600.0
_PROFILES_KEPT = 100_000
_profiles_asked: dict[tuple[int, str], float] = {}


def route(channel: str, external_id: str) -> ChannelAccount | None:
    """The linked account (and its seller) of a Page or Instagram id, read at most every few
    seconds per process."""
    from channels_app.selectors import channel_account_for_external_id

    return _routes.get((channel, external_id), lambda: channel_account_for_external_id(channel, external_id))


def routes_forget() -> None:
    """Forget what this process keeps: the routes, and whose names it looked up."""
    _routes.forget()
    _profiles_asked.clear()


@dataclass
class Handled:
    """What a delivery came to: messages stored, events applied, what was skipped and why."""

    stored: int = 0
    applied: int = 0
    unknown_accounts: set[str] = field(default_factory=set)
    ignored: int = 0
    media: list[tuple[str, int, str, str]] = field(default_factory=list)  # schema, message, url, kind
    profiles: list[tuple[str, int, str, str]] = field(default_factory=list)  # schema, account, channel, user
    comments: list[tuple[str, int]] = field(default_factory=list)  # schema, comment row
    failed_accounts: set[str] = field(default_factory=set)  # their events could not be stored


def handle(delivery: Delivery) -> Handled:
    """Store and apply every event of the delivery, seller by seller. A seller whose events
    cannot be stored (a database error) does not stop the others; the caller answers so that
    Meta delivers again, and what was stored is not stored twice."""
    handled = Handled()
    by_account: dict[str, list[MetaEvent]] = defaultdict(list)
    for event in delivery.events:
        by_account[event.account_id].append(event)
    for account_id, events in by_account.items():
        account = route(delivery.platform, account_id)
        if account is None or account.status == ChannelAccount.Status.DISCONNECTED:
            logger.info(
                "Meta webhook for unknown %s account %s: %d events skipped", delivery.platform, account_id, len(events)
            )
            handled.unknown_accounts.add(account_id)
            continue
        marks = (len(handled.media), len(handled.profiles), len(handled.comments), handled.stored)
        try:
            with schema_context(account.seller.schema_name), transaction.atomic():
                _handle_account(account, events, handled)
        except Exception:
            logger.exception("Meta events of account %s could not be stored", account_id)
            handled.failed_accounts.add(account_id)
            # Nothing of this account was stored: nothing of it is followed up.
            del handled.media[marks[0] :], handled.profiles[marks[1] :], handled.comments[marks[2] :]
            handled.stored = marks[3]
    return handled


def _handle_account(account: ChannelAccount, events: list[MetaEvent], handled: Handled) -> None:
    schema = account.seller.schema_name
    answered: list[tuple[InboundMessage, MetaEvent]] = []
    # Customer by customer, in one order for every delivery (each customer's events keep their
    # time order): two deliveries of one Page never lock two conversations in opposite orders.
    events = sorted(events, key=lambda event: event.customer_id)
    for event in events:
        action = _ACTIONS.get(event.kind)
        if (
            event.kind in (MESSAGE, POSTBACK)
            and not event.is_deleted
            and not event.is_unsupported
            and not event.standby
        ):
            answered.append((_inbound(account, event), event))
            continue
        if answered:  # keep the order: what came before this event is stored first
            _store(account, answered, handled, reply=True)
            answered = []
        if event.kind in (MESSAGE, POSTBACK):
            _message_apart(account, event, handled)
        elif action is not None:
            action(account, event, handled)
        else:
            handled.ignored += 1
    if answered:
        _store(account, answered, handled, reply=True)
    customers = {e.customer_id for e in events if e.kind in (MESSAGE, POSTBACK) and e.customer_id}
    now = time.monotonic()
    customers = {c for c in customers if _profiles_asked.get((account.pk, c), 0.0) < now}
    if customers:
        for customer in kit.identities_without_name(
            channel=account.channel, channel_account_id=account.pk, external_ids=customers
        ):
            handled.profiles.append((schema, account.pk, account.channel, customer))
        # After the commit only (a failed account's customers are looked up again next time).
        transaction.on_commit(lambda: _profiles_remember(account.pk, customers, now + PROFILE_ASKED_SECONDS))


def _profiles_remember(account_pk: int, customers: set[str], until: float) -> None:
    if len(_profiles_asked) + len(customers) > _PROFILES_KEPT:  # the oldest half goes
        for key in list(_profiles_asked)[: _PROFILES_KEPT // 2]:
            del _profiles_asked[key]
    for customer in customers:
        _profiles_asked.pop((account_pk, customer), None)  # to the end: the order is of asking
        _profiles_asked[(account_pk, customer)] = until


def _store(
    account: ChannelAccount, items: list[tuple[InboundMessage, MetaEvent]], handled: Handled, *, reply: bool
) -> None:
    if len(items) == 1:  # the usual delivery: the single message path's prepared statements
        results = [kit.ingest(items[0][0], reply=reply)]
    else:
        results = kit.ingest_many([inbound for inbound, _event in items], reply=reply)
    repeated = {r.message_id for r in results if not r.created}
    # A repeated delivery (Meta delivers again after a failure) fetches what is still missing.
    missing = set(kit.messages_waiting_for_media(repeated)) if repeated else set()
    for result, (inbound, _event) in zip(results, items, strict=True):
        handled.stored += result.created
        if not result.created and result.message_id not in missing:
            continue
        for media in inbound.media:
            if media.fetch_later:
                handled.media.append((account.seller.schema_name, result.message_id, media.url, media.kind))


def _message_apart(account: ChannelAccount, event: MetaEvent, handled: Handled) -> None:
    """A message that is not answered: unsent, unsupported, or under another app (standby)."""
    if event.is_deleted:
        if kit.message_mark_deleted(channel=account.channel, external_id=event.mid, when=event.timestamp):
            handled.applied += 1
        return
    inbound = _inbound(account, event)
    if event.is_unsupported:
        inbound = replace(inbound, extra={**inbound.extra, "unsupported": True})
    _store(account, [(inbound, event)], handled, reply=False)


def _inbound(account: ChannelAccount, event: MetaEvent) -> InboundMessage:
    text = event.text
    payload = event.quick_reply_payload or event.postback_payload
    if event.kind == POSTBACK:
        text = event.postback_title or text
    extra: dict[str, object] = {}
    if event.reply_to_mid:
        extra["reply_to"] = event.reply_to_mid
    media: list[InboundMedia] = []
    if event.story is not None:
        extra["story"] = {"id": event.story.id}
        if event.story.url:
            media.append(InboundMedia(kind="story", url=event.story.url))
    for attachment in event.attachments:
        if attachment.type in _FETCHED and attachment.url:
            media.append(InboundMedia(kind=_FETCHED[attachment.type], url=attachment.url, fetch_later=True))
        elif attachment.type in _LINKED:
            media.append(InboundMedia(kind=_LINKED[attachment.type], url=attachment.url))
            if attachment.type == kinds.STORY_MENTION:
                extra["story_mention"] = True
        elif attachment.type == kinds.FALLBACK:
            extra["link"] = {"url": attachment.url, "title": attachment.title}
        if attachment.title and not text:
            text = attachment.title
    external_id = event.mid or f"{event.kind}:{event.customer_id}:{int(event.timestamp.timestamp() * 1000)}"
    return InboundMessage(
        channel=account.channel,
        channel_account_id=account.pk,
        sender_id=event.customer_id,
        external_id=external_id,
        text=text.strip()[: settings.MESSAGE_MAX_CHARS],
        timestamp=event.timestamp,
        media=tuple(media[:1]),
        choice=choice_from_payload(payload) if payload else None,
        source=_source(event.referral),
        extra=extra,
    )


def _source(referral: Referral | None) -> InboundSource | None:
    if referral is None:
        return None
    kind = _SOURCES.get(referral.source.upper(), "other")
    detail = {
        key: value
        for key, value in (
            ("source", referral.source),
            ("ref", referral.ref),
            ("ad_id", referral.ad_id),
            ("ad_title", referral.ad_title),
            ("post_id", referral.post_id),
            ("product_id", referral.product_id),
        )
        if value
    }
    return InboundSource(kind=kind, detail=detail)


def _our_app_ids() -> set[str]:
    return {value for value in (settings.META_APP_ID, settings.META_INSTAGRAM_APP_ID) if value}


def _echo(account: ChannelAccount, event: MetaEvent, handled: Handled) -> None:
    if event.comment is not None:  # the account's own comment: nothing to do
        handled.ignored += 1
        return
    # Ours: our app's id or our metadata (Messenger says them), a known id, or — Instagram's
    # echoes carry neither — the text of a message we queued for this customer moments ago.
    ours = event.echo_metadata.startswith(METADATA_PREFIX) or any(event.sent_by_app(app) for app in _our_app_ids())
    if (
        ours
        or not event.mid
        or kit.message_known(channel=account.channel, external_id=event.mid)
        or kit.message_sent_by_shop_recently(
            channel=account.channel,
            channel_account_id=account.pk,
            customer_id=event.customer_id,
            text=event.text,
            attachment=bool(event.attachments),
        )
    ):
        handled.ignored += 1
        return
    media = None
    for attachment in event.attachments:
        if attachment.url:
            kind = _FETCHED.get(attachment.type) or _LINKED.get(attachment.type) or "document"
            media = InboundMedia(kind=kind, url=attachment.url)
            break
    result = kit.message_store_from_seller(
        channel=account.channel,
        channel_account_id=account.pk,
        customer_id=event.customer_id,
        external_id=event.mid,
        text=event.text[: settings.MESSAGE_MAX_CHARS],
        timestamp=event.timestamp,
        reason="seller_replied_from_meta",
        media=media,
    )
    if result is not None:
        handled.stored += 1


def _reaction(account: ChannelAccount, event: MetaEvent, handled: Handled) -> None:
    reaction = "" if event.reaction_action == "unreact" else (event.reaction or "❤")
    if event.mid and kit.message_react(channel=account.channel, external_id=event.mid, reaction=reaction):
        handled.applied += 1


def _receipt(account: ChannelAccount, event: MetaEvent, handled: Handled) -> None:
    status = "read" if event.kind == READ else "delivered"
    ids = [mid for mid in (*event.mids, event.mid) if mid]
    moved = (
        kit.receipts_apply(channel=account.channel, external_ids=ids, status=status, when=event.timestamp) if ids else 0
    )
    watermark = event.watermark or (event.timestamp if event.kind == READ else None)
    if watermark is not None:
        moved += kit.receipts_apply_watermark(
            channel=account.channel,
            channel_account_id=account.pk,
            customer_id=event.customer_id,
            status=status,
            watermark=watermark,
        )
    handled.applied += moved


def _referral(account: ChannelAccount, event: MetaEvent, handled: Handled) -> None:
    source = _source(event.referral)
    if source is not None and kit.conversation_source_set(
        channel=account.channel,
        channel_account_id=account.pk,
        customer_id=event.customer_id,
        source=source,
        when=event.timestamp,
    ):
        handled.applied += 1


def _comment(account: ChannelAccount, event: MetaEvent, handled: Handled) -> None:
    from channels_app.meta import comment_replies

    comment_id = comment_replies.comment_received(account, event)
    if comment_id is not None:
        handled.comments.append((account.seller.schema_name, comment_id))


_ACTIONS: dict[str, Callable[[ChannelAccount, MetaEvent, Handled], None]] = {
    ECHO: _echo,
    REACTION: _reaction,
    READ: _receipt,
    DELIVERY: _receipt,
    REFERRAL: _referral,
    COMMENT: _comment,
}
