"""Comments under the shop's posts (Instagram, Facebook): kept once each, with what the shop
did about them. A private reply (one per comment, Meta's rule) is claimed before it is sent
and never sent twice; once sent it opens the customer's conversation, with the comment as its
source and the reply as the bot's first message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from channels_app.base import InboundMessage
from conversations.models import Comment, Conversation, Message
from conversations.services.ingest import conversation_for, identity_for
from conversations.services.live import message_publish
from ma5zani.tenancy import after_commit

IN_PROGRESS = "in progress"


@dataclass(frozen=True)
class ClaimedComment:
    id: int
    channel: str
    channel_account_id: int
    external_id: str
    post_id: str
    author_id: str
    author_name: str
    text: str
    commented_at: dt.datetime


def comment_store(
    *,
    channel: str,
    channel_account_id: int,
    external_id: str,
    text: str,
    commented_at: dt.datetime,
    post_id: str = "",
    parent_id: str = "",
    author_id: str = "",
    author_name: str = "",
) -> tuple[int, bool]:
    """The comment's row, stored once: (id, created)."""
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                channel=channel,
                channel_account_id=channel_account_id,
                external_id=external_id[:255],
                post_id=post_id[:255],
                parent_id=parent_id[:255],
                author_id=author_id[:255],
                author_name=author_name[:200],
                text=text,
                commented_at=min(commented_at, timezone.now()),
            )
    except IntegrityError:
        pk = Comment.objects.filter(channel=channel, external_id=external_id[:255]).values_list("pk", flat=True).first()
        if pk is None:
            raise
        return pk, False
    return comment.pk, True


def comment_skip(comment_id: int, reason: str) -> None:
    """Not answered, and why (a code: off, not_chosen, not_a_question, too_old, rate_limited)."""
    Comment.objects.filter(pk=comment_id, reply=Comment.Reply.PENDING).update(
        reply=Comment.Reply.SKIPPED, reply_reason=reason[:40]
    )


def comment_claim(comment_id: int) -> ClaimedComment | None:
    """The comment to answer, claimed (committed) before the private reply is sent; None when
    it is answered, skipped, failed, or claimed already. A claim left without an outcome (a
    crash mid-send) fails the comment rather than answering it twice."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update().filter(pk=comment_id, reply=Comment.Reply.PENDING).first()
        if comment is None:
            return None
        if comment.reply_reason == IN_PROGRESS:
            comment.reply, comment.reply_reason = Comment.Reply.FAILED, "unknown_outcome"
            comment.save(update_fields=["reply", "reply_reason"])
            return None
        comment.reply_reason, comment.claimed_at = IN_PROGRESS, timezone.now()
        comment.save(update_fields=["reply_reason", "claimed_at"])
    return ClaimedComment(
        id=comment.pk,
        channel=comment.channel,
        channel_account_id=comment.channel_account_id,
        external_id=comment.external_id,
        post_id=comment.post_id,
        author_id=comment.author_id,
        author_name=comment.author_name,
        text=comment.text,
        commented_at=comment.commented_at,
    )


CLAIM_GRACE = dt.timedelta(minutes=5)


def comments_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Comments still waiting for their private reply within Meta's 7 days: never claimed, or
    claimed so long ago that the claim's worker is gone (`comment_claim` then fails them)."""
    now = now or timezone.now()
    waiting = Comment.objects.filter(reply=Comment.Reply.PENDING, commented_at__gt=now - dt.timedelta(days=7))
    stale_claim = Q(reply_reason=IN_PROGRESS, claimed_at__lt=now - CLAIM_GRACE)
    return list(
        waiting.filter(Q(reply_reason="") | stale_claim).order_by("commented_at").values_list("pk", flat=True)[:limit]
    )


def comment_waiting(comment_id: int) -> bool:
    """The comment waits for its private reply and nobody claimed it."""
    return Comment.objects.filter(pk=comment_id, reply=Comment.Reply.PENDING, reply_reason="").exists()


def comment_release(comment_id: int) -> None:
    """A claim given back untried (a temporary failure before anything was sent)."""
    Comment.objects.filter(pk=comment_id, reply=Comment.Reply.PENDING, reply_reason=IN_PROGRESS).update(reply_reason="")


def comment_reply_failed(comment_id: int, reason: str) -> None:
    Comment.objects.filter(pk=comment_id, reply=Comment.Reply.PENDING).update(
        reply=Comment.Reply.FAILED, reply_reason=reason[:40]
    )


def comment_replied(
    comment_id: int, *, recipient_id: str, message_id: str, text: str, public_reply_id: str = ""
) -> Conversation | None:
    """The private reply went: the comment is answered, and the customer's conversation opens
    with it (source: the comment) when Meta said who the customer is."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment_id)
        now = timezone.now()
        comment.reply, comment.reply_reason, comment.replied_at = Comment.Reply.SENT, "", now
        comment.reply_text, comment.private_reply_id = text, message_id[:255]
        comment.public_reply_id = public_reply_id[:255]
        conversation = None
        if recipient_id:
            conversation = _open_conversation(comment, recipient_id, message_id, text, now)
            comment.conversation = conversation
        comment.save()
    return conversation


def comment_public_reply_recorded(comment_id: int, public_reply_id: str) -> None:
    Comment.objects.filter(pk=comment_id).update(public_reply_id=public_reply_id[:255])


def _open_conversation(
    comment: Comment, recipient_id: str, message_id: str, text: str, now: dt.datetime
) -> Conversation:
    inbound = InboundMessage(
        channel=comment.channel,
        channel_account_id=comment.channel_account_id,
        sender_id=recipient_id,
        external_id="",
        text="",
        timestamp=now,
        sender_name=comment.author_name,
    )
    conversation = conversation_for(identity_for(inbound))
    conversation.source, conversation.source_at = Conversation.Source.COMMENT, comment.commented_at
    conversation.source_detail = {"comment_id": comment.external_id, "post_id": comment.post_id}
    conversation.last_outbound_at = conversation.last_message_at = now
    conversation.save(update_fields=["source", "source_at", "source_detail", "last_outbound_at", "last_message_at"])
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                direction=Message.Direction.OUT,
                author=Message.Author.BOT,
                channel=comment.channel,
                external_id=message_id or None,
                text=text,
                status=Message.Status.SENT,
                sent_at=now,
                extra={"comment": {"id": comment.external_id, "text": comment.text[:500]}},
            )
    except IntegrityError:  # the same reply recorded twice
        return conversation
    after_commit(message_publish, message)
    return conversation
