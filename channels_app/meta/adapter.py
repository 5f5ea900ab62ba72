"""Messenger and Instagram as channels: sending is the Send API, through the account's own
token. Meta has no idempotency key, so the message path records each attempt before the send
(`idempotent_sends=False`) and never repeats one whose outcome is unknown; the adapter maps
Meta's errors to retry (temporary, rate limits), fail with the reason shown (window closed,
person unavailable, Page restricted, refused), or "reconnect needed" (the token is gone).

A long text goes as several messages split at paragraph, line, sentence or word boundaries;
quick replies ride on the last one; product cards follow as a carousel (generic template).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from channels_app.base import Capabilities, ChannelAdapter, DeliveryError, OutboundMessage, SendResult, register
from channels_app.meta import accounts
from channels_app.meta.client import GraphClient
from channels_app.meta.errors import GraphError
from channels_app.meta.payloads import TEXT_LIMITS, generic_template, quick_replies, split_text
from channels_app.models import ChannelAccount, MetaAccount
from channels_app.ratelimit import allow
from ma5zani.caching import TTLCache

logger = logging.getLogger(__name__)

# The reason codes of conversations.reasons, by the kind of Meta's error.
_REASONS = {
    "window_closed": "window_closed",
    "unavailable": "unavailable",
    "restricted": "restricted",
    "reconnect": "reconnect",
    "invalid": "invalid",
}
# Button titles of the product cards, in the customer's language.
_ORDER = {"ar": "نطلب", "msa": "اطلب", "arabizi": "Nkommandi", "fr": "Commander", "en": "Order"}
_DETAILS = {"ar": "التفاصيل", "msa": "التفاصيل", "arabizi": "Details", "fr": "Détails", "en": "Details"}
_OUT_OF_STOCK = {"ar": "ماكانش", "msa": "غير متوفر", "arabizi": "Makanch", "fr": "Épuisé", "en": "Out of stock"}
# Metadata on every send: its echo is recognised as ours even before the send's answer is stored.
METADATA_PREFIX = "ma5zani:"

_metas: TTLCache[MetaAccount | None] = TTLCache(10.0)
_action_pool: ThreadPoolExecutor | None = None


def _actions() -> ThreadPoolExecutor:
    """A few threads per process for typing and mark-seen (they touch no database)."""
    global _action_pool
    if _action_pool is None:
        _action_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="meta-actions")
    return _action_pool


def meta_account_cached(account_id: int) -> MetaAccount | None:
    return _metas.get(account_id, lambda: accounts.meta_account_for(account_id))


def meta_accounts_forget() -> None:
    _metas.forget()


def _words(table: dict[str, str], language: str) -> str:
    return table.get(language) or table.get(language.split("-")[0]) or table["fr"]


def _capabilities(channel: str) -> Capabilities:
    return Capabilities(
        quick_replies=True,
        product_cards=True,
        typing=True,
        read_receipts=True,
        max_text_length=TEXT_LIMITS[channel],
        idempotent_sends=False,
        discloses_automation=True,
    )


class MetaAdapter(ChannelAdapter):
    """What Messenger and Instagram share (their subclasses name the channel)."""

    def _client(self, account: ChannelAccount) -> tuple[MetaAccount, GraphClient]:
        meta = meta_account_cached(account.pk)
        if meta is None or not meta.can_send:
            raise DeliveryError("The account must be reconnected.", retryable=False, reason="reconnect")
        return meta, accounts.client_for(meta)

    def _failure(self, meta: MetaAccount, exc: GraphError, *, sent_before: bool) -> DeliveryError:
        if exc.kind == "reconnect":
            accounts.mark_reconnect(meta, str(exc))
            meta_accounts_forget()
        if sent_before:  # a part reached the customer: repeating would send it twice
            return DeliveryError(str(exc), retryable=False, reason="partly_sent")
        if exc.retryable:
            return DeliveryError(str(exc), retryable=True, unknown=exc.maybe_sent)
        return DeliveryError(str(exc), retryable=False, reason=_REASONS.get(exc.kind, "invalid"))

    def send(self, *, account: ChannelAccount, schema: str, message: OutboundMessage) -> SendResult:
        meta, client = self._client(account)
        rate = max(1, int(settings.META_SEND_RATE_PER_SECOND))
        if not allow(f"{rate}/second", "meta-send", account.external_id):
            raise DeliveryError("The Page's send rate is reached; sent shortly.", retryable=True)
        recipient = {"id": message.recipient_id}
        parts = split_text(message.text, self.capabilities.max_text_length) if message.text.strip() else []
        bodies: list[dict[str, object]] = [{"text": part} for part in parts]
        if message.quick_replies and bodies:
            bodies[-1]["quick_replies"] = quick_replies(list(message.quick_replies))
        if message.cards:
            language = message.language
            bodies.append(
                {
                    "attachment": generic_template(
                        message.cards,
                        order_title=_words(_ORDER, language),
                        details_title=_words(_DETAILS, language),
                        out_of_stock=_words(_OUT_OF_STOCK, language),
                    )
                }
            )
        if not bodies:
            raise DeliveryError("Nothing to send.", retryable=False, reason="invalid")
        first_id = ""
        for index, body in enumerate(bodies):
            body["metadata"] = f"{METADATA_PREFIX}{message.message_id}"
            try:
                sent = client.send(recipient, message=body, tag=message.tag or None)
            except GraphError as exc:
                logger.info("Send of message %s (part %s) failed: %s", message.message_id, index + 1, exc)
                raise self._failure(meta, exc, sent_before=index > 0) from None
            first_id = first_id or sent
        return SendResult(external_id=first_id)

    def _action(self, account: ChannelAccount, recipient_id: str, action: str) -> None:
        """A sender action, best effort and in the background: the caller (the reply path, on
        one of the runner's few database threads) never waits for Meta."""
        meta = meta_account_cached(account.pk)
        if meta is None or not meta.can_send:
            return
        _actions().submit(self._send_action, meta, account, recipient_id, action)

    @staticmethod
    def _send_action(meta: MetaAccount, account: ChannelAccount, recipient_id: str, action: str) -> None:
        try:
            accounts.client_for(meta).send({"id": recipient_id}, sender_action=action)
        except GraphError as exc:
            logger.info("Sender action %s for %s failed: %s", action, account.pk, exc)
            if exc.kind == "reconnect":
                try:
                    accounts.mark_reconnect(meta, str(exc))
                    meta_accounts_forget()
                finally:
                    connection.close()  # this pool's threads keep no database connection
        except Exception:
            logger.warning("Sender action %s for %s failed", action, account.pk, exc_info=True)

    def typing(self, *, account: ChannelAccount, schema: str, recipient_id: str, on: bool) -> None:
        self._action(account, recipient_id, "typing_on" if on else "typing_off")

    def mark_read(self, *, account: ChannelAccount, schema: str, recipient_id: str, external_ids: list[str]) -> None:
        self._action(account, recipient_id, "mark_seen")


class MessengerAdapter(MetaAdapter):
    channel = ChannelAccount.Channel.MESSENGER
    capabilities = _capabilities(ChannelAccount.Channel.MESSENGER)


class InstagramAdapter(MetaAdapter):
    channel = ChannelAccount.Channel.INSTAGRAM
    capabilities = _capabilities(ChannelAccount.Channel.INSTAGRAM)


register(MessengerAdapter())
register(InstagramAdapter())
