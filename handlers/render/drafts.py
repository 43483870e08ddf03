"""Block Kit for draft notices: the modal legal edits and approves (or reads), the list of
obligations to draft, and the "Draft notice" button other answers carry. Pure functions."""

from __future__ import annotations

import json
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.render.common import (
    button,
    context,
    escape,
    input_block,
    input_value,
    packed,
    plain,
    section,
)
from incident.errors import NotFound
from incident.limits import Field, limit
from incident.notice_draft.drafts import Draft
from incident.records import parse_id
from incident.regimes import Obligation, Regimes
from storage.models import Incident

TITLE_MAX = 24
# A read-only draft is shown in sections; each holds at most this much of it (Slack: 3,000, which
# leaves room for the code fence and the escaping of & < >).
CHUNK = 2400
TEXT_BLOCK = "text_{language}"
MAX_LISTED = 40


def draft_button(incident_id: int, obligation_id: str, locale: str) -> dict[str, Any]:
    """The "Draft notice" button for one obligation (value: ``<incident id>:<obligation id>``)."""
    return button(t("drafts.button", locale), ActionId.NOTICE_DRAFT, f"{incident_id}:{obligation_id}")


def button_obligation(value: str) -> str:
    """The obligation id a Draft notice button carries."""
    return str(value or "").partition(":")[2]


def _modal(locale: str, blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(t("drafts.modal.title", locale), TITLE_MAX),
        "close": plain(t("drafts.modal.close", locale), TITLE_MAX),
        "blocks": blocks,
        **extra,
    }


def loading_modal(locale: str) -> dict[str, Any]:
    """Opened at once (a trigger lives 3 seconds); the draft replaces it when written."""
    return _modal(locale, [section(t("drafts.modal.loading", locale))])


def message_modal(text: str, locale: str) -> dict[str, Any]:
    """The loading modal's place when the draft could not be written: why, in the modal itself."""
    return _modal(locale, [section(escape(text))])


def draft_modal(
    incident: Incident,
    draft: Draft,
    regimes: Regimes,
    *,
    may_approve: bool,
    legal: str | None,
    command: str,
) -> dict[str, Any]:
    """The draft for legal to edit and approve; a read-only copy for anyone else in the incident."""
    locale = incident.locale
    obligation = draft.obligation
    gaps = sum(len(c.gaps) for c in draft.composed)
    blocks: list[dict[str, Any]] = [
        section(
            t(
                "drafts.modal.head",
                locale,
                recipient=escape(obligation.recipient.get(locale)),
                regime=escape(regimes.get(obligation.regime_id).name.get(locale)),
                obligation=obligation.id,
                key=incident.key,
                version=draft.version,
            )
        ),
        context(
            t("drafts.modal.gaps", locale, count=gaps) if gaps else t("drafts.modal.no_gaps", locale),
            t("drafts.modal.sends_nothing", locale, command=command),
        ),
    ]
    for composed in draft.composed:
        label = t(
            "drafts.modal.text_label", locale, language=t(f"drafts.language.{composed.language}", locale)
        )
        if may_approve:
            element = {
                "type": "plain_text_input",
                "multiline": True,
                "max_length": limit(Field.NOTICE),
                "initial_value": composed.text,
            }
            blocks.append(
                input_block(TEXT_BLOCK.format(language=composed.language), label, element, optional=False)
            )
        else:
            blocks.append(section(f"*{label}*"))
            parts = packed(composed.text.splitlines(), CHUNK)
            blocks.extend(section(f"```{escape(part)}```") for part in parts)
    extra: dict[str, Any] = {
        "callback_id": CallbackId.NOTICE_DRAFT,
        "private_metadata": json.dumps(
            {"incident_id": incident.id, "obligation": obligation.id, "version": draft.version}
        ),
    }
    if may_approve:
        extra["submit"] = plain(t("drafts.modal.approve", locale), TITLE_MAX)
    else:
        blocks.append(context(t("drafts.modal.read_only", locale, legal=f"<@{legal}>" if legal else "—")))
    return _modal(locale, blocks, **extra)


def draft_meta(view: dict[str, Any]) -> tuple[int, str, int]:
    """(incident id, obligation id, version) of a draft modal; a view we did not build is not found."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError as exc:
        raise NotFound("error.not_found") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("obligation"), str):
        raise NotFound("error.not_found")
    return parse_id(meta.get("incident_id")), meta["obligation"], parse_id(meta.get("version"))


def draft_texts(view: dict[str, Any], languages: tuple[str, ...]) -> dict[str, str]:
    values = (view.get("state") or {}).get("values") or {}
    return {
        language: str(input_value(values, TEXT_BLOCK.format(language=language)).get("value") or "")
        for language in languages
    }


def text_block(language: str) -> str:
    return TEXT_BLOCK.format(language=language)


def obligations_list(
    incident: Incident, obligations: list[Obligation], regimes: Regimes, command: str
) -> list[dict]:
    """`/breach notify draft` without a name: each obligation that applies or may, with its button."""
    locale = incident.locale
    if not obligations:
        return [section(t("drafts.list.none", locale, key=incident.key, command=command))]
    assert incident.id is not None
    blocks = [section(t("drafts.list.head", locale, key=incident.key))]
    for obligation in obligations[:MAX_LISTED]:
        text = t(
            "drafts.list.item",
            locale,
            recipient=escape(obligation.recipient.get(locale)),
            regime=escape(regimes.get(obligation.regime_id).name.get(locale)),
            obligation=obligation.id,
        )
        blocks.append(section(text, accessory=draft_button(incident.id, obligation.id, locale)))
    return blocks
