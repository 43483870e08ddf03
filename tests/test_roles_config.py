"""The roles file a firm edits: the packaged one loads, and mistakes are reported at their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.embedded import SANDBOX_ROLES
from incident.roles_config import COMMANDER, RoleDef, load_roles
from incident.text import Text
from incident.yamlsource import ConfigError

EXPECTED_KEYS = (
    "incident_commander",
    "deputy",
    "tech_lead",
    "forensics",
    "legal",
    "compliance",
    "comms",
    "customer_care",
    "scribe",
)

MINIMAL = """\
roles:
  - key: incident_commander
    name: {zh-CN: 事件指挥官, en: Incident commander}
    duties: {zh-CN: 指挥, en: Lead}
    may_manage: true
"""


def problems_of(source: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigError) as caught:
        load_roles(source)
    return [(p.line, p.message) for p in caught.value.problems]


def test_packaged_roles_load_in_order_and_name_nobody() -> None:
    roles = load_roles()

    assert roles.keys() == EXPECTED_KEYS
    assert roles.admin_usergroup is None
    assert roles.announcement_channel is None
    assert all(role.defaults == () for role in roles)


def test_the_sandbox_roles_are_the_packaged_ones_with_its_people_as_defaults() -> None:
    packaged, sandbox = load_roles(), load_roles(SANDBOX_ROLES)

    assert [(r.key, r.name, r.duties, r.may_manage) for r in sandbox] == [
        (r.key, r.name, r.duties, r.may_manage) for r in packaged
    ]
    roles = sandbox
    assert roles.admin_usergroup == "S0ADMINS01"
    assert roles.announcement_channel == "C0SECURITY"
    assert roles["incident_commander"].defaults == ("UHEIDI001",)
    assert roles["legal"].defaults == ("S0LEGAL001",)
    assert roles["legal"].default_usergroups == ("S0LEGAL001",)
    assert roles["legal"].default_users == ()
    assert roles["scribe"].defaults == ("UJUDY0001",)


def test_only_commander_and_deputy_may_manage() -> None:
    roles = load_roles()

    assert roles.managing_keys() == ("incident_commander", "deputy")
    assert not roles["forensics"].may_manage


def test_every_role_has_both_translations_and_several_duties() -> None:
    for role in load_roles():
        for text in (role.name, role.duties):
            assert text.zh_CN.strip() and text.en.strip()
        assert len(role.duties.zh_CN.splitlines()) >= 3
        assert len(role.duties.zh_CN.splitlines()) == len(role.duties.en.splitlines())


def test_get_returns_none_for_an_unknown_role_and_indexing_raises() -> None:
    roles = load_roles()

    assert roles.get("hacker") is None
    assert "hacker" not in roles
    assert "deputy" in roles
    with pytest.raises(KeyError):
        roles["hacker"]


def test_a_minimal_file_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(MINIMAL, encoding="utf-8")

    roles = load_roles(path)

    assert roles.roles == (
        RoleDef(
            key=COMMANDER,
            name=Text(zh_CN="事件指挥官", en="Incident commander"),
            duties=Text(zh_CN="指挥", en="Lead"),
            defaults=(),
            may_manage=True,
        ),
    )
    assert roles.admin_usergroup is None
    assert roles.announcement_channel is None


def test_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(MINIMAL + "    defaults: [bob]\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_roles(path)

    assert str(caught.value) == (
        f"{path}:6: default holder 'bob' is not a Slack user id (U… or W…) or user group id (S…)"
    )


def test_every_mistake_is_reported_at_its_line_at_once() -> None:
    source = """\
admin_usergroup: U0NOTAGROUP
announcement_channel: C0SECURITY
colour: red
roles:
  - key: incident_commander
    name: {zh-CN: 事件指挥官, en: Incident commander}
    duties: {zh-CN: 指挥, en: Lead}
    may_manage: true
  - key: legal
    name: {en: Legal}
    duties: {zh-CN: 法律, en: Law}
    defaults: [S0LEGAL001, C0CHANNEL1]
  - key: legal
    name: {zh-CN: 法律, en: Legal}
    duties: {zh-CN: 法律, en: Law}
  - key: comms
    name: {zh-CN: 公关, en: Comms}
    duties: {zh-CN: 公关, en: Comms}
    pager: yes
"""
    assert problems_of(source) == [
        (1, "admin_usergroup 'U0NOTAGROUP' is not valid: a Slack user group id starts with S"),
        (3, "unknown field 'colour' (allowed: roles, admin_usergroup, announcement_channel)"),
        (10, "name is missing the zh-CN translation"),
        (12, "default holder 'C0CHANNEL1' is not a Slack user id (U… or W…) or user group id (S…)"),
        (19, "unknown field 'pager' (allowed: key, name, duties, defaults, may_manage)"),
    ]


def test_a_role_key_used_twice_is_named_at_the_second_one() -> None:
    source = (
        MINIMAL
        + "  - key: incident_commander\n    name: {zh-CN: 甲, en: A}\n    duties: {zh-CN: 乙, en: B}\n"
    )

    assert problems_of(source) == [(6, "duplicate role 'incident_commander' (first on line 2)")]


def test_a_default_holder_listed_twice_is_named_at_the_second() -> None:
    source = MINIMAL + "    defaults:\n      - UHEIDI001\n      - S0LEGAL001\n      - UHEIDI001\n"

    assert problems_of(source) == [(9, "default holder 'UHEIDI001' is listed twice")]


def test_the_commander_is_required_and_must_manage() -> None:
    without = """\
roles:
  - key: deputy
    name: {zh-CN: 副指挥官, en: Deputy}
    duties: {zh-CN: 代行, en: Stand in}
"""
    assert problems_of(without) == [
        (1, "missing role 'incident_commander': every incident needs a commander"),
    ]

    powerless = MINIMAL.replace("may_manage: true", "may_manage: false")
    assert problems_of(powerless) == [(5, "incident_commander must have may_manage: true")]


def test_a_translation_given_as_plain_text_is_rejected() -> None:
    source = MINIMAL.replace("name: {zh-CN: 事件指挥官, en: Incident commander}", "name: Commander")

    assert problems_of(source) == [(3, "name needs both translations, e.g. {zh-CN: ..., en: ...}")]


def test_a_key_written_twice_in_one_mapping_is_caught() -> None:
    source = MINIMAL + "    may_manage: false\n"

    assert problems_of(source) == [(6, "'may_manage' is written twice (first on line 5)")]


def test_yaml_syntax_error_points_at_its_line() -> None:
    source = MINIMAL + "  - key: [unclosed\n"

    problems = problems_of(source)

    assert len(problems) == 1
    assert problems[0][0] == 7
    assert problems[0][1].startswith("YAML: ")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"

    with pytest.raises(ConfigError) as caught:
        load_roles(missing)

    assert str(caught.value) == f"{missing}: file not found"
