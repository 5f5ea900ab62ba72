"""Comments under the shop's posts and reels answered in DM: what sellers here live on.

A customer's comment that asks for a price or availability ("ch7al?", "prix?", "بشحال",
"dispo?", "mp svp") gets one private reply (Meta allows one per comment, within 7 days), in
the commenter's language; the reply opens the conversation in which the bot sells. Optionally a
short public reply under the comment says to look in the DMs. The seller chooses per account:
every post, chosen posts only, or off. Replies are rate-limited per account; a reply is claimed
before it is sent and never sent twice (conversations.services.comments).
"""

from __future__ import annotations

import logging
import re

from django.db import transaction

from channels_app.meta import accounts
from channels_app.meta.adapter import METADATA_PREFIX, meta_account_cached, meta_accounts_forget
from channels_app.meta.errors import GraphError
from channels_app.meta.events import MetaEvent
from channels_app.models import ChannelAccount, MetaAccount
from channels_app.ratelimit import allow
from conversations import services as kit
from sales.engine.language import detect_language
from sales.understanding import intents_of

logger = logging.getLogger(__name__)

# What a comment asking to be answered says: a price, stock, the catalog, an order, delivery…
ASKING_INTENTS = frozenset({"price", "stock", "catalog", "order", "delivery"})
# …or only "in private" (Algerian comments: "mp", "inbox", "pv", "خاص").
_PRIVATE_WORDS = re.compile(
    r"(?:^|[\s.,!?؟،])(?:mp|inbox|in box|dm|pv|prv|privé|prive|info|infos|details|détails|خاص|الخاص|تفاصيل|معلومات)"
    r"(?=$|[\s.,!?؟،])",
    re.IGNORECASE,
)
COMMENT_RATE = "30/minute"

PRIVATE_REPLY = {
    "ar": "مرحبا{name}! شفنا تعليقك 😊 نجاوبك هنا: واش حاب تعرف على السعر ولا التوصيل؟",
    "msa": "مرحبًا{name}! رأينا تعليقك 😊 نجيبك هنا: ماذا تريد أن تعرف عن السعر أو التوصيل؟",
    "arabizi": "Salam{name}! Chefna commentaire ta3ek 😊 Njawbek hna: wach t7ab ta3ref 3la l'prix wla tawsil?",
    "fr": (
        "Bonjour{name} ! Merci pour votre commentaire 😊 Je vous réponds ici : "
        "que souhaitez-vous savoir sur le prix ou la livraison ?"
    ),
    "en": "Hi{name}! Thanks for your comment 😊 Answering here: what would you like to know about price or delivery?",
}
PUBLIC_REPLY = {
    "ar": "جاوبناك في الخاص 📩",
    "msa": "أرسلنا لك رسالة خاصة 📩",
    "arabizi": "Jawbnak f l'privé 📩",
    "fr": "Nous vous avons répondu en privé 📩",
    "en": "Check your DMs 📩",
}


def asks_to_be_answered(text: str) -> bool:
    """Whether a comment asks for something the bot answers in DM (not "😍" or "tbarkallah")."""
    if not text.strip():
        return False
    return bool(intents_of(text) & ASKING_INTENTS) or bool(_PRIVATE_WORDS.search(text))


def _language(text: str) -> str:
    language = detect_language(text, "") or "ar"
    return language if language in PRIVATE_REPLY else "ar"


def _first_name(name: str) -> str:
    first = name.strip().lstrip("@").split()[0] if name.strip() else ""
    return f" {first[:40]}" if first and not first.isdigit() else ""


def comment_received(account: ChannelAccount, event: MetaEvent) -> int | None:
    """Keep a customer's new comment; the id of its row when it is to be answered (the task
    then sends the private reply), None otherwise."""
    comment = event.comment
    if comment is None or comment.verb != "add" or not comment.id or comment.from_id == account.external_id:
        return None
    comment_id, created = kit.comment_store(
        channel=account.channel,
        channel_account_id=account.pk,
        external_id=comment.id,
        text=comment.text,
        commented_at=event.timestamp,
        post_id=comment.media_id or comment.post_id,
        parent_id=comment.parent_id,
        author_id=comment.from_id,
        author_name=comment.from_name,
    )
    if not created:  # delivered again: asked again while it still waits (the claim makes it once)
        return comment_id if kit.comment_waiting(comment_id) else None
    meta = meta_account_cached(account.pk)
    reason = _why_not(meta, comment.media_id or comment.post_id, comment.text)
    if reason:
        kit.comment_skip(comment_id, reason)
        return None
    return comment_id


def _why_not(meta: MetaAccount | None, post_id: str, text: str) -> str:
    if meta is None or not meta.can_send:
        return "not_connected"
    if meta.comment_replies == MetaAccount.Comments.OFF:
        return "off"
    if meta.comment_replies == MetaAccount.Comments.SOME and post_id not in set(meta.comment_posts):
        return "not_chosen"
    if not asks_to_be_answered(text):
        return "not_a_question"
    return ""


def comment_reply(comment_id: int) -> str:
    """Send the comment's private reply (and the public one, if the seller wants it): the
    outcome as a code (sent, skipped, failed, retry)."""
    claimed = kit.comment_claim(comment_id)
    if claimed is None:
        return "skipped"
    if not kit.comment_reply_window(claimed.commented_at).open:
        kit.comment_reply_failed(comment_id, "too_old")
        return "failed"
    meta = meta_account_cached(claimed.channel_account_id)
    if meta is None or not meta.can_send:
        kit.comment_reply_failed(comment_id, "reconnect")
        return "failed"
    if not allow(COMMENT_RATE, "meta-comment", str(claimed.channel_account_id)):
        kit.comment_release(comment_id)
        return "retry"
    language = _language(claimed.text)
    text = PRIVATE_REPLY[language].format(name=_first_name(claimed.author_name))
    client = accounts.client_for(meta)
    try:
        sent = client.send_private_reply(claimed.external_id, {"text": text, "metadata": f"{METADATA_PREFIX}comment"})
    except GraphError as exc:
        if exc.kind == "reconnect":
            accounts.mark_reconnect(meta, str(exc))
            meta_accounts_forget()
        if exc.retryable and not exc.maybe_sent:
            kit.comment_release(comment_id)
            return "retry"
        kit.comment_reply_failed(comment_id, "unknown_outcome" if exc.maybe_sent else exc.kind)
        logger.info("Private reply to comment %s failed: %s", claimed.external_id, exc)
        return "failed"
    public_id = ""
    if meta.comment_public_reply:
        try:
            public_id = client.reply_to_comment(
                claimed.external_id, PUBLIC_REPLY[language], platform="instagram" if meta.is_instagram else "messenger"
            )
        except GraphError as exc:  # the DM went: a public reply is a courtesy
            logger.info("Public reply to comment %s failed: %s", claimed.external_id, exc)
    with transaction.atomic():
        kit.comment_replied(
            comment_id, recipient_id=sent.recipient_id, message_id=sent.message_id, text=text, public_reply_id=public_id
        )
    return "sent"
