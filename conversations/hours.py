"""Business hours on the message path: whether a person of the shop is there, and the words
that tell the customer when one will be.

The seller's hours (`BotSettings.business_hours`, in `BotSettings.timezone`) decide; what the
bot does outside them is `BotSettings.after_hours`:
- "answer_and_tell": the bot sells as usual, and its first reply of a closed period ends with
  a line saying when a person is available (once per conversation and closed period);
- "answer": the bot answers as usual;
- "away": the bot sends only an away message with the next opening time, and the
  conversation goes to the seller (reason "after_hours").
Whatever the setting, a handoff outside hours tells the customer when a person will be there.

The texts come in the five forms a conversation is written in: "ar" (Darija in Arabic script),
"arabizi", "fr", "en" and "msa" (Modern Standard Arabic).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sales.models import BotSettings

DEFAULT_LANGUAGE = "fr"

# Monday first, as datetime.weekday().
DAY_NAMES = {
    "ar": ("الاثنين", "الثلاثاء", "الاربعاء", "الخميس", "الجمعة", "السبت", "الحد"),
    "arabizi": ("letnin", "tlata", "larb3a", "lkhmis", "jem3a", "sebt", "l7ad"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "msa": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
}
# When, relative to the customer's day: today, tomorrow, another day of the week.
WHEN = {
    "ar": ("اليوم على {time}", "غدوة على {time}", "نهار {day} على {time}"),
    "arabizi": ("lyoum 3la {time}", "ghedwa 3la {time}", "nhar {day} 3la {time}"),
    "fr": ("aujourd'hui à {time}", "demain à {time}", "{day} à {time}"),
    "en": ("today at {time}", "tomorrow at {time}", "on {day} at {time}"),
    "msa": ("اليوم على الساعة {time}", "غداً على الساعة {time}", "يوم {day} على الساعة {time}"),
}
AVAILABLE = {
    "ar": "واحد من المحل يجاوبك {when}.",
    "arabizi": "Wa7ed men l'mahal yjawbek {when}.",
    "fr": "Un conseiller sera disponible {when}.",
    "en": "Someone from the shop will be available {when}.",
    "msa": "سيكون أحد موظفي المتجر متاحاً {when}.",
}
NO_ONE = {
    "ar": "دروك ما كاين حتى واحد من المحل يجاوبك.",
    "arabizi": "Dorka makan 7ta wa7ed men l'mahal yjawbek.",
    "fr": "Aucun conseiller n'est disponible pour le moment.",
    "en": "No one from the shop is available at the moment.",
    "msa": "لا يوجد أي موظف متاح في الوقت الحالي.",
}
CLOSED = {
    "ar": "المحل مغلوق دروك.",
    "arabizi": "L'mahal m'ghlo9 dorka.",
    "fr": "La boutique est fermée pour le moment.",
    "en": "The shop is closed at the moment.",
    "msa": "المتجر مغلق حالياً.",
}


def clock() -> dt.datetime:
    """Now, for the business-hours decisions of the message path (one place to set it)."""
    return timezone.now()


def text_language(language: str) -> str:
    """One of the five forms (BotSettings' "darija" is Arabic script)."""
    if language == "darija":
        return "ar"
    return language if language in AVAILABLE else DEFAULT_LANGUAGE


def is_closed(row: BotSettings, now: dt.datetime) -> bool:
    return not row.is_open_at(now)


def when_text(opening: dt.datetime, now: dt.datetime, language: str) -> str:
    """The opening relative to the customer's day ("demain à 09:00"), in the seller's zone."""
    language = text_language(language)
    today = now.astimezone(opening.tzinfo).date()
    days = (opening.date() - today).days
    today_form, tomorrow_form, other_form = WHEN[language]
    form = today_form if days == 0 else tomorrow_form if days == 1 else other_form
    return form.format(time=opening.strftime("%H:%M"), day=DAY_NAMES[language][opening.weekday()])


def availability_line(row: BotSettings, language: str, now: dt.datetime) -> str:
    """When a person of the shop will be available: the next opening, or that nobody is when
    the shop is closed all week."""
    language = text_language(language)
    opening = row.next_opening(now)
    if opening is None:
        return NO_ONE[language]
    return AVAILABLE[language].format(when=when_text(opening, now, language))


def away_text(row: BotSettings, language: str, now: dt.datetime) -> str:
    """The away message: the shop is closed, and when a person will be there."""
    language = text_language(language)
    return f"{CLOSED[language]} {availability_line(row, language, now)}"


def with_availability(text: str, row: BotSettings, language: str, now: dt.datetime) -> str:
    """`text` ending with the availability line (on a line of its own)."""
    line = availability_line(row, language, now)
    return f"{text.rstrip()}\n\n{line}" if text.strip() else line


def told_this_period(row: BotSettings, told_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the customer was told, during the closed period `now` is in, when a person is
    available: told while closed, with the same next opening as now (a shop closed all week
    has one closed period)."""
    if told_at is None or told_at > now or row.is_open_at(told_at):
        return False
    return row.next_opening(told_at) == row.next_opening(now)
