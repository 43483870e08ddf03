"""Playbooks: the phases and checklist items an incident works through, read from YAML files.

A playbook file (see ``incident/data/playbooks/data_breach.yaml`` for a commented one)::

    id: data_breach            # [a-z0-9_]+
    version: 1                 # bump on every edit; incidents record the version they ran
    title: {zh-CN: ..., en: ...}
    description: {zh-CN: ..., en: ...}      # optional
    phases:
      - key: respond
        title: {zh-CN: ..., en: ...}
        opens: at_declare      # or after_previous (the default after the first phase)
        items:
          - key: form_team     # [a-z0-9_]+, unique across the playbook
            title: {zh-CN: ..., en: ...}
            help: {zh-CN: ..., en: ...}     # optional
            owner: incident_commander       # a role key from the roles configuration
            required: true     # default true
            due: 15m           # optional, from declaration: 30m, 4h, 1h30m, 3d
            restricted: false  # true: only the owner role's holder or the commander may complete it
            regime: eu-gdpr-33 # optional regulatory regime id

``at_declare`` phases are open from declaration (the notify track: its clocks run during
containment); an ``after_previous`` phase opens once every phase before it is complete.

An incident keeps a JSON snapshot (``Playbook.to_dict()``) of the playbook it was
declared with, so later edits to the file never change a running incident.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    StrictInt,
    ValidationInfo,
    model_validator,
)
from pydantic.dataclasses import dataclass

from incident.roles_config import COMMANDER, RolesConfig
from incident.text import Locale, Text
from incident.yamlmodel import (
    STRICT,
    Among,
    Bilingual,
    Flag,
    Name,
    adapter,
    load_folder,
    load_model,
    report,
    unique,
)
from incident.yamlsource import ConfigError

BUILTIN_DIR = Path(__file__).parent / "data" / "playbooks"
DEFAULT_PLAYBOOK_ID = "data_breach"

KEY = re.compile(r"[a-z0-9_]+")
REGIME_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PLAYBOOK_SUFFIXES = (".yaml", ".yml")

Key = Annotated[str, Name(KEY.pattern, "use lowercase letters, digits and _")]
RegimeId = Annotated[str, Name(REGIME_ID.pattern, "e.g. eu-gdpr-33"), Among("regime_ids", "regime", sorted)]


class Opens(StrEnum):
    """When a phase's checklist opens."""

    AT_DECLARE = "at_declare"
    AFTER_PREVIOUS = "after_previous"


# ---------------------------------------------------------------------------- durations

_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?")
_DURATION_HINT = "write a number followed by d, h or m, largest unit first, e.g. 30m, 4h, 1h30m, 3d"


