"""Voice notes to text through an OpenAI-compatible /audio/transcriptions endpoint (Whisper
and its many servers), uploaded as .ogg. Off when TRANSCRIPTION_BASE_URL is empty: the bot
then asks the customer, in their language, to write instead."""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(settings.TRANSCRIPTION_BASE_URL)


def transcribe(content: bytes, *, filename: str = "voice.ogg", mime_type: str = "audio/ogg") -> str:
    """The text of a voice note; "" when transcription is off or fails (the bot asks for text)."""
    if not enabled() or not content:
        return ""
    from openai import OpenAI

    client = OpenAI(
        base_url=settings.TRANSCRIPTION_BASE_URL,
        api_key=settings.TRANSCRIPTION_API_KEY or "none",
        timeout=settings.TRANSCRIPTION_TIMEOUT_SECONDS,
        max_retries=1,
    )
    try:
        result = client.audio.transcriptions.create(
            model=settings.TRANSCRIPTION_MODEL,
            file=(
                filename if filename.endswith(".ogg") else "voice.ogg",
                content,
                mime_type.split(";")[0] or "audio/ogg",
            ),
        )
    except Exception:
        logger.warning("Transcription failed; the bot will ask for text", exc_info=True)
        return ""
    return str(getattr(result, "text", "") or "").strip()
