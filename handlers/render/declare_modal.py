"""The declare modal and the parsing of its submission."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from handlers.i18n import t
from handlers.ids import CallbackId
from handlers.render.common import clip, input_block, input_value, mrkdwn, option, plain
from incident.declare import DATA_CATEGORIES, JURISDICTIONS, SEVERITIES, DeclareInput
from incident.limits import Field, limit
from incident.playbook import Playbook


def _tristate(locale: str) -> list[dict[str, Any]]:
    return [
        option(t("declare.option.yes", locale), "yes"),
        option(t("declare.option.no", locale), "no"),
        option(t("declare.option.unknown", locale), "unknown"),
    ]


def declare_modal(
    locale: str,
    playbooks: dict[str, Playbook],
    default_playbook: str,
    severity_help: str,
    *,
    title: str = "",
    drill: bool = False,
    origin_channel: str = "",
    initial: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``initial``: block id → value the form opens with (a drill scenario's facts)."""
    severity_options = [option(s, s) for s in SEVERITIES]
    playbook_options = [option(pb.title.get(locale), pid) for pid, pb in sorted(playbooks.items())]
    default_pb = next(o for o in playbook_options if o["value"] == default_playbook)
    drill_option = option(t("declare.option.drill", locale), "drill")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(t("declare.modal.intro", locale))},
        input_block(
            "title",
            t("declare.field.title", locale),
            {
                "type": "plain_text_input",
                "max_length": limit(Field.TITLE),
                "placeholder": plain(t("declare.field.title_placeholder", locale)),
                **({"initial_value": clip(title, limit(Field.TITLE))} if title else {}),
            },
            optional=False,
        ),
        input_block(
            "summary",
            t("declare.field.summary", locale),
            {"type": "plain_text_input", "multiline": True, "max_length": limit(Field.SUMMARY)},
        ),
        input_block(
            "severity",
            t("declare.field.severity", locale),
            {"type": "static_select", "options": severity_options, "initial_option": severity_options[2]},
            optional=False,
            hint=clip(severity_help, 2000),
        ),
        input_block(
            "data_categories",
            t("declare.field.data_categories", locale),
            {
                "type": "checkboxes",
                "options": [option(t(f"category.{c}", locale), c) for c in DATA_CATEGORIES],
            },
        ),
        input_block(
            "people_affected",
            t("declare.field.people_affected", locale),
            {"type": "number_input", "is_decimal_allowed": False},
        ),
        input_block(
            "affected_clients",
            t("declare.field.affected_clients", locale),
            {"type": "plain_text_input", "multiline": True, "max_length": limit(Field.CLIENTS)},
        ),
        input_block(
            "jurisdictions",
            t("declare.field.jurisdictions", locale),
            {
                "type": "multi_static_select",
                "options": [option(t(f"jurisdiction.{j}", locale), j) for j in JURISDICTIONS],
            },
        ),
        input_block(
            "encrypted",
            t("declare.field.encrypted", locale),
            {"type": "radio_buttons", "options": _tristate(locale)},
        ),
        input_block(
            "exfiltration",
            t("declare.field.exfiltration", locale),
            {"type": "radio_buttons", "options": _tristate(locale)},
        ),
        input_block(
            "processor_role",
            t("declare.field.processor_role", locale),
            {
                "type": "radio_buttons",
                "options": [
                    option(t("declare.option.controller", locale), "controller"),
                    option(t("declare.option.processor", locale), "processor"),
                    option(t("declare.option.unknown", locale), "unknown"),
                ],
            },
        ),
        input_block(
            "discovered_at",
            t("declare.field.discovered_at", locale),
            {"type": "datetimepicker"},
            hint=t("declare.field.discovered_hint", locale),
        ),
        input_block(
            "playbook",
            t("declare.field.playbook", locale),
            {"type": "static_select", "options": playbook_options, "initial_option": default_pb},
            optional=False,
        ),
        input_block(
            "drill",
            t("declare.field.drill", locale),
            {
                "type": "checkboxes",
                "options": [drill_option],
                **({"initial_options": [drill_option]} if drill else {}),
            },
        ),
    ]
    for block in blocks:
        if initial and block.get("block_id") in initial:
            _prefill(block["element"], initial[block["block_id"]])
    return {
        "type": "modal",
        "callback_id": CallbackId.DECLARE,
        "title": plain(t("declare.modal.title_drill" if drill else "declare.modal.title", locale), 24),
        "submit": plain(t("declare.modal.submit", locale), 24),
        "close": plain(t("declare.modal.cancel", locale), 24),
        "private_metadata": json.dumps({"origin": origin_channel}),
        "blocks": blocks,
    }


