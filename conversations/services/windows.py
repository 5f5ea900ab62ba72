"""When each channel lets the shop write to a customer (its messaging window).

- WhatsApp (a linked phone, not the Business API) and the web chat: no window; the opt-out
  rules of conversations.customers decide what the shop may start.
- Messenger and Instagram (Meta's rules): anyone may answer within 24 hours of the customer's
  last message; after a click on an ad, 7 days from the click; a person of the shop (not the
  bot) may answer up to 7 days after the customer's last message with the HUMAN_AGENT tag;
  a comment may get one private reply within 7 days of it.

The bot answers only inside a window; outside it nothing is sent and the inbox says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from conversations.models import Conversation, Message

STANDARD = dt.timedelta(hours=24)
AFTER_AD = dt.timedelta(days=7)
HUMAN_AGENT = dt.timedelta(days=7)
COMMENT_REPLY = dt.timedelta(days=7)
META_CHANNELS = frozenset({"messenger", "instagram"})

HUMAN_AGENT_TAG = "HUMAN_AGENT"
# Codes of a closed window (conversations.reasons puts them into words).
CLOSED = "window_closed"
CLOSED_FOR_PEOPLE = "human_window_closed"


@dataclass(frozen=True)
class Window:
    open: bool
    # Send with this tag (Meta's HUMAN_AGENT for a person's answer after 24 hours).
    tag: str = ""
    # Why it is closed (a code), empty when open.
    reason: str = ""
    # When it closes (None: no window on this channel).
    closes_at: dt.datetime | None = None


ALWAYS = Window(open=True)


def messaging_window(conversation: Conversation, *, author: str, now: dt.datetime | None = None) -> Window:
    """Whether a message of `author` (a Message.Author) may go to this conversation's customer now."""
    if conversation.channel not in META_CHANNELS:
        return ALWAYS
    now = now or timezone.now()
    last = conversation.last_inbound_at
    if last is None:  # the customer never wrote: only a comment's private reply may open it
        return Window(open=False, reason=CLOSED)
    standard = last + STANDARD
    if conversation.source == Conversation.Source.AD and conversation.source_at is not None:
        standard = max(standard, conversation.source_at + AFTER_AD)
    if now <= standard:
        return Window(open=True, closes_at=standard)
    if author == Message.Author.SELLER:
        human = last + HUMAN_AGENT
        if now <= human:
            return Window(open=True, tag=HUMAN_AGENT_TAG, closes_at=human)
        return Window(open=False, reason=CLOSED_FOR_PEOPLE, closes_at=human)
    return Window(open=False, reason=CLOSED, closes_at=standard)


def comment_reply_window(commented_at: dt.datetime, *, now: dt.datetime | None = None) -> Window:
    """Whether a comment may still get its one private reply."""
    closes = commented_at + COMMENT_REPLY
    if (now or timezone.now()) <= closes:
        return Window(open=True, closes_at=closes)
    return Window(open=False, reason=CLOSED, closes_at=closes)
