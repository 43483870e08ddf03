"""The roles configuration: which roles an incident team has, their duties, and who holds them by default.

The file (``incident/data/roles.yaml`` unless the firm points elsewhere) is read once at
start-up and validated completely: every mistake is reported with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainValidator, ValidationInfo, model_validator
from pydantic.dataclasses import dataclass

from incident.yamlmodel import STRICT, Bilingual, Flag, Name, load_model, report, unique

DEFAULT_ROLES_PATH = Path(__file__).parent / "data" / "roles.yaml"

COMMANDER = "incident_commander"
"""The one role every configuration must have: it may always manage the incident."""

ROLE_KEY = re.compile(r"[a-z][a-z0-9_]*")
HOLDER_ID = re.compile(r"[UWS][A-Z0-9]{2,}")
USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


UsergroupId = Annotated[str, Name(USERGROUP_ID.pattern, "a Slack user group id starts with S")]
ChannelId = Annotated[str, Name(CHANNEL_ID.pattern, "a Slack channel id starts with C or G")]


def _holder(value: object) -> str:
    if not isinstance(value, str) or not HOLDER_ID.fullmatch(value):
        raise ValueError(f"default holder {value!r} is not a Slack user id (U… or W…) or user group id (S…)")
    return value


def _listed_once(holders: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    if info.context is not None:  # a file; App Home's overlay (dataclasses.replace) is checked there
        report(
            *[
                ((i,), f"default holder {h!r} is listed twice")
                for i, h in enumerate(holders)
                if h in holders[:i]
            ]
        )
    return holders


Holders = Annotated[
    tuple[Annotated[str, PlainValidator(_holder)], ...],
    BeforeValidator(lambda value: [] if value is None else [value] if isinstance(value, str) else value),
    AfterValidator(_listed_once),
]
"""Default holders: a list of ids, or one id on its own."""


@dataclass(frozen=True, slots=True, config=STRICT)
class RoleDef:
    """One role of the incident team.

    ``defaults`` are Slack user ids (``U…``/``W…``) or user group ids (``S…``) proposed
    as holders at declaration (one id may be written without a list). ``may_manage`` lets
    the holder change severity, assign roles, resolve and close.
    """

    key: Annotated[str, Name(ROLE_KEY.pattern, "use lowercase letters, digits and _")]
    name: Bilingual
    duties: Bilingual
    defaults: Holders = ()
    may_manage: Flag = False

    @property
    def default_users(self) -> tuple[str, ...]:
        return tuple(d for d in self.defaults if not d.startswith("S"))

    @property
    def default_usergroups(self) -> tuple[str, ...]:
        return tuple(d for d in self.defaults if d.startswith("S"))


@dataclass(frozen=True, slots=True, config=STRICT)
class RolesConfig:
    roles: tuple[RoleDef, ...]
    admin_usergroup: UsergroupId | None = None
    announcement_channel: ChannelId | None = None

    @model_validator(mode="after")
    def _one_commander_who_manages(self) -> RolesConfig:
        keys = [(("roles", i, "key"), role.key) for i, role in enumerate(self.roles)]
        commander = [i for i, role in enumerate(self.roles) if role.key == COMMANDER]
        found = unique(keys, "role")
        if not commander:
            found.append((("roles",), f"missing role {COMMANDER!r}: every incident needs a commander"))
        elif not self.roles[commander[0]].may_manage:
            found.append((("roles", commander[0], "may_manage"), f"{COMMANDER} must have may_manage: true"))
        report(*found)
        return self

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
    return load_model(DEFAULT_ROLES_PATH if path is None else path, RolesConfig, what="the roles file")
