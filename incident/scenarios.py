"""Drill scenarios: what happened, the facts for the declare form, and a timed script of who does what.

A scenario file (``incident/data/scenarios/*.yaml``; see ``portal-credential-stuffing.yaml``)::

    id: portal-credential-stuffing        # lowercase words joined by -
    title: {zh-CN: ..., en: ...}
    description: {zh-CN: ..., en: ...}    # optional: what the drill exercises
    declare:                              # the declare form, prefilled by `/breach drill <id>`
      summary: {zh-CN: ..., en: ...}      # "what happened"
      severity: SEV2
      data_categories: [payroll, national_id]
      people_affected: 1200
      affected_clients: [Acme Trading GmbH]
      jurisdictions: [EU, CN]
      encrypted: no                       # yes | no | unknown
      exfiltration: unknown               # yes | no | unknown
      role: controller                    # controller | processor | unknown
      playbook: data_breach               # optional: the firm's default otherwise
      discovered_before: 30m              # optional: found this long before it was declared
    steps:                                # in order; `at` never goes backwards
      - {at: +0m, who: alice, do: declare}
      - {at: +20m, who: bob, do: click, item: isolate_systems}
      - {at: +2h, who: erin, do: click, item: report_cac, outcome: na, reason: {zh-CN: ..., en: ...}}
      - {at: +25h, who: dave, do: miss, regime: cn-pipl-57}

``at`` is simulated time from the start (``+0m``, ``+20m``, ``+2h``, ``+1d2h``); ``who`` is a
person of the sandbox workspace. What each ``do`` takes is in ``ACTIONS`` below. Every
mistake is reported with its line, all at once (``ConfigError``).

This module only reads and checks the files; ``bot/drill_player.py`` plays them through Slack.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incident.declare import SEVERITIES
from incident.playbook import parse_duration
from incident.regimes import RECIPIENT_KINDS, Regimes, load_regimes
from incident.text import Text
from incident.yamlsource import Checker, ConfigError, Problem, YamlPath, load_with_lines, source_name

if TYPE_CHECKING:
    from incident.config import IncidentConfig

BUILTIN_DIR = Path(__file__).parent / "data" / "scenarios"
SUFFIXES = (".yaml", ".yml")
SCENARIO_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
"""Scenario ids are kebab-case with at least one hyphen, so `/breach drill Phishing` stays a title."""

DRILL_PEOPLE = ("alice", "heidi", "ivan", "bob", "carol", "dave", "erin", "frank", "grace", "judy")
"""The seeded people of the sandbox workspace who take part in drills (never the outsider)."""

TRISTATE = ("yes", "no", "unknown")
ROLES_OF_DATA = ("controller", "processor", "unknown")
STAGES = ("contained", "resolved")
OUTCOMES = ("done", "na")
_OFFSET = re.compile(r"\+\s*(.+)")


@dataclass(frozen=True, slots=True)
class Action:
    """What one kind of step needs (``required``) and may have (``optional``)."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()


ACTIONS: dict[str, Action] = {
    "declare": Action(),
    "take_role": Action(("role",), ("by",)),
    "click": Action(("item",), ("outcome", "reason")),
    "note": Action(("text",)),
    "decision": Action(("text", "rationale"), ("alternatives", "approver")),
    "evidence": Action(("description", "location"), ("sha256", "custodian")),
    "facts": Action(
        (),
        (
            "people_affected",
            "data_categories",
            "jurisdictions",
            "encrypted",
            "exfiltration",
            "role",
            "aware",
            "high_risk",
        ),
    ),
    "notify": Action(("regime", "recipient"), ("recipient_kind", "reference", "contents")),
    "miss": Action(("regime",)),
    "advance_phase": Action((), ("override", "reason")),
    "resolve": Action((), ("stage",)),
    "close": Action(("lessons",), ("archive",)),
}
_STEP_COMMON = ("at", "who", "do")
_TEXT_FIELDS = ("reason", "text", "rationale", "alternatives", "description", "lessons")
_TOP_REQUIRED = ("id", "title", "declare", "steps")
_TOP_OPTIONAL = ("description",)
_DECLARE_REQUIRED = ("summary", "severity")
_DECLARE_OPTIONAL = (
    "data_categories",
    "people_affected",
    "affected_clients",
    "jurisdictions",
    "encrypted",
    "exfiltration",
    "role",
    "playbook",
    "discovered_before",
)


@dataclass(frozen=True)
class DeclareFacts:
    """What the declare form is prefilled with."""

    summary: Text
    severity: str
    data_categories: tuple[str, ...] = ()
    people_affected: int | None = None
    affected_clients: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    encrypted: str | None = None  # yes | no | unknown
    exfiltration: str | None = None
    role: str | None = None  # controller | processor | unknown
    playbook: str | None = None
    discovered_before: timedelta | None = None


