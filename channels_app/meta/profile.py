"""What a customer sees before writing: Messenger's welcome (Get Started button, greeting, the
persistent menu) and Instagram's ice breakers and menu, written from the seller's shop name,
greeting and languages, and set through the Messenger Profile API.

Every button carries one of the payloads the engine understands (`conversations.content`):
PRODUCTS (the catalog), MY_ORDER, PERSON (a person takes over), GET_STARTED, and
ICEBREAKER_DELIVERY, which the engine reads as the question the customer tapped. Texts come in
Darija (Arabic script), French and English, one locale each (ar_AR, fr_FR, en_US) and the
seller's first language as Meta's required `default`; a locale whose language the seller does
not answer in shows the default language instead, so the menu never promises what the bot does
not speak.

Setting it costs one call of a small budget (Meta allows 10 per 10 minutes per Page), so the
profile's digest is kept on the account and an unchanged profile is not sent again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.meta import accounts
from channels_app.meta.adapter import meta_accounts_forget
from channels_app.meta.errors import GraphError
from channels_app.meta.payloads import ELLIPSIS, clip, split_text
from channels_app.models import MetaAccount
from channels_app.ratelimit import allow
from sales.engine.language import guess_language
from sales.models import BotSettings
from sales.selectors import bot_settings
from sellers.models import Seller

__all__ = [
    "GREETING_LIMIT",
    "MAX_ICE_BREAKERS",
    "MENU_TITLE_LIMIT",
    "OUTCOMES",
    "PROFILE_RATE",
    "PROFILE_SETTINGS",
    "profile_accounts",
    "profile_apply",
    "profile_digest",
    "profile_for",
    "settings_changed",
]

logger = logging.getLogger(__name__)

# Meta's limits (Messenger Profile API reference; Instagram's ice breakers and menu pages).
GREETING_LIMIT = 160
MENU_TITLE_LIMIT = 30
MAX_ICE_BREAKERS = 4
QUESTION_LIMIT = 80  # kept short: the buttons show one line on a phone
SHOP_IN_GREETING = 40  # a long shop name leaves room for the seller's own words
PROFILE_RATE = "10/10 minutes"  # Meta's rate limit on the profile API, per Page

# What profile_apply answers.
OUTCOMES = ("applied", "unchanged", "rate_limited", "failed", "reconnect")
# The bot settings the profile is written from: a change of one of them sets it again.
PROFILE_SETTINGS = frozenset({"greeting", "languages"})

# The payloads (conversations.content.choice_from_payload reads them).
GET_STARTED = "GET_STARTED"
PRODUCTS = "PRODUCTS"
MY_ORDER = "MY_ORDER"
PERSON = "PERSON"
ICEBREAKER_DELIVERY = "ICEBREAKER_DELIVERY"

# Meta's locale of each language of the texts, and the language of each of the seller's.
LOCALES = {"ar": "ar_AR", "fr": "fr_FR", "en": "en_US"}
LANGUAGE_OF_SETTING: dict[str, str] = {
    BotSettings.Language.DARIJA: "ar",
    BotSettings.Language.ARABIC: "ar",
    BotSettings.Language.FRENCH: "fr",
    BotSettings.Language.ENGLISH: "en",
}
# The language of the seller's own greeting, from the form it is written in (Darija in Latin
# letters is read by customers whose phones are set to French, mostly).
LANGUAGE_OF_FORM = {"ar": "ar", "msa": "ar", "arabizi": "fr", "fr": "fr", "en": "en"}

# The texts. `{shop}` is the shop's name; `{{user_first_name}}` is Meta's, filled in by Messenger.
TEXTS: dict[str, dict[str, str]] = {
    "ar": {
        "greeting": "مرحبا بيك {{user_first_name}} في {shop}! سقسينا على الأسعار، التوصيل ولا الطلبية تاعك.",
        "menu_products": "شوف المنتوجات",
        "menu_my_order": "الطلبية تاعي",
        "menu_person": "نهدر مع واحد من الفريق",
        "ask_prices": "بشحال الأسعار؟",
        "ask_delivery": "كاين التوصيل للولاية تاعي؟",
        "ask_my_order": "وين راهي الطلبية تاعي؟",
        "ask_person": "نحب نهدر مع واحد من الفريق",
    },
    "fr": {
        "greeting": (
            "Bonjour {{user_first_name}} ! Bienvenue chez {shop} : prix, livraison, suivi de commande, "
            "on vous répond ici."
        ),
        "menu_products": "Voir les produits",
        "menu_my_order": "Ma commande",
        "menu_person": "Parler à quelqu'un",
        "ask_prices": "Quels sont vos prix ?",
        "ask_delivery": "Livrez-vous dans ma wilaya ?",
        "ask_my_order": "Où en est ma commande ?",
        "ask_person": "Je veux parler à quelqu'un",
    },
    "en": {
        "greeting": "Hi {{user_first_name}}! Welcome to {shop}: ask us about prices, delivery or your order.",
        "menu_products": "See products",
        "menu_my_order": "My order",
        "menu_person": "Talk to a person",
        "ask_prices": "What are your prices?",
        "ask_delivery": "Do you deliver to my wilaya?",
        "ask_my_order": "Where is my order?",
        "ask_person": "I'd like to talk to a person",
    },
}
MENU = (("menu_products", PRODUCTS), ("menu_my_order", MY_ORDER), ("menu_person", PERSON))
ICE_BREAKERS = (
    ("ask_prices", PRODUCTS),
    ("ask_delivery", ICEBREAKER_DELIVERY),
    ("ask_my_order", MY_ORDER),
    ("ask_person", PERSON),
)
_SENTENCE_ENDS = (".", "!", "?", "؟", "…")


# --- The profile -------------------------------------------------------------------------------


def profile_for(meta: MetaAccount, *, shop_name: str, settings_row: BotSettings) -> dict[str, Any]:
    """The messenger_profile body for the account: for a Page (Messenger) the Get Started
    button, the greeting and the persistent menu; for an Instagram account (through a Page or
    Instagram Login) the ice breakers and the menu, with `platform: instagram`. Each list has
    the `default` locale first, then ar_AR, fr_FR and en_US."""
    languages = _languages(settings_row.languages)
    default = languages[0]
    shown = {locale: language if language in languages else default for language, locale in LOCALES.items()}
    locales = [("default", default), *shown.items()]
    if meta.is_instagram:
        return {
            "platform": "instagram",
            "ice_breakers": [{"locale": locale, "call_to_actions": _questions(lang)} for locale, lang in locales],
            "persistent_menu": [{"locale": locale, "call_to_actions": _menu(lang)} for locale, lang in locales],
        }
    greetings = _greetings(shop_name, settings_row.greeting)
    return {
        "get_started": {"payload": GET_STARTED},
        "greeting": [{"locale": locale, "text": greetings[lang]} for locale, lang in locales],
        "persistent_menu": [
            {"locale": locale, "composer_input_disabled": False, "call_to_actions": _menu(lang)}
            for locale, lang in locales
        ],
    }


def _languages(setting: Iterable[str] | None) -> list[str]:
    """The seller's languages as languages of the texts, in their order ("ar" when none)."""
    found = [LANGUAGE_OF_SETTING[s] for s in setting or () if s in LANGUAGE_OF_SETTING]
    return list(dict.fromkeys(found)) or ["ar"]


