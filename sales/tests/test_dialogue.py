"""The built-in engine off the happy path, through the real message path: one test per kind of
failure customers met (words inside other words, the bot's own suggestions taken for the
customer's choice, places read from ordinary words, variants of several words, edits, empty
answers, ways of writing, what comes after the order, empty drafts)."""

from __future__ import annotations

import pytest

from conversations.models import Conversation
from sales.models import DeliveryRate, DialogueState, Order
from sales.services.catalog_csv import catalog_import_text
from sales.services.settings import bot_settings_update
from sales.tests.test_sales_conversations import Chat

pytestmark = pytest.mark.django_db

HEADER = "product_code,sku,name_ar,name_fr,name_en,category,price,compare_at_price,size,colour,stock,synonyms\n"
CATALOG = HEADER + (
    "pendentif,PD-OR,قلادة,Pendentif doré,Gold pendant,Bijoux,3500,,,Doré,6,collier|سلسلة\n"
    "stylo,ST-1,قلم,Stylo plume,Fountain pen,Bureau,900,,,Bleu,20,plume\n"
    "karakou,KRK-M,كاراكو عاصمي,Karakou algérois,Algiers karakou,Femme,24000,,M,Noir,2,karakou|كاراكو\n"
    "karakou,KRK-L,,,,,,,L,Noir,3,\n"
    "abaya,AB-52,عباية سوداء,Abaya noire,Black abaya,Femme,6500,,52,Noir,10,abaya|عباية\n"
    "abaya,AB-54,,,,,,,54,Noir,7,\n"
    "parfum,PF-50,عطر عود,Parfum oud,Oud perfume,Beauté,4200,,50 ml,,8,3tr|عطر\n"
    "parfum,PF-100,,,,,7600,,100 ml,,5,\n"
    "coque,CQ-15,كوك ايفون,Coque iPhone,iPhone case,Tech,1200,,iPhone 15,,9,coque|cover\n"
    "coque,CQ-15P,,,,,,,iPhone 15 Pro,,4,\n"
    "hijab,HJ-BEI,حجاب حرير,Hijab en soie,Silk hijab,Femme,1800,,,Beige,40,khimar|خمار\n"
    "hijab,HJ-NAV,,,,,,,,Bleu marine,35,\n"
    "basket,BS-41,صباط رياضي,Baskets de sport,Running sneakers,Chaussures,5900,,41,Blanc,9,sabat|sbabet|صباط|spadri\n"
    "basket,BS-42,,,,,,,42,Noir,12,\n"
)


@pytest.fixture
def chat(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        catalog_import_text(CATALOG)
        for wilaya, home, desk in ((16, 600, 400), (19, 700, 450), (31, 900, None), (18, 800, 500)):
            DeliveryRate.objects.update_or_create(
                wilaya=wilaya, defaults={"is_served": True, "home_fee": home, "desk_fee": desk}
            )
        bot_settings_update(max_discount_percent=10, intensity="balanced")
        yield Chat(shop_a, queued, django_capture_on_commit_callbacks)


def open_order() -> Order:
    return Order.objects.open().get()


def items(order: Order) -> list[tuple[str, int]]:
    return sorted(order.items.values_list("sku", "quantity"))


# --- Words inside other words ----------------------------------------------------------------


def test_a_short_word_inside_a_product_name_names_nothing(chat):
    reply = chat.say("how much is the pen?")
    assert "900" in reply.text and "3 500" not in reply.text  # the Fountain pen, not the Gold pendant
    reply = chat.say("wach 3andkom penda?")
    assert "Pendentif" not in reply.text


def test_a_first_name_is_never_a_product(chat):
    chat.say("salam")
    reply = chat.say("ana Abaya, nheb nechri sabat 42")  # a name that is also a synonym
    order = open_order()
    assert items(order) == [("BS-42", 1)]
    assert "Abaya" not in reply.text.replace("Abaya noire", "")


# --- The product under discussion is the customer's -----------------------------------------


def suggested(reply) -> str:
    return next(label for label in reply.quick_replies if label != "Commander")


def test_the_bots_suggestion_is_never_the_product_the_customer_means(chat):
    reply = chat.say("Combien coûte le karakou ?")
    assert "24 000" in reply.text and suggested(reply) in reply.text  # another product suggested alongside
    chat.say("Je le prends en taille M")
    assert items(open_order()) == [("KRK-M", 1)]
    assert Order.objects.count() == 1


def test_tapping_a_suggested_product_chooses_it(chat):
    reply = chat.say("Combien coûte le karakou ?")
    label = suggested(reply)
    reply = chat.say(label)
    chosen = DialogueState.objects.get().product
    assert chosen is not None and chosen.name_fr == label and f"{chosen.price:,}".replace(",", " ") in reply.text


def test_the_same_question_is_asked_at_most_twice_then_a_person_takes_over(chat):
    first = chat.say("nheb nechri sabat 41").text  # the name is asked
    second = chat.say("hmm").text  # no name: asked again, with an example
    assert first != second
    assert " ex" in second.lower() or "مثلا" in second or "example" in second.lower()
    conversation = Conversation.objects.get()
    assert conversation.mode == Conversation.Mode.BOT
    third = chat.say("???").text  # the third time: a person takes over
    conversation.refresh_from_db()
    assert conversation.mode == Conversation.Mode.HUMAN and conversation.handoff_reason == "repeated_question"
    assert third and third not in (first, second)
    assert chat.send("ok ok") is None  # the seller has it now


# --- Places ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["je le prends", "ana Amina", "Amine", "rani hna", "l dar", "Karakou algérois", "sabat 42 nheb"]
)
def test_ordinary_words_and_names_are_not_places(chat, text):
    chat.say("nheb nechri sabat 42")
    chat.say(text)
    order = open_order()
    assert order.wilaya is None