def _prefill(element: dict[str, Any], value: Any) -> None:
    """Set an input's initial value the way Slack wants it for that element type."""
    kind = element["type"]
    options = element.get("options") or []
    if kind in ("static_select", "radio_buttons"):
        chosen = next((o for o in options if o["value"] == value), None)
        if chosen:
            element["initial_option"] = chosen
    elif kind in ("checkboxes", "multi_static_select"):
        chosen_many = [o for o in options if o["value"] in value]
        if chosen_many:
            element["initial_options"] = chosen_many
    elif kind == "datetimepicker":
        element["initial_date_time"] = int(value)
    elif value not in (None, "", []):
        text = "\n".join(value) if isinstance(value, list | tuple) else str(value)
        element["initial_value"] = clip(text, element.get("max_length", 3000))


def _tri(values: dict[str, Any], block_id: str) -> bool | None:
    selected = (input_value(values, block_id).get("selected_option") or {}).get("value")
    return {"yes": True, "no": False}.get(selected or "")


def parse_declare(view: dict[str, Any]) -> tuple[DeclareInput, dict[str, str]]:
    """The submitted view as domain input, plus parse errors (block id → message key)."""
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    people: int | None = None
    raw_people = input_value(values, "people_affected").get("value")
    if raw_people not in (None, ""):
        try:
            people = int(str(raw_people).strip())
        except ValueError:
            errors["people_affected"] = "declare.error.not_a_number"
    discovered: datetime | None = None
    stamp = input_value(values, "discovered_at").get("selected_date_time")
    if stamp:
        discovered = datetime.fromtimestamp(int(stamp), tz=UTC)
    role = (input_value(values, "processor_role").get("selected_option") or {}).get("value")
    clients = input_value(values, "affected_clients").get("value") or ""
    inp = DeclareInput(
        title=input_value(values, "title").get("value") or "",
        summary=input_value(values, "summary").get("value") or "",
        severity=(input_value(values, "severity").get("selected_option") or {}).get("value") or "",
        data_categories=[
            o["value"] for o in input_value(values, "data_categories").get("selected_options") or []
        ],
        people_affected=people,
        affected_clients=[c.strip() for c in clients.replace(",", "\n").splitlines() if c.strip()],
        jurisdictions=[
            o["value"] for o in input_value(values, "jurisdictions").get("selected_options") or []
        ],
        encrypted=_tri(values, "encrypted"),
        exfiltration_confirmed=_tri(values, "exfiltration"),
        processor_role=role if role in ("controller", "processor") else None,
        discovered_at=discovered,
        is_drill=bool(input_value(values, "drill").get("selected_options")),
        playbook_id=(input_value(values, "playbook").get("selected_option") or {}).get("value"),
        declare_token=view.get("id"),
    )
    return inp, errors


# Field names of DeclareInput validation → the block that shows the error.
FIELD_BLOCKS = {
    "title": "title",
    "severity": "severity",
    "people_affected": "people_affected",
    "discovered_at": "discovered_at",
    "aware_at": "discovered_at",
    "playbook": "playbook",
    "data_categories": "data_categories",
}