def _menu(language: str) -> list[dict[str, str]]:
    words = TEXTS[language]
    return [{"type": "postback", "title": clip(words[key], MENU_TITLE_LIMIT), "payload": p} for key, p in MENU]


def _questions(language: str) -> list[dict[str, str]]:
    words = TEXTS[language]
    return [
        {"question": clip(words[key], QUESTION_LIMIT), "payload": payload}
        for key, payload in ICE_BREAKERS[:MAX_ICE_BREAKERS]
    ]


def _greetings(shop_name: str, own_greeting: str) -> dict[str, str]:
    """The greeting in each language: the seller's own (after the shop's name) in the language
    it is written in, the table's with the shop's name in the others; each within Meta's 160
    characters (the shop's name shortened first, then the text at a word)."""
    shop = " ".join(shop_name.split())
    own = " ".join((own_greeting or "").split())
    own_language = LANGUAGE_OF_FORM.get(guess_language(own), "") if own else ""
    greetings: dict[str, str] = {}
    for language, words in TEXTS.items():
        if own and language == own_language:
            text = own if not shop or shop.casefold() in own.casefold() else f"{clip(shop, SHOP_IN_GREETING)}: {own}"
        else:
            template = words["greeting"]
            room = GREETING_LIMIT - len(template.replace("{shop}", ""))
            text = template.replace("{shop}", clip(shop, max(room, 1)))
        greetings[language] = _fit(text, GREETING_LIMIT)
    return greetings


