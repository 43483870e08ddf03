"""The report's own words, in both languages: the `report.doc.*` messages of the text catalogue
(handlers/messages/report_document.yaml)."""

from __future__ import annotations

from incident.i18n import t


def label(key: str, locale: str) -> str:
    return t(f"report.doc.{key}", locale)
