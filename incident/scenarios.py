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
      - {at: +26h, who: erin, do: notify, regime: cn-pipl-57/individuals, recipient: ...}

``regime`` (notify, miss) names a regime, which stands for its first clock (or the first of the
``recipient_kind`` given), or one obligation as ``<regime id>/<key>``.

``at`` is simulated time from the start (``+0m``, ``+20m``, ``+2h``, ``+1d2h``); ``who`` is a
person of the sandbox workspace. What each ``do`` takes is its ``Step`` subclass below. Every
mistake is reported with its line, all at once (``ConfigError``).

This module only reads and checks the files; ``bot/drill_player.py`` plays them through Slack.
"""

from __future__ import annotations

import re
from dataclasses import field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    StrictInt,
    ValidationInfo,
    model_validator,
)
from pydantic.dataclasses import dataclass

from incident.declare import SEVERITIES
from incident.playbook import parse_duration
from incident.regimes import RECIPIENT_KINDS, Regimes, load_regimes
from incident.text import Text
from incident.yamlmodel import (
    STRICT,
    Among,
    Bilingual,
    Flag,
    Name,
    OneOf,
    known,
    load_folder,
    load_model,
    report,
)

if TYPE_CHECKING:
    from collections.abc import Collection

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


# ---------------------------------------------------------------------------- field types


def _offset(value: Any) -> timedelta:
    match = _OFFSET.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"at must be an offset from the start such as +0m, +20m or +2h, not {value!r}")
    if match.group(1).strip() in ("0", "0m", "0h", "0d"):
        return timedelta(0)
    return parse_duration(match.group(1))


def _yes_no(value: Any) -> Any:
    """YAML reads a bare yes or no as a flag."""
    return ("yes" if value else "no") if isinstance(value, bool) else value


Offset = Annotated[timedelta, PlainValidator(_offset)]
"""Simulated time from the start of the drill: ``+0m``, ``+20m``, ``+2h``, ``+1d2h``."""
Words = Annotated[str, Name()]
Person = Annotated[str, Name(), Among("people", "person")]
RoleKey = Annotated[str, Name(), Among("config", "role", lambda config: config.roles.keys())]
# A regime id, or one of its obligations as ``<regime id>/<key>``.
Regime = Annotated[
    str,
    Name(),
    Among(
        "config",
        "regime or obligation",
        lambda config: (*config.regimes.ids(), *(o.id for o in config.regimes.obligations())),
    ),
]
PlaybookId = Annotated[str, Name(), Among("config", "playbook", lambda config: sorted(config.playbooks))]
ItemKey = Annotated[str, Name(), Among("playbook", "checklist item", lambda playbook: playbook.item_keys())]
Tristate = Annotated[str, OneOf(TRISTATE), BeforeValidator(_yes_no)]  # the Before wraps the Plain
DataRole = Annotated[str, OneOf(ROLES_OF_DATA)]
# The firm's regimes file names the data categories and jurisdictions a scenario may use (the
# packaged file's when no configuration is given).
Categories = tuple[Annotated[str, Among("regimes", "data category", lambda r: r.category_keys())], ...]
Jurisdictions = tuple[Annotated[str, Among("regimes", "jurisdiction", lambda r: r.jurisdiction_codes())], ...]
Count = Annotated[StrictInt, Field(ge=0)]


# ---------------------------------------------------------------------------- the declare form


@dataclass(frozen=True, config=STRICT)
class DeclareFacts:
    """What the declare form is prefilled with."""

    summary: Bilingual
    severity: Annotated[str, OneOf(SEVERITIES)]
    data_categories: Categories = ()
    people_affected: Count | None = None
    affected_clients: tuple[str, ...] = ()
    jurisdictions: Jurisdictions = ()
    encrypted: Tristate | None = None
    exfiltration: Tristate | None = None
    role: DataRole | None = None
    playbook: PlaybookId | None = None
    discovered_before: Annotated[timedelta, PlainValidator(lambda v: parse_duration(str(v)))] | None = None


# ---------------------------------------------------------------------------- steps

_COMMON = ("at", "who", "do", "line")


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Step:
    """One scripted action: ``at`` from the start, ``who`` does it; each ``do`` is a subclass below.

    ``fields`` are the action's own fields, by their name in the file (texts as ``Text``)."""

    at: Offset
    who: Person
    do: str
    line: int | None = field(default=None, init=False, compare=False)

    @property
    def fields(self) -> dict[str, Any]:
        return {
            info.alias or name: getattr(self, name)
            # Set on every pydantic dataclass; pydantic ships no stub for the dunder.
            for name, info in type(self).__pydantic_fields__.items()  # type: ignore[attr-defined]
            if name not in _COMMON and getattr(self, name) is not None
        }

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def text(self, name: str, locale: str) -> str:
        value = self.fields.get(name)
        return value.get(locale) if isinstance(value, Text) else ""


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Declare(Step):
    do: Literal["declare"]


