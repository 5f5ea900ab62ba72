"""Messenger's welcome and menu, Instagram's ice breakers: written from the seller's settings
within Meta's limits, set once through the Messenger Profile API of the loopback Graph server
(not again while unchanged, again after the seller changes what they are written from), within
Meta's budget of 10 calls per 10 minutes, and a dead token puts the account in "reconnect"."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core import mail
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.meta import accounts, profile
from channels_app.meta.errors import GraphError
from channels_app.meta.profile import (
    GREETING_LIMIT,
    MAX_ICE_BREAKERS,
    MENU_TITLE_LIMIT,
    profile_apply,
    profile_digest,
    profile_for,
)
from channels_app.meta.tasks import PROFILE_RATE_RETRY_SECONDS, apply_profile_task
from channels_app.meta.tests.conftest import INSTAGRAM_A, PAGE_A, PAGE_B, link
from channels_app.models import ChannelAccount, MetaAccount
from conversations.content import choice_from_payload
from sales.models import BotSettings
from sales.services.settings import bot_settings_update

pytestmark = pytest.mark.django_db

LOCALES = ["default", "ar_AR", "fr_FR", "en_US"]
PAGE_TOKEN = "page-token-alpha"  # the loopback server knows it (add_page)


def settings_row(**values) -> BotSettings:
    return BotSettings(**values)


def kind_of(payload: str) -> str:
    """What the engine reads in a button's payload."""
    choice = choice_from_payload(payload)
    assert choice is not None
    return choice.kind


def meta_of(account: ChannelAccount) -> MetaAccount:
    meta = accounts.meta_account_for(account.pk)
    assert meta is not None
    return meta


@pytest.fixture
def page(shop_a, graph) -> ChannelAccount:
    graph.add_page(PAGE_A, "Alpha Shop", PAGE_TOKEN)
    return link(shop_a, "messenger", PAGE_A, token=PAGE_TOKEN)


@pytest.fixture
def instagram(shop_a, graph) -> ChannelAccount:
    token = graph.issue_token("instagram", INSTAGRAM_A, ("instagram_business_manage_messages",))
    return link(shop_a, "instagram", INSTAGRAM_A, kind=MetaAccount.Kind.INSTAGRAM_LOGIN, token=token)


def profile_calls(graph):
    return graph.calls_to("/me/messenger_profile", "POST")


# --- The profile's shape -----------------------------------------------------------------------


def test_a_pages_profile_has_get_started_a_greeting_and_the_menu_in_every_locale(page):
    built = profile_for(meta_of(page), shop_name="Alpha Shop", settings_row=settings_row())
    assert set(built) == {"get_started", "greeting", "persistent_menu"}
    assert built["get_started"] == {"payload": "GET_STARTED"}
    assert kind_of(built["get_started"]["payload"]) == "start"
    assert [g["locale"] for g in built["greeting"]] == LOCALES
    assert [m["locale"] for m in built["persistent_menu"]] == LOCALES
    for greeting in built["greeting"]:
        assert 0 < len(greeting["text"]) <= GREETING_LIMIT
        assert "Alpha Shop" in greeting["text"]
    for menu in built["persistent_menu"]:
        assert menu["composer_input_disabled"] is False
        buttons = menu["call_to_actions"]
        assert [b["type"] for b in buttons] == ["postback"] * 3
        assert [b["payload"] for b in buttons] == ["PRODUCTS", "MY_ORDER", "PERSON"]
        assert [kind_of(b["payload"]) for b in buttons] == ["catalog", "my_order", "person"]
        assert all(0 < len(b["title"]) <= MENU_TITLE_LIMIT for b in buttons)
    greetings = {g["locale"]: g["text"] for g in built["greeting"]}
    # The seller's own greeting (Darija, the default one) in Arabic, after the shop's name; the
    # table's in French and English, with Meta's first-name placeholder.
    assert greetings["ar_AR"] == "Alpha Shop: مرحبا بيك! كيفاش نقدر نعاونك اليوم؟"
    assert greetings["default"] == greetings["ar_AR"]  # Darija is the seller's first language
    assert greetings["fr_FR"].startswith("Bonjour {{user_first_name}} ! Bienvenue chez Alpha Shop")
    assert greetings["en_US"].startswith("Hi {{user_first_name}}! Welcome to Alpha Shop")
    titles = {m["locale"]: [b["title"] for b in m["call_to_actions"]] for m in built["persistent_menu"]}
    assert titles["fr_FR"] == ["Voir les produits", "Ma commande", "Parler à quelqu'un"]
    assert titles["en_US"] == ["See products", "My order", "Talk to a person"]
    assert all("\u0600" <= ch <= "\u06ff" or not ch.isalpha() for ch in "".join(titles["ar_AR"]))


