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
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from incident.text import LOCALES, Locale, Text, normalize_locale

# libyaml's parser when PyYAML has it (its wheels do): the catalogue loads in a sixth of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MESSAGES_DIR = Path(__file__).resolve().parent.parent / "handlers" / "messages"


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
    """The message in both locales, for a value that travels before its reader's locale is known."""
    return Text(t(message, "zh-CN", **params), t(message, "en", **params))
