"""The dashboard's "try your bot" conversation, taken down the real path."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_app.base import (
    InboundMessage,
)
from conversations.models import ChannelIdentity, Conversation, Customer
from conversations.services.ingest import IngestResult, ingest

SANDBOX_PREFIX = "sandbox-"


def sandbox_conversation(*, channel_account_id: int, member_id: int) -> Conversation:
    """The member's sandbox conversation (created marked as such before its first message, so
    that every order in it is a test order)."""
    lookup = {
        "channel": "widget",
        "channel_account_id": channel_account_id,
        "external_id": f"{SANDBOX_PREFIX}{member_id}",
    }
    with transaction.atomic():
        identity = ChannelIdentity.objects.filter(**lookup).first()
        if identity is None:
            customer = Customer.objects.create(name=_("Test customer"))
            identity = ChannelIdentity.objects.create(customer=customer, display_name=customer.name, **lookup)
        conversation = Conversation.objects.filter(identity=identity).first()
        if conversation is None:
            conversation = Conversation.objects.create(
                identity=identity,
                customer=identity.customer,
                channel=identity.channel,
                channel_account_id=channel_account_id,
                is_sandbox=True,
            )
    return conversation


def sandbox_send(*, conversation: Conversation, text: str) -> IngestResult:
    """A message typed on the sandbox page, taken down the real path as a customer's."""
    text = text.strip()[: settings.MESSAGE_MAX_CHARS]
    if not conversation.is_sandbox:
        raise ValidationError(_("This is not a test conversation."))
    if not text:
        raise ValidationError(_("Write a message."))
    inbound = InboundMessage(
        channel=conversation.channel,
        channel_account_id=conversation.channel_account_id,
        sender_id=conversation.identity.external_id,
        external_id=f"{conversation.identity.external_id}:{uuid.uuid4()}",
        text=text,
        timestamp=timezone.now(),
        sender_name="",
    )
    return ingest(inbound)


@transaction.atomic
def sandbox_reset(*, conversation: Conversation) -> None:
    """Start the test over: its messages, test orders and test customer go."""
    from sales.models import Order

    if not conversation.is_sandbox:
        raise ValidationError(_("This is not a test conversation."))
    Order.objects.filter(conversation=conversation, is_test=True).delete()
    customer, identity = conversation.customer, conversation.identity
    conversation.delete()
    identity.delete()
    customer.delete()
