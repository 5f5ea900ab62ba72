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
