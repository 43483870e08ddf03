"""Playbooks: the packaged ones load and are complete; a firm's mistakes are reported at their line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from incident.playbook import (
    BUILTIN_DIR,
    DEFAULT_PLAYBOOK_ID,
    Item,
    Opens,
    Playbook,
    builtin_playbooks,
    check_report,
    format_duration,
    load_playbook,
    load_playbooks,
    parse_duration,
    render_playbook,
)
from incident.regimes import load_regimes
from incident.roles_config import RolesConfig, load_roles
from incident.text import Text
from incident.yamlsource import ConfigError

# The regime ids DOMAIN.md defines, plus the processor's duty to tell its client.
KNOWN_REGIMES = {
    "processor-notify-controller",
    "cn-pipl-57",
    "cn-cac-report",
    "eu-gdpr-33",
    "eu-gdpr-34",
    "eu-gdpr-33-5",
    "us-ftc-safeguards",
    "us-irs-tax-pro",
    "us-sec-8k-105",
}


@pytest.fixture(scope="module")
def roles() -> RolesConfig:
    return load_roles()


@pytest.fixture(scope="module")
def default(roles: RolesConfig) -> Playbook:
    return builtin_playbooks(roles, KNOWN_REGIMES)[DEFAULT_PLAYBOOK_ID]


GOOD = """\
id: tiny
version: 2
title: {zh-CN: 小预案, en: Tiny}
phases:
  - key: respond
    title: {zh-CN: 应急响应, en: Respond}
    items:
      - key: form_team
        title: {zh-CN: 成立应急小组, en: Form the team}
        owner: incident_commander
        due: 15m
  - key: notify
    title: {zh-CN: 沟通披露, en: Notify}
    opens: at_declare
    items:
      - key: tell_regulator
        title: {zh-CN: 报告监管部门, en: Tell the regulator}
        owner: compliance
        restricted: true
        regime: eu-gdpr-33
