"""Delivery fees per wilaya and bot settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import algeria_wilayas_communes as dz
import pytest
from django.core.exceptions import ValidationError

from sales.models import BotSettings, DeliveryRate
from sales.selectors import bot_settings, delivery_quote
from sales.services.settings import RateData, bot_settings_update, delivery_rates_update, validate_business_hours

pytestmark = pytest.mark.django_db


def test_the_delivery_page_lists_the_69_wilayas_from_the_package(shop_a):
    response = shop_a.client().get("/dashboard/settings/delivery/")
    rows = response.context["rows"]
    assert len(rows) == len(dz.get_wilayas()) == 69
    assert rows[15]["name"] == "Alger" or rows[15]["number"] == 16
    body = response.content.decode()
    for wilaya in dz.get_wilayas():
        assert f'name="home_{wilaya["wilaya_num"]}"' in body


def test_arabic_page_shows_arabic_wilaya_names(shop_a):
    client = shop_a.client()
    client.cookies["ma5zani_language"] = "ar"
    body = client.get("/dashboard/settings/delivery/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "الجزائر" in body and "أدرار" in body


def test_saving_fees_stores_each_wilaya(shop_a):
    data = {"served_16": "on", "home_16": "400", "desk_16": "250", "served_1": "on", "home_1": "1 200", "desk_1": ""}
    response = shop_a.client().post("/dashboard/settings/delivery/", data)
    assert response.status_code == 302
    with shop_a.schema():
        assert DeliveryRate.objects.get(wilaya=16).home_fee == 400
        assert DeliveryRate.objects.get(wilaya=1).desk_fee is None
        assert delivery_quote(16, home=False) == 250
        assert delivery_quote(31, home=True) is None  # not served
        assert DeliveryRate.objects.filter(is_served=True).count() == 2


def test_a_bad_fee_saves_nothing(shop_a):
    data = {
        "served_16": "on",
        "home_16": "400",
        "served_2": "on",
        "home_2": "",
        "desk_2": "",
        "served_3": "on",
        "home_3": "cher",
    }
    response = shop_a.client().post("/dashboard/settings/delivery/", data)
    assert response.status_code == 200
    with shop_a.schema():
        assert DeliveryRate.objects.count() == 0
    response = shop_a.client().post("/dashboard/settings/delivery/", {"served_2": "on"})
    assert "needs a home or stop-desk fee" in response.content.decode()


def test_delivery_service_refuses_unknown_wilayas(shop_a):
    with shop_a.schema(), pytest.raises(ValidationError):
        delivery_rates_update(rates=[RateData(wilaya=70, is_served=True, home_fee=100, desk_fee=None)])


def bot_post(**overrides):
    data = {
        "is_enabled": "on",
        "persona_name": "Yasmine",
        "greeting": "أهلا!",
        "intensity": "aggressive",
        "max_discount_percent": "15",
        "languages": ["darija", "fr"],
        "handoff_keywords": "nheb nehder m3a wahed\nconseiller\n\nconseiller",
        "group_chats_enabled": "",
        "bot_resume_after_minutes": "45",
        "draft_reminder_minutes": "60",
        "ai_model": "anthropic/claude-haiku-4.5",
        "monthly_budget_usd": "10.00",
        "after_hours": "answer_and_tell",
    }
    for day in ("mon", "tue", "wed", "thu", "sat", "sun"):
        data.update({f"{day}_open": "on", f"{day}_start": "09:00", f"{day}_end": "18:00"})
    data.update({"fri_start": "", "fri_end": ""})
    data.update(overrides)
    return data


def test_bot_settings_are_saved(shop_a):
    response = shop_a.client().post("/dashboard/settings/bot/", bot_post())
    assert response.status_code == 302, response.context["form"].errors
    with shop_a.schema():
        row = BotSettings.objects.get()
        assert row.persona_name == "Yasmine"
        assert row.intensity == "aggressive"
        assert row.max_discount_percent == 15
        assert row.languages == ["darija", "fr"]
        assert row.handoff_keywords == ["nheb nehder m3a wahed", "conseiller"]
        assert row.business_hours["fri"] == []
        assert row.business_hours["mon"] == [["09:00", "18:00"]]
        assert row.bot_resume_after_minutes == 45


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"max_discount_percent": "95"}, "max_discount_percent"),
        ({"intensity": "pushy"}, "intensity"),
        ({"languages": []}, "languages"),
        ({"mon_start": "19:00"}, "mon_end"),
    ],
)
def test_invalid_bot_settings_are_refused(shop_a, override, field):
    response = shop_a.client().post("/dashboard/settings/bot/", bot_post(**override))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    with shop_a.schema():
        assert bot_settings().persona_name == "Amina"


def test_bot_toggle_switches_the_bot_and_the_home_page_says_so(shop_a):
    client = shop_a.client()
    assert "On" in client.get("/dashboard/").content.decode()
    client.post("/dashboard/settings/bot/toggle/")
    with shop_a.schema():
        assert bot_settings().is_enabled is False
    assert client.get("/dashboard/").context["status"]["bot_enabled"] == 0


def test_business_hours_in_the_seller_time_zone(shop_a):
    with shop_a.schema():
        row = bot_settings_update(business_hours={"mon": [["09:00", "18:00"]], "fri": []})
        algiers = ZoneInfo("Africa/Algiers")
        assert row.is_open_at(dt.datetime(2026, 11, 23, 10, 0, tzinfo=algiers))  # Monday
        assert not row.is_open_at(dt.datetime(2026, 11, 23, 18, 0, tzinfo=algiers))
        assert not row.is_open_at(dt.datetime(2026, 11, 27, 10, 0, tzinfo=algiers))  # Friday
        # 08:30 UTC is 09:30 in Algiers.
        assert row.is_open_at(dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    "hours",
    [{"mon": [["18:00", "09:00"]]}, {"mon": [["9h", "18h"]]}, {"mon": "09-18"}, "always"],
)
def test_invalid_business_hours_are_refused(hours):
    with pytest.raises(ValidationError):
        validate_business_hours(hours)


def test_unknown_settings_are_refused(shop_a):
    with shop_a.schema(), pytest.raises(ValidationError):
        bot_settings_update(discount_everything=True)


def test_a_new_shop_saves_its_bot_settings_without_ticking_languages_first(shop_a):
    client = shop_a.client()
    form = client.get("/dashboard/settings/bot/").context["form"]
    languages = form["languages"].value()
    assert sorted(languages) == ["ar", "darija", "en", "fr"]  # every language, ticked
    response = client.post("/dashboard/settings/bot/", bot_post(languages=languages, persona_name="Nour"))
    assert response.status_code == 302, response.context["form"].errors
    with shop_a.schema():
        assert BotSettings.objects.get().persona_name == "Nour"
