"""Bilingual text: every user-facing string exists in zh-CN and en."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Locale = Literal["zh-CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
DEFAULT_LOCALE: Locale = "en"


def normalize_locale(value: str | None, default: Locale = DEFAULT_LOCALE) -> Locale:
    """Map Slack's and people's spellings (zh_CN, zh-cn, zh, en-US, ...) onto our two locales."""
    if not value:
        return default
    v = value.replace("_", "-").lower()
    if v.startswith("zh"):
        return "zh-CN"
    if v.startswith("en"):
        return "en"
    return default


@dataclass(frozen=True, slots=True)
class Text:
    """A string in both locales."""

    zh_CN: str
    en: str

    def get(self, locale: Locale | str) -> str:
        return self.zh_CN if normalize_locale(locale) == "zh-CN" else self.en

    def to_dict(self) -> dict[str, str]:
        return {"zh-CN": self.zh_CN, "en": self.en}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Text:
        return cls(zh_CN=data["zh-CN"], en=data["en"])
