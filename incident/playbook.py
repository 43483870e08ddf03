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
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from incident.durations import duration
from incident.i18n import t
from incident.roles_config import COMMANDER, RolesConfig
from incident.text import Locale, Text
from incident.yamlsource import (
    Checker,
    ConfigError,
    LineMap,
    Problem,
    YamlPath,
    load_with_lines,
    source_name,
)

BUILTIN_DIR = Path(__file__).parent / "data" / "playbooks"
DEFAULT_PLAYBOOK_ID = "data_breach"

KEY = re.compile(r"[a-z0-9_]+")
REGIME_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PLAYBOOK_SUFFIXES = (".yaml", ".yml")

_TOP_REQUIRED = ("id", "version", "title", "phases")
_TOP_OPTIONAL = ("description",)
_PHASE_REQUIRED = ("key", "title", "items")
_PHASE_OPTIONAL = ("opens",)
_ITEM_REQUIRED = ("key", "title", "owner")
_ITEM_OPTIONAL = ("help", "required", "due", "restricted", "regime")


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


# ---------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist item. ``due`` counts from declaration; ``regime`` ties it to a regulatory clock."""

    key: str
    title: Text
    owner: str
    help: Text | None = None
    required: bool = True
    due: timedelta | None = None
    restricted: bool = False
    regime: str | None = None

    def may_complete(self, held_roles: Collection[str]) -> bool:
        """Whether someone holding ``held_roles`` may complete it (anyone, unless restricted)."""
        return not self.restricted or self.owner in held_roles or COMMANDER in held_roles

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title.to_dict(),
            "help": self.help.to_dict() if self.help else None,
            "owner": self.owner,
            "required": self.required,
            "due": format_duration(self.due) if self.due is not None else None,
            "restricted": self.restricted,
            "regime": self.regime,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        return cls(
            key=data["key"],
            title=Text.from_dict(data["title"]),
            owner=data["owner"],
            help=Text.from_dict(data["help"]) if data.get("help") else None,
            required=data.get("required", True),
            due=parse_duration(data["due"]) if data.get("due") else None,
            restricted=data.get("restricted", False),
            regime=data.get("regime"),
        )