def parse_duration(text: str) -> timedelta:
    """Parse ``30m``, ``4h``, ``1h30m``, ``3d``, ``2d4h`` into a positive timedelta.

    Raises ``ValueError`` with a message fit to show the person who wrote it.
    """
    if not isinstance(text, str):
        raise ValueError(f"bad duration {text!r}: {_DURATION_HINT}")
    stripped = text.strip()
    match = _DURATION.fullmatch(stripped)
    if not stripped or match is None:
        raise ValueError(f"bad duration {text!r}: {_DURATION_HINT}")
    days, hours, minutes = (int(group) if group else 0 for group in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if duration <= timedelta(0):
        raise ValueError(f"bad duration {text!r}: it must be longer than zero")
    return duration


def format_duration(duration: timedelta) -> str:
    """The canonical spelling ``parse_duration`` reads back: ``1d2h30m``, ``45m``, ``0m``."""
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"


def _duration(value: Any, info: ValidationInfo) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{info.field_name}: {exc}") from None


Duration = Annotated[timedelta, PlainValidator(_duration), PlainSerializer(format_duration)]
"""A duration written ``30m``, ``4h``, ``1h30m``, ``3d`` (see ``parse_duration``)."""


# ---------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True, config=STRICT)
class Item:
    """One checklist item. ``due`` counts from declaration; ``regime`` ties it to a regulatory clock."""

    key: Key
    title: Bilingual
    owner: Annotated[str, Name(), Among("roles", "role", RolesConfig.keys)]
    help: Bilingual | None = None
    required: Flag = True
    due: Duration | None = None
    restricted: Flag = False
    regime: RegimeId | None = None

    def may_complete(self, held_roles: Collection[str]) -> bool:
        """Whether someone holding ``held_roles`` may complete it (anyone, unless restricted)."""
        return not self.restricted or self.owner in held_roles or COMMANDER in held_roles


@dataclass(frozen=True, slots=True, config=STRICT)
class Phase:
    key: Key
    title: Bilingual
    items: Annotated[tuple[Item, ...], Field(min_length=1)]
    opens: Opens = Opens.AFTER_PREVIOUS


@dataclass(frozen=True, slots=True, config=STRICT)
class Playbook:
    id: Key
    version: Annotated[StrictInt, Field(ge=1)]
    title: Bilingual
    phases: Annotated[tuple[Phase, ...], Field(min_length=1)]
    description: Bilingual | None = None

    @model_validator(mode="before")
    @classmethod
    def _first_phase_opens_at_declare(cls, data: Any) -> Any:
        """The first phase has no previous one: unless it says otherwise, it opens at declaration."""
        match data:
            case {"phases": [dict() as first, *rest]} if "opens" not in first:
                return {**data, "phases": [{**first, "opens": Opens.AT_DECLARE.value}, *rest]}
        return data

    @model_validator(mode="after")
    def _keys_unique_and_first_phase_open(self) -> Playbook:
        phases = [(("phases", i, "key"), phase.key) for i, phase in enumerate(self.phases)]
        items = [
            (("phases", i, "items", j, "key"), item.key)
            for i, phase in enumerate(self.phases)
            for j, item in enumerate(phase.items)
        ]
        report(
            *unique(phases, "phase key"),
            *unique(items, "item key"),
            *[
                (("phases", 0, "opens"), "the first phase has no previous phase: use opens: at_declare")
                for first in self.phases[:1]
                if first.opens is Opens.AFTER_PREVIOUS
            ],
        )
        return self

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, phase by phase."""
        return tuple(item for phase in self.phases for item in phase.items)

    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    def item(self, key: str) -> Item:
        """The item with this key; ``KeyError`` if the playbook has none."""
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(f"playbook {self.id!r} v{self.version} has no item {key!r}")

    def phase(self, key: str) -> Phase:
        """The phase with this key; ``KeyError`` if the playbook has none."""
        for phase in self.phases:
            if phase.key == key:
                return phase
        raise KeyError(f"playbook {self.id!r} v{self.version} has no phase {key!r}")

    def phase_of(self, item_key: str) -> Phase:
        """The phase holding the item; ``KeyError`` if no phase does."""
        for phase in self.phases:
            if any(item.key == item_key for item in phase.items):
                return phase
        raise KeyError(f"playbook {self.id!r} v{self.version} has no item {item_key!r}")

    def open_phases(self, completed: Collection[str]) -> tuple[Phase, ...]:
        """Phases that are open given the keys of the completed ones (completed ones included).

        ``at_declare`` phases are always open; an ``after_previous`` phase opens once
        every phase before it is in ``completed``.
        """
        result: list[Phase] = []
        earlier_done = True
        for phase in self.phases:
            if phase.opens is Opens.AT_DECLARE or earlier_done:
                result.append(phase)
            earlier_done = earlier_done and phase.key in completed
        return tuple(result)

    def regimes(self) -> tuple[str, ...]:
        """Regime ids the items refer to, in order of first use."""
        return tuple(dict.fromkeys(item.regime for item in self.items if item.regime))

    def __iter__(self) -> Iterator[Phase]:
        return iter(self.phases)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot; ``from_dict`` rebuilds an equal playbook."""
        return adapter(Playbook).dump_python(self, mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Playbook:
        return adapter(Playbook).validate_python(data)


# ---------------------------------------------------------------------------- loading


def load_playbook(
    path_or_text: str | Path, roles: RolesConfig, regime_ids: Collection[str] | None = None
) -> Playbook:
    """Load and validate one playbook from a path or YAML text.

    Owners must be roles in ``roles``; when ``regime_ids`` is given, regimes must be
    among them (otherwise only their spelling is checked). Raises ``ConfigError`` listing
    every problem with its line: unknown role, duplicate key, missing translation, bad
    duration, unknown regime, unknown field, empty phase, and so on.
    """
    context = {"roles": roles, "regime_ids": regime_ids}
    return load_model(path_or_text, Playbook, what="a playbook", context=context)


def load_playbooks(
    directory: str | Path | None, roles: RolesConfig, regime_ids: Collection[str] | None = None
) -> dict[str, Playbook]:
    """Every playbook (``*.yaml``, ``*.yml``) in a folder, by id; ``None`` means the built-in ones.

    Raises one ``ConfigError`` for the folder listing the problems of every file, and
    ids used by two files.
    """
    return {
        key: playbook for key, (_, playbook) in _folder(directory or BUILTIN_DIR, roles, regime_ids).items()
    }


def builtin_playbooks(roles: RolesConfig, regime_ids: Collection[str] | None = None) -> dict[str, Playbook]:
    """The playbooks shipped with Breachroom, by id (``data_breach`` is the default)."""
    return load_playbooks(None, roles, regime_ids)


def _folder(
    directory: str | Path, roles: RolesConfig, regime_ids: Collection[str] | None
) -> dict[str, tuple[Path, Playbook]]:
    context = {"roles": roles, "regime_ids": regime_ids}
    return load_folder(Path(directory), PLAYBOOK_SUFFIXES, Playbook, what="playbook", context=context)


# ---------------------------------------------------------------------------- text for the CLI


def check_report(
    path: str | Path, roles: RolesConfig, regime_ids: Collection[str] | None = None
) -> tuple[bool, str]:
    """Validate a playbook file or folder; return ``(ok, text)`` for ``breachroom check``."""
    try:
        if Path(path).is_dir():
            loaded = list(_folder(path, roles, regime_ids).values())
        else:
            loaded = [(Path(path), load_playbook(Path(path), roles, regime_ids))]
    except ConfigError as error:
        count = len(error.problems)
        return False, f"{error}\n{count} problem{'s' if count != 1 else ''} found."
    lines = [
        f"{file}: OK — {pb.id} v{pb.version}: {len(pb.phases)} phases, {len(pb.items)} items"
        for file, pb in loaded
    ]
    return True, "\n".join(lines)


_OPENS_LABEL = {
    Opens.AT_DECLARE: Text(zh_CN="宣布事件时开启", en="opens at declaration"),
    Opens.AFTER_PREVIOUS: Text(zh_CN="前面各阶段完成后开启", en="opens when the earlier phases are done"),
}
_VERSION = Text(zh_CN="第 {version} 版", en="v{version}")
_DUE = Text(zh_CN="宣布后 {due}内", en="due {due} after declaration")
_UNITS = {"zh-CN": ("天", "小时", "分钟"), "en": ("d", "h", "m")}
_REQUIRED = Text(zh_CN="必做", en="required")
_OPTIONAL = Text(zh_CN="可选", en="optional")
_RESTRICTED = Text(zh_CN="仅限负责角色或指挥官完成", en="restricted to owner or commander")
_REGIME = Text(zh_CN="法规 {regime}", en="regime {regime}")


def render_playbook(playbook: Playbook, locale: Locale, roles: RolesConfig | None = None) -> str:
    """A readable outline of a playbook: phases, then items with owner, due, flags and regime.

    With ``roles``, owners show by role name; without, by role key.
    """
    version = _VERSION.get(locale).format(version=playbook.version)
    lines = [f"{playbook.title.get(locale)} — {playbook.id} {version}"]
    if playbook.description:
        lines.append(playbook.description.get(locale))
    for number, phase in enumerate(playbook.phases, start=1):
        lines.append("")
        opens = _OPENS_LABEL[phase.opens].get(locale)
        lines.append(f"{number}. {phase.title.get(locale)} [{phase.key}] · {opens}")
        for item in phase.items:
            role = roles.get(item.owner) if roles else None
            details = [role.name.get(locale) if role else item.owner]
            if item.due is not None:
                details.append(_DUE.get(locale).format(due=_spoken_duration(item.due, locale)))
            details.append((_REQUIRED if item.required else _OPTIONAL).get(locale))
            if item.restricted:
                details.append(_RESTRICTED.get(locale))
            if item.regime:
                details.append(_REGIME.get(locale).format(regime=item.regime))
            lines.append(f"   • {item.title.get(locale)} [{item.key}] — {' · '.join(details)}")
    return "\n".join(lines) + "\n"


def _spoken_duration(duration: timedelta, locale: Locale) -> str:
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    chinese = locale == "zh-CN"
    units = _UNITS["zh-CN" if chinese else "en"]
    amounts = zip((days, hours, minutes), units, strict=True)
    parts = [f"{n} {unit}" if chinese else f"{n}{unit}" for n, unit in amounts if n]
    return " ".join(parts) if chinese else "".join(parts)
