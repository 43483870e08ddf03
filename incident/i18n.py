"""The one text catalogue: every user-facing string in zh-CN and en, kept in handlers/messages/*.yaml.

Each file maps a message key to its two translations; `{name}` placeholders are filled by `t()`.
Loading refuses a key that lacks a locale, has different placeholders in the two locales,
or is defined in two files, so a missing translation fails at start-up and in the tests.

The loader lives in the domain because the documents the domain writes (the post-mortem, the
security report, the playbook outline) speak from the same catalogue as the Slack messages;
`handlers.i18n` re-exports it. It reads files only: importing it pulls in nothing from Slack.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, NewType

import yaml

from incident.text import LOCALES, Locale, Text, normalize_locale

# libyaml's parser when PyYAML has it (its wheels do): the catalogue loads in a sixth of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MESSAGES_DIR = Path(__file__).resolve().parent.parent / "handlers" / "messages"


# A message key kept in a table and read later (FACT_SPECS, the label tables of the regimes): a table
# of keys costs nothing to import, and `Key("a.b")` lets tests/test_catalogue.py see the key exists.
Key = NewType("Key", str)


class CatalogError(Exception):
    pass


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def load(directory: Path) -> dict[str, dict[str, str]]:
    """Every message of the folder's *.yaml files, checked: both locales, same placeholders, unique keys."""
    merged: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        for key, entry in data.items():
            if key in merged:
                raise CatalogError(f"{path.name}: message {key!r} is also defined in {origin[key]}")
            if not isinstance(entry, dict) or any(not isinstance(entry.get(loc), str) for loc in LOCALES):
                raise CatalogError(f"{path.name}: message {key!r} needs a string for each of {LOCALES}")
            if _fields(entry["zh-CN"]) != _fields(entry["en"]):
                raise CatalogError(f"{path.name}: message {key!r} has different placeholders per locale")
            merged[key] = {loc: entry[loc] for loc in LOCALES}
            origin[key] = path.name
    return merged


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    return load(MESSAGES_DIR)


def t(message: str, locale: Locale | str, /, **params: Any) -> str:
    """The message in the given locale. An unknown key is a programming error and raises KeyError."""
    template = catalog()[message][normalize_locale(locale)]
    return template.format(**params) if params else template


def both(message: str, /, **params: Any) -> Text:
    """The message in both locales, for a value that travels before its reader's locale is known.

    A ``Text`` parameter is read in each locale (a recipient's name, another message)."""
    return Text(*(t(message, locale, **_in(locale, params)) for locale in LOCALES))


def joined(items: Iterable[Text | str], separator: Text) -> Text:
    """The items joined in each locale by that locale's ``separator`` (a ``both(...)`` of a separator key).

    A plain string (a code) reads the same in both."""
    listed = [item if isinstance(item, Text) else Text(item, item) for item in items]
    return Text(*(separator.get(locale).join(item.get(locale) for item in listed) for locale in LOCALES))


def _in(locale: Locale, params: dict[str, Any]) -> dict[str, Any]:
    return {name: value.get(locale) if isinstance(value, Text) else value for name, value in params.items()}
