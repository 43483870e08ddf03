"""Block Kit for the incident's records: the decision / evidence / action modals, confirmations
posted in the channel, and the follow-up actions list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.render.common import (
    VALUE,
    button,
    clip,
    context,
    escape,
    input_block,
    option,
    plain,
    section,
    user,
    when,
)
from incident.errors import NotFound
from incident.limits import Field, limit
from incident.records import ACTION_CATEGORIES, ActionInput, DecisionInput, EvidenceInput, parse_id
from incident.redact import LABELS, Finding
from storage.models import ActionItem, Incident

# Fields here are required unless a call says otherwise.
_input = partial(input_block, optional=False)
MODAL_TEXT_MAX = limit(Field.NOTE)
LIST_MAX = 40


def _text_input(multiline: bool = True, max_length: int = MODAL_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}


def _modal(callback_id: str, title: str, submit: str, locale: str, incident: Incident, blocks: list) -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain(t("records.modal.cancel", locale), 24),
        "private_metadata": json.dumps({"incident": incident.id}),
        "blocks": [section(t("records.modal.context", locale, key=incident.key)), *blocks],
    }


def incident_of(view: dict[str, Any]) -> int:
    """The incident a modal was opened for; a view we did not build is not found."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        return parse_id(meta.get("incident") if isinstance(meta, dict) else None)
    except ValueError as exc:
        raise NotFound("error.not_found") from exc


def decision_modal(incident: Incident, locale: str) -> dict[str, Any]:
    privilege = option(t("records.decision.privileged_option", locale), "privileged")
    return _modal(
        CallbackId.DECISION,
        t("records.decision.title", locale),
        t("records.modal.save", locale),
        locale,
        incident,
        [
            _input(
                "decision",
                t("records.decision.field.decision", locale),
                _text_input(max_length=limit(Field.DECISION)),
            ),
            _input(
                "rationale",
                t("records.decision.field.rationale", locale),
                _text_input(max_length=limit(Field.DECISION)),
            ),
            _input(
                "alternatives",
                t("records.decision.field.alternatives", locale),
                _text_input(max_length=limit(Field.DECISION)),
                optional=True,
            ),
            _input(
                "approver",
                t("records.decision.field.approver", locale),
                {"type": "users_select"},
                optional=True,
            ),
            _input(
                "privileged",
                t("records.decision.field.privileged", locale),
                {"type": "checkboxes", "options": [privilege]},
                optional=True,
                hint=t("records.decision.privileged_hint", locale),
            ),
        ],
    )


def evidence_modal(incident: Incident, locale: str) -> dict[str, Any]:
    return _modal(
        CallbackId.EVIDENCE,
        t("records.evidence.title", locale),
        t("records.modal.save", locale),
        locale,
        incident,
        [
            _input(
                "description",
                t("records.evidence.field.description", locale),
                _text_input(max_length=limit(Field.DESCRIPTION)),
            ),
            _input(
                "location",
                t("records.evidence.field.location", locale),
                _text_input(multiline=False, max_length=limit(Field.LOCATION)),
                hint=t("records.evidence.location_hint", locale),
            ),
            _input(
                "sha256",
                t("records.evidence.field.sha256", locale),
                _text_input(multiline=False, max_length=100),
                optional=True,
                hint=t("records.evidence.sha256_hint", locale),
            ),
            _input("custodian", t("records.evidence.field.custodian", locale), {"type": "users_select"}),
            _input(
                "collected_at",
                t("records.evidence.field.collected_at", locale),
                {"type": "datetimepicker"},
                optional=True,
                hint=t("records.evidence.collected_hint", locale),
            ),
        ],
    )


def action_modal(incident: Incident, locale: str) -> dict[str, Any]:
    categories = [option(t(f"records.category.{c}", locale), c) for c in ACTION_CATEGORIES]
    return _modal(
        CallbackId.ACTION_ITEM,
        t("records.action.title", locale),
        t("records.modal.save", locale),
        locale,
        incident,
        [
            _input(
                "text", t("records.action.field.text", locale), _text_input(max_length=limit(Field.ACTION))
            ),
            _input("owner", t("records.action.field.owner", locale), {"type": "users_select"}, optional=True),
            _input("due", t("records.action.field.due", locale), {"type": "datepicker"}, optional=True),
            _input(
                "category",
                t("records.action.field.category", locale),
                {"type": "static_select", "options": categories, "initial_option": categories[-1]},
            ),
        ],
    )


