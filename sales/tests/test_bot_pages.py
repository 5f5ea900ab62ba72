"""The bot's dashboard pages: settings with the AI key (encrypted, write-only), "try your bot"
through the real pipeline in a sandbox, usage and cost per month, and the draft reminder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services import conversation_reply
from sales.models import BotSettings, Order, Variant
from sales.services.reminders import order_drafts_remind
from sales.services.settings import bot_settings_update
from sales.tests.test_sales_conversations import Chat, prepare

pytestmark = pytest.mark.django_db


def test_settings_page_stores_the_key_encrypted_and_never_shows_it(shop_a):
    client = shop_a.client()
    page = client.get(reverse("settings:bot")).content.decode()
    data = {
        "is_enabled": "on", "persona_name": "Amina", "greeting": "Salam", "intensity": "aggressive",
        "max_discount_percent": 15, "languages": ["darija", "fr"], "handoff_keywords": "agent",
        "bot_resume_after_minutes": 30, "draft_reminder_minutes": 45, "ai_model": "anthropic/claude-haiku-4.5",
        "monthly_budget_usd": "12.50", "openrouter_key": "sk-or-v1-secret-value", "after_hours": "answer",
    }  # fmt: skip
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        data.update({f"{day}_start": "09:00", f"{day}_end": "18:00"})
    assert "OpenRouter API key" in page
    response = client.post(reverse("settings:bot"), data)
    assert response.status_code == 302
    with shop_a.schema():
        row = BotSettings.objects.get()
        assert (row.intensity, row.max_discount_percent, row.draft_reminder_minutes) == ("aggressive", 15, 45)
        assert row.monthly_budget_usd == Decimal("12.50")
        assert row.openrouter_key == "sk-or-v1-secret-value"
        assert "sk-or-v1-secret-value" not in row.openrouter_key_encrypted
    page = client.get(reverse("settings:bot")).content.decode()
    assert "sk-or-v1-secret-value" not in page and "A key is stored." in page
    client.post(reverse("settings:bot"), {**data, "openrouter_key": ""})  # empty keeps it
    with shop_a.schema():
        assert BotSettings.objects.get().openrouter_key == "sk-or-v1-secret-value"
    client.post(reverse("settings:bot"), {**data, "openrouter_key": "", "forget_openrouter_key": "on"})
    with shop_a.schema():
        assert BotSettings.objects.get().openrouter_key_encrypted == ""


def test_try_your_bot_runs_the_real_pipeline_and_takes_only_test_orders(
    shop_a, queued, django_capture_on_commit_callbacks
):
    with shop_a.schema():
        prepare(shop_a)
    client = shop_a.client()
    script = [
        "Je veux commander les baskets en 41", "Karim", "0550123456", "Alger", "Hydra", "Rue 1", "domicile", "oui",
    ]  # fmt: skip
    for text in script:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("settings:try_bot"), {"text": text}, HTTP_ACCEPT="application/json")
        assert response.json() == {"ok": True}
        with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
            conversation_reply(*queued.replies[-1])
    page = client.get(reverse("settings:try_bot")).content.decode()
    assert "Commande #" in page and "confirmée" in page and "Test orders" in page
    with shop_a.schema():
        order = Order.objects.get()
        assert order.is_test and order.status == "confirmed"
        assert Variant.objects.get(sku="BS-41").stock == 4  # a test takes nothing out of stock
        conversation = Conversation.objects.get()
        assert conversation.is_sandbox and conversation.sales_stage != "ordered"
    assert order.reference not in client.get(reverse("orders:list")).content.decode()
    assert "Karim" not in client.get(reverse("conversations:list")).content.decode()
    client.post(reverse("settings:try_bot_reset"))
    with shop_a.schema():
        assert not Order.objects.exists() and not Conversation.objects.exists()


def test_usage_page_shows_replies_and_cost_per_month_as_charts(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        chat.say("Combien coûtent les baskets ?")
        Message.objects.filter(author="bot").update(
            engine="openrouter", tokens_in=1200, tokens_out=80, cost_usd="0.0042"
        )
        chat.say("Et la montre ?")
    page = shop_a.client().get(reverse("settings:usage")).content.decode()
    assert 'id="replies-chart"' in page and 'id="cost-chart"' in page
    assert "0.0042" in page and "1,200" in page
    row = page.split('id="usage-table"')[1].split("</tbody>")[0].split("<tr>")[-1]
    assert row.count('<td class="num">1</td>') == 2  # one AI reply, one built-in reply this month


def test_an_abandoned_draft_gets_one_reminder_within_the_window(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        chat.say("Je veux commander les baskets en 41")  # the bot asks for the name; the customer goes
        now = timezone.now()
        assert order_drafts_remind(now + dt.timedelta(minutes=30)) == 0  # not yet (60 minutes)
        with django_capture_on_commit_callbacks(execute=True):
            assert order_drafts_remind(now + dt.timedelta(minutes=61)) == 1
        reminder = Message.objects.filter(author="bot").order_by("pk").last()
        assert reminder is not None and "Votre commande (1 × Baskets de sport)" in reminder.text
        assert queued.deliveries == [reminder.pk]
        assert order_drafts_remind(now + dt.timedelta(minutes=120)) == 0  # only one
        chat2 = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor="00000000-0000-4000-8000-00000000beef")
        chat2.say("Je veux commander la montre")
        assert order_drafts_remind(now + dt.timedelta(hours=25)) == 0  # outside the channel's window


@pytest.mark.parametrize(
    ("languages", "expected"),
    [(["darija", "ar", "fr", "en"], "طلبك (1 × Baskets de sport) لم يكتمل بعد"), (["darija"], "طلبيتك")],
)
def test_the_reminder_is_in_the_conversations_form_within_the_sellers_languages(
    shop_a, queued, django_capture_on_commit_callbacks, languages, expected
):
    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        chat.say("Je veux commander les baskets en 41")
        Conversation.objects.filter(pk=chat.conversation.pk).update(language="msa")
        bot_settings_update(languages=languages)
        with django_capture_on_commit_callbacks(execute=True):
            assert order_drafts_remind(timezone.now() + dt.timedelta(minutes=61)) == 1
        reminder = Message.objects.filter(author="bot").order_by("pk").last()
        assert reminder is not None and expected in reminder.text