@dataclass(frozen=True)
class Step:
    """One scripted action. ``fields`` holds the action's own fields (texts as ``Text``)."""

    at: timedelta
    who: str
    do: str
    fields: Mapping[str, Any]
    line: int | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def text(self, name: str, locale: str) -> str:
        value = self.fields.get(name)
        return value.get(locale) if isinstance(value, Text) else ""


@dataclass(frozen=True)
class Scenario:
    id: str
    title: Text
    declare: DeclareFacts
    steps: tuple[Step, ...]
    description: Text | None = None
    source: str = ""

    def form_values(self, locale: str, now: datetime) -> dict[str, Any]:
        """The declare form's fields (by name) as this scenario fills them in, in ``locale``."""
        facts = self.declare
        values: dict[str, Any] = {
            "title": self.title.get(locale),
            "summary": facts.summary.get(locale),
            "severity": facts.severity,
            "data_categories": list(facts.data_categories),
            "people_affected": facts.people_affected,
            "affected_clients": list(facts.affected_clients),
            "jurisdictions": list(facts.jurisdictions),
            "encrypted": facts.encrypted,
            "exfiltration": facts.exfiltration,
            "processor_role": facts.role,
            "playbook": facts.playbook,
        }
        if facts.discovered_before is not None:
            values["discovered_at"] = int((now - facts.discovered_before).timestamp())
        return {name: value for name, value in values.items() if value not in (None, "", [])}

    @property
    def declarer(self) -> str:
        return self.steps[0].who

    @property
    def length(self) -> timedelta:
        return self.steps[-1].at


@dataclass
class _Known:
    people: Collection[str]
    config: IncidentConfig | None
    item_keys: dict[str, set[str]] = field(default_factory=dict)

    @property
    def regimes(self) -> Regimes:
        """The firm's regimes (the data categories and jurisdictions a scenario may name), else
        the packaged file's."""
        return self.config.regimes if self.config is not None else _packaged_regimes()


@cache
def _packaged_regimes() -> Regimes:
    return load_regimes()


# ---------------------------------------------------------------------------- loading


def load_scenario(
    source: str | Path, *, config: IncidentConfig | None = None, people: Collection[str] = DRILL_PEOPLE
) -> Scenario:
    """One scenario file (or YAML text). With ``config``, playbook items, roles and regimes are
    checked against the firm's configuration too. Raises ``ConfigError`` listing every mistake."""
    data, lines = load_with_lines(source)
    check = Checker(source_name(source), lines)
    scenario = _parse(check, data, _Known(people, config))
    check.raise_if_any()
    assert scenario is not None
    return scenario


def load_scenarios(
    directory: str | Path | None = None,
    *,
    config: IncidentConfig | None = None,
    people: Collection[str] = DRILL_PEOPLE,
) -> dict[str, Scenario]:
    """Every scenario in a folder (the built-in ones by default), by id; one ``ConfigError`` for all."""
    folder = Path(directory) if directory is not None else BUILTIN_DIR
    if not folder.is_dir():
        raise ConfigError(str(folder), [Problem(None, "folder not found")])
    problems: list[Problem] = []
    found: dict[str, Scenario] = {}
    for file in sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()):
        try:
            scenario = load_scenario(file, config=config, people=people)
        except ConfigError as error:
            problems.extend(Problem(p.line, p.message, p.path or error.path) for p in error.problems)
            continue
        if scenario.id in found:
            other = Path(found[scenario.id].source).name
            problems.append(
                Problem(None, f"duplicate scenario id {scenario.id!r} (also in {other})", str(file))
            )
            continue
        found[scenario.id] = scenario
    if problems:
        raise ConfigError(str(folder), problems)
    return found


def builtin_scenarios(config: IncidentConfig | None = None) -> dict[str, Scenario]:
    """The scenarios shipped with Breachroom, checked against ``config`` when given."""
    return load_scenarios(None, config=config)


def looks_like_scenario_id(text: str) -> bool:
    """Whether a `/breach drill` argument names a scenario rather than titling a drill."""
    return bool(SCENARIO_ID.fullmatch(text.strip()))


# ---------------------------------------------------------------------------- validation


