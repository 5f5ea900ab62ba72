"""The guardrails on every reply: a discount above the seller's maximum (a percentage, a fraction,
an implied one) or an amount the shop cannot state, written in any of the ways customers and
models write money, never reaches the customer; the shop's own price quotes, totals, delivery
fees and allowed discounts do, in every language.

The catalog (sales.tests.test_orders.setup_catalog): sneakers at 5 900 DA (was 7 500 DA), a
watch at 4 800 DA; delivery to Algiers 600 DA home / 400 DA desk, to Oran 900 DA home; the
seller's maximum discount is 10 % (so the sneakers go down to 5 310 DA, two pairs to 10 620 DA).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sales.engine.base import EngineContext, EngineReply
from sales.engine.guardrails import guarded_reply, unmark
from sales.engine.texts import say
from sales.services.orders import order_grant_discount
from sales.services.settings import bot_settings_update
from sales.tests.test_orders import complete_order, conversation_of, setup_catalog

pytestmark = pytest.mark.django_db


@dataclass
class ScriptedEngine:
    """An engine that answers with a given text, as a model would."""

    text: str
    name: str = "openrouter"
    shows_typing: bool = True

    def reply(self, context: EngineContext) -> EngineReply:
        return EngineReply(text=self.text, engine=self.name, model="test/model", tokens_in=10, tokens_out=5)


QUESTIONS = {
    "fr": "Combien coûtent les baskets ?",
    "en": "How much are the running sneakers?",
    "ar": "شحال الصباط الرياضي؟",
    "arabizi": "ch7al sabat?",
}


@pytest.fixture
def shop(shop_a):
    with shop_a.schema():
        setup_catalog()
        bot_settings_update(max_discount_percent=10)
        yield shop_a


def guard(shop, text: str, language: str = "fr", question: str | None = None, conversation=None) -> EngineReply:
    conversation = conversation or conversation_of(shop)
    context = EngineContext(
        conversation_id=conversation.pk,
        channel="widget",
        burst=(question or QUESTIONS[language],),
        history=(),
        shop_name="Alpha Shop",
        language=language,
        max_discount_percent=10,
    )
    return guarded_reply(ScriptedEngine(text), context)


# --- Replies that must never reach the customer ----------------------------------------------

BROKEN = [
    # The forms of the issue, each in a reply.
    ("fr", "Pour vous je fais cinquante pour cent sur les baskets !"),
    ("fr", "Aujourd'hui les baskets sont à moitié prix."),
    ("en", "Today the sneakers are half price!"),
    ("ar", "اليوم الصباط بنص الثمن."),
    ("ar", "نديرلك خمسين بالمية على الصباط."),
    ("en", "I can do 50 per cent off the sneakers."),
    ("fr", "Promo spéciale : 5O% sur les baskets !"),
    ("fr", "Les baskets à 3800 seulement pour vous."),
    ("arabizi", "Sabat b 1900 brk, dernier prix."),
    # Percentages in every spelling.
    ("fr", "Je vous fais 15% de remise."),
    ("fr", "Je vous fais 15 % de remise."),
    ("fr", "Remise exceptionnelle de 12,5 % sur les baskets."),
    ("fr", "Une remise de quinze pour cent, ça vous va ?"),
    ("en", "Twenty percent off for you today."),
    ("en", "You get -50% on the second pair."),
    ("ar", "عندك تخفيض عشرين بالمية."),
    ("ar", "تخفيض ٢٠٪ على الصباط."),
    ("ar", "نقدر ننقصلك خمسة وعشرين في المية."),
    ("arabizi", "N9derlek ndir 50 fel miya."),
    ("arabizi", "Ndirlek khamsin f lmiya 3la sabat."),
    ("arabizi", "Remise 30 f el miya ghir lyoum."),
    ("fr", "Je vous accorde une remise de 30 sur les baskets."),
    # Fractions.
    ("fr", "Je vous fais un quart de remise."),
    ("fr", "Vous ne payez que le tiers du prix."),
    ("fr", "Les baskets à demi-tarif ce soir."),
    ("en", "A third off if you order now."),
    ("en", "I'll give you a quarter off the price."),
    ("ar", "نعطيك ربع الثمن تخفيض."),
    ("arabizi", "Ndirlek sabat b nos soum."),
    ("arabizi", "Sabat b nouss prix lyoum."),
    # Amounts the catalog does not give, in digits with each separator.
    ("fr", "Les baskets sont à 2 500 DA."),
    ("fr", "Les baskets sont à 2\u00a0500 DA."),
    ("fr", "Les baskets sont à 2.500 DA."),
    ("en", "The sneakers are 2,500.00 DZD."),
    ("fr", "Les baskets sont à 2.500,00 DA."),
    ("fr", "Les baskets sont à 2500DA."),
    ("fr", "Prix des baskets : 4 200 dinars."),
    ("fr", "Prix des baskets : DA 4 200."),
    # ... in words.
    ("fr", "Les baskets coûtent deux mille cinq cents dinars."),
    ("fr", "Les baskets à trois mille huit cents seulement."),
    ("en", "The sneakers are two thousand dinars."),
    ("en", "They're yours for two thousand five hundred."),
    ("ar", "الصباط بألفين دج."),
    ("ar", "الصباط بثلاث آلاف وثمانمائة دينار."),
    ("arabizi", "Sabat b alf w khamsmiya DA."),
    ("arabizi", "Sabat b khamsa alaf brk."),
    ("arabizi", "Sabat b 20 alf."),
    ("arabizi", "Sabat b mliun."),
    ("ar", "الصباط بمليون سنتيم."),
    # ... in Arabic-Indic digits, look-alike letters, mixed.
    ("ar", "الصباط بـ ٣٨٠٠ دج فقط."),
    ("ar", "الصباط بـ ۳۸۰۰ دج."),
    ("ar", "السعر: ٣٬٨٠٠ دج"),
    ("fr", "Les baskets à l5OO DA."),
    ("fr", "Les baskets à 19OO DA."),
    ("ar", "الصباط بـ ٣8٠0 دج."),
    # Implied discounts: a price of a discussed product less more than 10 %.
    ("fr", "Les baskets à 4 900 DA seulement, c'est cadeau."),
    ("fr", "Allez, 5 000 DA pour les baskets."),
    ("arabizi", "Sabat b 5000 bark."),
    ("en", "Two pairs for 9,000 DZD."),
    ("fr", "Je vous fais 2 000 DA de remise sur les baskets."),
    ("fr", "Les baskets : -1 500 DA aujourd'hui."),
    # A currency the shop does not sell in.
    ("fr", "Les baskets coûtent 40 €."),
    ("en", "The sneakers are $45."),
]


@pytest.mark.parametrize(("language", "text"), BROKEN, ids=[text for _, text in BROKEN])
def test_a_reply_that_breaks_the_rules_is_replaced_in_the_customers_language(shop, language, text):
    reply = guard(shop, text, language)
    assert reply.engine == "openrouter:replaced", f"{text!r} passed"
    assert reply.text != text
    # The built-in engine answered the customer's question instead, in the customer's language.
    assert ("5 900" in reply.text) or reply.text == say("unsure_handoff", language)
    assert reply.model == "test/model" and (reply.tokens_in, reply.tokens_out) == (10, 5)


def test_a_reply_the_builtin_engine_cannot_replace_hands_off(shop):
    reply = guard(shop, "Pour vous les baskets à moitié prix !", "fr", question="Vous êtes là ?")
    assert reply.engine == "openrouter:replaced"
    assert reply.text not in ("Pour vous les baskets à moitié prix !",)
    assert "moitié" not in reply.text


def test_a_price_of_another_product_is_no_price_for_the_one_discussed(shop):
    # 4 800 DA is the watch's price: said of the sneakers alone, it is a discount of 19 %.
    reply = guard(shop, "Les baskets sont à 4 800 DA pour vous.", "fr")
    assert reply.engine == "openrouter:replaced"
    passed = guard(shop, "Les baskets sont à 5 900 DA et la montre à 4 800 DA.", "fr")
    assert passed.engine == "openrouter"


# --- Replies that must pass ------------------------------------------------------------------

# Realistic answers of the built-in engine and of models, with their typos and mixed languages.
LEGITIMATE = [
    ("fr", "Les «Baskets de sport» sont à 5 900 DA au lieu de 7 500 DA, disponibles en 41 et 42."),
    ("fr", "Bonjour ! Les baskets coûtent 5900 DA. Livraison à Alger : 600 DA à domicile, 400 DA au bureau."),
    ("fr", "Je peux vous faire 10 % de remise : 5 310 DA au lieu de 5 900 DA."),
    ("fr", "Je vous fais 5% de remise, soit 5 605 DA."),
    ("fr", "Pour 2 paires ça fait 11 800 DA, ou 10 620 DA avec la remise de 10%."),
    ("fr", "Total : 6 500 DA avec la livraison à domicile. Je confirme ?"),
    ("fr", "Il n'en reste que 2 en stock, en taille 41. Livré en 2 à 3 jours."),
    ("fr", "Le prix est de 5.900 DA, paiement à la livraison sous 48 heures."),
    ("fr", "La montre coûte quatre mille huit cents dinars, garantie 1 an."),
    ("fr", "Nos prix sont les meilleurs : la montre est à 4 800 DA, 100% originale."),
    ("fr", "La promotion se termine le 31/12/2026, profitez-en !"),
    ("fr", "Livraison 7j/7 dans 69 wilayas, 24h/24 sur le site."),
    ("fr", "Baskets 100 % cuir, économisez 1 600 DA par rapport au prix habituel."),
    ("fr", "Pardon, une remise de 500 DA c'est possible : 5 400 DA."),
    ("fr", "Votre commande #00012 est bien enregistrée, le livreur vous appellera au 0550 12 34 56."),
    ("fr", "Je vous laisse une demi-heure pour réfléchir, les baskets restent à 5 900 DA."),
    ("fr", "Vous êtes à 16 - Alger ? Livraison 600 DA, 3 jours environ."),
    ("fr", "On a vendu 150 paires ce mois-ci, c'est notre best-seller à 5900da."),
    ("fr", "En 2025 c'était déjà notre modèle phare, toujours à 5 900 DA."),
    ("en", "The running sneakers are 5,900 DZD (was 7,500 DZD). Sizes 41 and 42 available."),
    ("en", "I can give you 10% off: 5,310 DZD instead of 5,900 DZD."),
    ("en", "Delivery to Oran is 900 DZD, about 3 days. Total 6,800 DZD."),
    ("en", "Only 3 left in stock! 12 orders this week."),
    ("en", "Cash on delivery: you pay 5900 DA when the parcel reaches you, within 48h."),
    ("en", "Half an hour ago someone ordered 2 pairs, size 40 and 42."),
    ("en", "Stop desk in Algiers is 400 DZD, so 6 300 DZD in all."),
    ("ar", "الصباط الرياضي بـ 5 900 دج بدلا من 7 500 دج، المقاسات 41 و 42."),
    ("ar", "نقدر ندير لك تخفيض 10%: تولي بـ 5 310 دج."),
    ("ar", "التوصيل للجزائر: للدار 600 دج، للمكتب 400 دج. يوصل في حوالي 3 أيام."),
    ("ar", "السومة ٥٩٠٠ دج والتوصيل ٦٠٠ دج."),
    ("ar", "الساعة بأربعة آلاف وثمانمائة دينار."),
    ("ar", "بقاو غير 2 في المخزون، قماش 100% قطن."),
    ("ar", "المجموع: 6 500 دج مع التوصيل. نأكدو الطلبية؟"),
    ("ar", "نص ساعة وتكون عندك الإجابة، السعر 5900 دج."),
    ("ar", "الصباط ب 5900 دج برك، والدفع عند الاستلام."),
    ("arabizi", "Sabat b 5900 DA blasst 7500 DA, kayen 41 w 42."),
    ("arabizi", "N9der ndirlek remise 10%: twelli b 5310 DA."),
    ("arabizi", "Livraison l dzayer: l dar 600 DA, l bureau 400 DA. Youssel f 3 iyam."),
    ("arabizi", "Sabat b 5 alaf w tes3miya, w la livraison 600."),
    ("arabizi", "Sabat b 590 alf (centimes), tkhalles ki toussel."),
    ("arabizi", "Total 6500 DA m3a livraison, nconfirmiw?"),
    ("arabizi", "B9aw ghir 2 f stock, 3ayetli 3la 0661 23 45 67."),
    ("arabizi", "Sa3a b 4800 DA, w sabat b 5900 DA."),
    ("arabizi", "Zouj sbabet b 11 800 DA, ndirlek 10% w ywelliw b 10 620."),
]


@pytest.mark.parametrize(("language", "text"), LEGITIMATE, ids=[text for _, text in LEGITIMATE])
def test_a_reply_that_keeps_the_rules_reaches_the_customer(shop, language, text):
    question = "Combien coûtent les baskets et la montre ?" if "montre" in text or "Sa3a" in text else None
    question = "شحال الساعة؟" if "الساعة" in text else question
    reply = guard(shop, text, language, question=question)
    assert (reply.engine, reply.text) == ("openrouter", unmark(text))


def test_the_orders_own_amounts_pass(shop):
    order = complete_order(shop, quantity=2)
    order_grant_discount(order=order, requested_percent=10, engine="builtin")
    order.refresh_from_db()
    assert (order.subtotal, order.discount, order.delivery_fee, order.total) == (11800, 1180, 600, 11220)
    text = (
        "Récapitulatif :\n2 × Baskets de sport (41 / Blanc): 11 800\nLivraison (à domicile) à Bab Ezzouar, "
        "Alger : 600 DA\nRemise 10 % : -1 180 DA\nTotal : 11 220 DA\nJe confirme la commande ?"
    )
    reply = guard(shop, text, "fr", question="à domicile", conversation=order.conversation)
    assert (reply.engine, reply.text) == ("openrouter", text)


# --- The customer's side: the same parser reads the discount asked for --------------------------


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("dirli khamsin fel miya 3la sabat", "remise 10%"),
        ("نقصلي خمسين بالمية على الصباط الرياضي", "تخفيض 10%"),
        ("Les baskets à moitié prix, c'est possible ?", "10 % de remise"),
    ],
)
def test_a_discount_asked_for_in_words_is_read_and_clamped(
    shop_a, queued, django_capture_on_commit_callbacks, text, offered
):
    from sales.models import DiscountGrant
    from sales.tests.test_sales_conversations import Chat, prepare

    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        reply = chat.say(text)
        assert offered in reply.text
        grant = DiscountGrant.objects.get()
        assert (grant.requested_percent, grant.granted_percent) == (50, 10)