def _values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    state = (view.get("state") or {}).get("values") or {}
    return {block: (fields.get(VALUE) or {}) for block, fields in state.items()}


def _str(values: dict[str, dict[str, Any]], block: str) -> str:
    return str(values.get(block, {}).get("value") or "")


def parse_decision(view: dict[str, Any]) -> DecisionInput:
    v = _values(view)
    picked = v.get("privileged", {}).get("selected_options") or []
    return DecisionInput(
        text=_str(v, "decision"),
        rationale=_str(v, "rationale"),
        alternatives=_str(v, "alternatives"),
        approver=v.get("approver", {}).get("selected_user") or None,
        privileged=any(o.get("value") == "privileged" for o in picked),
    )


def parse_evidence(view: dict[str, Any]) -> EvidenceInput:
    v = _values(view)
    stamp = v.get("collected_at", {}).get("selected_date_time")
    return EvidenceInput(
        description=_str(v, "description"),
        location=_str(v, "location"),
        sha256=_str(v, "sha256").strip(),
        custodian=v.get("custodian", {}).get("selected_user") or None,
        collected_at=datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None,
    )


def parse_action(view: dict[str, Any]) -> ActionInput:
    v = _values(view)
    due = v.get("due", {}).get("selected_date")
    category = (v.get("category", {}).get("selected_option") or {}).get("value") or "other"
    return ActionInput(
        text=_str(v, "text"),
        owner=v.get("owner", {}).get("selected_user") or None,
        # A due date means by the end of that day.
        due_at=datetime.combine(date.fromisoformat(due), time(23, 59), tzinfo=UTC) if due else None,
        category=category,
    )


# Confirmations in the channel -------------------------------------------------------------------


def _seq(seq: int, locale: str) -> dict[str, Any]:
    return context(t("records.seq", locale, seq=seq))


def note_posted(actor: str, text: str, seq: int, locale: str) -> tuple[list[dict[str, Any]], str]:
    head = t("records.note.posted", locale, user=user(actor))
    return [section(f"{head}\n{escape(clip(text, 2800))}"), _seq(seq, locale)], head


def decision_posted(
    actor: str, inp: DecisionInput, stored: dict[str, str], seq: int, locale: str
) -> tuple[list[dict[str, Any]], str]:
    if inp.privileged:
        text = t("records.decision.posted_privileged", locale, user=user(actor), approver=user(inp.approver))
        return [section(text), _seq(seq, locale)], text
    head = t("records.decision.posted", locale, user=user(actor))
    lines = [head, f"*{escape(clip(stored['text'], 1000))}*"]
    lines.append(t("records.decision.line.rationale", locale, text=escape(clip(stored["rationale"], 800))))
    if stored["alternatives"]:
        lines.append(
            t("records.decision.line.alternatives", locale, text=escape(clip(stored["alternatives"], 600)))
        )
    if inp.approver:
        lines.append(t("records.decision.line.approver", locale, user=user(inp.approver)))
    return [section("\n".join(lines)), _seq(seq, locale)], head


def evidence_posted(
    actor: str, inp: EvidenceInput, stored: dict[str, str], collected: datetime, seq: int, locale: str
) -> tuple[list[dict[str, Any]], str]:
    head = t("records.evidence.posted", locale, user=user(actor))
    lines = [
        head,
        f"*{escape(clip(stored['description'], 1000))}*",
        t("records.evidence.line.location", locale, text=escape(clip(stored["location"], 500))),
        t("records.evidence.line.sha256", locale, sha=inp.sha256.lower() if inp.sha256 else "—"),
        t("records.evidence.line.custody", locale, user=user(inp.custodian), at=when(collected)),
    ]
    return [section("\n".join(lines)), _seq(seq, locale)], head


