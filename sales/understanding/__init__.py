"""Understanding customers as they write: tokens per script (sales.understanding.text), whole-word
matching with scores (match), intents and the customer's own words (reading), the shop's products
and variants (catalog), wilayas and communes (places), and the lexicons (lexicon)."""

from __future__ import annotations


def intents_of(text: str, expecting: str | None = None) -> set[str]:
    """Every intent the message says (sales.understanding.reading.Reading.intents)."""
    from sales.understanding.reading import Reading

    return set(Reading(text, expecting=expecting).intents)