@pytest.mark.parametrize("kind", [MetaAccount.Kind.INSTAGRAM_LOGIN, MetaAccount.Kind.INSTAGRAM_PAGE])
def test_an_instagram_accounts_profile_is_ice_breakers_and_a_menu_for_instagram(shop_a, kind):
    account = link(shop_a, "instagram", INSTAGRAM_A, kind=kind)
    built = profile_for(meta_of(account), shop_name="Alpha Shop", settings_row=settings_row())
    # Instagram has no greeting and no Get Started button; the menu has no composer switch.
    assert set(built) == {"platform", "ice_breakers", "persistent_menu"}
    assert built["platform"] == "instagram"
    assert [i["locale"] for i in built["ice_breakers"]] == LOCALES
    for entry in built["ice_breakers"]:
        questions = entry["call_to_actions"]
        assert 0 < len(questions) <= MAX_ICE_BREAKERS
        assert [q["payload"] for q in questions] == ["PRODUCTS", "ICEBREAKER_DELIVERY", "MY_ORDER", "PERSON"]
        assert all(q["question"].strip() for q in questions)
    assert [kind_of(q["payload"]) for q in built["ice_breakers"][0]["call_to_actions"]] == [
        "catalog",
        "other",  # the engine reads the question the customer tapped
        "my_order",
        "person",
    ]
    for menu in built["persistent_menu"]:
        assert "composer_input_disabled" not in menu
        assert all(len(b["title"]) <= MENU_TITLE_LIMIT for b in menu["call_to_actions"])
    questions = {i["locale"]: [q["question"] for q in i["call_to_actions"]] for i in built["ice_breakers"]}
    assert questions["fr_FR"][1] == "Livrez-vous dans ma wilaya ?"
    assert questions["en_US"][2] == "Where is my order?"


def test_long_names_and_greetings_are_shortened_to_meta_limits(page):
    shop = "Boutique " + "Mode et Beauté Algérienne " * 5  # 139 characters
    own = "Bienvenue chez nous, " + "nous livrons partout en Algérie en 48 heures, paiement à la livraison, " * 4
    built = profile_for(meta_of(page), shop_name=shop, settings_row=settings_row(greeting=own, languages=["fr"]))
    greetings = {g["locale"]: g["text"] for g in built["greeting"]}
    assert all(len(text) <= GREETING_LIMIT for text in greetings.values())
    # The seller's French greeting, after a shortened shop name, cut at a word.
    assert greetings["fr_FR"].startswith("Boutique Mode et Beauté")
    assert "Bienvenue chez nous, nous livrons partout" in greetings["fr_FR"]
    assert greetings["fr_FR"].endswith("…")
    assert greetings["en_US"] == greetings["fr_FR"]  # a French-only seller: French everywhere


def test_locales_the_seller_does_not_answer_in_show_the_default_language(page):
    row = settings_row(languages=["en", "fr"], greeting="")
    built = profile_for(meta_of(page), shop_name="Alpha", settings_row=row)
    titles = {m["locale"]: m["call_to_actions"][0]["title"] for m in built["persistent_menu"]}
    english, french = "See products", "Voir les produits"
    assert titles == {"default": english, "ar_AR": english, "fr_FR": french, "en_US": english}
    greetings = {g["locale"]: g["text"] for g in built["greeting"]}
    assert (
        greetings["default"] == "Hi {{user_first_name}}! Welcome to Alpha: ask us about prices, delivery or your order."
    )


def test_the_digest_names_the_profile():
    one = {"greeting": [{"locale": "default", "text": "a"}], "get_started": {"payload": "GET_STARTED"}}
    same = {"get_started": {"payload": "GET_STARTED"}, "greeting": [{"locale": "default", "text": "a"}]}
    assert profile_digest(one) == profile_digest(same) and len(profile_digest(one)) == 64
    assert profile_digest(one) != profile_digest({**one, "greeting": [{"locale": "default", "text": "b"}]})


