"""Attachments of a Messenger or Instagram message, in one vocabulary.

Meta names the same thing differently by platform and by year: an Instagram reel arrives as
`ig_reel` or `reel`, a shared post as `share`, `ig_post` or `post`, Instagram's heart as
`like_heart`. Messenger stickers arrive as an `image` with a `sticker_id` and, since June 2026,
also as a `sticker` attachment beside it (both until the end of August 2026; then only the
`sticker`): the pair is one sticker here. Anything else (templates, appointment bookings, link
previews, types Meta adds later) is a `fallback`, with Meta's own name kept in `meta_type`.

Story media must not be stored (Meta's policy): the URL of a story mention is a CDN link that
expires with the story, and stays a link here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channels_app.meta.values import scalar

IMAGE = "image"
AUDIO = "audio"
VIDEO = "video"
FILE = "file"
STICKER = "sticker"
REEL = "reel"
SHARE = "share"
STORY_MENTION = "story_mention"
LOCATION = "location"
FALLBACK = "fallback"
TYPES = frozenset({IMAGE, AUDIO, VIDEO, FILE, STICKER, REEL, SHARE, STORY_MENTION, LOCATION, FALLBACK})

_BY_META_TYPE = {
    "image": IMAGE,
    "audio": AUDIO,
    "video": VIDEO,
    "file": FILE,
    "sticker": STICKER,
    "like_heart": STICKER,
    "reel": REEL,
    "ig_reel": REEL,
    "share": SHARE,
    "post": SHARE,
    "ig_post": SHARE,
    "story_mention": STORY_MENTION,
    "location": LOCATION,
    "fallback": FALLBACK,
}


@dataclass(frozen=True)
class Attachment:
    type: str  # one of TYPES
    url: str = ""
    title: str = ""
    sticker_id: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict, hash=False)
    meta_type: str = ""  # Meta's own name (ig_reel, like_heart, template...)


def _attachment(item: Mapping[str, Any], message_sticker_id: str) -> Attachment:
    meta_type = scalar(item.get("type"))
    raw_payload = item.get("payload")
    payload: Mapping[str, Any] = raw_payload if isinstance(raw_payload, Mapping) else {}
    sticker_id = scalar(payload.get("sticker_id"))
    kind = _BY_META_TYPE.get(meta_type.lower(), FALLBACK)
    if kind == IMAGE and (sticker_id or message_sticker_id):
        kind = STICKER  # Messenger's sticker as an image (the only form before June 2026)
    if kind == STICKER and meta_type.lower() != "like_heart":
        sticker_id = sticker_id or message_sticker_id
    return Attachment(
        type=kind,
        url=scalar(payload.get("url")) or scalar(item.get("url")) or scalar(item.get("URL")),  # a fallback: "URL"
        title=scalar(item.get("title")) or scalar(payload.get("title")),
        sticker_id=sticker_id,
        payload=payload,
        meta_type=meta_type,
    )


def parse_attachments(items: Any, message_sticker_id: str = "") -> tuple[Attachment, ...]:
    """The attachments of `message.attachments`; an element that is not an object is dropped."""
    if not isinstance(items, list):
        return ()
    parsed = [_attachment(item, message_sticker_id) for item in items if isinstance(item, Mapping)]
    # The sticker transition: an image and a sticker with the same sticker_id are one sticker.
    sticker_ids = {item.sticker_id for item in parsed if item.meta_type.lower() == "sticker"}
    if sticker_ids:
        parsed = [
            item
            for item in parsed
            if not (item.meta_type.lower() == "image" and item.type == STICKER and item.sticker_id in sticker_ids)
        ]
    return tuple(parsed)
