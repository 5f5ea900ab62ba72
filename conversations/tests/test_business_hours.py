"""Business hours on the message path, with the moment passed explicitly: the next opening in
the seller's time zone, the line that says when a person is available (once per closed
period, in the customer's language), the away message, and handoffs outside hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from conversations import hours
from conversations.models import Conversation, Message
from conversations.services import HANDOFF_TEXT, conversation_hand_off, conversation_reply, ingest
from conversations.tests.factories import widget_inbound
from sales.engine.base import EngineReply
from sales.models import BotSettings
from sales.selectors import bot_settings
from sales.services.settings import bot_settings_update
from sales.tests.test_settings_pages import bot_post

pytestmark = pytest.mark.django_db

ALGIERS = ZoneInfo("Africa/Algiers")
WEEKDAY_HOURS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "sat", "sun")} | {"fri": []}
CLOSED_ALL_WEEK: dict[str, list[list[str]]] = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def at(day: int, hour: int, minute: int = 0, zone: ZoneInfo = ALGIERS) -> dt.datetime:
    """A moment of the week of Monday 2026-06-08 (Wednesday is the 10th, Friday the 12th)."""
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=zone)


def row(**values) -> BotSettings:
    return BotSettings(business_hours=values.pop("business_hours", WEEKDAY_HOURS), **values)


# --- The next opening -----------------------------------------------------------------------


def test_the_next_opening_in_the_sellers_week():
    settings_row = row()
    assert settings_row.is_open_at(at(10, 10))
    assert settings_row.next_opening(at(10, 7, 30)) == at(10, 9)  # before opening: today
    assert settings_row.next_opening(at(10, 18, 0)) == at(11, 9)  # closing time: tomorrow
    assert settings_row.next_opening(at(11, 20)) == at(13, 9)  # Thursday evening: Friday is off
    split = row(business_hours=WEEKDAY_HOURS | {"wed": [["14:00", "18:00"], ["09:00", "12:00"]]})
    assert split.next_opening(at(10, 12, 30)) == at(10, 14)  # the lunch break
    assert row(business_hours=CLOSED_ALL_WEEK).next_opening(at(10, 10)) is None


def test_the_next_opening_is_read_in_the_sellers_time_zone():
    paris = row(timezone="Europe/Paris")  # UTC+2 in June, Algiers is UTC+1
    moment = dt.datetime(2026, 6, 10, 7, 30, tzinfo=dt.UTC)  # 08:30 in Algiers, 09:30 in Paris
    assert paris.is_open_at(moment) and not row().is_open_at(moment)
    assert row().next_opening(moment) == at(10, 9)
    evening = dt.datetime(2026, 6, 10, 16, 30, tzinfo=dt.UTC)  # 18:30 in Paris, 17:30 in Algiers
    assert not paris.is_open_at(evening) and row().is_open_at(evening)
    assert paris.next_opening(evening) == at(11, 9, zone=ZoneInfo("Europe/Paris"))
    assert hours.availability_line(paris, "en", evening) == "Someone from the shop will be available tomorrow at 09:00."


@pytest.mark.parametrize(
    ("language", "tomorrow", "nobody"),
    [
        ("fr", "Un conseiller sera disponible demain à 09:00.", "Aucun conseiller n'est disponible"),
        ("en", "Someone from the shop will be available tomorrow at 09:00.", "No one from the shop is available"),
        ("ar", "واحد من المحل يجاوبك غدوة على 09:00.", "ما كاين حتى واحد من المحل"),
        ("arabizi", "Wa7ed men l'mahal yjawbek ghedwa 3la 09:00.", "makan 7ta wa7ed"),
        ("msa", "سيكون أحد موظفي المتجر متاحاً غداً على الساعة 09:00.", "لا يوجد أي موظف متاح"),
    ],
)
def test_the_availability_line_in_every_language(language, tomorrow, nobody):
    assert hours.availability_line(row(), language, at(10, 19)) == tomorrow
    assert nobody in hours.availability_line(row(business_hours=CLOSED_ALL_WEEK), language, at(10, 19))


def test_the_line_names_today_tomorrow_or_the_day():
    assert hours.availability_line(row(), "fr", at(10, 7)) == "Un conseiller sera disponible aujourd'hui à 09:00."
    assert hours.availability_line(row(), "fr", at(11, 19)) == "Un conseiller sera disponible samedi à 09:00."
    assert hours.availability_line(row(), "en", at(11, 19)).endswith("on Saturday at 09:00.")
    assert "نهار السبت" in hours.availability_line(row(), "ar", at(11, 19))
    assert "nhar sebt" in hours.availability_line(row(), "arabizi", at(11, 19))


# --- The reply path -------------------------------------------------------------------------


class Customer:
    """A widget customer writing at given moments; the bot answers at the same moment."""

    def __init__(self, shop, queued, capture, visitor="00000000-0000-4000-8000-0000000000a1") -> None:
        self.shop, self.queued, self.capture, self.visitor = shop, queued, capture, visitor

    def say(self, text: str, now: dt.datetime) -> Message | None:
        with self.capture(execute=True):
            ingest(widget_inbound(self.shop, text, visitor=self.visitor))
        if not self.queued.replies:
            return None
        conversation_id, inbound_id = self.queued.replies[-1]
        with self.capture(execute=True):
            return conversation_reply(conversation_id, inbound_id, now=now)

    @property
    def conversation(self) -> Conversation:
        return Conversation.objects.get(identity__external_id=self.visitor)


@pytest.fixture
def customer(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        bot_settings_update(business_hours=WEEKDAY_HOURS, timezone="Africa/Algiers")
        yield Customer(shop_a, queued, django_capture_on_commit_callbacks)


LINE_FR = "Un conseiller sera disponible"


def test_open_the_bot_answers_without_the_line(customer):
    answer = customer.say("Bonjour", at(10, 10))
    assert answer is not None and LINE_FR not in answer.text


def test_closed_evening_the_first_answer_ends_with_the_next_opening(customer):
    first = customer.say("Bonjour, vous avez des sacs ?", at(10, 20))
    assert first is not None
    assert first.text.endswith("Un conseiller sera disponible demain à 09:00.")
    assert first.text.index(LINE_FR) > 0  # after the bot's own answer
    second = customer.say("Et des chaussures ?", at(10, 21))
    assert second is not None and LINE_FR not in second.text  # once per closed period
    assert customer.conversation.mode == Conversation.Mode.BOT  # the bot still sells


def test_closed_all_week_says_no_person_is_available(customer):
    bot_settings_update(business_hours=CLOSED_ALL_WEEK)
    answer = customer.say("Bonjour", at(10, 10))
    assert answer is not None and answer.text.endswith("Aucun conseiller n'est disponible pour le moment.")
    later = customer.say("Il y a quelqu'un ?", at(12, 10))
    assert later is not None and "Aucun conseiller" not in later.text  # one closed period


def test_a_conversation_spanning_the_closing_time(customer):
    before = customer.say("Bonjour", at(10, 17, 50))
    assert before is not None and LINE_FR not in before.text
    after_closing = customer.say("Vous êtes encore là ?", at(10, 18, 10))
    assert after_closing is not None and after_closing.text.endswith("disponible demain à 09:00.")
    same_evening = customer.say("Et la livraison ?", at(10, 18, 40))
    assert same_evening is not None and LINE_FR not in same_evening.text
    next_morning = customer.say("Bonjour de nouveau", at(11, 10))
    assert next_morning is not None and LINE_FR not in next_morning.text
    next_evening = customer.say("Encore une question", at(11, 18, 5))
    assert next_evening is not None
    assert next_evening.text.endswith("Un conseiller sera disponible samedi à 09:00.")  # a new closed period


def test_the_line_follows_the_customers_language(customer):
    answer = customer.say("Salam, ch7al sabat?", at(10, 22))
    assert answer is not None and answer.text.endswith("Wa7ed men l'mahal yjawbek ghedwa 3la 09:00.")


def test_the_sellers_time_zone_decides(customer):
    bot_settings_update(timezone="Europe/Paris")
    moment = dt.datetime(2026, 6, 10, 7, 30, tzinfo=dt.UTC)  # 09:30 in Paris: open
    answer = customer.say("Bonjour", moment)
    assert answer is not None and LINE_FR not in answer.text
    bot_settings_update(timezone="Africa/Algiers")  # 08:30 in Algiers: closed
    answer = customer.say("Vous êtes là ?", moment + dt.timedelta(minutes=1))
    assert answer is not None and answer.text.endswith("disponible aujourd'hui à 09:00.")


def test_answer_leaves_the_answers_as_they_are(customer):
    bot_settings_update(after_hours="answer")
    answer = customer.say("Bonjour", at(10, 22))
    assert answer is not None and LINE_FR not in answer.text


def test_away_sends_only_the_away_message_and_hands_to_the_seller(customer, monkeypatch):
    class NeverCalled:
        name = "never"

        def reply(self, context):
            raise AssertionError("the engine answers nothing outside hours in away mode")

    bot_settings_update(after_hours="away")
    monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: NeverCalled())
    answer = customer.say("Bonjour, c'est combien les baskets ?", at(10, 22))
    assert answer is not None
    assert answer.text == "La boutique est fermée pour le moment. Un conseiller sera disponible demain à 09:00."
    assert answer.engine == "away"
    conversation = customer.conversation
    assert (conversation.mode, conversation.handoff_reason) == ("human", "after_hours")
    assert customer.say("Allô ?", at(10, 22, 5)) is None  # with the seller now: no second away message
    assert Message.objects.filter(author=Message.Author.BOT).count() == 1


def test_away_within_business_hours_the_bot_answers(customer, monkeypatch):
    bot_settings_update(after_hours="away")
    answer = customer.say("Bonjour", at(10, 10))
    assert answer is not None and answer.engine != "away" and LINE_FR not in answer.text


def test_asking_for_a_person_after_hours_says_when_one_is_available(customer):
    bot_settings_update(after_hours="away", business_hours=CLOSED_ALL_WEEK)
    customer.say("Je veux parler à un conseiller", at(10, 22))  # handed off at ingest
    told = Message.objects.get(author=Message.Author.BOT)
    assert told.text.startswith(HANDOFF_TEXT["fr"])
    assert told.text.endswith("Aucun conseiller n'est disponible pour le moment.")
    assert customer.conversation.handoff_reason == "customer_asked"


def test_a_handoff_outside_hours_tells_the_customer_when_a_person_is_there(customer):
    customer.say("Bonjour", at(10, 10))
    conversation = customer.conversation
    conversation_hand_off(conversation=conversation, reason="complaint", tell_customer=True, now=at(10, 19))
    told = Message.objects.filter(author=Message.Author.BOT).order_by("pk").last()
    assert told is not None and told.text == f"{HANDOFF_TEXT['fr']}\n\nUn conseiller sera disponible demain à 09:00."


def test_a_handoff_within_hours_says_only_the_handoff(customer):
    customer.say("Bonjour", at(10, 10))
    conversation_hand_off(conversation=customer.conversation, reason="complaint", tell_customer=True, now=at(10, 11))
    told = Message.objects.filter(author=Message.Author.BOT).order_by("pk").last()
    assert told is not None and told.text == HANDOFF_TEXT["fr"]


def test_an_engine_handoff_outside_hours_says_when_a_person_is_there(customer, monkeypatch):
    class UnsureEngine:
        name = "unsure"

        def reply(self, context):
            return EngineReply(text="Je vérifie avec la boutique.", handoff=True, handoff_reason="unsure")

    bot_settings_update(after_hours="answer")  # even when the bot answers as usual
    monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: UnsureEngine())
    answer = customer.say("Vous faites des prix de gros ?", at(10, 23))
    assert answer is not None
    assert answer.text == "Je vérifie avec la boutique.\n\nUn conseiller sera disponible demain à 09:00."
    assert customer.conversation.handoff_reason == "unsure"


# --- The setting ------------------------------------------------------------------------------


def test_the_setting_defaults_to_answer_and_tell_and_is_validated(shop_a):
    with shop_a.schema():
        assert bot_settings().after_hours == "answer_and_tell"
        with pytest.raises(ValidationError) as refused:
            bot_settings_update(after_hours="sometimes")
        assert "after_hours" in refused.value.message_dict
        with pytest.raises(ValidationError):
            bot_settings_update(timezone="Mars/Olympus_Mons")
        assert bot_settings().after_hours == "answer_and_tell"


def test_the_bot_settings_page_sets_it(shop_a):
    client = shop_a.client()
    page = client.get(reverse("settings:bot")).content.decode()
    assert 'name="after_hours"' in page and 'value="away"' in page
    response = client.post(reverse("settings:bot"), bot_post(after_hours="away"))
    assert response.status_code == 302
    with shop_a.schema():
        assert bot_settings().after_hours == "away"
    refused = client.post(reverse("settings:bot"), bot_post(after_hours="never"))
    assert refused.status_code == 200 and "after_hours" in refused.context["form"].errors


@pytest.mark.parametrize(
    ("language", "label"),
    [("fr", "En dehors des horaires"), ("ar", "خارج ساعات العمل")],
)
def test_the_setting_is_translated_on_the_page(shop_a, language, label):
    client = shop_a.client()
    client.cookies["ma5zani_language"] = language
    assert label in client.get(reverse("settings:bot")).content.decode()