def test_a_wilaya_can_be_corrected_and_a_near_spelling_is_confirmed_first(chat):
    chat.say("je veux commander les baskets en 42")
    chat.say("Karim Benali")
    chat.say("0550123456")
    chat.say("wahran")
    assert open_order().wilaya == 31
    reply = chat.say("smahli machi wahran, setif")
    assert open_order().wilaya == 19
    assert "El Eulma" in reply.text or "commune" in reply.text.lower()
    reply = chat.say("el eulma")
    assert open_order().commune == "El Eulma"
    reply = chat.say("non plutôt Jigel")  # one letter off: proposed, not taken
    assert "Jijel" in reply.text and open_order().wilaya == 19
    chat.say("oui")
    assert open_order().wilaya == 18


def test_a_preposition_glued_to_a_place_in_arabic_script(chat):
    reply = chat.say("شحال التوصيل لسطيف؟")
    assert "700" in reply.text


# --- Variants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "choice", "sku"),
    [
        ("nheb nechri parfum", "100 ml", "PF-100"),
        ("je veux la coque iphone", "iPhone 15 Pro", "CQ-15P"),
        ("je veux la coque iphone", "iphone 15", "CQ-15"),
        ("bghit khimar", "bleu marine", "HJ-NAV"),
        ("bghit khimar", "marine", "HJ-NAV"),
        ("نحب نشري خمار", "بيج", "HJ-BEI"),
        ("nheb nechri sabat", "k7al", "BS-42"),
    ],
)
def test_variants_of_several_words_and_colours_in_any_language(chat, first, choice, sku):
    chat.say(first)
    chat.say(choice)
    assert items(open_order()) == [(sku, 1)]


def test_the_bots_own_variant_buttons_can_be_tapped(chat):
    reply = chat.say("nheb nechri parfum")
    assert set(reply.quick_replies) >= {"50 ml", "100 ml"}
    chat.say(reply.quick_replies[1])
    assert items(open_order())[0][0] in ("PF-50", "PF-100")


def test_colours_are_named_in_the_customers_language(chat):
    reply = chat.say("ch7al khimar?")
    assert "K7ili" in reply.text and "Bleu marine" not in reply.text
    reply = chat.say("شحال الخمار؟")
    assert "كحلي" in reply.text


# --- Edits ----------------------------------------------------------------------------------


def test_an_order_can_be_changed_item_by_item(chat):
    chat.say("je veux commander les baskets en 41")
    assert items(open_order()) == [("BS-41", 1)]
    chat.say("non plutôt en 42")
    assert items(open_order()) == [("BS-42", 1)]
    chat.say("finalement 2 paires")
    assert items(open_order()) == [("BS-42", 2)]
    chat.say("ajoutez aussi le parfum 50 ml")
    assert items(open_order()) == [("BS-42", 2), ("PF-50", 1)]
    chat.say("enlevez les baskets")
    assert items(open_order()) == [("PF-50", 1)]


