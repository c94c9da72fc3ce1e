"""Pure rules for what the waiting-room display says aloud: number words and call announcements.

No database, no Flask: the words are built here and the display only carries them to the TV.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SPOKEN_MIN = 1
SPOKEN_MAX = 999

_ID_UNITS = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_EN_UNITS = (
    "",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


class NotSpeakable(ValueError):
    """A number outside 1-999, which the announcement has no words for."""


def _check(number: int) -> None:
    if not SPOKEN_MIN <= number <= SPOKEN_MAX:
        raise NotSpeakable(f"{number} is outside {SPOKEN_MIN}-{SPOKEN_MAX}")


def indonesian(number: int) -> str:
    """Return 1-999 in Indonesian words, largest part first.

    One ten, eleven or one hundred take "se-" (sepuluh, sebelas, seratus); 12-19 are "... belas",
    tens "... puluh", hundreds "... ratus".
    """
    _check(number)
    hundreds, rest = divmod(number, 100)
    tens, units = divmod(rest, 10)
    words = []
    if hundreds:
        words.append("seratus" if hundreds == 1 else f"{_ID_UNITS[hundreds]} ratus")
    if rest == 10:
        words.append("sepuluh")
    elif rest == 11:
        words.append("sebelas")
    elif tens == 1:
        words.append(f"{_ID_UNITS[units]} belas")
    else:
        if tens:
            words.append("sepuluh" if tens == 1 else f"{_ID_UNITS[tens]} puluh")
        if units:
            words.append(_ID_UNITS[units])
    return " ".join(words)


def english(number: int) -> str:
    """Return 1-999 in English words, British style: "one hundred and twenty-one"."""
    _check(number)
    hundreds, rest = divmod(number, 100)
    below_hundred = (
        _EN_UNITS[rest]
        if rest < 20
        else "-".join(filter(None, (_EN_TENS[rest // 10], _EN_UNITS[rest % 10])))
    )
    if not hundreds:
        return below_hundred
    said_hundreds = f"{_EN_UNITS[hundreds]} hundred"
    return f"{said_hundreds} and {below_hundred}" if rest else said_hundreds


@dataclass(frozen=True)
class Phrase:
    """How one language calls a queue number to a monitor, and its word function."""

    call: str
    to_monitor: str
    number_words: Callable[[int], str]


# The Indonesian words and the bundled clips must match: the clip names are the words of this
# table, so the phrase stays here rather than in the translation catalogue.
PHRASES = {
    "id": Phrase("Nomor antrean", "silakan ke monitor", indonesian),
    "en": Phrase("Queue number", "please go to monitor", english),
}
# One recorded clip per word of the Indonesian phrases and numbers (static/voice/id/<name>.ogg).
CLIPS = (
    "nomor-antrean",
    "silakan-ke-monitor",
    *filter(None, _ID_UNITS),
    "sepuluh",
    "sebelas",
    "belas",
    "puluh",
    "seratus",
    "ratus",
)


@dataclass(frozen=True)
class Announcement:
    """What the display says for one call: the sentence, and the clips that say it (or none)."""

    text: str
    clips: tuple[str, ...]


def announcement(number: int, monitor: int, language: str) -> Announcement:
    """Return the sentence calling queue ``number`` to ``monitor`` in ``language`` ("id", "en").

    The clips say the Indonesian sentence word by word. A number without words (above 999) is
    said in digits, which speech synthesis reads, with no clips: the display then chimes.
    """
    phrase = PHRASES[language]
    try:
        said_number, said_monitor = phrase.number_words(number), phrase.number_words(monitor)
    except NotSpeakable:
        return Announcement(f"{phrase.call} {number}, {phrase.to_monitor} {monitor}", ())
    text = f"{phrase.call} {said_number}, {phrase.to_monitor} {said_monitor}"
    if language != "id":
        return Announcement(text, ())
    clips = ("nomor-antrean", *said_number.split(), "silakan-ke-monitor", *said_monitor.split())
    return Announcement(text, clips)
