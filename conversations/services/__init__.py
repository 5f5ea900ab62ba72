"""The message path's services, by concern. Every function runs in the current seller's schema
and keeps the database the source of truth; queues are only a hint.

- `ingest`: a customer's message stored once (unique per channel and external id) and, after
  commit, published and answered; the seller's own messages sent from outside the dashboard;
  media attached later.
- `receipts`: delivered / read receipts, by message ids or by watermark.
- `reply`: the customer's whole unanswered burst answered once (a draft made while a newer
  message arrived is dropped; a unique constraint refuses a second answer).
- `delivery`: queued messages sent through their channel's adapter, each attempt recorded
  (before the send where the channel has no idempotency key), retried with backoff.
- `windows`: when each channel lets the shop write to a customer.
- `modes`, `handoff`, `outbound`: who answers, handoffs, the shop's own messages.
- `sweep`: what a lost task left behind, enqueued again. `sandbox`: "try your bot".

Channel packages call these public names; nothing outside `conversations/` imports a private
one. Calls to the queue go through `enqueueing` (tests replace them there).
"""

from conversations.services import enqueueing
from conversations.services.comments import (
    ClaimedComment,
    comment_claim,
    comment_public_reply_recorded,
    comment_release,
    comment_replied,
    comment_reply_failed,
    comment_skip,
    comment_store,
    comment_waiting,
    comments_due,
)
from conversations.services.delivery import (
    INTERRUPTED,
    DeliveryOutcome,
    PendingSend,
    delivery_backoff,
    message_deliver,
    message_fail,
    send_failed,
    send_pending,
    send_started,
    send_succeeded,
)
from conversations.services.handoff import (
    HANDOFF_TEXT,
    conversation_hand_back,
    conversation_hand_off,
    conversation_mark_example,
    conversation_mark_read,
    conversation_take_over,
    handoff_text,
)
from conversations.services.ingest import (
    IngestResult,
    KnownIdentity,
    conversation_source_set,
    identities_without_name,
    identity_find,
    identity_learn_id,
    identity_set_profile,
    ingest,
    ingest_many,
    message_known,
    message_mark_deleted,
    message_media_attached,
    message_react,
    message_sent_by_shop_recently,
    message_store_from_seller,
    messages_waiting_for_media,
)
from conversations.services.live import conversation_publish, message_publish
from conversations.services.modes import conversation_set_mode, system_message
from conversations.services.outbound import MayNotMessageFirst, message_send_by_bot, message_send_by_seller
from conversations.services.receipts import (
    customer_messages_read,
    customer_messages_unread,
    receipts_apply,
    receipts_apply_watermark,
)
from conversations.services.reply import (
    VOICE_ASK_TEXT,
    ReplyPlan,
    conversation_reply,
    deliver_now,
    message_text,
    reply_complete,
    reply_plan,
)
from conversations.services.sandbox import SANDBOX_PREFIX, sandbox_conversation, sandbox_reset, sandbox_send
from conversations.services.sweep import SweepResult, conversations_resume_bot, sweep
from conversations.services.windows import Window, comment_reply_window, messaging_window

__all__ = [
    "HANDOFF_TEXT",
    "INTERRUPTED",
    "SANDBOX_PREFIX",
    "VOICE_ASK_TEXT",
    "ClaimedComment",
    "DeliveryOutcome",
    "IngestResult",
    "KnownIdentity",
    "MayNotMessageFirst",
    "PendingSend",
    "ReplyPlan",
    "SweepResult",
    "Window",
    "comment_claim",
    "comment_public_reply_recorded",
    "comment_release",
    "comment_replied",
    "comment_reply_failed",
    "comment_reply_window",
    "comment_skip",
    "comment_store",
    "comment_waiting",
    "comments_due",
    "conversation_hand_back",
    "conversation_hand_off",
    "conversation_mark_example",
    "conversation_mark_read",
    "conversation_publish",
    "conversation_reply",
    "conversation_set_mode",
    "conversation_source_set",
    "conversation_take_over",
    "conversations_resume_bot",
    "customer_messages_read",
    "customer_messages_unread",
    "deliver_now",
    "delivery_backoff",
    "enqueueing",
    "handoff_text",
    "identities_without_name",
    "identity_find",
    "identity_learn_id",
    "identity_set_profile",
    "ingest",
    "ingest_many",
    "message_deliver",
    "message_fail",
    "message_known",
    "message_mark_deleted",
    "message_media_attached",
    "message_publish",
    "message_react",
    "message_send_by_bot",
    "message_send_by_seller",
    "message_sent_by_shop_recently",
    "message_store_from_seller",
    "message_text",
    "messages_waiting_for_media",
    "messaging_window",
    "receipts_apply",
    "receipts_apply_watermark",
    "reply_complete",
    "reply_plan",
    "sandbox_conversation",
    "sandbox_reset",
    "sandbox_send",
    "send_failed",
    "send_pending",
    "send_started",
    "send_succeeded",
    "sweep",
    "system_message",
]