def test_the_summary_shows_what_will_be_sent_and_a_no_reopens_it(chat):
    for text in ("nheb nechri sabat 42", "Karim Benali", "0550123456", "setif", "el eulma", "cite 20 logements bt 3"):
        chat.say(text)
    reply = chat.say("l bureau")
    assert "1 × Baskets de sport (42 / K7al): 5 900" in reply.text and "6 350" in reply.text
    reply = chat.say("la")
    assert open_order().status == Order.Status.DRAFT
    chat.say("bedel l dar")
    reply = chat.say("l dar") if open_order().status == Order.Status.DRAFT else reply
    order = open_order()
    assert order.delivery_type == "home" and order.total == 5900 + 700


def test_cancel_an_open_order(chat):
    chat.say("nheb nechri sabat 42")
    reply = chat.say("annuler la commande")
    assert not Order.objects.open().exists()
    assert Order.objects.get().status == Order.Status.CANCELLED and reply.text


# --- Never an empty answer ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["c'est trop cher", "ghali bezaf", "غالي بزاف", "too expensive", "n9asli chwiya"])
def test_a_price_objection_with_no_product_gets_an_answer(chat, text):
    reply = chat.say(text)
    assert reply.text.strip()
    assert not Order.objects.exists()


# --- Ways of writing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["b9adech sabat?", "9adach spadri", "bch7al sbabet?", "chhhal sabat", "بقداش الصباط", "كم سعر الصباط الرياضي؟",
     "ما هو ثمن الحذاء الرياضي صباط", "prix baskets svp", "how much sneakers"],
)  # fmt: skip
def test_regional_and_standard_ways_of_asking_the_price(chat, text):
    assert "5 900" in chat.say(text).text


@pytest.mark.parametrize(
    "text", ["t'es un robot ?", "machi robot nheb bnadem", "not a robot please", "نحب نهدر مع انسان"]
)
def test_asking_for_a_person_in_other_words(chat, text):
    chat.send(text)
    assert Conversation.objects.get().mode == Conversation.Mode.HUMAN


def test_a_discount_and_an_order_in_standard_arabic(chat):
    reply = chat.say("هل يوجد خصم على الصباط الرياضي؟")
    assert "%" in reply.text
    chat.say("أريد أن أطلب مقاس 42")
    assert items(open_order()) == [("BS-42", 1)]


# --- After the order --------------------------------------------------------------------------


def _confirmed(chat) -> Order:
    for text in (
        "nheb nechri sabat 42", "Karim Benali", "0550123456", "setif", "el eulma", "cite 20 logements", "l dar", "wah",
    ):  # fmt: skip
        chat.say(text)
    return Order.objects.get(status=Order.Status.CONFIRMED)


@pytest.mark.parametrize(
    "text", ["win rahi la commande ta3i?", "où est ma commande ?", "وين راهي الطلبية؟", "where is my order?"]
)
def test_where_is_my_order_tells_the_latest_order(chat, text):
    order = _confirmed(chat)
    reply = chat.say(text)
    assert order.reference in reply.text
    assert Order.objects.count() == 1  # no new order started


def test_a_complaint_is_apologised_for_and_handed_to_a_person(chat):
    _confirmed(chat)
    reply = chat.say("la commande est en retard et personne ne m'appelle")
    conversation = Conversation.objects.get()
    assert conversation.mode == Conversation.Mode.HUMAN and conversation.handoff_reason == "complaint"
    assert "5 900" not in reply.text


def test_stop_is_an_opt_out_not_a_greeting(chat):
    reply = chat.say("STOP")
    conversation = Conversation.objects.select_related("customer").get()
    assert conversation.customer.opted_out_at is not None
    assert "Bonjour" not in reply.text and reply.text


# --- No empty drafts ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["je veux commander", "nheb nechri", "أريد أن أطلب", "0550123456", "setif"])
def test_no_draft_without_a_product(chat, text):
    reply = chat.say(text)
    assert not Order.objects.exists() and reply.text


def test_a_colour_or_a_place_in_a_products_name_never_names_it_alone(chat):
    chat.say("combien le hijab ?")
    chat.say("je veux le noir")  # "Abaya noire" is not meant
    assert not Order.objects.filter(items__sku__startswith="AB").exists()
    reply = chat.say("livraison vers Alger ?")  # "Karakou algérois" / "Algiers karakou" is not meant
    assert "600" in reply.text and "24 000" not in reply.text