@dataclass(frozen=True, kw_only=True, config=STRICT)
class TakeRole(Step):
    do: Literal["take_role"]
    role: RoleKey
    by: Person | None = None


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Click(Step):
    do: Literal["click"]
    item: ItemKey
    outcome: Annotated[str, OneOf(OUTCOMES)] | None = None
    reason: Bilingual | None = None

    @model_validator(mode="after")
    def _na_has_a_reason(self) -> Click:
        if self.outcome == "na" and self.reason is None:
            report(((), "a not-applicable click needs a reason"))
        return self


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Note(Step):
    do: Literal["note"]
    said: Bilingual = Field(alias="text")


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Decision(Step):
    do: Literal["decision"]
    said: Bilingual = Field(alias="text")
    rationale: Bilingual
    alternatives: Bilingual | None = None
    approver: Person | None = None


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Evidence(Step):
    do: Literal["evidence"]
    description: Bilingual
    location: Words
    sha256: Annotated[str, Name("[0-9a-fA-F]{64}", "64 hex digits"), AfterValidator(str.lower)] | None = None
    custodian: Person | None = None


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Facts(Step):
    do: Literal["facts"]
    people_affected: Count | None = None
    data_categories: Categories | None = None
    jurisdictions: Jurisdictions | None = None
    encrypted: Tristate | None = None
    exfiltration: Tristate | None = None
    role: DataRole | None = None
    aware: Flag | None = None
    high_risk: Tristate | None = None
    eu_main_establishment: Tristate | None = None


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Notify(Step):
    do: Literal["notify"]
    regime: Regime
    recipient: Words
    recipient_kind: Annotated[str, OneOf(RECIPIENT_KINDS)] | None = None
    reference: Words | None = None
    contents: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Miss(Step):
    do: Literal["miss"]
    regime: Regime


@dataclass(frozen=True, kw_only=True, config=STRICT)
class AdvancePhase(Step):
    do: Literal["advance_phase"]
    override: Flag | None = None
    reason: Bilingual | None = None

    @model_validator(mode="after")
    def _override_has_a_reason(self) -> AdvancePhase:
        if self.override and self.reason is None:
            report(((), "an override needs a reason"))
        return self


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Resolve(Step):
    do: Literal["resolve"]
    stage: Annotated[str, OneOf(STAGES)] | None = None


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Close(Step):
    do: Literal["close"]
    lessons: Bilingual
    archive: Flag | None = None


AnyStep = Annotated[
    Declare
    | TakeRole
    | Click
    | Note
    | Decision
    | Evidence
    | Facts
    | Notify
    | Miss
    | AdvancePhase
    | Resolve
    | Close,
    Field(discriminator="do"),
]


def _script(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """The script's shape: it declares first and only there, never goes back in time, closes last."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if steps and steps[0].do != "declare":
        found.append(((0,), f"the first step must declare the drill, not {steps[0].do!r}"))
    latest = timedelta(0)
    for index, step in enumerate(steps):
        if step.at < latest:
            found.append(((index, "at"), f"steps must not go back in time ({step.at} is before {latest})"))
        latest = max(latest, step.at)
        if step.do == "declare" and index > 0:
            found.append(((index, "do"), "a scenario declares once, in its first step"))
        if step.do == "close" and index != len(steps) - 1:
            found.append(((index, "do"), "close must be the last step"))
    report(*found)
    return steps


# ---------------------------------------------------------------------------- the scenario


@dataclass(frozen=True, kw_only=True, config=STRICT)
class Scenario:
    id: Annotated[str, Name(SCENARIO_ID.pattern, "lowercase words joined by -, e.g. lost-laptop")]
    title: Bilingual
    description: Bilingual | None = None
    declare: DeclareFacts
    steps: Annotated[tuple[AnyStep, ...], Field(min_length=1), AfterValidator(_script)]
    source: str = field(default="", init=False)

    @model_validator(mode="before")
    @classmethod
    def _playbook_of_the_items(cls, data: Any, info: ValidationInfo) -> Any:
        """Steps click items of the playbook the drill declares with (the firm's default if none)."""
        config: IncidentConfig | None = known(info, "config")
        if config is not None and info.context is not None:
            declare = data.get("declare") if isinstance(data, dict) else None
            wanted = declare.get("playbook") if isinstance(declare, dict) else None
            info.context["playbook"] = config.playbooks.get(wanted or config.default_playbook)
        return data

    @model_validator(mode="after")
    def _where_it_was_read(self, info: ValidationInfo) -> Scenario:
        lines = known(info, "lines")
        object.__setattr__(self, "source", known(info, "name") or "")  # a frozen dataclass, being built
        for index, step in enumerate(self.steps):
            object.__setattr__(step, "line", lines(("steps", index)) if lines else None)
        return self

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


# ---------------------------------------------------------------------------- loading


def _context(config: IncidentConfig | None, people: Collection[str] | None) -> dict[str, Any]:
    regimes = config.regimes if config is not None else _packaged_regimes()
    return {"config": config, "people": people, "regimes": regimes}


@cache
def _packaged_regimes() -> Regimes:
    return load_regimes()


def load_scenario(
    source: str | Path, *, config: IncidentConfig | None = None, people: Collection[str] = DRILL_PEOPLE
) -> Scenario:
    """One scenario file (or YAML text). With ``config``, playbook items, roles and regimes are
    checked against the firm's configuration too. Raises ``ConfigError`` listing every mistake."""
    return load_model(source, Scenario, what="a scenario", context=_context(config, people))


def load_scenarios(
    directory: str | Path | None = None,
    *,
    config: IncidentConfig | None = None,
    people: Collection[str] = DRILL_PEOPLE,
) -> dict[str, Scenario]:
    """Every scenario in a folder (the built-in ones by default), by id; one ``ConfigError`` for all."""
    folder = Path(directory) if directory is not None else BUILTIN_DIR
    context = _context(config, people)
    found = load_folder(folder, SUFFIXES, Scenario, what="scenario", context=context)
    return {key: scenario for key, (_, scenario) in found.items()}


def builtin_scenarios(config: IncidentConfig | None = None) -> dict[str, Scenario]:
    """The scenarios shipped with Breachroom, checked against ``config`` when given."""
    return load_scenarios(None, config=config)


def looks_like_scenario_id(text: str) -> bool:
    """Whether a `/breach drill` argument names a scenario rather than titling a drill."""
    return bool(SCENARIO_ID.fullmatch(text.strip()))
