"""Customers, their channel identities, conversations and messages. Tenant schema.

Rows that name something of the public schema (a channel account, a platform user) keep its
plain id: seller schemas hold no foreign keys into public tables except the admin log.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from channels_app.models import ChannelAccount

# The channels are the ones of the routing index.
Channel = ChannelAccount.Channel


class Customer(models.Model):
    """One person across channels. `phone` is theirs alone (one customer per number): a number
    the channel vouches for (WhatsApp's sender, `phone_verified`) or one the customer gave in an
    order while nobody else had it. A number given in a chat is a claim: it never merges two
    customers by itself (conversations.customers)."""

    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True, region="DZ")
    # The channel vouched for the number (the WhatsApp sender's own); False: the customer gave it.
    phone_verified = models.BooleanField(_("number confirmed by the channel"), default=False)
    language = models.CharField(_("language"), max_length=16, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True, verbose_name=_("tags"))
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    # The customer asked not to be written to first (reminders, follow-ups); replies still go.
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            # customer_by_phone finds one customer per number.
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="unique_customer_phone"),
        ]

    def __str__(self) -> str:
        return self.name or str(self.phone) or f"#{self.pk}"


class MergeSuggestion(models.Model):
    """Two customers who may be one person, for the seller to confirm (merge) or dismiss. The
    pair is stored lower id first; a dismissed pair is not suggested again for the same reason;
    once merged, `other` is empty (the merged customer is gone) and `customer` is the one kept."""

    class Reason(models.TextChoices):
        SAME_PHONE = "same_phone", _("Same phone number")

    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        ACCEPTED = "accepted", _("Merged")
        DISMISSED = "dismissed", _("Dismissed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # The evidence: the number and the order it was given in (sales.Order's id, kept plain).
    phone = PhoneNumberField(blank=True, region="DZ")
    order_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_id = models.BigIntegerField(null=True, blank=True)  # the member (a public user's id)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("merge suggestion")
        verbose_name_plural = _("merge suggestions")
        constraints = [
            models.CheckConstraint(
                condition=Q(other__isnull=True) | Q(customer__lt=models.F("other")), name="merge_suggestion_pair_order"
            ),
            models.UniqueConstraint(
                fields=["customer", "other"], condition=Q(status="pending"), name="one_pending_merge_suggestion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ~ {self.other_id} ({self.reason}, {self.status})"

    @property
    def order_reference(self) -> str:
        return f"#{self.order_id:05d}" if self.order_id else ""  # as sales.Order.reference


class ChannelIdentity(models.Model):
    """How one customer is reached on one channel account (visitor id, phone JID, PSID…)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    channel_account_id = models.BigIntegerField()
    external_id = models.CharField(max_length=255)
    # Another id of the same person on this channel (WhatsApp: the LID beside the phone JID).
    alt_id = models.CharField(max_length=255, blank=True, db_index=True)
    display_name = models.CharField(max_length=200, blank=True)
    # The picture the channel gives of the person (Messenger's profile API), a link.
    avatar_url = models.TextField(blank=True)
    # Opted out on this channel (conversations.customers.customer_opt_out).
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_account_id", "external_id"], name="unique_channel_identity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


class Conversation(models.Model):
    class Mode(models.TextChoices):
        BOT = "bot", _("Bot")
        HUMAN = "human", _("Seller")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        AD = "ad", _("Ad")
        LINK = "link", _("Link (m.me, ig.me)")
        COMMENT = "comment", _("Comment")
        OTHER = "other", _("Other referral")

    class Stage(models.TextChoices):
        NEW = "new", _("New")
        INTERESTED = "interested", _("Interested")
        ORDERING = "ordering", _("Ordering")
        ORDERED = "ordered", _("Ordered")
        LOST = "lost", _("Lost")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conversations")
    identity = models.OneToOneField(ChannelIdentity, on_delete=models.CASCADE, related_name="conversation")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    channel_account_id = models.BigIntegerField()
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.BOT)
    # The reason code of the latest handoff (conversations.reasons), kept after a hand-back.
    handoff_reason = models.CharField(max_length=200, blank=True)
    assigned_member_id = models.BigIntegerField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    sales_stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW)
    unread_count = models.PositiveIntegerField(default=0)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    mode_changed_at = models.DateTimeField(null=True, blank=True)
    # When the customer was last told, outside business hours, when a person is available
    # (conversations.hours: once per closed period).
    after_hours_notice_at = models.DateTimeField(null=True, blank=True)
    # A conversation of the dashboard's "try your bot" page: its orders are tests.
    is_sandbox = models.BooleanField(default=False)
    # Where the customer came from (the latest ad click, link or comment that opened or
    # reopened the conversation): a code, what the channel said of it, and when.
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, blank=True)
    source_detail = models.JSONField(default=dict, blank=True)
    source_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["mode", "last_message_at"], name="conversation_mode_recent")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.customer}"

    @property
    def handoff_reason_label(self) -> str:
        """Why the conversation last went to the seller, in the viewer's language."""
        from conversations.reasons import handoff_reason_label

        return handoff_reason_label(self.handoff_reason)


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        BOT = "bot", _("Bot")
        SELLER = "seller", _("Seller")
        SYSTEM = "system", _("System")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    class MediaKind(models.TextChoices):
        IMAGE = "image", _("Image")
        AUDIO = "audio", _("Voice")
        VIDEO = "video", _("Video")
        DOCUMENT = "document", _("Document")
        STICKER = "sticker", _("Sticker")
        LOCATION = "location", _("Location")
        # Kept as the channel's link only (`media_url`), never copied: an Instagram story the
        # customer answered or mentioned the shop in, a shared post or reel.
        STORY = "story", _("Story")
        SHARE = "share", _("Shared post")
        REEL = "reel", _("Reel")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    author = models.CharField(max_length=8, choices=Author.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # The id the channel gave the message; unique per channel so a repeated delivery is one row.
    external_id = models.CharField(max_length=255, null=True, blank=True)
    # Sent with every delivery attempt so that the channel (or we) can refuse a second copy.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    text = models.TextField(blank=True)
    media = models.FileField(upload_to="media/%Y/%m/", blank=True)
    media_type = models.CharField(max_length=100, blank=True)
    media_kind = models.CharField(max_length=16, choices=MediaKind.choices, blank=True)
    # The channel's link to media that is not ours to copy (an Instagram story expires).
    media_url = models.TextField(blank=True)
    transcript = models.TextField(blank=True)
    # What the channel said beyond text and media, as data: the customer's choice (a button or
    # quick reply: {"choice": {"kind": "order", "product_id": 12}}), the message it answers,
    # a story, "unsupported" (a message the channel cannot show us).
    extra = models.JSONField(default=dict, blank=True)
    # The customer's reaction to this message (an emoji or a name), empty when none.
    reaction = models.CharField(max_length=32, blank=True)
    # The customer unsent it: kept for the record, shown as deleted, never given to the engine.
    deleted_at = models.DateTimeField(null=True, blank=True)
    quick_replies = models.JSONField(default=list, blank=True)
    cards = models.JSONField(default=list, blank=True)
    # A system note as codes ({"kind": "handed_off", "reason": "customer_asked"}), put into
    # words in the viewer's language when shown (conversations.reasons); `text` keeps a copy in
    # the shop's default language.
    note = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True)
    # The customer message a bot reply answers: a message is answered once at most.
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    sent_by_id = models.BigIntegerField(null=True, blank=True)
    channel_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    reply_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    engine = models.CharField(max_length=40, blank=True)
    engine_model = models.CharField(max_length=100, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="unique_channel_message",
            ),
            models.UniqueConstraint(
                fields=["reply_to"],
                condition=Q(author="bot"),
                name="one_bot_reply_per_message",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "direction", "id"], name="message_thread"),
            models.Index(fields=["status", "created_at"], name="message_status_age"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.author}: {self.text[:40]}"

    @property
    def display_text(self) -> str:
        """The text the inbox shows (a system note in the viewer's language)."""
        from conversations.reasons import message_display_text

        return message_display_text(self)

    @property
    def media_link(self) -> str:
        """The channel's link to media kept as a link (an HTTPS address only)."""
        return self.media_url if self.media_url.startswith("https://") else ""

    @property
    def error_text(self) -> str:
        """Why it was not sent, in the viewer's language."""
        from conversations.reasons import send_failure_label

        return send_failure_label(self.error)


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    succeeded = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["message", "number"]
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="unique_delivery_attempt")]

    def __str__(self) -> str:
        return f"{self.message_id}#{self.number}"