"""


def problems_of(
    source: str, roles: RolesConfig, regimes: set[str] | None = None
) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigError) as caught:
        load_playbook(source, roles, regimes)
    return [(p.line, p.message) for p in caught.value.problems]


# ---------------------------------------------------------------------------- the packaged playbooks


def test_packaged_playbooks_load_with_known_roles_and_regimes(roles: RolesConfig) -> None:
    playbooks = builtin_playbooks(roles, KNOWN_REGIMES)

    assert set(playbooks) == {"data_breach", "ransomware", "lost_device", "misdirected_email"}
    assert load_playbooks(None, roles) == playbooks
    for playbook in playbooks.values():
        assert playbook.version >= 1
        assert playbook.phases[0].opens is Opens.AT_DECLARE


def test_packaged_playbooks_only_name_regimes_the_regimes_file_defines(roles: RolesConfig) -> None:
    regime_ids = set(load_regimes().ids())

    for playbook in builtin_playbooks(roles, regime_ids).values():
        assert set(playbook.regimes()) <= regime_ids


def test_default_playbook_follows_the_domain_phases(default: Playbook) -> None:
    assert [(p.key, p.title.zh_CN, p.title.en, p.opens.value) for p in default.phases] == [
        ("respond", "应急响应", "Respond", "at_declare"),
        ("investigate", "调查取证", "Investigate", "after_previous"),
        ("remediate", "修复恢复", "Remediate & recover", "after_previous"),
        ("notify", "沟通披露", "Notify & communicate", "at_declare"),
        ("review", "复盘改进", "Review & improve", "after_previous"),
    ]


def test_every_packaged_text_exists_in_both_languages(roles: RolesConfig) -> None:
    for playbook in builtin_playbooks(roles).values():
        texts = [playbook.title, *(p.title for p in playbook.phases)]
        texts += [t for item in playbook.items for t in (item.title, item.help) if t is not None]
        for text in texts:
            assert text.zh_CN.strip() and text.en.strip(), (playbook.id, text)
            assert text.zh_CN != text.en, (playbook.id, text)


def test_default_playbook_first_moves_have_tight_deadlines(default: Playbook) -> None:
    assert default.item("form_team").due == timedelta(minutes=15)
    assert default.item("initial_assessment").due == timedelta(hours=1)
    assert default.item("isolate_systems").due == timedelta(hours=1)
    assert default.item("isolate_systems").owner == "tech_lead"
    assert default.phase_of("isolate_systems").key == "respond"


@pytest.mark.parametrize(
    ("key", "owner", "regime"),
    [
        ("notify_supervisory_authority", "compliance", "eu-gdpr-33"),
        ("report_cn_authority", "compliance", "cn-pipl-57"),
        ("report_cac", "compliance", "cn-cac-report"),
        ("ftc_safeguards_notice", "compliance", "us-ftc-safeguards"),
        ("irs_stakeholder_liaison", "compliance", "us-irs-tax-pro"),
        ("notify_individuals", "legal", "eu-gdpr-34"),
    ],
)
def test_regulator_notices_are_restricted_to_legal_or_compliance(
    default: Playbook, key: str, owner: str, regime: str
) -> None:
    item = default.item(key)

    assert (item.owner, item.regime, item.restricted, item.required) == (owner, regime, True, True)
    assert default.phase_of(key).key == "notify"


def test_every_regime_item_everywhere_is_restricted_to_legal_or_compliance(roles: RolesConfig) -> None:
    for playbook in builtin_playbooks(roles).values():
        for item in playbook.items:
            if item.regime:
                assert item.restricted and item.owner in {"legal", "compliance"}, (playbook.id, item.key)


def test_the_firm_tells_its_clients_as_their_processor(default: Playbook) -> None:
    item = default.item("notify_clients")

    # The regime's clock (24 h from discovery, editable) sets the deadline, not a due offset.
    assert (item.owner, item.restricted, item.regime, item.due) == (
        "legal",
        True,
        "processor-notify-controller",
        None,
    )
    assert item.help is not None and "controller" in item.help.en and "控制者" in item.help.zh_CN


# ---------------------------------------------------------------------------- snapshot


def test_round_trip_through_json_gives_an_equal_playbook(roles: RolesConfig) -> None:
    for playbook in builtin_playbooks(roles).values():
        snapshot = json.loads(json.dumps(playbook.to_dict(), ensure_ascii=False))

        assert Playbook.from_dict(snapshot) == playbook


def test_snapshot_keeps_defaults_and_optional_fields(roles: RolesConfig) -> None:
    playbook = load_playbook(GOOD, roles)

    snapshot = playbook.to_dict()

    assert snapshot["phases"][0]["items"][0] == {
        "key": "form_team",
        "title": {"zh-CN": "成立应急小组", "en": "Form the team"},
        "help": None,
        "owner": "incident_commander",
        "required": True,
        "due": "15m",
        "restricted": False,
        "regime": None,
    }
    assert Playbook.from_dict(snapshot) == playbook


# ---------------------------------------------------------------------------- lookups


def test_lookups_by_key(roles: RolesConfig) -> None:
    playbook = load_playbook(GOOD, roles)

    assert playbook.id == "tiny" and playbook.version == 2
    assert playbook.item("tell_regulator").regime == "eu-gdpr-33"
    assert playbook.phase("notify").opens is Opens.AT_DECLARE
    assert playbook.phase_of("form_team").key == "respond"
    assert playbook.item_keys() == ("form_team", "tell_regulator")
    assert playbook.regimes() == ("eu-gdpr-33",)
    for lookup in (playbook.item, playbook.phase, playbook.phase_of):
        with pytest.raises(KeyError):
            lookup("nope")


def test_a_later_phase_opens_only_when_every_earlier_phase_is_done(default: Playbook) -> None:
    def open_keys(done: set[str]) -> list[str]:
        return [p.key for p in default.open_phases(done)]

    assert open_keys(set()) == ["respond", "notify"]
    assert open_keys({"respond"}) == ["respond", "investigate", "notify"]
    assert open_keys({"respond", "investigate"}) == ["respond", "investigate", "remediate", "notify"]
    assert open_keys({"respond", "investigate", "remediate", "notify"}) == [
        "respond",
        "investigate",
        "remediate",
        "notify",
        "review",
    ]


def test_restricted_items_only_for_their_owner_or_the_commander() -> None:
    item = Item(key="x", title=Text(zh_CN="甲", en="X"), owner="compliance", restricted=True)
    open_item = Item(key="y", title=Text(zh_CN="乙", en="Y"), owner="compliance")

    assert item.may_complete({"compliance"})
    assert item.may_complete({"incident_commander"})
    assert not item.may_complete({"deputy", "legal"})
    assert not item.may_complete(set())
    assert open_item.may_complete(set())


# ---------------------------------------------------------------------------- validation with lines


def test_unknown_role_is_rejected_at_its_line(roles: RolesConfig) -> None:
    source = GOOD.replace("owner: compliance", "owner: hacker")

    with pytest.raises(ConfigError) as caught:
        load_playbook(source, roles)

    assert str(caught.value) == (
        "<text>:18: unknown role 'hacker' (known: incident_commander, deputy, tech_lead, forensics, "
        "legal, compliance, comms, customer_care, scribe)"
    )


def test_unknown_role_error_names_the_file(roles: RolesConfig, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD.replace("owner: incident_commander", "owner: hacker"), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_playbook(path, roles)

    assert str(caught.value).startswith(f"{path}:10: unknown role 'hacker' (known: incident_commander, ")


def test_duplicate_item_key_is_rejected_at_the_second_one(roles: RolesConfig) -> None:
    source = GOOD.replace("key: tell_regulator", "key: form_team")

    assert problems_of(source, roles) == [(16, "duplicate item key 'form_team' (first on line 8)")]


def test_duplicate_phase_key_is_rejected(roles: RolesConfig) -> None:
    source = GOOD.replace("key: notify", "key: respond")

    assert problems_of(source, roles) == [(12, "duplicate phase key 'respond' (first on line 5)")]


def test_missing_translation_is_rejected_at_its_field(roles: RolesConfig) -> None:
    source = GOOD.replace("{zh-CN: 报告监管部门, en: Tell the regulator}", "{en: Tell the regulator}")

    assert problems_of(source, roles) == [(17, "title is missing the zh-CN translation")]


def test_bad_duration_is_rejected_at_its_line(roles: RolesConfig) -> None:
    source = GOOD.replace("due: 15m", "due: 15 minutes")

    assert problems_of(source, roles) == [
        (
            11,
            "due: bad duration '15 minutes': write a number followed by d, h or m, largest unit first, "
            "e.g. 30m, 4h, 1h30m, 3d",
        )
    ]


def test_unknown_regime_is_rejected_when_regimes_are_known(roles: RolesConfig) -> None:
    assert load_playbook(GOOD, roles, {"eu-gdpr-33"}).item("tell_regulator").regime == "eu-gdpr-33"

    assert problems_of(GOOD, roles, {"cn-pipl-57", "us-ftc-safeguards"}) == [
        (20, "unknown regime 'eu-gdpr-33' (known: cn-pipl-57, us-ftc-safeguards)")
    ]


def test_every_problem_is_reported_at_once_in_line_order(roles: RolesConfig) -> None:
    source = textwrap.dedent(
        """\
        id: Bad Id
        version: 0
        title: {zh-CN: 坏预案, en: Bad}
        colour: red
        phases:
          - key: respond
            title: {zh-CN: 应急响应}
            opens: after_previous
            items:
              - key: form_team
                title: {zh-CN: 成立应急小组, en: Form the team}
                owner: hacker
                due: soon
                urgent: true
              - key: form_team
                title: {zh-CN: 甲, en: A}
                owner: legal
                required: maybe
                regime: EU GDPR
          - key: empty
            title: {zh-CN: 空, en: Empty}
            items: []
          - title: {zh-CN: 无键, en: No key}
            opens: sometimes
            items:
              - key: x
                owner: scribe
        """
    )

    assert problems_of(source, roles) == [
        (1, "id 'Bad Id' is not valid: use lowercase letters, digits and _"),
        (2, "version must be at least 1, not 0"),
        (4, "unknown field 'colour' (allowed: id, version, title, phases, description)"),
        (7, "title is missing the en translation"),
        (
            12,
            "unknown role 'hacker' (known: incident_commander, deputy, tech_lead, forensics, legal, "
            "compliance, comms, customer_care, scribe)",
        ),
        (
            13,
            "due: bad duration 'soon': write a number followed by d, h or m, largest unit first, "
            "e.g. 30m, 4h, 1h30m, 3d",
        ),
        (14, "unknown field 'urgent' (allowed: key, title, owner, help, required, due, restricted, regime)"),
        (18, "required must be true or false, not 'maybe'"),
        (19, "regime 'EU GDPR' is not valid: e.g. eu-gdpr-33"),
        (22, "items must not be empty"),
        (23, "missing field 'key'"),
        (24, "opens must be at_declare or after_previous, not 'sometimes'"),
        (26, "missing field 'title'"),
    ]


def test_rules_between_fields_are_reported_together_once_the_fields_are_valid(roles: RolesConfig) -> None:
    first_items = "    items:\n      - key: form_team"
    source = GOOD.replace("key: tell_regulator", "key: form_team").replace(
        first_items, "    opens: after_previous\n" + first_items, 1
    )

    assert problems_of(source, roles) == [
        (7, "the first phase has no previous phase: use opens: at_declare"),
        (17, "duplicate item key 'form_team' (first on line 9)"),
    ]


def test_a_playbook_without_phases_is_rejected(roles: RolesConfig) -> None:
    source = "id: x\nversion: 1\ntitle: {zh-CN: 甲, en: X}\nphases: []\n"

    assert problems_of(source, roles) == [(4, "phases must not be empty")]


def test_a_document_that_is_not_a_mapping_is_rejected(roles: RolesConfig) -> None:
    assert problems_of("- just\n- a list\n", roles) == [
        (1, "a playbook must be a mapping of fields, not a list"),
    ]


# ---------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("4h", timedelta(hours=4)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("3d", timedelta(days=3)),
        ("2d4h", timedelta(days=2, hours=4)),
        ("1d 2h 5m", timedelta(days=1, hours=2, minutes=5)),
        (" 90m ", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "90", "1.5h", "30s", "1m1h", "h", "-1h", "1 hour", "3 天"])
def test_parse_duration_rejects_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad duration .*: write a number followed by d, h or m"):
        parse_duration(text)


def test_parse_duration_rejects_zero_and_non_text() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration("0m")
    with pytest.raises(ValueError, match="bad duration 30"):
        parse_duration(30)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["15m", "1h", "1h30m", "3d", "2d4h", "1d2h5m"])
def test_format_duration_reads_back(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


# ---------------------------------------------------------------------------- folders and the CLI


def test_a_firm_folder_replaces_the_builtin_set(roles: RolesConfig, tmp_path: Path) -> None:
    (tmp_path / "tiny.yml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a playbook", encoding="utf-8")

    assert list(load_playbooks(tmp_path, roles)) == ["tiny"]


def test_a_folder_reports_every_file_problem_and_duplicate_ids(roles: RolesConfig, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(GOOD.replace("due: 15m", "due: 15"), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_playbooks(tmp_path, roles)

    lines = str(caught.value).splitlines()
    assert lines[0] == f"{tmp_path / 'b.yaml'}: duplicate playbook id 'tiny' (also in a.yaml)"
    assert lines[1].startswith(f"{tmp_path / 'c.yaml'}:11: due: bad duration 15:")
    assert len(lines) == 2


def test_an_empty_or_missing_folder_is_an_error(roles: RolesConfig, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no playbooks"):
        load_playbooks(tmp_path, roles)
    with pytest.raises(ConfigError, match="folder not found"):
        load_playbooks(tmp_path / "missing", roles)


def test_check_report_for_the_builtin_folder(roles: RolesConfig) -> None:
    ok, text = check_report(BUILTIN_DIR, roles, KNOWN_REGIMES)

    assert ok
    assert f"{BUILTIN_DIR / 'data_breach.yaml'}: OK — data_breach v1: 5 phases," in text
    assert len(text.splitlines()) == 4


def test_check_report_lists_problems_and_counts_them(roles: RolesConfig, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD.replace("owner: compliance", "owner: hacker").replace("due: 15m", "due: x"), "utf-8")

    ok, text = check_report(path, roles)

    assert not ok
    lines = text.splitlines()
    assert lines[0].startswith(f"{path}:11: due: bad duration 'x'")
    assert lines[1].startswith(f"{path}:18: unknown role 'hacker'")
    assert lines[2] == "2 problems found."


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_render_playbook_shows_every_phase_and_item(
    default: Playbook, roles: RolesConfig, locale: str
) -> None:
    text = render_playbook(default, locale, roles)  # type: ignore[arg-type]

    for phase in default.phases:
        assert phase.title.get(locale) in text
    for item in default.items:
        assert f"{item.title.get(locale)} [{item.key}]" in text
    assert default.title.get(locale) in text


def test_render_playbook_outline_line(default: Playbook, roles: RolesConfig) -> None:
    en = render_playbook(default, "en", roles)
    zh = render_playbook(default, "zh-CN", roles)

    assert (
        "   • Form the response team [form_team] — Incident commander · due 15m after declaration · "
        "required · restricted to owner or commander\n"
    ) in en
    assert (
        "   • 成立应急小组 [form_team] — 事件指挥官 · 宣布后 15 分钟内 · 必做 · 仅限负责角色或指挥官完成\n"
    ) in zh
    assert "regime eu-gdpr-33" in en and "法规 eu-gdpr-33" in zh
    assert "4. Notify & communicate [notify] · opens at declaration" in en
    # Without the roles configuration, owners show by key.
    assert "[form_team] — incident_commander ·" in render_playbook(default, "en")


def test_domain_modules_import_no_slack_web_or_scheduler_code() -> None:
    code = (
        "import sys, incident.yamlsource, incident.roles_config, incident.playbook\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'slack_sdk', 'slack_bolt', 'aiohttp', 'apscheduler'}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
