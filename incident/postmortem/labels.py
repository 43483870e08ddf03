"""The post-mortem's own words, in both languages (it is a document, not a Slack message): the
`postmortem.doc.*` messages of the text catalogue (handlers/messages/postmortem_document.yaml)."""

from __future__ import annotations

from incident.i18n import t


def label(key: str, locale: str, /, **params: object) -> str:
    return t(f"postmortem.doc.{key}", locale, **params)
