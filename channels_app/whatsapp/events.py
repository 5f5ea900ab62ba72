"""neonize's events in, the gateway's plain values out. Nothing here touches the database.

A MessageEv becomes a `WaMessage` (or None when it is something the bot ignores: a status
broadcast, a newsletter, a reaction, a protocol message). The gateway decides what to do with
groups and with the seller's own messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from channels_app.whatsapp.client import jid_string

PHONE_SERVER = "s.whatsapp.net"
LID_SERVER = "lid"
GROUP_SERVER = "g.us"
IGNORED_SERVERS = frozenset({"broadcast", "newsletter", "call"})

# Wrappers whose inner `message` is the real one.
_WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)
# Media kinds of Message.MediaKind, by field of waE2E.Message.
_MEDIA_FIELDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
    # A video note (the round video recorded in the chat): a VideoMessage under its own field.
    "ptvMessage": "video",
}
_DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg",
    "document": "application/octet-stream",
    "sticker": "image/webp",
}


@dataclass(frozen=True)
class WaMessage:
    id: str
    chat: str  # the chat JID (user@server): the customer in a direct chat, the group otherwise
    sender: str  # who wrote it (the same as chat in a direct chat)
    sender_phone_jid: str  # the sender's phone-number JID when known
    sender_lid: str  # the sender's LID when known
    push_name: str
    from_me: bool
    is_group: bool
    timestamp: dt.datetime
    text: str
    media_kind: str = ""  # image, video, audio, document, sticker, location
    mime_type: str = ""
    filename: str = ""
    is_voice_note: bool = False
    mentions: tuple[str, ...] = ()

    @property
    def needs_download(self) -> bool:
        return bool(self.media_kind) and self.media_kind != "location"

    @property
    def customer_phone(self) -> str:
        """E.164 of the sender when their phone-number JID is known."""
        user = self.sender_phone_jid.partition("@")[0]
        return f"+{user}" if user.isdigit() else ""


def unwrap(message: Any) -> Any:
    """The innermost content of a waE2E.Message (ephemeral, view-once, document with caption)."""
    for _ in range(4):
        for name in _WRAPPERS:
            if message.HasField(name):
                message = getattr(message, name).message
                break
        else:
            return message
    return message


def downloadable(message: Any) -> Any:
    """The part of a waE2E.Message that whatsmeow's DownloadAny can fetch: the unwrapped content,
    and a video note as the VideoMessage it is (DownloadAny knows no ptvMessage field)."""
    content = unwrap(message)
    if content.HasField("ptvMessage") and not content.HasField("videoMessage"):
        video = type(content)()
        video.videoMessage.CopyFrom(content.ptvMessage)
        return video
    return content


def _timestamp(value: int) -> dt.datetime:
    if value > 10**11:  # milliseconds
        value //= 1000
    return dt.datetime.fromtimestamp(value or 0, tz=dt.UTC) if value else dt.datetime.now(tz=dt.UTC)


def _alt_ids(source: Any) -> tuple[str, str]:
    """(phone JID, LID) of the sender, from Sender and SenderAlt, either of which may be a LID."""
    phone = lid = ""
    for jid in (source.Sender, source.SenderAlt):
        value = jid_string(jid)
        if value.endswith("@" + LID_SERVER):
            lid = lid or value
        elif value.endswith("@" + PHONE_SERVER):
            phone = phone or value
    return phone, lid


def parse_message(event: Any) -> WaMessage | None:
    """A neonize MessageEv as a WaMessage; None for what is never a customer's message."""
    info = event.Info
    source = info.MessageSource
    chat = jid_string(source.Chat)
    server = chat.partition("@")[2]
    if not chat or server in IGNORED_SERVERS or chat == "status@broadcast":
        return None
    content = unwrap(event.Message)
    text, media_kind, mime, filename, voice = "", "", "", "", False
    mentions: tuple[str, ...] = ()
    if content.HasField("extendedTextMessage"):
        text = content.extendedTextMessage.text
        mentions = tuple(content.extendedTextMessage.contextInfo.mentionedJID)
    elif content.conversation:
        text = content.conversation
    elif content.HasField("locationMessage"):
        location = content.locationMessage
        media_kind = "location"
        place = " ".join(part for part in (location.name, location.address) if part)
        text = (
            f"{place} https://maps.google.com/?q={location.degreesLatitude:.6f},{location.degreesLongitude:.6f}".strip()
        )
    else:
        for field_name, kind in _MEDIA_FIELDS.items():
            if content.HasField(field_name):
                media = getattr(content, field_name)
                media_kind = kind
                mime = getattr(media, "mimetype", "") or _DEFAULT_MIME[kind]
                text = getattr(media, "caption", "") or ""
                filename = getattr(media, "fileName", "") or ""
                voice = kind == "audio" and bool(getattr(media, "PTT", False))
                if media.HasField("contextInfo"):
                    mentions = tuple(media.contextInfo.mentionedJID)
                break
        else:
            return None  # reactions, revokes, key distribution, polls, calls: nothing to answer
    phone, lid = _alt_ids(source)
    sender = jid_string(source.Sender) or chat
    return WaMessage(
        id=info.ID,
        chat=chat,
        sender=sender,
        sender_phone_jid=phone,
        sender_lid=lid,
        push_name=info.Pushname,
        from_me=source.IsFromMe,
        is_group=source.IsGroup or server == GROUP_SERVER,
        timestamp=_timestamp(info.Timestamp),
        text=text.strip(),
        media_kind=media_kind,
        mime_type=mime.split(";")[0].strip() if media_kind != "audio" else mime,
        filename=filename,
        is_voice_note=voice,
        mentions=mentions,
    )


# Receipt types (neonize's Receipt.ReceiptType) and the message status they move to.
RECEIPT_STATUS = {1: "delivered", 4: "read", 6: "read"}


def event_name(event: Any) -> str:
    return type(event).__name__