def _parse(check: Checker, data: Any, known: _Known) -> Scenario | None:
    top = check.mapping(data, (), "a scenario")
    if top is None:
        return None
    check.fields(top, (), required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
    scenario_id = check.string(
        top, (), "id", pattern=SCENARIO_ID, hint="lowercase words joined by -, e.g. lost-laptop"
    )
    title = check.text(top, (), "title")
    description = check.text(top, (), "description")
    declare = _declare(check, top.get("declare"), known)
    steps = _steps(check, top.get("steps"), known, declare)
    if scenario_id is None or title is None or declare is None or steps is None:
        return None
    return Scenario(scenario_id, title, declare, steps, description, check.name)


def _choice(
    check: Checker, data: Mapping[str, Any], path: YamlPath, name: str, allowed: Collection[str]
) -> str | None:
    if name not in data:
        return None
    value = data[name]
    if isinstance(value, bool):  # YAML reads a bare yes/no as a flag
        value = "yes" if value else "no"
    if not isinstance(value, str) or value not in allowed:
        check.add((*path, name), f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        return None
    return value


def _choices(
    check: Checker, data: Mapping[str, Any], path: YamlPath, name: str, allowed: Collection[str]
) -> tuple[str, ...]:
    if name not in data:
        return ()
    values = check.sequence(data[name], (*path, name), name)
    if values is None:
        return ()
    good: list[str] = []
    for index, value in enumerate(values):
        if value not in allowed:
            check.add((*path, name, index), f"unknown {name} value {value!r} (known: {', '.join(allowed)})")
        else:
            good.append(value)
    return tuple(good)


def _count(check: Checker, data: Mapping[str, Any], path: YamlPath, name: str) -> int | None:
    if name not in data:
        return None
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        check.add((*path, name), f"{name} must be a whole number of people, not {value!r}")
        return None
    return value


def _declare(check: Checker, raw: Any, known: _Known) -> DeclareFacts | None:
    path: YamlPath = ("declare",)
    data = check.mapping(raw, path, "declare") if raw is not None else None
    if data is None:
        return None
    check.fields(data, path, required=_DECLARE_REQUIRED, optional=_DECLARE_OPTIONAL)
    summary = check.text(data, path, "summary")
    severity = _choice(check, data, path, "severity", SEVERITIES)
    clients: tuple[str, ...] = ()
    if "affected_clients" in data:
        listed = check.sequence(data["affected_clients"], (*path, "affected_clients"), "affected_clients")
        clients = tuple(str(c) for c in listed or ())
    playbook = check.string(data, path, "playbook")
    if playbook and known.config is not None and playbook not in known.config.playbooks:
        check.add(
            (*path, "playbook"),
            f"unknown playbook {playbook!r} (known: {', '.join(sorted(known.config.playbooks))})",
        )
    discovered = None
    if "discovered_before" in data:
        try:
            discovered = parse_duration(str(data["discovered_before"]))
        except ValueError as exc:
            check.add((*path, "discovered_before"), str(exc))
    if summary is None or severity is None:
        return None
    return DeclareFacts(
        summary=summary,
        severity=severity,
        data_categories=_choices(check, data, path, "data_categories", known.regimes.category_keys()),
        people_affected=_count(check, data, path, "people_affected"),
        affected_clients=clients,
        jurisdictions=_choices(check, data, path, "jurisdictions", known.regimes.jurisdiction_codes()),
        encrypted=_choice(check, data, path, "encrypted", TRISTATE),
        exfiltration=_choice(check, data, path, "exfiltration", TRISTATE),
        role=_choice(check, data, path, "role", ROLES_OF_DATA),
        playbook=playbook,
        discovered_before=discovered,
    )


def _offset(check: Checker, data: Mapping[str, Any], path: YamlPath) -> timedelta | None:
    raw = data.get("at")
    if raw is None:
        return None
    match = _OFFSET.fullmatch(str(raw).strip())
    if match is None:
        check.add((*path, "at"), f"at must be an offset from the start such as +0m, +20m or +2h, not {raw!r}")
        return None
    if match.group(1).strip() in ("0", "0m", "0h", "0d"):
        return timedelta(0)
    try:
        return parse_duration(match.group(1))
    except ValueError as exc:
        check.add((*path, "at"), str(exc))
        return None


def _steps(check: Checker, raw: Any, known: _Known, declare: DeclareFacts | None) -> tuple[Step, ...] | None:
    path: YamlPath = ("steps",)
    if raw is None:
        return None
    entries = check.sequence(raw, path, "steps")
    if entries is None:
        return None
    if not entries:
        check.add(path, "a scenario needs at least one step (the first one declares)")
        return None
    playbook = _playbook(known, declare)
    before = len(check.problems)
    steps = [_step(check, entry, (*path, index), known, playbook) for index, entry in enumerate(entries)]
    # The order of the script is checked on every entry, even one with other mistakes.
    previous = timedelta(0)
    for index, entry in enumerate(entries):
        at = _quiet_offset(entry)
        if at is not None and at < previous:
            check.add((*path, index, "at"), f"steps must not go back in time ({at} is before {previous})")
        previous = max(previous, at or previous)
    actions = [entry.get("do") if isinstance(entry, dict) else None for entry in entries]
    if actions[0] != "declare":
        check.add((*path, 0), f"the first step must declare the drill, not {actions[0]!r}")
    for index, do in enumerate(actions[1:], start=1):
        if do == "declare":
            check.add((*path, index, "do"), "a scenario declares once, in its first step")
        if do == "close" and index != len(actions) - 1:
            check.add((*path, index, "do"), "close must be the last step")
    if len(check.problems) > before:
        return None
    return tuple(s for s in steps if s is not None)


def _quiet_offset(entry: Any) -> timedelta | None:
    """A step's offset when it is readable, without reporting anything (``_offset`` does that)."""
    if not isinstance(entry, dict):
        return None
    match = _OFFSET.fullmatch(str(entry.get("at", "")).strip())
    if match is None:
        return None
    if match.group(1).strip() in ("0", "0m", "0h", "0d"):
        return timedelta(0)
    try:
        return parse_duration(match.group(1))
    except ValueError:
        return None


def _playbook(known: _Known, declare: DeclareFacts | None) -> Any:
    if known.config is None:
        return None
    wanted = (declare.playbook if declare else None) or known.config.default_playbook
    return known.config.playbooks.get(wanted)


def _step(check: Checker, entry: Any, path: YamlPath, known: _Known, playbook: Any) -> Step | None:
    data = check.mapping(entry, path, "a step")
    if data is None:
        return None
    do = data.get("do")
    action = ACTIONS.get(do) if isinstance(do, str) else None
    if action is None:
        check.fields(data, path, required=_STEP_COMMON, optional=tuple(data))
        if "do" in data:
            check.add((*path, "do"), f"unknown action {do!r} (known: {', '.join(ACTIONS)})")
        return None
    check.fields(data, path, required=(*_STEP_COMMON, *action.required), optional=action.optional)
    at = _offset(check, data, path)
    who = _person(check, data, path, "who", known)
    fields: dict[str, Any] = {}
    for name in (*action.required, *action.optional):
        if name not in data:
            continue
        value = _field(check, data, path, name, known, playbook)
        if value is not None:
            fields[name] = value
    if do == "click" and fields.get("outcome") == "na" and "reason" not in data:
        check.add(path, "a not-applicable click needs a reason")
    if do == "advance_phase" and fields.get("override") and "reason" not in data:
        check.add(path, "an override needs a reason")
    if at is None or who is None:
        return None
    return Step(at=at, who=who, do=do, fields=fields, line=check.lines(path))


def _person(check: Checker, data: Mapping[str, Any], path: YamlPath, name: str, known: _Known) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if value not in known.people:
        check.add((*path, name), f"unknown person {value!r} (known: {', '.join(known.people)})")
        return None
    return str(value)


def _field(
    check: Checker, data: Mapping[str, Any], path: YamlPath, name: str, known: _Known, playbook: Any
) -> Any:
    config = known.config
    if name in _TEXT_FIELDS:
        return check.text(data, path, name)
    if name in ("by", "approver", "custodian"):
        return _person(check, data, path, name, known)
    if name == "role" and data.get("do") == "take_role":
        role = check.string(data, path, "role")
        if role and config is not None and role not in config.roles:
            check.add((*path, "role"), f"unknown role {role!r} (known: {', '.join(config.roles.keys())})")
            return None
        return role
    if name == "role":
        return _choice(check, data, path, "role", ROLES_OF_DATA)
    if name == "item":
        item = check.string(data, path, "item")
        if item and playbook is not None and item not in {i.key for i in playbook.items}:
            check.add((*path, "item"), f"no checklist item {item!r} in the playbook {playbook.id!r}")
            return None
        return item
    if name == "regime":
        regime = check.string(data, path, "regime")
        if regime and config is not None and regime not in config.regimes:
            check.add(
                (*path, "regime"), f"unknown regime {regime!r} (known: {', '.join(config.regimes.ids())})"
            )
            return None
        return regime
    if name in ("encrypted", "exfiltration", "high_risk"):
        return _choice(check, data, path, name, TRISTATE)
    if name == "outcome":
        return _choice(check, data, path, name, OUTCOMES)
    if name == "stage":
        return _choice(check, data, path, name, STAGES)
    if name == "recipient_kind":
        return _choice(check, data, path, name, RECIPIENT_KINDS)
    if name == "people_affected":
        return _count(check, data, path, name)
    if name == "data_categories":
        return _choices(check, data, path, name, known.regimes.category_keys()) or None
    if name == "jurisdictions":
        return _choices(check, data, path, name, known.regimes.jurisdiction_codes()) or None
    if name in ("override", "archive", "aware"):
        return check.flag(data, path, name, False)
    if name == "contents":
        listed = check.sequence(data[name], (*path, name), name)
        return tuple(str(c) for c in listed or ()) or None
    if name == "sha256":
        value = check.string(data, path, name, pattern=re.compile(r"[0-9a-fA-F]{64}"), hint="64 hex digits")
        return value.lower() if value else None
    return check.string(data, path, name)