class Comment(models.Model):
    """A customer's comment under one of the shop's posts or reels (Instagram, Facebook), kept
    with what the shop did about it: one private reply in DM (Meta allows one per comment, within
    7 days) that opens the conversation, and optionally a short public reply under it."""

    class Reply(models.TextChoices):
        PENDING = "pending", _("To answer")
        SENT = "sent", _("Answered in DM")
        SKIPPED = "skipped", _("Not answered")
        FAILED = "failed", _("Could not answer")

    channel = models.CharField(max_length=16, choices=Channel.choices)
    channel_account_id = models.BigIntegerField()
    external_id = models.CharField(max_length=255)  # Meta's comment id
    post_id = models.CharField(max_length=255, blank=True)  # the post or the Instagram media
    parent_id = models.CharField(max_length=255, blank=True)
    author_id = models.CharField(max_length=255, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    commented_at = models.DateTimeField()
    reply = models.CharField(max_length=8, choices=Reply.choices, default=Reply.PENDING)
    # Why it was not answered, or failed (a code), and what was sent.
    reply_reason = models.CharField(max_length=40, blank=True)
    reply_text = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when its reply was claimed to be sent
    replied_at = models.DateTimeField(null=True, blank=True)
    private_reply_id = models.CharField(max_length=255, blank=True)
    public_reply_id = models.CharField(max_length=255, blank=True)
    # The conversation the private reply opened (once the customer answers, it is theirs).
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-commented_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="unique_channel_comment"),
        ]
        indexes = [models.Index(fields=["reply", "commented_at"], name="comment_reply_due")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"
