"""Incident keys and channel names."""

from __future__ import annotations

import re
import unicodedata

CHANNEL_MAX = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def incident_key(year: int, number: int) -> str:
    return f"BR-{year}-{number:04d}"


def slugify(title: str) -> str:
    """A readable ASCII slug: Chinese becomes pinyin, accents are dropped, the rest becomes dashes."""
    if _CJK.search(title):
        # Imported here: loading its phrase dictionary takes a second, which every process
        # (each CLI command, each test worker) would pay whether or not it names a channel.
        from pypinyin import lazy_pinyin

        title = " ".join(lazy_pinyin(title, errors="default"))
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALLOWED.sub("-", ascii_title.lower()).strip("-")


def channel_name(key: str, title: str, *, drill: bool = False, suffix: int = 0) -> str:
    """`br-2026-0007-payroll-export-leaked`: lowercase, digits and dashes, at most 80 characters.

    A drill says so in its name; a taken name gets `-2`, `-3`, ... (the suffix is never cut off).
    """
    base = key.lower() + ("-drill" if drill else "")
    tail = f"-{suffix}" if suffix > 1 else ""
    slug = slugify(title)
    room = CHANNEL_MAX - len(base) - len(tail) - 1
    if slug and room > 0:
        slug = slug[:room].rstrip("-")
        return f"{base}-{slug}{tail}" if slug else f"{base}{tail}"
    return f"{base}{tail}"