# --- Setting it ----------------------------------------------------------------------------------


def test_a_pages_profile_is_set_once_then_unchanged_without_a_call(page, graph):
    assert profile_apply(meta_of(page)) == "applied"
    calls = profile_calls(graph)
    assert len(calls) == 1 and calls[0].access_token == PAGE_TOKEN and "platform" not in calls[0].query
    stored = graph.profiles[PAGE_A]
    assert stored["get_started"] == {"payload": "GET_STARTED"}
    assert [g["locale"] for g in stored["greeting"]] == LOCALES
    meta = meta_of(page)
    assert meta.profile_digest == profile_digest(calls[0].body) and meta.profile_applied_at is not None
    assert profile_apply(meta) == "unchanged"
    assert len(profile_calls(graph)) == 1
    assert profile_apply(meta, force=True) == "applied"  # forced: sent again
    assert len(profile_calls(graph)) == 2


def test_an_instagram_profile_is_set_for_the_instagram_platform(instagram, graph):
    assert profile_apply(meta_of(instagram)) == "applied"
    (call,) = profile_calls(graph)
    assert call.query["platform"] == "instagram" and call.body["platform"] == "instagram"
    stored = graph.instagram_profiles[INSTAGRAM_A]
    assert set(stored) == {"ice_breakers", "persistent_menu"}
    assert INSTAGRAM_A not in graph.profiles  # Messenger's profile untouched
    assert profile_apply(meta_of(instagram)) == "unchanged"
    assert len(profile_calls(graph)) == 1


def test_a_settings_change_enqueues_the_task_which_sets_the_profile_again(
    shop_a, shop_b, page, graph, follow_ups, django_capture_on_commit_callbacks
):
    assert profile_apply(meta_of(page)) == "applied"
    gone = link(shop_a, "instagram", INSTAGRAM_A, state=MetaAccount.State.RECONNECT)  # cannot send: left out
    link(shop_b, "messenger", PAGE_B)  # another shop's
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        bot_settings_update(greeting="Bienvenue ! Nous livrons les 58 wilayas.")
    assert follow_ups == [("apply_profile_task", (page.pk,), shop_a.seller.schema_name)]
    assert gone.pk not in {args[0] for _name, args, _schema in follow_ups}

    assert apply_profile_task.apply(args=[page.pk]).get() == "applied"
    calls = profile_calls(graph)
    assert len(calls) == 2
    greetings = {g["locale"]: g["text"] for g in graph.profiles[PAGE_A]["greeting"]}
    assert greetings["fr_FR"] == "Alpha Shop: Bienvenue ! Nous livrons les 58 wilayas."
    assert "Alpha Shop" in greetings["ar_AR"] and "{{user_first_name}}" in greetings["ar_AR"]
    assert apply_profile_task.apply(args=[page.pk]).get() == "unchanged"
    assert len(profile_calls(graph)) == 2


def test_other_settings_enqueue_nothing(shop_a, page, follow_ups, django_capture_on_commit_callbacks):
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        bot_settings_update(intensity=BotSettings.Intensity.GENTLE, max_discount_percent=5)
        bot_settings_update(greeting=BotSettings().greeting)  # the same text: nothing changed
    assert follow_ups == []


def test_linking_an_account_enqueues_its_profile(shop_a, graph, follow_ups, django_capture_on_commit_callbacks):
    graph.add_page(PAGE_A, "Alpha Shop", PAGE_TOKEN)
    candidate = accounts.Candidate(
        kind=MetaAccount.Kind.PAGE, external_id=PAGE_A, name="Alpha Shop", token=PAGE_TOKEN, page_id=PAGE_A
    )
    with django_capture_on_commit_callbacks(execute=True):
        account = accounts.account_link(shop_a.seller, candidate)
    assert graph.subscriptions[PAGE_A] == list(accounts.PAGE_FIELDS)  # the link itself as before
    assert follow_ups == [("apply_profile_task", (account.pk,), shop_a.seller.schema_name)]


