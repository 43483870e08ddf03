"""The declare and facts forms offer what the regimes file lists, and ask for a clock's legal start
when a duty that may apply runs from it (issue 15: "the data decides", "a clock always runs")."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from handlers.render.facts_modal import FLAGS
from incident.facts import FactsInput
from incident.regimes import DEFAULT_REGIMES_PATH
from sandbox.workspace import OpenView
from storage.models import Incident
from tests.harness import Slack, over_socket_mode, running_bot

HOUR = 3600
GUAM = {"code": "US-GU", "name": {"zh-CN": "关岛", "en": "Guam"}}
GUAM_REGIME = {
    "id": "us-territory-gu",
    "name": {"zh-CN": "关岛数据泄露通知（测试）", "en": "Guam breach notice (test regime)"},
    "jurisdiction": "US-GU",
    "applies_when": {"fact": "jurisdictions", "includes": "US-GU"},
    "sources": [{"cite": "9 GCA §48.30 (added to a copy of the file by this test)"}],
    "obligations": [
        {
            "key": "residents",
            "recipient": {"zh-CN": "受影响的关岛居民", "en": "Affected Guam residents"},
            "recipient_kind": "individuals",
            "clock_start": "discovered_at",
            "deadline": "30d",
        }
    ],
}


def block(view: OpenView, block_id: str) -> dict[str, Any] | None:
    return next((b for b in view.data["blocks"] if b.get("block_id") == block_id), None)


def shown(options: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(text, value) of each option, as a person reads and the bot receives it."""
    return [(o["text"]["text"], o["value"]) for o in options]


def block_ids(view: OpenView) -> list[str]:
    return [b.get("block_id", "") for b in view.data["blocks"]]


