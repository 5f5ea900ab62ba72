"""The Send API's message bodies, built within Meta's limits: text split into messages the
platform accepts, quick replies and product cards (a generic template). Pure functions: no
network, no database; `client.GraphClient.send` sends what they build.

Lengths count characters (code points), never bytes: an Arabic letter or an emoji is one. A
cut never falls inside what a reader sees as one character (a letter and its harakat, an
emoji with its skin tone, a ZWJ family, a flag).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

TEXT_LIMITS = {"messenger": 2000, "instagram": 1000}
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE = 20
QUICK_REPLY_PAYLOAD = 1000
MAX_ELEMENTS = 10
ELEMENT_TITLE = 80
ELEMENT_SUBTITLE = 80
BUTTON_TITLE = 20
ELLIPSIS = "…"

ZWJ, ZWNJ = "\u200d", "\u200c"
# Whitespace where a line may break: not the no-break spaces (French puts one before "!" and "?").
NO_BREAK = "\u00a0\u2007\u202f"
_PARAGRAPH = re.compile(r"\n[^\S\n\u00a0\u2007\u202f]*\n")
_SENTENCE_END = re.compile(r"[.!?؟۔…。！？]+[\"'»”’)\]]*(?=[^\S\u00a0\u2007\u202f])")


class Card(Protocol):
    """What a product card gives (the engine's ProductCard)."""

    @property
    def product_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def price(self) -> int: ...
    @property
    def in_stock(self) -> bool: ...
    @property
    def image_url(self) -> str: ...
    @property
    def subtitle(self) -> str: ...


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def splits_character(text: str, index: int) -> bool:
    """Whether cutting `text` before `index` separates what is read as one character."""
    if index <= 0 or index >= len(text):
        return False
    char, before = text[index], text[index - 1]
    if before in (ZWJ, ZWNJ) or char in (ZWJ, ZWNJ):
        return True
    code = ord(char)
    if unicodedata.category(char) in {"Mn", "Mc", "Me"}:  # harakat, shadda, combining marks, keycaps
        return True
    if 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True  # variation selectors, skin tones, tag sequences (subdivision flags)
    if _regional(char) and _regional(before):  # flags are pairs of regional indicators
        run = 0
        while index - 1 - run >= 0 and _regional(text[index - 1 - run]):
            run += 1
        return run % 2 == 1
    return False


def _safe_cut(text: str, index: int) -> int:
    """The nearest index at or before `index` that splits no character (`index` when none)."""
    cut = index
    while cut > 0 and splits_character(text, cut):
        cut -= 1
    return cut or index


def clip(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """`text` stripped and, when longer than `limit`, cut (ending with `ellipsis`) to fit."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        ellipsis = ""
    return text[: _safe_cut(text, limit - len(ellipsis))].rstrip() + ellipsis


def _breaks(char: str) -> bool:
    return char.isspace() and char not in NO_BREAK


def _cut(rest: str, limit: int) -> int:
    """Where the first part of `rest` (longer than `limit`) ends: after the last paragraph, else
    the last line, else the last sentence, else the last word that fits; inside a word only
    when one word alone is longer than `limit`."""
    window = rest[: limit + 1]
    paragraphs = [m.start() for m in _PARAGRAPH.finditer(window) if m.start() > 0]
    if paragraphs:
        return paragraphs[-1]
    line = window.rfind("\n")
    if line > 0:
        return line
    sentences = [m.end() for m in _SENTENCE_END.finditer(window) if 0 < m.end() <= limit]
    if sentences:
        return sentences[-1]
    for index in range(len(window) - 1, 0, -1):
        if _breaks(window[index]):
            return index
    return _safe_cut(rest, limit)


def split_text(text: str, limit: int) -> list[str]:
    """`text` as messages of at most `limit` characters, cut politely (paragraph, line,
    sentence, word), stripped of the whitespace where they were cut; never an empty part."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            parts.append(rest)
            break
        cut = _cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def quick_replies(titles: Sequence[str], payloads: Sequence[str] | None = None) -> list[dict[str, str]]:
    """Text quick replies (at most 13; titles of 20 characters, payloads of 1000). A payload
    defaults to the whole title, so the webhook brings back what the customer chose even when
    its button had to be shortened. Blank titles are left out."""
    if payloads is not None and len(payloads) != len(titles):
        raise ValueError("one payload per title")
    replies: list[dict[str, str]] = []
    for n, title in enumerate(titles):
        label = clip(title, QUICK_REPLY_TITLE)
        if not label:
            continue
        payload = (payloads[n] if payloads is not None else title).strip() or label
        payload = clip(payload, QUICK_REPLY_PAYLOAD, ellipsis="")
        replies.append({"content_type": "text", "title": label, "payload": payload})
        if len(replies) == MAX_QUICK_REPLIES:
            break
    return replies


def money(value: int) -> str:
    """Whole dinars grouped by thousands with spaces, as the engine writes them (1 500)."""
    return f"{value:,}".replace(",", " ")


def generic_template(
    cards: Iterable[Card],
    *,
    order_title: str,
    details_title: str,
    currency: str = "DA",
    out_of_stock: str = "",
) -> dict[str, Any]:
    """A generic template attachment (`message={"attachment": ...}`) of at most 10 product
    cards: title and subtitle of 80 characters (the price first, so it is never cut), the
    image when it is an absolute URL (Meta fetches it), and postback buttons "ORDER:<id>"
    (in-stock products only) and "DETAILS:<id>" titled in the customer's language."""
    elements: list[dict[str, Any]] = []
    for card in cards:
        if len(elements) == MAX_ELEMENTS:
            break
        facts = [f"{money(card.price)} {currency}".strip()]
        if not card.in_stock and out_of_stock.strip():
            facts.append(out_of_stock.strip())
        if card.subtitle.strip():
            facts.append(card.subtitle.strip())
        buttons = []
        if card.in_stock:
            buttons.append(_postback(order_title, f"ORDER:{card.product_id}"))
        buttons.append(_postback(details_title, f"DETAILS:{card.product_id}"))
        element: dict[str, Any] = {
            "title": clip(card.title, ELEMENT_TITLE) or f"#{card.product_id}",
            "subtitle": clip(" · ".join(facts), ELEMENT_SUBTITLE),
            "buttons": buttons,
        }
        if card.image_url.startswith(("https://", "http://")):
            element["image_url"] = card.image_url
        elements.append(element)
    if not elements:
        raise ValueError("a generic template needs at least one card")
    return {"type": "template", "payload": {"template_type": "generic", "elements": elements}}


def _postback(title: str, payload: str) -> dict[str, str]:
    label = clip(title, BUTTON_TITLE)
    if not label:
        raise ValueError("a button needs a title")
    return {"type": "postback", "title": label, "payload": payload}
