"""The Indonesian interface is complete: every message the code and templates use is translated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

PROJECT = Path(__file__).resolve().parent.parent
CATALOGUES = [PROJECT / "checkin" / "translations"]
EXTRACTION = [("**.py", "python"), ("**.html", "jinja2")]


def singular(message_id: str | tuple[str, ...]) -> str:
    """Return the singular form of a message id (plural ids are tuples)."""
    return message_id if isinstance(message_id, str) else message_id[0]


def messages_in_use() -> set[str]:
    """Return every message the package and the templates ask to be translated."""
    keywords = DEFAULT_KEYWORDS | {"_l": None, "lazy_ngettext": (1, 2)}
    return {
        singular(message)
        for directory in ("checkin", "templates")
        for _file, _line, message, _comments, _context in extract_from_dir(
            PROJECT / directory, EXTRACTION, keywords=keywords
        )
    }


def indonesian(catalogue: Path) -> Catalog:
    """Return the Indonesian messages of one catalogue."""
    with (catalogue / "id" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def test_every_message_in_use_has_an_indonesian_translation():
    translated = {
        singular(message.id)
        for catalogue in CATALOGUES
        for message in indonesian(catalogue)
        if message.id and message.string and not message.fuzzy
    }
    in_use = messages_in_use()
    assert len(in_use) > 200  # the extraction found the app's words, not an empty set
    assert sorted(in_use - translated) == []


def test_no_indonesian_message_is_left_unfinished():
    unfinished = [
        f"{catalogue.name}: {message.id}"
        for catalogue in CATALOGUES
        for message in indonesian(catalogue)
        if message.id and (not message.string or message.fuzzy)
    ]
    assert unfinished == []


# Placeholders that name a thing, not how many: "No. 3", "token 7", "booth 4", "3 to 80
# characters", "between 1 and 30 minutes", "the years 2000 to 2099".
NOT_COUNTS = {
    "slot",
    "id",
    "booth",
    "number",
    "min",
    "max",
    "low",
    "high",
    "lowest",
    "highest",
    "first",
    "last",
}


def test_every_count_shown_takes_its_plural_form():
    template = read_po((CATALOGUES[0] / "messages.pot").open("rb"))
    counted = [
        message.id
        for message in template
        if message.id
        and not message.pluralizable
        and set(re.findall(r"%\((\w+)\)d", message.id)) - NOT_COUNTS
    ]
    assert counted == [], "use ngettext for these"


def test_plural_messages_have_both_english_forms_and_their_indonesian_one():
    catalogue = indonesian(CATALOGUES[0])
    plurals = [message for message in catalogue if message.id and message.pluralizable]
    assert len(plurals) > 10
    for message in plurals:
        _singular_form, plural_form = message.id
        assert re.search(r"%\(\w+\)[ds]", plural_form), f"{plural_form} names no count"
        assert len(message.string) == catalogue.num_plurals == 1 and message.string[0]
