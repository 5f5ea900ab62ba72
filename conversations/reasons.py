"""Why a conversation went to the seller, in words, and the system notes of a thread.

`Conversation.handoff_reason` and a system note's `Message.note` keep codes; they are put into
words when shown, in the viewer's language (the labels are lazy translations). A code that is
not listed here (an engine may give its own) reads as "Other".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from conversations.models import Message

HANDOFF_REASONS: dict[str, Promise] = {
    "customer_asked": _("The customer asked for a person"),
    "unsure": _("The bot was not sure how to answer"),
    "engine": _("The AI asked for a person"),
    "guardrail": _("The bot's answer broke the shop's rules"),
    "complaint": _("The customer complained"),
    "empty_reply": _("The bot had no answer"),
    "after_hours": _("A message outside business hours"),
    "repeated_question": _("The customer asked the same question again"),
    "seller_took_over": _("You took over"),
    "seller_replied": _("You answered"),
    "seller_replied_from_phone": _("You answered from your phone"),
    "seller_replied_from_meta": _("You answered from Meta's inbox"),
    "standby": _("Another app answers this conversation"),
}

# Why a message could not be sent: codes kept in `Message.error`, put into words when shown.
SEND_FAILURES: dict[str, Promise] = {
    "window_closed": _(
        "Not sent: the customer last wrote more than 24 hours ago, and Meta allows no automatic message after that."
    ),
    "human_window_closed": _(
        "Not sent: the customer last wrote more than 7 days ago; Meta allows no message until they write again."
    ),
    "unavailable": _("Not sent: this person cannot receive messages right now."),
    "restricted": _("Not sent: Meta has restricted this Page or account."),
    "reconnect": _("Not sent: the account must be reconnected in Channels."),
    "unknown_outcome": _(
        "The connection broke while this message was being sent; it may have reached the customer, "
        "so it was not sent again."
    ),
    "invalid": _("Not sent: the channel refused this message."),
    "partly_sent": _("Only the first part of this message reached the customer; the rest was not sent."),
}
OTHER = _("Other")

# The kinds of system notes (`Message.note["kind"]`).
NOTE_HANDED_OFF = "handed_off"
NOTE_HANDED_BACK = "handed_back"


def handoff_reason_label(code: str) -> str:
    """The reason in words, in the active language; "" for no reason, "Other" for a code not
    listed."""
    if not code:
        return ""
    return str(HANDOFF_REASONS.get(code, OTHER))


def handoff_note(reason: str) -> dict[str, str]:
    return {"kind": NOTE_HANDED_OFF, "reason": reason}


def handed_back_note() -> dict[str, str]:
    return {"kind": NOTE_HANDED_BACK}


def note_text(note: dict[str, str]) -> str:
    """A system note in words, in the active language ("" for a note of an unknown kind)."""
    kind = note.get("kind") if isinstance(note, dict) else None
    if kind == NOTE_HANDED_OFF:
        return gettext("Handed to the seller: %(reason)s") % {"reason": handoff_reason_label(note.get("reason") or "?")}
    if kind == NOTE_HANDED_BACK:
        return gettext("The bot answers again.")
    return ""


def send_failure_label(error: str) -> str:
    """Why a message was not sent, in the active language (an error without a code as it is)."""
    label = SEND_FAILURES.get(error)
    return str(label) if label is not None else error


def message_display_text(message: Message) -> str:
    """What the thread shows for a message: a system note rendered now, in the viewer's
    language; any other message's own text."""
    if message.note:
        return note_text(message.note) or message.text
    return message.text