def action_line(item: ActionItem, locale: str) -> str:
    parts = [
        escape(clip(item.text, 500)),
        t(f"records.category.{item.category}", locale)
        if item.category in ACTION_CATEGORIES
        else item.category,
        t("records.action.owner", locale, user=user(item.owner)),
    ]
    if item.due_at:
        parts.append(t("records.action.due", locale, date=when(item.due_at, "{date_short}")))
    return " · ".join(parts)


def action_posted(actor: str, item: ActionItem, seq: int, locale: str) -> tuple[list[dict[str, Any]], str]:
    head = t("records.action.posted", locale, user=user(actor))
    return [section(f"{head}\n{action_line(item, locale)}"), _seq(seq, locale)], head


def action_done_posted(actor: str, item: ActionItem, locale: str) -> tuple[list[dict[str, Any]], str]:
    text = t("records.action.done_posted", locale, user=user(actor), text=escape(clip(item.text, 500)))
    return [section(text)], text


def actions_list(
    incident: Incident, items: list[ActionItem], locale: str
) -> tuple[list[dict[str, Any]], str]:
    """Open follow-ups with a Done button each, then the done ones."""
    title = t("records.actions.header", locale, key=incident.key)
    if not items:
        text = t("records.actions.none", locale, key=incident.key)
        return [section(text)], text
    open_items = [i for i in items if i.status != "done"]
    done = [i for i in items if i.status == "done"]
    blocks: list[dict[str, Any]] = [section(f"*{title}*")]
    for item in open_items[:LIST_MAX]:
        blocks.append(
            section(
                f"▫️ {action_line(item, locale)}",
                accessory=button(
                    t("records.actions.done_button", locale), ActionId.ACTION_DONE, str(item.id)
                ),
            )
        )
    if done:
        lines = [
            t("records.actions.done_line", locale, text=escape(clip(i.text, 200)), user=user(i.done_by))
            for i in done[: LIST_MAX - min(len(open_items), LIST_MAX)]
        ]
        blocks.append(section("\n".join(lines)))
    if len(items) > LIST_MAX:
        blocks.append(context(t("records.actions.more", locale, count=len(items) - LIST_MAX)))
    return blocks[:50], title


def actions_overview(
    rows: list[tuple[str, ActionItem]], locale: str, now: datetime, *, admin: bool
) -> tuple[list[dict[str, Any]], str]:
    """Open follow-ups from every incident's post-mortem, oldest due first, each with Done."""
    scope = t("actions.all.scope_admin" if admin else "actions.all.scope_mine", locale)
    title = t("actions.all.header", locale, scope=scope)
    if not rows:
        text = t("actions.all.none", locale)
        return [section(f"*{title}*\n{text}")], text
    overdue = [item for _, item in rows if item.due_at and item.due_at < now]
    summary = t(
        "actions.all.summary",
        locale,
        open=len(rows),
        overdue=len(overdue),
        policy=sum(1 for _, i in rows if i.category == "policy"),
        training=sum(1 for _, i in rows if i.category == "training"),
    )
    blocks: list[dict[str, Any]] = [section(f"*{title}*"), context(summary)]
    for key, item in rows[:LIST_MAX]:
        late = f" {t('actions.all.overdue', locale)}" if item.due_at and item.due_at < now else ""
        blocks.append(
            section(
                f"*{key}* · {action_line(item, locale)}{late}",
                accessory=button(
                    t("records.actions.done_button", locale), ActionId.ACTION_DONE, str(item.id)
                ),
            )
        )
    if len(rows) > LIST_MAX:
        blocks.append(context(t("records.actions.more", locale, count=len(rows) - LIST_MAX)))
    return blocks[:50], title


# The guard's private word to the author ---------------------------------------------------------


def findings_text(findings: tuple[Finding, ...] | list[Finding], locale: str) -> str:
    kinds = list(dict.fromkeys(f.kind for f in findings))
    return ", ".join(t(f"records.redacted.kind.{k}", locale) for k in kinds if k in LABELS)


def redaction_notice(findings: tuple[Finding, ...], what: str, key: str, locale: str) -> str:
    return t(
        "records.redacted.notice",
        locale,
        found=findings_text(findings, locale),
        what=t(f"records.what.{what}", locale),
        key=key,
    )
