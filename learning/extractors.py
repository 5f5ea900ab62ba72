"""The OpenRouter extractor: the conversation goes to the seller's model, which returns pairs as
JSON (a JSON schema is asked for, and the answer is validated here: shape, languages, lengths,
and no personal data). Without a key, or when the provider fails or answers badly, the built-in
extractor (learning.services.extract_pairs) is used instead."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import openai

from learning.services import MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, Pair, _personal_values, is_personal
from sales.engine.language import FORMS

if TYPE_CHECKING:
    from conversations.models import Conversation

logger = logging.getLogger(__name__)
LANGUAGES = FORMS
MAX_TRANSCRIPT_MESSAGES = 60
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["pairs"],
    "properties": {
        "pairs": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["question", "answer", "language"],
                "properties": {
                    "question": {"type": "string"},
                    "answer": {"type": "string"},
                    "language": {"type": "string", "enum": list(LANGUAGES)},
                },
            },
        }
    },
}


class ExtractionRejected(Exception):
    """The model's answer is not the JSON asked for."""


def parse_pairs(content: str, *, personal: list[str], seller_texts: set[str]) -> list[Pair]:
    """Validated pairs from the model's JSON; personal data is dropped, never stored."""
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise ExtractionRejected("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        raise ExtractionRejected("no pairs list")
    pairs = []
    for item in data["pairs"][:20]:
        if not isinstance(item, dict):
            raise ExtractionRejected("a pair is not an object")
        question, answer, language = item.get("question"), item.get("answer"), item.get("language")
        if not (isinstance(question, str) and isinstance(answer, str) and language in LANGUAGES):
            raise ExtractionRejected("a pair lacks a field")
        question, answer = question.strip(), answer.strip()
        if not question or not answer or len(question) > MAX_QUESTION_CHARS or len(answer) > MAX_ANSWER_CHARS:
            continue
        if is_personal(question, personal) or is_personal(answer, personal):
            continue
        origin = "seller" if answer in seller_texts else "bot"
        pairs.append(Pair(question, answer, str(language), origin, f"customer: {question}\n{origin}: {answer}"[:1000]))
    return pairs


def openrouter_pairs(conversation: Conversation) -> list[Pair] | None:
    """Pairs from the seller's model, or None when it cannot be used (the caller falls back)."""
    from ma5zani.tenancy import current_schema
    from sales.engine.openrouter import OpenRouterEngine, breaker_failure, openrouter_ready
    from sales.engine.prompt import prompt_file
    from sales.selectors import bot_settings_cached

    if not openrouter_ready():
        return None
    messages = list(conversation.messages.exclude(author="system").order_by("-id")[:MAX_TRANSCRIPT_MESSAGES])
    messages.reverse()
    transcript = "\n".join(f"{'customer' if m.author == 'customer' else 'shop'}: {m.text[:500]}" for m in messages)
    try:
        response = (
            OpenRouterEngine()
            .client()
            .chat.completions.create(
                model=bot_settings_cached().ai_model,
                messages=[
                    {"role": "system", "content": prompt_file("extract.txt")},
                    {"role": "user", "content": transcript},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "qa_pairs", "strict": True, "schema": SCHEMA},
                },
            )
        )
        content = response.choices[0].message.content or ""
        return parse_pairs(
            content,
            personal=_personal_values(conversation),
            seller_texts={m.text.strip() for m in messages if m.author == "seller"},
        )
    except (openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError) as exc:
        breaker_failure(current_schema())
        logger.warning("OpenRouter extraction failed (%s); the built-in extractor is used", exc)
    except ExtractionRejected as exc:
        logger.warning("OpenRouter extraction rejected (%s); the built-in extractor is used", exc)
    return None
