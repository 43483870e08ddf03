"""The declare modal and the parsing of its submission."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from handlers.i18n import t
from handlers.ids import CallbackId
from handlers.render.common import clip, input_block, input_value, mrkdwn, option, plain, whole_number
from handlers.render.regime_choices import categories_element, jurisdictions_element
from incident.declare import ASKED_STARTS, SEVERITIES, DeclareInput, starts_to_ask
from incident.limits import Field, limit
from incident.playbook import Playbook
from incident.regimes import Regimes
from incident.text import Text

# The modal's keys a views.update sends back (the payload's view carries Slack's own besides).
_MODAL_KEYS = ("type", "callback_id", "title", "submit", "close", "private_metadata", "blocks")


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
    regimes: Regimes,
    *,
    title: str = "",
    drill: bool = False,
    origin_channel: str = "",
    initial: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``initial``: block id → value the form opens with (a drill scenario's facts).

    Jurisdictions and data categories are the regimes file's; choosing jurisdictions updates the
    form (``with_clock_starts``) to ask for the legal clock starts that may then apply."""
    severity_options = [option(s, s) for s in SEVERITIES]
    playbook_options = [option(pb.title.get(locale), pid) for pid, pb in sorted(playbooks.items())]
    default_pb = next(o for o in playbook_options if o["value"] == default_playbook)
    drill_option = option(t("declare.option.drill", locale), "drill")
    given = initial or {}
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
            categories_element(
                regimes,
                locale,
                t("forms.placeholder.data_categories", locale),
                given.get("data_categories") or (),
            ),
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
            jurisdictions_element(
                regimes,
                locale,
                t("forms.placeholder.jurisdictions", locale),
                given.get("jurisdictions") or (),
            ),
            dispatch=True,
            hint=t("forms.hint.jurisdictions", locale),
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
    chosen = list(given.get("jurisdictions") or [])
    return {
        "type": "modal",
        "callback_id": CallbackId.DECLARE,
        "title": plain(t("declare.modal.title_drill" if drill else "declare.modal.title", locale), 24),
        "submit": plain(t("declare.modal.submit", locale), 24),
        "close": plain(t("declare.modal.cancel", locale), 24),
        "private_metadata": json.dumps({"origin": origin_channel, "locale": locale}),
        "blocks": _with_starts(blocks, starts_to_ask(regimes, chosen), locale),
    }


def clock_start_hint(start: str, regimes: tuple[Text, ...] | None, locale: str) -> str:
    """Whose clocks run from ``start`` (the names of their regimes), and that until it is set they
    run from discovery, assumed; "" when no regime is named."""
    if not regimes:
        return ""
    names = t("dayone.list_separator", locale).join(dict.fromkeys(r.get(locale) for r in regimes))
    return clip(t(f"forms.hint.{start}", locale, regimes=names), 2000)


def _start_input(start: str, regimes: tuple[Text, ...], locale: str) -> dict[str, Any]:
    """The date-time a clock legally starts from, empty."""
    return input_block(
        start,
        t(f"forms.field.{start}", locale),
        {"type": "datetimepicker"},
        hint=clock_start_hint(start, regimes, locale) or None,
    )


def _with_starts(
    blocks: list[dict[str, Any]], starts: Mapping[str, tuple[Text, ...]], locale: str
) -> list[dict[str, Any]]:
    """``blocks`` with an input for each of ``starts`` right after the discovery time, and none
    for a start no longer asked for. An input already there is kept as it is (Slack keeps what
    was typed in an input whose block stays)."""
    present = {b.get("block_id"): b for b in blocks if b.get("block_id") in ASKED_STARTS}
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") in ASKED_STARTS:
            continue
        out.append(block)
        if block.get("block_id") == "discovered_at":
            out += [present.get(s) or _start_input(s, starts[s], locale) for s in ASKED_STARTS if s in starts]
    return out


def with_clock_starts(
    view: Mapping[str, Any], regimes: Regimes, jurisdictions: list[str]
) -> dict[str, Any] | None:
    """The open declare form (``view`` as a payload carries it) updated for newly chosen
    ``jurisdictions``: the clock-start inputs they call for added, those no longer called for
    removed. None when the form already asks exactly those."""
    blocks = list(view.get("blocks") or [])
    starts = starts_to_ask(regimes, jurisdictions)
    if [b.get("block_id") for b in blocks if b.get("block_id") in ASKED_STARTS] == list(starts):
        return None
    locale = str(_metadata(view).get("locale") or "en")
    modal = {key: view[key] for key in _MODAL_KEYS if key in view}
    modal["blocks"] = _with_starts(blocks, starts, locale)
    return modal


def _metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _prefill(element: dict[str, Any], value: Any) -> None:
    """Set an input's initial value the way Slack wants it for that element type."""
    kind = element["type"]
    options = element.get("options") or []
    if kind in ("static_select", "radio_buttons"):
        chosen = next((o for o in options if o["value"] == value), None)
        if chosen:
            element["initial_option"] = chosen
    elif kind == "multi_external_select":
        return  # built with its choices: the options it would list are not in the form
    elif kind in ("checkboxes", "multi_static_select"):
        options = options + [o for g in element.get("option_groups") or [] for o in g["options"]]
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


def _when(values: dict[str, Any], block_id: str) -> datetime | None:
    stamp = input_value(values, block_id).get("selected_date_time")
    return datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None


def parse_declare(view: dict[str, Any]) -> tuple[DeclareInput, dict[str, str]]:
    """The submitted view as domain input, plus parse errors (block id → message key)."""
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    people = whole_number(values, "people_affected", errors, "declare.error.not_a_number")
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
        discovered_at=_when(values, "discovered_at"),
        aware_at=_when(values, "aware_at"),
        determined_at=_when(values, "determined_at"),
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
    "aware_at": "aware_at",
    "determined_at": "determined_at",
    "playbook": "playbook",
    "data_categories": "data_categories",
    "jurisdictions": "jurisdictions",
}
