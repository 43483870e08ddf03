"""The `/breach facts` form and the parsing of its submission: pure Block Kit builders.

Jurisdictions and data categories are the regimes file's; each yes / no / not-known fact the
regimes ask about is a radio input, opening with what the incident records.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from handlers.i18n import t
from handlers.ids import CallbackId
from handlers.render.common import input_block, input_value, option, plain, section, whole_number
from handlers.render.declare_modal import clock_start_hint
from handlers.render.regime_choices import categories_element, jurisdictions_element
from incident.declare import starts_to_ask
from incident.facts import FactsInput
from incident.regimes import Regimes
from storage.models import Incident

# The yes / no / not-known facts the form asks, in its order: block id → FactsInput field.
FLAGS: tuple[tuple[str, str], ...] = (
    ("encrypted", "encrypted"),
    ("exfiltration", "exfiltration_confirmed"),
    ("high_risk", "high_risk"),
    ("critical_infrastructure", "critical_infrastructure"),
    ("crime_suspected", "crime_suspected"),
    ("law_enforcement_investigating", "law_enforcement_investigating"),
    ("efile_credentials_stolen", "efile_credentials_stolen"),
    ("eu_main_establishment", "eu_main_establishment"),
    ("dfs_covered_entity", "dfs_covered_entity"),
    ("covered_financial_institution", "covered_financial_institution"),
    ("hipaa_business_associate", "hipaa_business_associate"),
    ("public_company_client", "public_company_client"),
)
# Flags whose question needs a word of explanation under it (facts.hint.<field>).
HINTED = frozenset(
    {
        "law_enforcement_investigating",
        "efile_credentials_stolen",
        "eu_main_establishment",
        "dfs_covered_entity",
        "covered_financial_institution",
        "hipaa_business_associate",
        "public_company_client",
    }
)
TIMES = ("aware_at", "determined_at")


def _tri_options(locale: str) -> list[dict[str, Any]]:
    return [
        option(t("declare.option.yes", locale), "yes"),
        option(t("declare.option.no", locale), "no"),
        option(t("declare.option.unknown", locale), "unknown"),
    ]


def _radio(block_id: str, field: str, value: bool | None, locale: str) -> dict[str, Any]:
    options = _tri_options(locale)
    return input_block(
        block_id,
        t(f"facts.field.{block_id}", locale),
        {
            "type": "radio_buttons",
            "options": options,
            "initial_option": options[0] if value is True else options[1] if value is False else options[2],
        },
        hint=t(f"facts.hint.{field}", locale) if field in HINTED else None,
    )


def _time(start: str, value: datetime | None, hint: str, locale: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "datetimepicker"}
    if value is not None:
        element["initial_date_time"] = int(value.timestamp())
    return input_block(start, t(f"facts.field.{start}", locale), element, hint=hint)


def facts_modal(incident: Incident, facts: FactsInput, regimes: Regimes, locale: str) -> dict[str, Any]:
    role_options = [
        option(t("declare.option.controller", locale), "controller"),
        option(t("declare.option.processor", locale), "processor"),
        option(t("declare.option.unknown", locale), "unknown"),
    ]
    people: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": False}
    if facts.people_affected is not None:
        people["initial_value"] = str(facts.people_affected)
    role_initial = next((o for o in role_options if o["value"] == facts.processor_role), role_options[2])
    # Whose clocks each legal start moves, for these jurisdictions (a generic word when none may).
    starts = starts_to_ask(regimes, facts.jurisdictions)
    hints = {
        "aware_at": clock_start_hint("aware_at", starts.get("aware_at"), locale)
        or t("facts.field.aware_hint", locale),
        "determined_at": clock_start_hint("determined_at", starts.get("determined_at"), locale)
        or t("facts.hint.determined_at", locale),
    }
    values = {field: getattr(facts, field) for _, field in FLAGS}
    blocks: list[dict[str, Any]] = [
        section(t("facts.modal.intro", locale, key=incident.key)),
        input_block("people_affected", t("facts.field.people_affected", locale), people),
        input_block(
            "data_categories",
            t("facts.field.data_categories", locale),
            categories_element(
                regimes, locale, t("forms.placeholder.data_categories", locale), facts.data_categories
            ),
        ),
        input_block(
            "jurisdictions",
            t("facts.field.jurisdictions", locale),
            jurisdictions_element(
                regimes, locale, t("forms.placeholder.jurisdictions", locale), facts.jurisdictions
            ),
        ),
        *(_radio(block, field, values[field], locale) for block, field in FLAGS[:2]),
        input_block(
            "processor_role",
            t("facts.field.processor_role", locale),
            {"type": "radio_buttons", "options": role_options, "initial_option": role_initial},
        ),
        *(_time(start, getattr(facts, start), hints[start], locale) for start in TIMES),
        *(_radio(block, field, values[field], locale) for block, field in FLAGS[2:]),
    ]
    return {
        "type": "modal",
        "callback_id": CallbackId.FACTS,
        "title": plain(t("facts.modal.title", locale), 24),
        "submit": plain(t("facts.modal.submit", locale), 24),
        "close": plain(t("facts.modal.cancel", locale), 24),
        "private_metadata": json.dumps({"incident_id": incident.id, "locale": locale}),
        "blocks": blocks,
    }


def _tri(values: dict[str, Any], block_id: str) -> bool | None:
    selected = (input_value(values, block_id).get("selected_option") or {}).get("value")
    return {"yes": True, "no": False}.get(selected or "")


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def parse_facts(view: dict[str, Any]) -> tuple[object, FactsInput, dict[str, str]]:
    """The incident id, the submitted facts, and parse errors (block id → message key)."""
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    people = whole_number(values, "people_affected", errors, "facts.error.not_a_number")
    # Keyword arguments of FactsInput by field name: the clock starts, then the yes/no/unknown facts.
    times: dict[str, Any] = {}
    for start in TIMES:
        stamp = input_value(values, start).get("selected_date_time")
        times[start] = datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None
    flags: dict[str, Any] = {field: _tri(values, block) for block, field in FLAGS}
    role = (input_value(values, "processor_role").get("selected_option") or {}).get("value")
    inp = FactsInput(
        people_affected=people,
        data_categories=tuple(
            o["value"] for o in input_value(values, "data_categories").get("selected_options") or []
        ),
        jurisdictions=tuple(
            o["value"] for o in input_value(values, "jurisdictions").get("selected_options") or []
        ),
        processor_role=role if role in ("controller", "processor") else None,
        **times,
        **flags,
    )
    return _meta(view).get("incident_id"), inp, errors