def regimes_copy(tmp_path: Path, change: Any) -> Path:
    """A copy of the packaged regimes file, changed by `change(data)`, for the bot to load."""
    data = yaml.safe_load(DEFAULT_REGIMES_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "regimes.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def with_guam(data: dict[str, Any]) -> None:
    us = next(g for g in data["jurisdictions"] if g["group"]["en"] == "United States")
    us["codes"].append(GUAM)
    data["regimes"].append(GUAM_REGIME)


async def open_declare(
    slack: Slack, who: str = "alice", command: str = "declare Payroll files exposed"
) -> OpenView:
    person = slack.person(who)
    await person.command(command, channel="C0GENERAL1")
    await slack.settle()
    return person.modal()


async def choose(slack: Slack, jurisdictions: list[str], who: str = "alice") -> OpenView:
    person = slack.person(who)
    await person.select(person.modal(), "jurisdictions", jurisdictions)
    await slack.settle()
    return person.modal()


def forged_submission(slack: Slack, view: OpenView, values: dict[str, Any], **selected: list[str]) -> dict:
    """The declare form's submission as Slack would send it, with codes the form never offered
    put into the named menus (a forged or stale payload)."""
    alice = slack.alice
    state = alice._state_values(view, values)
    for block_id, codes in selected.items():
        (action_id,) = state[block_id]
        state[block_id][action_id]["selected_options"] = [
            {"text": {"type": "plain_text", "text": code}, "value": code} for code in codes
        ]
    return {
        "type": "view_submission",
        "team": alice._team(),
        "user": alice._user_obj(),
        "api_app_id": alice.ws.app_id,
        "token": alice.sandbox_token,
        "trigger_id": alice.ws.issue_trigger(alice.id),
        "view": {**view.data, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
    }


# The options come from the file -----------------------------------------------------------------


async def test_the_form_offers_the_files_jurisdictions_grouped_and_its_categories(slack: Slack) -> None:
    regimes = slack.rt.deps.config.regimes
    modal = await open_declare(slack)
    jurisdictions = block(modal, "jurisdictions")
    assert jurisdictions is not None and jurisdictions.get("dispatch_action") is True
    element = jurisdictions["element"]
    assert element["type"] == "multi_static_select"
    groups = element["option_groups"]
    assert [g["label"]["text"] for g in groups] == [g.name.en for g in regimes.jurisdictions]
    offered = [o["value"] for g in groups for o in g["options"]]
    assert offered == list(regimes.jurisdiction_codes())
    europe = next(g for g in groups if g["label"]["text"] == "Europe")
    assert ("EU / EEA", "EU") in shown(europe["options"])
    categories = block(modal, "data_categories")["element"]  # type: ignore[index]
    assert [o["value"] for o in categories["options"]] == list(regimes.category_keys())
    assert [o["text"]["text"] for o in categories["options"]] == [c.name.en for c in regimes.categories]
    # Nothing chosen yet: no clock start is asked for.
    assert "aware_at" not in block_ids(modal) and "determined_at" not in block_ids(modal)
    assert not slack.violations()


async def test_the_chinese_form_names_groups_and_places_in_chinese(db_url: str) -> None:
    async with running_bot(db_url, locale="zh-CN") as slack:
        modal = await open_declare(slack)
        groups = block(modal, "jurisdictions")["element"]["option_groups"]  # type: ignore[index]
        europe = next(g for g in groups if g["label"]["text"] == "欧洲")
        assert "欧盟 / 欧洲经济区" in [o["text"]["text"] for o in europe["options"]]
        modal = await choose(slack, ["欧盟 / 欧洲经济区"])
        aware = block(modal, "aware_at")
        assert aware is not None
        assert aware["label"]["text"] == "本所何时确认知悉发生了数据泄露？"
        assert "GDPR" in aware["hint"]["text"] and "假定起点" in aware["hint"]["text"]


# Asking for awareness ------------------------------------------------------------------------------


async def test_choosing_the_eu_asks_when_the_firm_became_aware_and_records_it(slack: Slack) -> None:
    await open_declare(slack)
    modal = await choose(slack, ["EU / EEA"])
    ids = block_ids(modal)
    assert ids.index("aware_at") == ids.index("discovered_at") + 1
    aware = block(modal, "aware_at")
    assert aware is not None and aware["element"]["type"] == "datetimepicker"
    assert "initial_date_time" not in aware["element"]  # empty until someone knows
    hint = aware["hint"]["text"]
    assert "GDPR Art. 33" in hint and "discovery time (assumed start)" in hint
    update = slack.sb.calls("views.update")[-1]
    assert update.ok and update.params.get("hash")  # updated only the form Slack last showed
    aware_at = int(slack.rt.clock.now().timestamp()) - 2 * HOUR
    delivery = await slack.alice.submit(
        {
            "Severity": "SEV2",
            "Data categories": ["payroll"],
            "Our role for this data": "Controller (we decide why the data is processed)",
            "Was the data encrypted (key safe)?": "No",
            "aware_at": aware_at,
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()
    incident = await slack.incident()
    assert incident.jurisdictions == ["EU"]  # picked before, kept by the form
    assert incident.aware_at is not None and int(incident.aware_at.timestamp()) == aware_at
    declared = next(e for e in await slack.timeline(incident) if e.kind == "declared")
    assert declared.data["aware_at"] is not None
    assert int(_at(declared.data["aware_at"])) == aware_at
    # The GDPR clock runs from the awareness time given, not from an assumed start.
    await slack.dave.command("obligations", channel=incident.channel_id)
    await slack.settle()
    gdpr = slack.dave.ephemerals[-1].text_of("GDPR Art. 33")
    assert "left" in gdpr and "assumed start" not in gdpr
    assert not slack.violations()


def _at(value: Any) -> float:
    return datetime.fromisoformat(str(value)).timestamp()


async def test_no_awareness_time_is_asked_when_only_china_is_chosen(slack: Slack) -> None:
    await open_declare(slack)
    updates = len(slack.sb.calls("views.update"))
    modal = await choose(slack, ["China"])
    assert "aware_at" not in block_ids(modal) and "determined_at" not in block_ids(modal)
    assert len(slack.sb.calls("views.update")) == updates  # nothing to change, nothing sent
    # EU added: asked; EU taken away again: the question goes with it.
    modal = await choose(slack, ["China", "EU / EEA"])
    assert "aware_at" in block_ids(modal)
    modal = await choose(slack, ["China"])
    assert "aware_at" not in block_ids(modal)
    delivery = await slack.alice.submit({"Severity": "SEV3"})
    assert not delivery.errors, delivery.errors
    await slack.settle()
    incident = await slack.incident()
    assert incident.jurisdictions == ["CN"] and incident.aware_at is None
    assert not slack.violations()


async def test_a_scenario_that_names_the_eu_opens_with_the_awareness_question(slack: Slack) -> None:
    modal = await open_declare(slack, command="drill portal-credential-stuffing")
    assert {o["value"] for o in block(modal, "jurisdictions")["element"]["initial_options"]} == {"EU", "CN"}  # type: ignore[index]
    assert "aware_at" in block_ids(modal)


async def test_an_awareness_time_in_the_future_is_refused_on_its_field(slack: Slack) -> None:
    await open_declare(slack)
    await choose(slack, ["EU / EEA"])
    later = int(slack.rt.clock.now().timestamp()) + 5 * HOUR
    delivery = await slack.alice.submit({"Severity": "SEV2", "aware_at": later})
    assert set(delivery.errors) == {"aware_at"}
    assert await slack.incidents() == []


# What must be refused --------------------------------------------------------------------------------


async def test_an_unknown_jurisdiction_or_category_is_refused_with_a_field_error(slack: Slack) -> None:
    view = await open_declare(slack)
    payload = forged_submission(slack, view, {"Severity": "SEV2"}, jurisdictions=["EU", "US-ZZ"])
    delivery = await slack.sb.deliver("interactive", payload)
    assert delivery.errors == {"jurisdictions": "Unknown jurisdiction: choose one from the list."}
    payload = forged_submission(slack, view, {"Severity": "SEV2"}, data_categories=["horoscopes"])
    delivery = await slack.sb.deliver("interactive", payload)
    assert set(delivery.errors) == {"data_categories"}
    await slack.settle()
    assert await slack.incidents() == []


# The file decides ------------------------------------------------------------------------------------


async def test_a_regime_added_to_a_copy_of_the_file_is_selectable_at_once_with_its_clock(
    db_url: str, tmp_path: Path
) -> None:
    async with running_bot(db_url, regimes_file=regimes_copy(tmp_path, with_guam)) as slack:
        modal = await open_declare(slack, command="declare Guam client payroll exposed")
        groups = block(modal, "jurisdictions")["element"]["option_groups"]  # type: ignore[index]
        us = next(g for g in groups if g["label"]["text"] == "United States")
        assert ("Guam", "US-GU") in shown(us["options"])
        delivery = await slack.alice.submit(
            {"Severity": "SEV2", "Data categories": ["payroll"], "Jurisdictions": ["Guam"]}
        )
        assert not delivery.errors, delivery.errors
        await slack.settle()
        incident = await slack.incident()
        assert incident.jurisdictions == ["US-GU"]
        card = slack.channel(incident.channel_id).pins[0]
        line = next(x for x in card.all_text.splitlines() if "Guam breach notice (test regime)" in x)
        assert "left" in line and "assumed" not in line  # runs from discovery, its legal start
        # The facts form offers it too, and keeps it when saved.
        await slack.heidi.command("facts", channel=incident.channel_id)
        await slack.settle()
        facts = slack.heidi.modal()
        chosen = block(facts, "jurisdictions")["element"]["initial_options"]  # type: ignore[index]
        assert shown(chosen) == [("Guam", "US-GU")]
        assert not slack.violations()


def with_crypto_keys(data: dict[str, Any]) -> None:
    data["categories"].append(
        {"key": "wallet_keys", "name": {"zh-CN": "加密钱包私钥", "en": "crypto wallet keys"}}
    )


async def test_a_category_added_to_a_copy_of_the_file_is_named_in_the_post_mortem(
    db_url: str, tmp_path: Path
) -> None:
    """The post-mortem names the data categories as the file the bot runs with does, not as the
    packaged one (which does not know a firm's own)."""
    from handlers.postmortem import build_postmortem
    from incident.postmortem import render

    async with running_bot(db_url, regimes_file=regimes_copy(tmp_path, with_crypto_keys)) as slack:
        await open_declare(slack)
        values = {"Severity": "SEV2", "Data categories": ["crypto wallet keys", "payroll"]}
        delivery = await slack.alice.submit(values)
        assert not delivery.errors, delivery.errors
        await slack.settle()
        incident = await slack.incident()
        assert sorted(incident.data_categories) == ["payroll", "wallet_keys"]
        assert incident.id is not None
        markdown = render(await build_postmortem(slack.rt.deps, incident.id), "md")
        assert "crypto wallet keys" in markdown and "wallet_keys" not in markdown


def with_guam_from_determination(data: dict[str, Any]) -> None:
    """Guam's clock runs from the determination that a breach occurred (as Colorado's does)."""
    with_guam(data)
    data["regimes"][-1]["obligations"][0]["clock_start"] = "determined_at"


async def test_a_duty_running_from_the_determination_asks_for_it(db_url: str, tmp_path: Path) -> None:
    path = regimes_copy(tmp_path, with_guam_from_determination)
    async with running_bot(db_url, regimes_file=path) as slack:
        await open_declare(slack)
        modal = await choose(slack, ["Guam"])
        assert "determined_at" in block_ids(modal) and "aware_at" not in block_ids(modal)
        hint = block(modal, "determined_at")["hint"]["text"]  # type: ignore[index]
        assert "Guam breach notice (test regime)" in hint and "assumed start" in hint
        # Before it is known, the clock still runs: from discovery, marked assumed.
        delivery = await slack.alice.submit({"Severity": "SEV2"})
        assert not delivery.errors, delivery.errors
        await slack.settle()
        incident = await slack.incident()
        assert incident.determined_at is None
        card = slack.channel(incident.channel_id).pins[0].all_text
        line = next(x for x in card.splitlines() if "Guam breach notice (test regime)" in x)
        assert "left" in line and "assumed start" in line
        # Set later in the facts form, the clock moves to it.
        determined = int(slack.rt.clock.now().timestamp()) - HOUR
        await slack.heidi.command("facts", channel=incident.channel_id)
        await slack.settle()
        assert "Guam breach notice" in block(slack.heidi.modal(), "determined_at")["hint"]["text"]  # type: ignore[index]
        delivery = await slack.heidi.submit({"determined_at": determined})
        assert not delivery.errors, delivery.errors
        await slack.settle()
        assert int((await slack.incident()).determined_at.timestamp()) == determined  # type: ignore[union-attr]
        card = slack.channel(incident.channel_id).pins[0].all_text
        line = next(x for x in card.splitlines() if "Guam breach notice (test regime)" in x)
        assert "left" in line and "assumed" not in line
        assert not slack.violations()


def with_many_places(data: dict[str, Any]) -> None:
    """120 more codes: past Slack's 100 options a menu must load its options as one types."""
    codes = [
        {"code": f"QZ-{i:03d}", "name": {"zh-CN": f"测试地{i}", "en": f"Testland {i}"}} for i in range(120)
    ]
    data["jurisdictions"].insert(-1, {"group": {"zh-CN": "测试", "en": "Testlands"}, "codes": codes})
    with_guam(data)


async def test_past_100_places_the_menu_loads_them_as_one_types(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, regimes_file=regimes_copy(tmp_path, with_many_places)) as slack:
        modal = await open_declare(slack)
        element = block(modal, "jurisdictions")["element"]  # type: ignore[index]
        assert element["type"] == "multi_external_select" and "option_groups" not in element
        alice = slack.alice
        found = await alice.suggest(modal, "jurisdictions", "gua")
        assert [o["value"] for o in found] == ["US-GU"]
        assert [o["value"] for o in await alice.suggest(modal, "jurisdictions", "eea")] == ["EU"]
        # A group's heading finds its places; a long list stops at Slack's 100.
        assert len(await alice.suggest(modal, "jurisdictions", "testlands")) == 100
        assert await alice.suggest(modal, "jurisdictions", "atlantis") == []
        # Chosen by typing, the EU still asks for the awareness time.
        modal = await choose(slack, ["EU / EEA"])
        assert "aware_at" in block_ids(modal)
        delivery = await alice.submit({"Severity": "SEV2", "Jurisdictions": ["EU / EEA", "Guam"]})
        assert not delivery.errors, delivery.errors
        await slack.settle()
        assert (await slack.incident()).jurisdictions == ["EU", "US-GU"]
        assert not slack.violations()


async def test_a_scenario_prefills_the_menu_that_loads_as_one_types(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, regimes_file=regimes_copy(tmp_path, with_many_places)) as slack:
        modal = await open_declare(slack, command="drill portal-credential-stuffing")
        element = block(modal, "jurisdictions")["element"]  # type: ignore[index]
        assert element["type"] == "multi_external_select"
        assert sorted(o["value"] for o in element["initial_options"]) == ["CN", "EU"]
        assert "aware_at" in block_ids(modal)
        delivery = await slack.alice.submit({})
        assert not delivery.errors, delivery.errors
        await slack.settle()
        assert (await slack.incident()).jurisdictions == ["CN", "EU"]
        assert not slack.violations()


# The facts form -------------------------------------------------------------------------------------

NEW_FLAGS = {
    "law_enforcement_investigating": "Law enforcement investigating?",
    "efile_credentials_stolen": "E-file or tax-software credentials stolen?",
    "eu_main_establishment": "Main establishment in the EU?",
    "dfs_covered_entity": "NY DFS-regulated covered entity?",
    "covered_financial_institution": "Covered by the FTC Safeguards Rule?",
    "hipaa_business_associate": "HIPAA business associate?",
    "public_company_client": "Affected client a US public company?",
}


def test_every_yes_no_fact_the_form_saves_is_one_it_shows() -> None:
    """The facts form saves every field of FactsInput: a yes / no fact it did not show would be
    saved back as unknown, erasing what someone recorded."""
    yes_no = {f.name for f in fields(FactsInput) if f.type == "bool | None"}
    assert yes_no == {field for _, field in FLAGS}


async def declare_eu(slack: Slack) -> Incident:
    await open_declare(slack)
    delivery = await slack.alice.submit({"Severity": "SEV2", "Jurisdictions": ["EU / EEA", "China"]})
    assert not delivery.errors, delivery.errors
    await slack.settle()
    return await slack.incident()


async def test_the_facts_form_asks_the_new_facts_and_records_them(slack: Slack) -> None:
    incident = await declare_eu(slack)
    await slack.heidi.command("facts", channel=incident.channel_id)
    await slack.settle()
    form = slack.heidi.modal()
    for block_id, label in NEW_FLAGS.items():
        found = block(form, block_id)
        assert found is not None and found["label"]["text"] == label, block_id
        assert [o["value"] for o in found["element"]["options"]] == ["yes", "no", "unknown"]
        assert found["element"]["initial_option"]["value"] == "unknown"
        assert found.get("hint"), block_id
    determined = block(form, "determined_at")
    assert determined is not None and determined["element"]["type"] == "datetimepicker"
    assert "GDPR Art. 33" in block(form, "aware_at")["hint"]["text"]  # type: ignore[index]
    assert "jurisdictions" in block_ids(form) and json.loads(form.data["private_metadata"])["incident_id"]
    determined_at = int(slack.rt.clock.now().timestamp()) - HOUR
    delivery = await slack.heidi.submit(
        {
            "eu_main_establishment": "No",
            "dfs_covered_entity": "Yes",
            "law_enforcement_investigating": "Yes",
            "determined_at": determined_at,
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()
    incident = await slack.incident()
    assert incident.facts["eu_main_establishment"] is False
    assert incident.facts["dfs_covered_entity"] is True
    assert incident.facts["law_enforcement_investigating"] is True
    assert "hipaa_business_associate" not in incident.facts  # left unknown
    assert incident.determined_at is not None and int(incident.determined_at.timestamp()) == determined_at
    changed = next(e for e in await slack.timeline(incident) if e.kind == "facts_changed")
    assert changed.data["after"]["dfs_covered_entity"] is True
    said = slack.channel(incident.channel_id).message_with_text("updated the facts").all_text
    assert "NY DFS-regulated covered entity?: unknown → Yes" in said
    assert "Breach determined at: unknown → " in said
    # Opened again, the form shows what is recorded.
    await slack.heidi.command("facts", channel=incident.channel_id)
    await slack.settle()
    again = slack.heidi.modal()
    assert block(again, "dfs_covered_entity")["element"]["initial_option"]["value"] == "yes"  # type: ignore[index]
    assert block(again, "determined_at")["element"]["initial_date_time"] == determined_at  # type: ignore[index]
    assert not slack.violations()


async def test_the_facts_form_refuses_an_unknown_jurisdiction(slack: Slack) -> None:
    incident = await declare_eu(slack)
    await slack.heidi.command("facts", channel=incident.channel_id)
    await slack.settle()
    view = slack.heidi.modal()
    heidi = slack.heidi
    state = heidi._state_values(view, {})
    (action_id,) = state["jurisdictions"]
    state["jurisdictions"][action_id]["selected_options"] = [
        {"text": {"type": "plain_text", "text": "Narnia"}, "value": "NA-RN"}
    ]
    payload = {
        "type": "view_submission",
        "team": heidi._team(),
        "user": heidi._user_obj(),
        "api_app_id": heidi.ws.app_id,
        "token": heidi.sandbox_token,
        "trigger_id": heidi.ws.issue_trigger(heidi.id),
        "view": {**view.data, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
    }
    delivery = await slack.sb.deliver("interactive", payload)
    assert set(delivery.errors) == {"jurisdictions"}
    await slack.settle()
    assert (await slack.incident()).jurisdictions == ["CN", "EU"]
    assert "facts_changed" not in await slack.kinds(incident)


async def test_the_menu_loads_its_options_over_socket_mode_too(db_url: str, tmp_path: Path) -> None:
    async with over_socket_mode(db_url, regimes_file=regimes_copy(tmp_path, with_many_places)) as sb:
        alice = sb.person("alice")
        await alice.command("declare Guam payroll exposed")
        await sb.settle()
        assert [o["value"] for o in await alice.suggest(alice.modal(), "jurisdictions", "guam")] == ["US-GU"]
        delivery = await alice.submit({"Severity": "SEV3", "Jurisdictions": ["Guam"]})
        assert not delivery.errors, delivery.errors
        await sb.settle()
        assert not sb.violations