@dataclass(frozen=True, slots=True)
class Phase:
    key: str
    title: Text
    opens: Opens
    items: tuple[Item, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title.to_dict(),
            "opens": self.opens.value,
            "items": [item.to_dict() for item in self.items],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Phase:
        return cls(
            key=data["key"],
            title=Text.from_dict(data["title"]),
            opens=Opens(data["opens"]),
            items=tuple(Item.from_dict(item) for item in data["items"]),
        )


@dataclass(frozen=True, slots=True)
class Playbook:
    id: str
    version: int
    title: Text
    phases: tuple[Phase, ...]
    description: Text | None = None

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
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title.to_dict(),
            "description": self.description.to_dict() if self.description else None,
            "phases": [phase.to_dict() for phase in self.phases],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Playbook:
        return cls(
            id=data["id"],
            version=data["version"],
            title=Text.from_dict(data["title"]),
            description=Text.from_dict(data["description"]) if data.get("description") else None,
            phases=tuple(Phase.from_dict(phase) for phase in data["phases"]),
        )


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
    data, lines = load_with_lines(path_or_text)
    return parse_playbook(data, lines, source_name(path_or_text), roles, regime_ids)


def parse_playbook(
    data: object,
    lines: LineMap,
    name: str,
    roles: RolesConfig,
    regime_ids: Collection[str] | None = None,
) -> Playbook:
    """Validate already-loaded playbook data (see ``load_playbook``)."""
    check = Checker(name, lines)
    top = check.mapping(data, (), "a playbook")
    if top is None:
        raise ConfigError(name, check.problems)
    check.fields(top, (), required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
    playbook_id = check.string(top, (), "id", pattern=KEY, hint="use lowercase letters, digits and _")
    title = check.text(top, (), "title")
    description = check.text(top, (), "description")
    version = top.get("version")
    if "version" in top and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        check.add(("version",), f"version must be a whole number from 1 up, not {version!r}")

    phases: list[Phase] = []
    raw_phases = check.sequence(top["phases"], ("phases",), "phases") if "phases" in top else None
    if raw_phases is not None and not raw_phases:
        check.add(("phases",), "phases is empty: a playbook needs at least one phase")
    seen_phases: dict[str, int | None] = {}
    seen_items: dict[str, int | None] = {}
    for index, raw in enumerate(raw_phases or []):
        phase = _parse_phase(check, raw, ("phases", index), index, roles, regime_ids, seen_phases, seen_items)
        if phase is not None:
            phases.append(phase)

    check.raise_if_any()
    assert playbook_id is not None and title is not None and isinstance(version, int)
    return Playbook(
        id=playbook_id, version=version, title=title, description=description, phases=tuple(phases)
    )


def _parse_phase(
    check: Checker,
    raw: object,
    path: YamlPath,
    index: int,
    roles: RolesConfig,
    regime_ids: Collection[str] | None,
    seen_phases: dict[str, int | None],
    seen_items: dict[str, int | None],
) -> Phase | None:
    data = check.mapping(raw, path, "a phase")
    if data is None:
        return None
    before = len(check.problems)
    check.fields(data, path, required=_PHASE_REQUIRED, optional=_PHASE_OPTIONAL)
    key = check.string(data, path, "key", pattern=KEY, hint="use lowercase letters, digits and _")
    if key is not None:
        _claim_key(check, seen_phases, key, (*path, "key"), "phase")
    title = check.text(data, path, "title")

    opens = Opens.AT_DECLARE if index == 0 else Opens.AFTER_PREVIOUS
    if data.get("opens") is not None:
        try:
            opens = Opens(data["opens"])
        except ValueError:
            allowed = " or ".join(o.value for o in Opens)
            check.add((*path, "opens"), f"opens must be {allowed}, not {data['opens']!r}")
        else:
            if index == 0 and opens is Opens.AFTER_PREVIOUS:
                check.add((*path, "opens"), "the first phase has no previous phase: use opens: at_declare")

    items: list[Item] = []
    raw_items = check.sequence(data["items"], (*path, "items"), "items") if "items" in data else None
    if raw_items is not None and not raw_items:
        check.add((*path, "items"), f"phase {key or index + 1!r} has no items")
    for item_index, raw_item in enumerate(raw_items or []):
        item = _parse_item(check, raw_item, (*path, "items", item_index), roles, regime_ids, seen_items)
        if item is not None:
            items.append(item)

    if len(check.problems) > before or key is None or title is None:
        return None
    return Phase(key=key, title=title, opens=opens, items=tuple(items))


def _parse_item(
    check: Checker,
    raw: object,
    path: YamlPath,
    roles: RolesConfig,
    regime_ids: Collection[str] | None,
    seen_items: dict[str, int | None],
) -> Item | None:
    data = check.mapping(raw, path, "an item")
    if data is None:
        return None
    before = len(check.problems)
    check.fields(data, path, required=_ITEM_REQUIRED, optional=_ITEM_OPTIONAL)
    key = check.string(data, path, "key", pattern=KEY, hint="use lowercase letters, digits and _")
    if key is not None:
        _claim_key(check, seen_items, key, (*path, "key"), "item")
    title = check.text(data, path, "title")
    help_text = check.text(data, path, "help")
    required = check.flag(data, path, "required", True)
    restricted = check.flag(data, path, "restricted", False)

    owner = check.string(data, path, "owner")
    if owner is not None and owner not in roles:
        check.add((*path, "owner"), f"unknown role {owner!r} (known: {', '.join(roles.keys())})")

    due: timedelta | None = None
    if data.get("due") is not None:
        try:
            due = parse_duration(data["due"])
        except ValueError as exc:
            check.add((*path, "due"), f"due: {exc}")

    regime = check.string(data, path, "regime", pattern=REGIME_ID, hint="e.g. eu-gdpr-33")
    if regime is not None and regime_ids is not None and regime not in regime_ids:
        known = ", ".join(sorted(regime_ids)) or "none configured"
        check.add((*path, "regime"), f"unknown regime {regime!r} (known: {known})")

    if len(check.problems) > before or key is None or title is None or owner is None:
        return None
    return Item(
        key=key,
        title=title,
        owner=owner,
        help=help_text,
        required=required,
        due=due,
        restricted=restricted,
        regime=regime,
    )


def _claim_key(check: Checker, seen: dict[str, int | None], key: str, path: YamlPath, what: str) -> None:
    if key in seen:
        check.add(path, f"duplicate {what} key {key!r} (first on line {seen[key]})")
    else:
        seen[key] = check.lines(path)


def load_playbooks(
    directory: str | Path | None, roles: RolesConfig, regime_ids: Collection[str] | None = None
) -> dict[str, Playbook]:
    """Every playbook (``*.yaml``, ``*.yml``) in a folder, by id; ``None`` means the built-in ones.

    Raises one ``ConfigError`` for the folder listing the problems of every file, and
    ids used by two files.
    """
    loaded = _load_folder(directory or BUILTIN_DIR, roles, regime_ids)
    return {playbook.id: playbook for _, playbook in loaded}


def builtin_playbooks(roles: RolesConfig, regime_ids: Collection[str] | None = None) -> dict[str, Playbook]:
    """The playbooks shipped with Breachroom, by id (``data_breach`` is the default)."""
    return load_playbooks(None, roles, regime_ids)


def _load_folder(
    directory: str | Path, roles: RolesConfig, regime_ids: Collection[str] | None
) -> list[tuple[Path, Playbook]]:
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigError(str(folder), [Problem(None, "folder not found")])
    files = sorted(p for p in folder.iterdir() if p.suffix in PLAYBOOK_SUFFIXES and p.is_file())
    if not files:
        suffixes = ", ".join(f"*{s}" for s in PLAYBOOK_SUFFIXES)
        raise ConfigError(str(folder), [Problem(None, f"no playbooks ({suffixes}) in this folder")])
    problems: list[Problem] = []
    loaded: list[tuple[Path, Playbook]] = []
    first_file: dict[str, Path] = {}
    for file in files:
        try:
            data, lines = load_with_lines(file)
            playbook = parse_playbook(data, lines, str(file), roles, regime_ids)
        except ConfigError as error:
            problems.extend(_with_path(error))
            continue
        if playbook.id in first_file:
            problems.append(
                Problem(
                    lines(("id",)),
                    f"duplicate playbook id {playbook.id!r} (also in {first_file[playbook.id].name})",
                    str(file),
                )
            )
            continue
        first_file[playbook.id] = file
        loaded.append((file, playbook))
    if problems:
        raise ConfigError(str(folder), problems)
    return loaded


def _with_path(error: ConfigError) -> list[Problem]:
    return [Problem(p.line, p.message, p.path or error.path) for p in error.problems]


# ---------------------------------------------------------------------------- text for the CLI


def check_report(
    path: str | Path, roles: RolesConfig, regime_ids: Collection[str] | None = None
) -> tuple[bool, str]:
    """Validate a playbook file or folder; return ``(ok, text)`` for ``breachroom check``."""
    try:
        if Path(path).is_dir():
            loaded = _load_folder(path, roles, regime_ids)
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


def render_playbook(playbook: Playbook, locale: Locale, roles: RolesConfig | None = None) -> str:
    """A readable outline of a playbook: phases, then items with owner, due, flags and regime.

    With ``roles``, owners show by role name; without, by role key.
    """
    version = t("playbook.outline.version", locale, version=playbook.version)
    lines = [f"{playbook.title.get(locale)} — {playbook.id} {version}"]
    if playbook.description:
        lines.append(playbook.description.get(locale))
    for number, phase in enumerate(playbook.phases, start=1):
        lines.append("")
        opens = t(f"playbook.outline.opens.{phase.opens.value}", locale)
        lines.append(f"{number}. {phase.title.get(locale)} [{phase.key}] · {opens}")
        for item in phase.items:
            role = roles.get(item.owner) if roles else None
            details = [role.name.get(locale) if role else item.owner]
            if item.due is not None:
                details.append(t("playbook.outline.due", locale, due=duration(item.due, locale, units=3)))
            details.append(t(f"playbook.outline.{'required' if item.required else 'optional'}", locale))
            if item.restricted:
                details.append(t("playbook.outline.restricted", locale))
            if item.regime:
                details.append(t("playbook.outline.regime", locale, regime=item.regime))
            lines.append(f"   • {item.title.get(locale)} [{item.key}] — {' · '.join(details)}")
    return "\n".join(lines) + "\n"
