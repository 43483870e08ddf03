"""The roles configuration: which roles an incident team has, their duties, and who holds them by default.

The file (``incident/data/roles.yaml`` unless the firm points elsewhere) is read once at
start-up and validated completely: every mistake is reported with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from incident.text import Text
from incident.yamlsource import Checker, ConfigError, LineMap, YamlPath, load_with_lines, source_name

DEFAULT_ROLES_PATH = Path(__file__).parent / "data" / "roles.yaml"

COMMANDER = "incident_commander"
"""The one role every configuration must have: it may always manage the incident."""

ROLE_KEY = re.compile(r"[a-z][a-z0-9_]*")
HOLDER_ID = re.compile(r"[UWS][A-Z0-9]{2,}")
USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")

_TOP_FIELDS = ("roles",)
_TOP_OPTIONAL = ("admin_usergroup", "announcement_channel")
_ROLE_REQUIRED = ("key", "name", "duties")
_ROLE_OPTIONAL = ("defaults", "may_manage")


@dataclass(frozen=True, slots=True)
class RoleDef:
    """One role of the incident team.

    ``defaults`` are Slack user ids (``U…``/``W…``) or user group ids (``S…``) proposed
    as holders at declaration. ``may_manage`` lets the holder change severity, assign
    roles, resolve and close.
    """

    key: str
    name: Text
    duties: Text
    defaults: tuple[str, ...] = ()
    may_manage: bool = False

    @property
    def default_users(self) -> tuple[str, ...]:
        return tuple(d for d in self.defaults if not d.startswith("S"))

    @property
    def default_usergroups(self) -> tuple[str, ...]:
        return tuple(d for d in self.defaults if d.startswith("S"))


@dataclass(frozen=True, slots=True)
class RolesConfig:
    roles: tuple[RoleDef, ...]
    admin_usergroup: str | None = None
    announcement_channel: str | None = None

    def get(self, key: str) -> RoleDef | None:
        for role in self.roles:
            if role.key == key:
                return role
        return None

    def __getitem__(self, key: str) -> RoleDef:
        role = self.get(key)
        if role is None:
            raise KeyError(key)
        return role

    def __contains__(self, key: object) -> bool:
        return any(role.key == key for role in self.roles)

    def __iter__(self) -> Iterator[RoleDef]:
        return iter(self.roles)

    def keys(self) -> tuple[str, ...]:
        """Role keys in the configured order."""
        return tuple(role.key for role in self.roles)

    def managing_keys(self) -> tuple[str, ...]:
        """Keys of the roles whose holders may manage the incident."""
        return tuple(role.key for role in self.roles if role.may_manage)


def load_roles(path: str | Path | None = None) -> RolesConfig:
    """Load and validate a roles file; ``None`` loads the packaged default.

    Raises ``ConfigError`` listing every problem with its line: unknown or missing fields,
    duplicate role keys, missing translations, ids that are not Slack ids, and a missing
    or non-managing ``incident_commander``.
    """
    source: str | Path = DEFAULT_ROLES_PATH if path is None else path
    data, lines = load_with_lines(source)
    return parse_roles(data, lines, source_name(source))


def parse_roles(data: object, lines: LineMap, name: str) -> RolesConfig:
    """Validate already-loaded roles data (see ``load_roles``)."""
    check = Checker(name, lines)
    top = check.mapping(data, (), "the roles file")
    if top is None:
        raise ConfigError(name, check.problems)
    check.fields(top, (), required=_TOP_FIELDS, optional=_TOP_OPTIONAL)
    admin = check.string(
        top, (), "admin_usergroup", pattern=USERGROUP_ID, hint="a Slack user group id starts with S"
    )
    channel = check.string(
        top, (), "announcement_channel", pattern=CHANNEL_ID, hint="a Slack channel id starts with C or G"
    )

    roles: list[RoleDef] = []
    raw_roles = check.sequence(top["roles"], ("roles",), "roles") if "roles" in top else None
    first_line: dict[str, int | None] = {}
    for index, raw in enumerate(raw_roles or []):
        path: YamlPath = ("roles", index)
        key = raw.get("key") if isinstance(raw, dict) else None
        if isinstance(key, str) and key in first_line:
            check.add((*path, "key"), f"duplicate role {key!r} (first on line {first_line[key]})")
            continue
        if isinstance(key, str):
            first_line[key] = lines((*path, "key"))
        role = _parse_role(check, raw, path)
        if role is None:
            continue
        if role.key == COMMANDER and not role.may_manage:
            check.add((*path, "may_manage"), f"{COMMANDER} must have may_manage: true")
        roles.append(role)

    if raw_roles is not None:
        raw_keys = {raw.get("key") for raw in raw_roles if isinstance(raw, dict)}
        if COMMANDER not in raw_keys:
            check.add(("roles",), f"missing role {COMMANDER!r}: every incident needs a commander")
    check.raise_if_any()
    return RolesConfig(roles=tuple(roles), admin_usergroup=admin, announcement_channel=channel)


def _parse_role(check: Checker, raw: object, path: YamlPath) -> RoleDef | None:
    data = check.mapping(raw, path, "a role")
    if data is None:
        return None
    before = len(check.problems)
    check.fields(data, path, required=_ROLE_REQUIRED, optional=_ROLE_OPTIONAL)
    key = check.string(data, path, "key", pattern=ROLE_KEY, hint="use lowercase letters, digits and _")
    name = check.text(data, path, "name")
    duties = check.text(data, path, "duties")
    may_manage = check.flag(data, path, "may_manage", False)
    defaults = _parse_defaults(check, data.get("defaults"), (*path, "defaults"))
    if len(check.problems) > before or key is None or name is None or duties is None:
        return None
    return RoleDef(key=key, name=name, duties=duties, defaults=defaults, may_manage=may_manage)


def _parse_defaults(check: Checker, raw: object, path: YamlPath) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    items = check.sequence(raw, path, "defaults")
    seen: set[str] = set()
    result: list[str] = []
    for index, value in enumerate(items or []):
        where = (*path, index)
        if not isinstance(value, str) or not HOLDER_ID.fullmatch(value):
            check.add(
                where,
                f"default holder {value!r} is not a Slack user id (U… or W…) or user group id (S…)",
            )
        elif value in seen:
            check.add(where, f"default holder {value!r} is listed twice")
        else:
            seen.add(value)
            result.append(value)
    return tuple(result)
