"""The Send API bodies: text split within each platform's limit (a corpus of what customers and
the bot write, and generated text), quick replies and product cards cut to Meta's limits, and
what they build accepted by the loopback Send API."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels_app.meta import client as meta
from channels_app.meta.client import GraphClient
from channels_app.meta.payloads import (
    ELLIPSIS,
    TEXT_LIMITS,
    generic_template,
    quick_replies,
    split_text,
    splits_character,
)
from channels_app.meta.testing import GraphServer
from conversations.content import ProductCard

ARABIC = (
    "مرحبا بيك! عندنا هاد الموديل بثلاث ألوان: الأسود، الأبيض والأحمر. السعر 3 500 دج والتوصيل لكل الولايات. "
    "واش تحب نحجزلك واحد؟ إذا حبيت تشوف الصور قولي ونبعثهملك."
)
FRENCH = (
    "Bonjour\u00a0! Ce modèle existe en trois couleurs : noir, blanc et rouge. Le prix est de 3 500 DA, "
    "livraison dans les 58 wilayas en 48 à 72 heures. Souhaitez-vous que je vous en réserve un\u00a0?"
)
MIXED = (
    "Salam khouya 👋 rah kayen f stock 😍 prix 3500 DA, livraison 48h. Tu veux que je réserve ? 🙏🏽 "
    "واش تحب اللون الأسود؟"
)
EMOJI = "👨‍👩‍👧‍👦🇩🇿👍🏽❤️‍🔥1️⃣"
HARAKAT = "بِسْمِ"
URL = "https://shop.example/p/" + "a1b2c3d4" * 75  # 623 characters, no space

CORPUS = {
    "arabic paragraphs, Instagram": ("\n\n".join([ARABIC] * 14), 1000),
    "arabic lines, Messenger": ("\n".join([ARABIC] * 30), 2000),
    "french sentences, Messenger": (" ".join([FRENCH] * 30), 2000),
    "french sentences, Instagram": (" ".join([FRENCH] * 12), 1000),
    "mixed scripts and emoji": (" ".join([MIXED] * 40), 1000),
    "emoji without spaces": (EMOJI * 200, 1000),
    "harakat without spaces": (HARAKAT * 40, 7),
    "a url that fits among sentences": (f"{FRENCH} Voici le lien : {URL} {FRENCH} {FRENCH} {FRENCH}", 1000),
    "a url longer than the limit": (f"Voici le lien : {URL * 3} merci !", 1000),
    "a word longer than the limit": ("court " + "x" * 130 + " fin", 50),
    "one long line of short words": ("كلمة " * 700, 1000),
}


def _breaks(char: str) -> bool:
    return char.isspace() and char not in "\u00a0\u2007\u202f"


def assert_polite_split(text: str, parts: list[str], limit: int) -> None:
    """Each part fits and is stripped; the parts are the text in order with only whitespace
    between; a cut with no whitespace falls in a word longer than the limit, between two
    characters (unless no such place existed)."""
    assert all(0 < len(part) <= limit for part in parts)
    assert all(part == part.strip() for part in parts)
    whole, pos = text.strip(), 0
    for n, part in enumerate(parts):
        gap_start = pos
        while pos < len(whole) and whole[pos].isspace() and not whole.startswith(part, pos):
            pos += 1
        assert whole.startswith(part, pos), (n, part[:40])
        if n and pos == gap_start:  # cut inside a word
            start = max((i + 1 for i in range(pos) if _breaks(whole[i])), default=0)
            end = next((i for i in range(pos, len(whole)) if _breaks(whole[i])), len(whole))
            assert end - start > limit, "a word that fits was cut"
            if splits_character(whole, pos):
                begin = pos - len(parts[n - 1])
                assert all(splits_character(whole[begin:], j) for j in range(1, len(parts[n - 1]) + 1))
        pos += len(part)
    assert not whole[pos:].strip()
    assert re.sub(r"\s+", "", "".join(parts)) == re.sub(r"\s+", "", text)


@pytest.mark.parametrize("name", list(CORPUS))
def test_split_corpus(name: str) -> None:
    text, limit = CORPUS[name]
    parts = split_text(text, limit)
    assert len(parts) > 1
    assert_polite_split(text, parts, limit)


def test_limits_of_each_platform() -> None:
    assert TEXT_LIMITS == {"messenger": 2000, "instagram": 1000}
    text = " ".join([FRENCH] * 30)  # about 5 000 characters
    instagram, messenger = split_text(text, TEXT_LIMITS["instagram"]), split_text(text, TEXT_LIMITS["messenger"])
    assert max(map(len, instagram)) <= 1000 < max(map(len, messenger)) <= 2000
    assert len(instagram) > len(messenger) >= 3


def test_short_and_blank_texts() -> None:
    assert split_text("  Salam 👋  ", 1000) == ["Salam 👋"]
    assert split_text(" \n\n \t", 1000) == []
    assert split_text("", 10) == []
    assert split_text("x" * 1000, 1000) == ["x" * 1000]
    with pytest.raises(ValueError):
        split_text("x", 0)


def test_paragraph_before_line_before_sentence_before_word() -> None:
    a, b, c = "A" * 500 + ".", "B" * 300 + ".", "C" * 300 + "."
    assert split_text(f"{a}\n\n{b}\n{c}", 1000) == [a, f"{b}\n{c}"]
    assert split_text(f"{a} {b}\n{c} tail", 1000) == [f"{a} {b}", f"{c} tail"]
    assert split_text(f"{a} {b} {c} d", 1000)[0] == f"{a} {b}"  # the sentence, not the last word
    assert split_text("un deux trois quatre", 10) == ["un deux", "trois", "quatre"]


def test_arabic_question_mark_ends_a_sentence() -> None:
    first = "واش عندكم هاد الموديل؟"
    parts = split_text(f"{first} " + "نعم " * 10, len(first) + 8)
    assert parts[0] == first


def test_no_break_spaces_are_never_a_cut() -> None:
    assert split_text("aaaa bbbbbbbb\u00a0!", 14) == ["aaaa", "bbbbbbbb\u00a0!"]


def test_emoji_and_harakat_stay_whole_on_hard_cuts() -> None:
    for text, limit in ((EMOJI * 30, 9), (HARAKAT * 20, 5), ("🇩🇿" * 11, 3)):
        parts = split_text(text, limit)
        assert "".join(parts) == text
        offset = 0
        for part in parts[:-1]:
            offset += len(part)
            assert not splits_character(text, offset), (limit, part)


GRAPHEMES = [
    "salam",
    "مرحبا",
    "prix",
    "é",
    HARAKAT,
    "👍🏽",
    "👨‍👩‍👧",
    "🇩🇿",
    "❤️",
    " ",
    " ",
    "\n",
    "\n\n",
    ". ",
    "؟ ",
    "! ",
    "\u00a0",
    "x" * 25,
    "3 500 DA",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(GRAPHEMES), max_size=120).map("".join), st.integers(min_value=1, max_value=90))
def test_split_properties_on_generated_text(text: str, limit: int) -> None:
    assert_polite_split(text, split_text(text, limit), limit)


# --- quick replies and cards ---------------------------------------------------------------


def test_quick_replies_are_cut_to_meta_limits() -> None:
    titles = [f"Choix {n}" for n in range(15)] + ["   "]
    replies = quick_replies(titles)
    assert len(replies) == 13
    assert replies[0] == {"content_type": "text", "title": "Choix 0", "payload": "Choix 0"}
    long = quick_replies(["Livraison à domicile à Alger centre", "التوصيل إلى مكتب ياليدين في وهران"])
    assert [len(r["title"]) for r in long] == [20, 20] and all(r["title"].endswith(ELLIPSIS) for r in long)
    assert long[0]["payload"] == "Livraison à domicile à Alger centre"  # the whole choice comes back
    assert quick_replies(["Oui"], ["P" * 1500])[0]["payload"] == "P" * 1000
    emoji = "😍" * 10 + "👍🏽" * 6  # 22 characters: the skin tone stays with its thumb
    assert quick_replies([emoji])[0]["title"] == "😍" * 10 + "👍🏽" * 4 + ELLIPSIS
    with pytest.raises(ValueError):
        quick_replies(["a", "b"], ["A"])


Card = ProductCard  # the engine's own card is what the template is built from


def test_generic_template_of_product_cards() -> None:
    cards = [
        Card(7, "Robe kabyle brodée main " * 5, 12500, True, "https://cdn.shop.example/7.jpg", "Taille S à XL"),
        Card(8, "حذاء رياضي", 3500, False, "/media/8.jpg"),
        *[Card(100 + n, f"Produit {n}", 1000, True) for n in range(12)],
    ]
    attachment = generic_template(
        cards, order_title="Commander maintenant", details_title="Détails", out_of_stock="Épuisé"
    )
    assert attachment["type"] == "template" and attachment["payload"]["template_type"] == "generic"
    elements = attachment["payload"]["elements"]
    assert len(elements) == 10
    first, second = elements[0], elements[1]
    assert len(first["title"]) == 80 and first["title"].endswith(ELLIPSIS)
    assert first["subtitle"] == "12 500 DA · Taille S à XL" and first["image_url"] == "https://cdn.shop.example/7.jpg"
    assert first["buttons"] == [
        {"type": "postback", "title": "Commander maintenant", "payload": "ORDER:7"},
        {"type": "postback", "title": "Détails", "payload": "DETAILS:7"},
    ]
    assert second["subtitle"] == "3 500 DA · Épuisé" and "image_url" not in second  # Meta cannot fetch a path
    assert second["buttons"] == [{"type": "postback", "title": "Détails", "payload": "DETAILS:8"}]  # nothing to order
    assert all(len(e["subtitle"]) <= 80 and len(e["buttons"]) <= 3 for e in elements)
    arabic = generic_template(
        [cards[1]], order_title="اطلب الآن", details_title="التفاصيل بالكامل هنا من فضلك", currency="دج"
    )
    element = arabic["payload"]["elements"][0]
    assert element["subtitle"] == "3 500 دج" and len(element["buttons"][0]["title"]) == 20
    with pytest.raises(ValueError):
        generic_template([], order_title="a", details_title="b")


def test_what_the_builders_make_is_accepted_by_the_send_api() -> None:
    with GraphServer() as graph:
        graph.add_page("1", "Shop", "EAAPAGE-shop-token")
        page = GraphClient(base_url=graph.url, version="v26.0", access_token="EAAPAGE-shop-token")
        parts = split_text("\n\n".join([FRENCH] * 40), TEXT_LIMITS["messenger"])
        for n, part in enumerate(parts):
            message: dict[str, object] = {"text": part}
            if n == len(parts) - 1:
                message["quick_replies"] = quick_replies([f"Option numéro {k} très longue" for k in range(20)])
            page.send({"id": "psid-1"}, message=message)
        cards = [Card(n, "Ensemble " * 20, 4200, True, subtitle="Coton " * 30) for n in range(12)]
        attachment = generic_template(cards, order_title="Commander", details_title="Voir les détails")
        page.send({"id": "psid-1"}, message={"attachment": attachment})
        assert len(graph.messages) == len(parts) + 1 and not graph.errors
    meta.close_shared_http()
