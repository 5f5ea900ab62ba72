"""The routing index: an external id leads to exactly one seller."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from channels_app.models import ChannelAccount
from channels_app.selectors import channel_account_for_external_id, channel_accounts_for_seller

pytestmark = pytest.mark.django_db


def test_an_external_id_resolves_to_its_seller(shop_a, shop_b):
    ChannelAccount.objects.create(seller=shop_a.seller, channel="messenger", external_id="1001")
    ChannelAccount.objects.create(seller=shop_b.seller, channel="instagram", external_id="1001")
    with shop_b.schema():  # resolved from the public schema whatever the current one
        messenger = channel_account_for_external_id("messenger", "1001")
    instagram = channel_account_for_external_id("instagram", "1001")
    assert messenger is not None and messenger.seller == shop_a.seller
    assert instagram is not None and instagram.seller == shop_b.seller
    assert channel_account_for_external_id("whatsapp", "1001") is None
    assert [a.channel for a in channel_accounts_for_seller(shop_a.seller)] == ["messenger", "widget"]


def test_one_external_id_cannot_belong_to_two_sellers(shop_a, shop_b):
    ChannelAccount.objects.create(seller=shop_a.seller, channel="whatsapp", external_id="213555@s.whatsapp.net")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChannelAccount.objects.create(seller=shop_b.seller, channel="whatsapp", external_id="213555@s.whatsapp.net")
