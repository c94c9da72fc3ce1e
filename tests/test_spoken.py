"""Number words and call announcements of the waiting-room display (pure, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkin.words import spoken

VOICE_DIR = Path(__file__).resolve().parent.parent / "static" / "voice"


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (1, "satu"),
        (7, "tujuh"),
        (9, "sembilan"),
        (10, "sepuluh"),
        (11, "sebelas"),
        (12, "dua belas"),
        (19, "sembilan belas"),
        (20, "dua puluh"),
        (21, "dua puluh satu"),
        (55, "lima puluh lima"),
        (99, "sembilan puluh sembilan"),
        (100, "seratus"),
        (101, "seratus satu"),
        (110, "seratus sepuluh"),
        (111, "seratus sebelas"),
        (115, "seratus lima belas"),
        (120, "seratus dua puluh"),
        (200, "dua ratus"),
        (210, "dua ratus sepuluh"),
        (345, "tiga ratus empat puluh lima"),
        (911, "sembilan ratus sebelas"),
        (999, "sembilan ratus sembilan puluh sembilan"),
    ],
)
def test_indonesian_number_words(number: int, words: str) -> None:
    assert spoken.indonesian(number) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (1, "one"),
        (11, "eleven"),
        (12, "twelve"),
        (19, "nineteen"),
        (20, "twenty"),
        (21, "twenty-one"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (101, "one hundred and one"),
        (111, "one hundred and eleven"),
        (340, "three hundred and forty"),
        (999, "nine hundred and ninety-nine"),
    ],
)
def test_english_number_words(number: int, words: str) -> None:
    assert spoken.english(number) == words


@pytest.mark.parametrize("number", [0, -1, 1000, 12345])
@pytest.mark.parametrize("say", [spoken.indonesian, spoken.english])
def test_numbers_outside_1_to_999_are_refused(say, number: int) -> None:
    with pytest.raises(spoken.NotSpeakable):
        say(number)


def test_every_number_from_1_to_999_has_distinct_words_in_both_languages() -> None:
    for say in (spoken.indonesian, spoken.english):
        said = {say(number) for number in range(1, 1000)}
        assert len(said) == 999


def test_every_indonesian_number_is_said_with_bundled_clips() -> None:
    words = {word for number in range(1, 1000) for word in spoken.indonesian(number).split()}
    assert words <= set(spoken.CLIPS)


@pytest.mark.parametrize(
    ("number", "monitor", "language", "text", "clips"),
    [
        (
            12,
            3,
            "id",
            "Nomor antrean dua belas, silakan ke monitor tiga",
            ("nomor-antrean", "dua", "belas", "silakan-ke-monitor", "tiga"),
        ),
        (
            111,
            10,
            "id",
            "Nomor antrean seratus sebelas, silakan ke monitor sepuluh",
            ("nomor-antrean", "seratus", "sebelas", "silakan-ke-monitor", "sepuluh"),
        ),
        (12, 3, "en", "Queue number twelve, please go to monitor three", ()),
        (21, 1, "en", "Queue number twenty-one, please go to monitor one", ()),
        # Beyond the words: digits for speech synthesis, and no clips (the display chimes).
        (1234, 2, "id", "Nomor antrean 1234, silakan ke monitor 2", ()),
    ],
)
def test_announcement_of_a_call(number, monitor, language, text, clips) -> None:
    said = spoken.announcement(number, monitor, language)
    assert (said.text, said.clips) == (text, clips)


@pytest.mark.parametrize("clip", spoken.CLIPS)
def test_every_clip_is_bundled(clip: str) -> None:
    assert (VOICE_DIR / "id" / f"{clip}.ogg").is_file()


def test_the_chime_is_bundled() -> None:
    assert (VOICE_DIR / "chime.ogg").is_file()
