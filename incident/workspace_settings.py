"""Workspace settings made in Slack: stored in the database, every change recorded with who and when.

The files (roles, severity matrix) are the base; a setting made in App Home (or imported with
``breachroom config import``) overlays them; an environment variable, where one exists for a
setting, wins over both. ``overlay`` applies the stored values to the loaded configuration without
changing its interface, so code reading ``config.roles.admin_usergroup`` sees the effective value.

Keys and their values:

- ``role_defaults.<role key>``: list of Slack user ids (U…/W…) and user group ids (S…)
- ``announcement_channel``: a channel id (C…/G…) or None
- ``admin_usergroup``: a user group id (S…) or None
- ``locale``: ``zh-CN`` or ``en``
- ``cadence.<SEV1..SEV4>``: a duration such as ``45m`` or ``2h``
- ``report_channel``: a channel id; ``report_schedule``: ``monthly``, ``quarterly`` or ``off``
- ``firm.<fact>``: the firm's yes/no answer to a fact about itself (``incident/firm_facts.py``);
  no setting = unknown
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, PlainValidator, ValidationInfo, model_validator
from pydantic.dataclasses import dataclass as model
from sqlalchemy import delete
from sqlmodel import col, select

from incident.config import IncidentConfig
from incident.firm_facts import FIRM_FACTS
from incident.firm_facts import setting_key as firm_key
from incident.regimes import Duration
from incident.roles_config import CHANNEL_ID, HOLDER_ID, USERGROUP_ID
from incident.severity import SEVERITIES
from incident.text import LOCALES
from incident.yamlmodel import STRICT, Among, OneOf, known, load_model
from storage.db import Database
from storage.models import Reminder, SettingChange, WorkspaceSetting

ROLE_PREFIX = "role_defaults."
ANNOUNCEMENT = "announcement_channel"
ADMIN = "admin_usergroup"
LOCALE = "locale"
CADENCE_PREFIX = "cadence."
REPORT_CHANNEL = "report_channel"
REPORT_SCHEDULE = "report_schedule"
REPORT_SCHEDULES = ("monthly", "quarterly", "off")

_EPOCH = datetime(2000, 1, 1)


def role_key(role: str) -> str:
    return f"{ROLE_PREFIX}{role}"


def cadence_key(severity: str) -> str:
    return f"{CADENCE_PREFIX}{severity}"


def known_keys(role_keys: Iterable[str]) -> tuple[str, ...]:
    """Every setting key, in the order the Settings view and the export show them."""
    return (
        ADMIN,
        ANNOUNCEMENT,
        LOCALE,
        *(role_key(r) for r in role_keys),
        *(cadence_key(s) for s in SEVERITIES),
        REPORT_CHANNEL,
        REPORT_SCHEDULE,
        *(firm_key(f) for f in FIRM_FACTS),
    )


# --------------------------------------------------------------------------- validation


def parse_cadence(value: Any) -> timedelta:
    """``45m``, ``2h``, ``1d`` → a timedelta; business days make no sense for an update cadence."""
    every = Duration.parse(str(value))
    if every.unit == "bd":
        raise ValueError("use m, h or d, not business days")
    return every.after(_EPOCH) - _EPOCH


# --------------------------------------------------------------------------- storage


async def load(database: Database) -> dict[str, Any]:
    """Every stored setting (one cheap read: a replica calls this before each declaration)."""
    async with database.session() as db:
        rows = (await db.execute(select(WorkspaceSetting))).scalars().all()
    return {row.key: row.value for row in rows}


@dataclass(frozen=True)
class Changed:
    key: str
    before: Any
    after: Any


async def change(
    database: Database, changes: Mapping[str, Any], *, actor: str, now: datetime, replace: bool = False
) -> list[Changed]:
    """Store ``changes`` (a None value removes the setting: the file's value applies again) and record
    each real change with who and when, in one transaction. ``replace`` also removes every stored
    setting not in ``changes`` (an import). Unchanged values record nothing."""
    done: list[Changed] = []
    async with database.transaction() as db:
        rows = {
            row.key: row
            for row in (await db.execute(select(WorkspaceSetting).with_for_update())).scalars().all()
        }
        wanted = dict(changes)
        if replace:
            for key in rows:
                wanted.setdefault(key, None)
        for key, value in wanted.items():
            row = rows.get(key)
            before = row.value if row is not None else None
            if row is None and value is None:
                continue
            if row is not None and value is not None and before == value:
                continue
            if value is None:
                await db.execute(delete(WorkspaceSetting).where(col(WorkspaceSetting.key) == key))
            elif row is None:
                db.add(WorkspaceSetting(key=key, value=value, updated_by=actor, updated_at=now))
            else:
                row.value = value
                row.updated_by = actor
                row.updated_at = now
            db.add(SettingChange(key=key, before=before, after=value, changed_by=actor, changed_at=now))
            done.append(Changed(key, before, value))
    return done


async def history(database: Database, limit: int = 10) -> list[SettingChange]:
    """The latest changes, newest first."""
    async with database.session() as db:
        stmt = select(SettingChange).order_by(col(SettingChange.id).desc()).limit(limit)
        return list((await db.execute(stmt)).scalars().all())


# --------------------------------------------------------------------------- effective values


def overlay(config: IncidentConfig, values: Mapping[str, Any]) -> IncidentConfig:
    """``config`` with the stored admin group, announcement channel and default holders applied."""
    roles = config.roles
    role_defs = tuple(
        dataclasses.replace(role, defaults=tuple(values[role_key(role.key)]))
        if role_key(role.key) in values
        else role
        for role in roles.roles
    )
    changes: dict[str, Any] = {"roles": role_defs}
    if ADMIN in values:
        changes["admin_usergroup"] = values[ADMIN]
    if ANNOUNCEMENT in values:
        changes["announcement_channel"] = values[ANNOUNCEMENT]
    return dataclasses.replace(config, roles=dataclasses.replace(roles, **changes))


def cadences(
    base: Mapping[str, timedelta], values: Mapping[str, Any], locked: Iterable[str]
) -> dict[str, timedelta]:
    """Status-update cadence per severity: ``base`` (file, or environment when ``locked``), overlaid
    with stored values for the severities the environment does not set."""
    fixed = set(locked)
    result = dict(base)
    for severity in SEVERITIES:
        raw = values.get(cadence_key(severity))
        if raw is not None and cadence_key(severity) not in fixed:
            try:
                result[severity] = parse_cadence(raw)
            except ValueError:
                continue  # validated when stored; a hand-edited row falls back to the file
    return result


# --------------------------------------------------------------------------- export / import


def export_yaml(values: Mapping[str, Any], name_of: Callable[[str], str | None]) -> str:
    """The stored settings as YAML a firm keeps in version control; ids become ``@name`` /
    ``#channel`` where ``name_of`` knows them (an unknown id stays an id)."""

    def named(ident: str | None) -> str | None:
        return None if ident is None else (name_of(ident) or ident)

    doc: dict[str, Any] = {}
    if ADMIN in values:
        doc["admin_group"] = named(values[ADMIN])
    if ANNOUNCEMENT in values:
        doc["announcement_channel"] = named(values[ANNOUNCEMENT])
    if LOCALE in values:
        doc["language"] = values[LOCALE]
    roles = {
        key.removeprefix(ROLE_PREFIX): [named(v) for v in value]
        for key, value in sorted(values.items())
        if key.startswith(ROLE_PREFIX)
    }
    if roles:
        doc["default_holders"] = roles
    cadence = {s: values[cadence_key(s)] for s in SEVERITIES if cadence_key(s) in values}
    if cadence:
        doc["status_update_every"] = cadence
    report = {}
    if REPORT_CHANNEL in values:
        report["channel"] = named(values[REPORT_CHANNEL])
    if REPORT_SCHEDULE in values:
        report["schedule"] = values[REPORT_SCHEDULE]
    if report:
        doc["report"] = report
    firm = {f: values[firm_key(f)] for f in FIRM_FACTS if firm_key(f) in values}
    if firm:
        doc["firm_facts"] = firm
    head = "# Breachroom workspace settings: `breachroom config import` reads this file back.\n"
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _named(kind: str) -> PlainValidator:
    """A name Slack knows (``@heidi``, ``@legal-team``, ``#security``, or an id), read as its id."""

    def resolve(value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{value!r} is not a name such as @heidi, @legal-team or #security")
        found = known(info, "id_of")(kind, value.strip())
        if found is None or not _ID_SHAPE[kind].fullmatch(found):
            raise ValueError(f"{value.strip()!r}: Slack knows no such {_KIND_TEXT[kind]}")
        return str(found)

    return PlainValidator(resolve)


def _cadence_text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    parse_cadence(text)
    return text


_KIND_TEXT = {"holder": "person or user group", "group": "user group", "channel": "channel"}
_ID_SHAPE = {"holder": HOLDER_ID, "group": USERGROUP_ID, "channel": CHANNEL_ID}
Channel = Annotated[str, _named("channel")]
Holders = Annotated[
    tuple[Annotated[str, _named("holder")], ...], BeforeValidator(lambda v: [] if v is None else v)
]


@model(frozen=True, config=STRICT)
class _Report:
    channel: Channel | None = None
    schedule: Annotated[str, OneOf(REPORT_SCHEDULES)] | None = None


@model(frozen=True, config=STRICT)
class _Settings:
    """The exported settings document (``export_yaml``), names resolved to ids."""

    admin_group: Annotated[str, _named("group")] | None = None
    announcement_channel: Channel | None = None
    language: Annotated[str, OneOf(LOCALES)] | None = None
    default_holders: dict[Annotated[str, Among("roles", "role")], Holders] | None = None
    status_update_every: (
        dict[Annotated[str, OneOf(SEVERITIES)], Annotated[str, PlainValidator(_cadence_text)]] | None
    ) = None
    report: _Report | None = None
    firm_facts: dict[Annotated[str, OneOf(FIRM_FACTS)], bool] | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_is_nothing_set(cls, data: Any) -> Any:
        return {} if data is None else data

    def values(self) -> dict[str, Any]:
        report = self.report or _Report()
        values = {
            ADMIN: self.admin_group,
            ANNOUNCEMENT: self.announcement_channel,
            LOCALE: self.language,
            **{role_key(role): list(ids) for role, ids in (self.default_holders or {}).items()},
            **{cadence_key(sev): every for sev, every in (self.status_update_every or {}).items()},
            REPORT_CHANNEL: report.channel,
            REPORT_SCHEDULE: report.schedule,
            **{firm_key(fact): answer for fact, answer in (self.firm_facts or {}).items()},
        }
        return {key: value for key, value in values.items() if value is not None}


def parse_import(
    source: str,
    role_keys: Iterable[str],
    id_of: Callable[[str, str], str | None],
    *,
    name: str = "<settings>",
) -> dict[str, Any]:
    """Read an exported settings document back into stored values.

    ``id_of(kind, ref)`` resolves ``@name`` (kind ``holder``: a person or a user group; ``group``)
    and ``#channel`` (kind ``channel``) to an id, or None when Slack knows no such name. Every
    problem is reported with its line (``ConfigError``)."""
    text = source if "\n" in source else source + "\n"
    context = {"roles": tuple(role_keys), "id_of": id_of}
    return load_model(text, _Settings, what="the settings file", context=context, name=name).values()


# --------------------------------------------------------------------------- the security report


async def schedule_report(database: Database, channel: str | None, schedule: str, now: datetime) -> None:
    """Point the report not yet posted at the channel and schedule now set ("off" or no channel
    cancels it), then make sure the current period's report is scheduled."""
    from incident.reminders import CANCELLED, PENDING
    from incident.report.schedule import REPORT, ensure_scheduled

    active = bool(channel) and schedule != "off"
    async with database.transaction() as db:
        stmt = (
            select(Reminder)
            .where(
                Reminder.kind == REPORT, col(Reminder.status).in_((PENDING, CANCELLED)), Reminder.due_at > now
            )
            .with_for_update()
        )
        for row in (await db.execute(stmt)).scalars().all():
            if active and (row.payload or {}).get("cadence") == schedule:
                row.status, row.target = PENDING, str(channel)
            elif row.status == PENDING:
                row.status = CANCELLED
    if active:
        assert channel is not None
        await ensure_scheduled(database, channel, schedule, now)
