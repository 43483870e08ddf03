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
    MESSAGE_BLOCKS_MAX,
    VALUE,
    button,
    clip,
    context,
    escape,
    input_block,
    modal,
    option,
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
    return modal(
        callback_id,
        title=title,
        submit=submit,
        close=t("records.modal.cancel", locale),
        metadata={"incident": incident.id},
        blocks=[section(t("records.modal.context", locale, key=incident.key)), *blocks],
    )


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


def _at(value: object) -> datetime | None:
    """A time from an event's data: stored as a datetime, read back as its ISO text."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def decision_posted(
    actor: str, data: dict[str, Any], seq: int, locale: str
) -> tuple[list[dict[str, Any]], str]:
    """The channel's line about a decision event. A privileged one's event carries no content, and
    neither does its line: only who took it and who approved it."""
    approver = data.get("approver")
    if data.get("privileged"):
        text = t("records.decision.posted_privileged", locale, user=user(actor), approver=user(approver))
        return [section(text), _seq(seq, locale)], text
    head = t("records.decision.posted", locale, user=user(actor))
    lines = [head, f"*{escape(clip(data.get('text') or '', 1000))}*"]
    lines.append(
        t("records.decision.line.rationale", locale, text=escape(clip(data.get("rationale") or "", 800)))
    )
    if data.get("alternatives"):
        lines.append(
            t("records.decision.line.alternatives", locale, text=escape(clip(data["alternatives"], 600)))
        )
    if approver:
        lines.append(t("records.decision.line.approver", locale, user=user(approver)))
    return [section("\n".join(lines)), _seq(seq, locale)], head


def evidence_posted(
    actor: str, data: dict[str, Any], seq: int, locale: str
) -> tuple[list[dict[str, Any]], str]:
    head = t("records.evidence.posted", locale, user=user(actor))
    lines = [
        head,
        f"*{escape(clip(data.get('description') or '', 1000))}*",
        t("records.evidence.line.location", locale, text=escape(clip(data.get("location") or "", 500))),
        t("records.evidence.line.sha256", locale, sha=data.get("sha256") or "—"),
        t(
            "records.evidence.line.custody",
            locale,
            user=user(data.get("custodian")),
            at=when(_at(data.get("collected_at"))),
        ),
    ]
    return [section("\n".join(lines)), _seq(seq, locale)], head


def _action_line(text: str, category: str, owner: str | None, due_at: datetime | None, locale: str) -> str:
    parts = [
        escape(clip(text, 500)),
        t(f"records.category.{category}", locale) if category in ACTION_CATEGORIES else category,
        t("records.action.owner", locale, user=user(owner)),
    ]
    if due_at:
        parts.append(t("records.action.due", locale, date=when(due_at, "{date_short}")))
    return " · ".join(parts)


def action_line(item: ActionItem, locale: str) -> str:
    return _action_line(item.text, item.category, item.owner, item.due_at, locale)


def action_posted(
    actor: str, data: dict[str, Any], seq: int, locale: str
) -> tuple[list[dict[str, Any]], str]:
    head = t("records.action.posted", locale, user=user(actor))
    line = _action_line(
        data.get("text") or "",
        data.get("category") or "other",
        data.get("owner"),
        _at(data.get("due_at")),
        locale,
    )
    return [section(f"{head}\n{line}"), _seq(seq, locale)], head


def action_done_posted(actor: str, text: str, locale: str) -> tuple[list[dict[str, Any]], str]:
    line = t("records.action.done_posted", locale, user=user(actor), text=escape(clip(text, 500)))
    return [section(line)], line


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
    return blocks[:MESSAGE_BLOCKS_MAX], title


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
    return blocks[:MESSAGE_BLOCKS_MAX], title


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
