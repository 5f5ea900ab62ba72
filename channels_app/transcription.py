"""Voice notes to text through an OpenAI-compatible /audio/transcriptions endpoint (Whisper
and its many servers), for every channel (WhatsApp's .ogg notes, Messenger's and Instagram's
.mp4 / .aac audio). Off when TRANSCRIPTION_BASE_URL is empty: the bot then asks the customer,
in their language, to write instead."""

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
            file=(_upload_name(filename, mime_type), content, mime_type.split(";")[0] or "audio/ogg"),
        )
    except Exception:
        logger.warning("Transcription failed; the bot will ask for text", exc_info=True)
        return ""
    return str(getattr(result, "text", "") or "").strip()


# The extensions transcription servers know, by type (they decode by the file name).
_EXTENSIONS = {"audio/ogg": ".ogg", "audio/mp4": ".m4a", "audio/aac": ".aac", "audio/mpeg": ".mp3", "audio/wav": ".wav"}


def _upload_name(filename: str, mime_type: str) -> str:
    if (
        filename
        and "." in filename
        and filename.rsplit(".", 1)[1].lower() in ("ogg", "m4a", "mp4", "aac", "mp3", "wav")
    ):
        return filename
    return "voice" + _EXTENSIONS.get(mime_type.split(";")[0].strip().lower(), ".ogg")