def test_the_eleventh_call_within_ten_minutes_is_not_made(page, graph, monkeypatch):
    meta = meta_of(page)
    assert [profile_apply(meta, force=True) for _ in range(10)] == ["applied"] * 10
    assert profile_apply(meta, force=True) == "rate_limited"
    assert len(profile_calls(graph)) == 10
    # The task tries again later rather than giving up.
    retried: list[float] = []

    def retry(*args, countdown=None, **kwargs):
        retried.append(countdown)
        raise Retry("later")

    monkeypatch.setattr(apply_profile_task, "retry", retry)
    monkeypatch.setattr(profile, "profile_apply", lambda meta, force=False: "rate_limited")
    with pytest.raises(Retry):
        apply_profile_task.run(page.pk, force=True)
    assert retried == [PROFILE_RATE_RETRY_SECONDS]
    assert len(profile_calls(graph)) == 10


def test_metas_rate_limit_answer_is_try_later(page, graph):
    graph.fail("/me/messenger_profile", 613, message="(#613) Calls to this api have exceeded the rate limit.")
    assert profile_apply(meta_of(page)) == "rate_limited"
    assert meta_of(page).profile_digest == ""


def test_an_invalid_token_puts_the_account_in_reconnect(shop_a, page, graph):
    graph.fail("/me/messenger_profile", 190, message="Error validating access token: The session has been invalidated")
    assert profile_apply(meta_of(page)) == "reconnect"
    meta = meta_of(page)
    assert meta.state == MetaAccount.State.RECONNECT and meta.profile_digest == ""
    with schema_context(get_public_schema_name()):
        assert ChannelAccount.objects.get(pk=page.pk).status == ChannelAccount.Status.ERROR
    assert len(mail.outbox) == 1 and shop_a.owner.email in mail.outbox[0].to
    # No more calls for an account that must be linked again.
    assert profile_apply(meta) == "reconnect"
    assert len(profile_calls(graph)) == 1


def test_an_expired_instagram_token_puts_the_account_in_reconnect(instagram, graph):
    graph.expire(accounts.account_token(meta_of(instagram)))
    assert profile_apply(meta_of(instagram)) == "reconnect"
    assert meta_of(instagram).state == MetaAccount.State.RECONNECT


def test_other_errors_are_logged_and_reported_as_failed(page, graph, caplog):
    graph.fail("/me/messenger_profile", 2, status=503, message="(#2) Service temporarily unavailable")
    with caplog.at_level(logging.WARNING, logger="channels_app.meta.profile"):
        assert profile_apply(meta_of(page)) == "failed"
    assert f"Profile of Meta account {meta_of(page).pk} not set" in caplog.text
    assert "page-token" not in caplog.text
    meta = meta_of(page)
    assert meta.profile_digest == "" and meta.state == MetaAccount.State.OK
    assert profile_apply(meta) == "applied"  # the next try goes through


def test_the_task_of_an_account_that_is_gone_does_nothing(db, graph):
    assert apply_profile_task.apply(args=[987654]).get() == "gone"
    assert profile_calls(graph) == []


def test_the_loopback_server_refuses_profiles_meta_refuses(page, graph):
    """So that "applied" above means a profile Meta takes."""
    client = accounts.client_for(meta_of(page))
    menu = [
        {"locale": "default", "call_to_actions": [{"type": "postback", "title": "Products", "payload": "PRODUCTS"}]}
    ]
    refused: list[dict[str, Any]] = [
        {"greeting": [{"locale": "default", "text": "x" * (GREETING_LIMIT + 1)}]},
        {"greeting": [{"locale": "fr_FR", "text": "Bonjour"}]},  # no default locale
        {"persistent_menu": menu},  # a Messenger menu needs the Get Started button
        {"platform": "instagram", "greeting": [{"locale": "default", "text": "Hi"}]},
        {"platform": "instagram", "persistent_menu": [{**menu[0], "composer_input_disabled": False}]},
        {"platform": "instagram", "ice_breakers": [{"locale": "default", "call_to_actions": [{"question": "?"}] * 5}]},
    ]
    for body in refused:
        with pytest.raises(GraphError) as error:
            client.set_messenger_profile(body)
        assert (error.value.code, error.value.kind) == (100, "invalid"), body
    assert not graph.profiles.get(PAGE_A) and not graph.instagram_profiles.get(PAGE_A)
