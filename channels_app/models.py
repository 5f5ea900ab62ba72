"""Channel accounts and the routing index from external ids to sellers. Public schema.

Anything that reaches the platform from outside (a webhook, a gateway event, a widget frame)
carries an external id: a WhatsApp JID, a Facebook Page id, an Instagram account id or a
widget key. This table maps it to the seller before any seller data is touched.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sellers.models import Seller


class ChannelAccount(models.Model):
    class Channel(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp"
        MESSENGER = "messenger", "Messenger"
        INSTAGRAM = "instagram", "Instagram"
        WIDGET = "widget", _("Web chat")

    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        DISCONNECTED = "disconnected", _("Disconnected")
        ERROR = "error", _("Needs attention")

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="channel_accounts")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    external_id = models.CharField(_("external id"), max_length=255)
    display_name = models.CharField(_("name"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DISCONNECTED)
    # Channel settings that are not secret (the widget's allowed origins, for example).
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "display_name"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="unique_channel_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.display_name or self.external_id}"


class WhatsAppSession(models.Model):
    """One seller's linked WhatsApp number: what the dashboard wants, what the gateway holding it
    sees, and the lease that makes exactly one gateway hold it. Public schema, so every gateway
    can find every seller's session.

    whatsmeow's own session store (keys, devices, contacts) lives in the `wa` schema, not here.
    """

    class State(models.TextChoices):
        NEW = "new", _("Not linked")
        PAIRING = "pairing", _("Waiting for the QR code to be scanned")
        PAIRING_EXPIRED = "pairing_expired", _("The QR code expired")
        CONNECTING = "connecting", _("Connecting")
        CONNECTED = "connected", _("Connected")
        DISCONNECTED = "disconnected", _("Disconnected, reconnecting")
        STALE = "stale", _("Connected but silent")
        LOGGED_OUT = "logged_out", _("Unlinked from the phone")
        REPLACED = "replaced", _("Opened somewhere else")
        BANNED = "banned", _("Temporarily banned by WhatsApp")
        STOPPED = "stopped", _("Disconnected by the seller")

    class Wanted(models.TextChoices):
        RUN = "run", _("Run")
        STOP = "stop", _("Stop")
        LOGOUT = "logout", _("Log out")

    # States in which no message may be sent until the seller acts (or the ban ends).
    HALTED_STATES = frozenset({State.LOGGED_OUT, State.REPLACED, State.BANNED, State.PAIRING_EXPIRED, State.STOPPED})

    account = models.OneToOneField(ChannelAccount, on_delete=models.CASCADE, related_name="whatsapp")
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    wanted = models.CharField(max_length=8, choices=Wanted.choices, default=Wanted.RUN)
    # The linked device (user@s.whatsapp.net:device), its LID and number; empty until paired.
    jid = models.CharField(max_length=100, blank=True)
    lid = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    push_name = models.CharField(max_length=200, blank=True)
    # Pairing: the latest QR payload, or a number to pair by code and the code WhatsApp gave.
    qr = models.TextField(blank=True)
    pair_phone = models.CharField(max_length=20, blank=True)
    pair_code = models.CharField(max_length=20, blank=True)
    pairing_started_at = models.DateTimeField(null=True, blank=True)
    # Seller settings of this channel. Whether groups are answered is the bot settings' own
    # `group_chats_enabled` (in the seller's schema), read by sessions.session_specs.
    ai_badge = models.BooleanField(default=True)
    # The lease: which gateway holds the session, until when (renewed periodically).
    lease_owner = models.CharField(max_length=100, blank=True, db_index=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # What the holding gateway saw.
    state_changed_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    ban_expires_at = models.DateTimeField(null=True, blank=True)
    reconnects = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["wanted", "lease_expires_at"], name="wa_session_lease")]

    def __str__(self) -> str:
        return f"WhatsApp {self.phone or self.account_id}: {self.state}"

    @property
    def can_send(self) -> bool:
        return self.state == self.State.CONNECTED


class Gateway(models.Model):
    """A running gateway process, seen through its heartbeat: the live ones share the sessions."""

    name = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField()
    # Figures the gateway reports with each heartbeat (sessions by state, messages, latency).
    metrics = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class MetaAccount(models.Model):
    """A linked Facebook Page (Messenger) or Instagram professional account: how the platform
    reaches it (token, encrypted, with its expiry and scopes), what it is subscribed to, and
    whether it can still send. Public schema, beside its channel account (the routing index:
    `ChannelAccount.external_id` is the id Meta's webhooks carry as `entry.id`)."""

    class Kind(models.TextChoices):
        PAGE = "page", _("Facebook Page (Messenger)")
        INSTAGRAM_PAGE = "instagram_page", _("Instagram account connected to a Page")
        INSTAGRAM_LOGIN = "instagram_login", _("Instagram account (Instagram Login)")

    class State(models.TextChoices):
        OK = "ok", _("Connected")
        RECONNECT = "reconnect", _("Reconnect needed")

    class Comments(models.TextChoices):
        ALL = "all", _("Every post")
        SOME = "some", _("Chosen posts only")
        OFF = "off", _("Off")

    account = models.OneToOneField(ChannelAccount, on_delete=models.CASCADE, related_name="meta")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The Page that sends for it (Messenger, and Instagram through a Page); empty for Instagram Login.
    page_id = models.CharField(max_length=64, blank=True)
    username = models.CharField(max_length=200, blank=True)
    token_encrypted = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)  # None: does not expire
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    # A business system-user token linked by an operator (`manage.py meta_link`), or the seller's.
    linked_by_operator = models.BooleanField(default=False)
    linked_by_id = models.BigIntegerField(null=True, blank=True)  # the member (a public user's id)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OK)
    state_reason = models.TextField(blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    owner_told_at = models.DateTimeField(null=True, blank=True)  # e-mailed about a reconnect
    subscribed_fields = models.JSONField(default=list, blank=True)
    subscribed_at = models.DateTimeField(null=True, blank=True)
    # Comments under the shop's posts: answered in DM (all posts, chosen posts, off), and
    # optionally a short public reply under the comment.
    comment_replies = models.CharField(max_length=8, choices=Comments.choices, default=Comments.ALL)
    comment_posts = models.JSONField(default=list, blank=True)
    comment_public_reply = models.BooleanField(default=True)
    # What the Messenger profile / ice breakers were last set to (a digest), and when.
    profile_digest = models.CharField(max_length=64, blank=True)
    profile_applied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "token_expires_at"], name="meta_token_expiry")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username or self.account_id}"

    @property
    def can_send(self) -> bool:
        return self.state == self.State.OK and bool(self.token_encrypted)

    @property
    def is_instagram(self) -> bool:
        return self.kind in (self.Kind.INSTAGRAM_PAGE, self.Kind.INSTAGRAM_LOGIN)