def _fit(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a sentence or a word (with an ellipsis when the
    cut falls inside a sentence)."""
    if len(text) <= limit:
        return text
    part = split_text(text, limit - len(ELLIPSIS))[0]
    return part if part.endswith(_SENTENCE_ENDS) else part + ELLIPSIS


def profile_digest(profile: dict[str, Any]) -> str:
    """The SHA-256 of the profile's canonical JSON: equal digests, equal profiles."""
    canonical = json.dumps(profile, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Setting it --------------------------------------------------------------------------------


def profile_apply(meta: MetaAccount, *, force: bool = False) -> str:
    """Set the account's profile from its seller's current settings: one of OUTCOMES.
    `unchanged` (no call) when it is what was last set, unless `force`; `rate_limited` when the
    account's budget of profile calls is spent (or Meta says so): try later; `reconnect` when
    the token is gone (the account is put in "reconnect needed"); `failed` for any other error,
    logged."""
    if not meta.can_send:
        return "reconnect"
    with schema_context(get_public_schema_name()):
        seller = Seller.objects.get(pk=meta.account.seller_id)
    with schema_context(seller.schema_name):
        settings_row = bot_settings()
    profile = profile_for(meta, shop_name=seller.name, settings_row=settings_row)
    digest = profile_digest(profile)
    if digest == meta.profile_digest and not force:
        return "unchanged"
    if not allow(PROFILE_RATE, "meta-profile", _budget_key(meta)):
        logger.info("Profile of Meta account %s not set: %s spent", meta.pk, PROFILE_RATE)
        return "rate_limited"
    try:
        accounts.client_for(meta).set_messenger_profile(profile)
    except GraphError as exc:
        return _failure(meta, exc)
    now = timezone.now()
    with schema_context(get_public_schema_name()):
        MetaAccount.objects.filter(pk=meta.pk).update(profile_digest=digest, profile_applied_at=now)
    meta.profile_digest, meta.profile_applied_at = digest, now
    return "applied"


def _budget_key(meta: MetaAccount) -> str:
    """Meta counts profile calls per Page: a Page and the Instagram account it sends for share
    one budget (an Instagram Login account has its own)."""
    return meta.page_id or meta.account.external_id


def _failure(meta: MetaAccount, exc: GraphError) -> str:
    if exc.kind == "reconnect":
        accounts.mark_reconnect(meta, str(exc))
        meta_accounts_forget()
        return "reconnect"
    if exc.kind == "rate_limited":
        logger.info("Profile of Meta account %s not set: Meta's rate limit (%s)", meta.pk, exc)
        return "rate_limited"
    logger.warning("Profile of Meta account %s not set: %s", meta.pk, exc)
    return "failed"


# --- When it is set ----------------------------------------------------------------------------


def profile_accounts(schema: str) -> list[int]:
    """The channel accounts (ids) of the seller of `schema` whose profile can be set."""
    with schema_context(get_public_schema_name()):
        return list(
            MetaAccount.objects.filter(account__seller__schema_name=schema, state=MetaAccount.State.OK)
            .exclude(token_encrypted="")
            .order_by("account_id")
            .values_list("account_id", flat=True)
        )


def settings_changed(schema: str, fields: Iterable[str]) -> None:
    """The seller's bot settings changed (`fields`): when the profile is written from one of
    them, each of the seller's accounts has it set again, after the commit."""
    if not PROFILE_SETTINGS.intersection(fields):
        return
    account_ids = profile_accounts(schema)
    if account_ids:
        from channels_app.meta.tasks import profile_apply_later

        profile_apply_later(account_ids, schema)
