"""Facts about the firm rather than the incident, answered once in App Home's Settings.

Whether the firm has a main establishment in the EU, is covered by the FTC Safeguards Rule, is a
NY DFS covered entity or a HIPAA business associate does not change from one incident to the
next. The firm answers them once (a workspace setting each, ``firm.<fact>``: true or false; no
setting = unknown); an incident whose own answer is unknown takes the firm's, and ``/breach
facts`` can still answer differently for one incident.

The answers are read from the database where an incident is judged, not from a process's
configuration: the scheduler and a separate worker see a change made in Slack at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage import outbox
from storage.db import Database
from storage.models import Incident, WorkspaceSetting

FIRM_FACTS = (
    "eu_main_establishment",
    "covered_financial_institution",
    "dfs_covered_entity",
    "hipaa_business_associate",
)
PREFIX = "firm."

FirmFacts = Mapping[str, bool]


def setting_key(fact: str) -> str:
    """The workspace setting that holds the firm's answer to ``fact``."""
    return f"{PREFIX}{fact}"


def answers(values: Mapping[str, Any]) -> dict[str, bool]:
    """The firm's answers among stored settings (a value that is not a yes/no is no answer)."""
    out: dict[str, bool] = {}
    for fact in FIRM_FACTS:
        value = values.get(setting_key(fact))
        if isinstance(value, bool):
            out[fact] = value
    return out


async def load(db: AsyncSession) -> dict[str, bool]:
    """The firm's answers, read in the caller's session (one small read)."""
    keys = [setting_key(f) for f in FIRM_FACTS]
    rows = (await db.execute(select(WorkspaceSetting).where(col(WorkspaceSetting.key).in_(keys)))).scalars()
    return answers({row.key: row.value for row in rows})


async def read(database: Database) -> dict[str, bool]:
    """The firm's answers, in a session of their own."""
    async with database.session() as db:
        return await load(db)


def changed(keys: Iterable[str]) -> bool:
    """Whether any of these setting keys is one of the firm's answers."""
    return any(k.startswith(PREFIX) for k in keys)


async def restate(database: Database, now: datetime) -> int:
    """The firm's answers changed: every incident still open re-renders its card and re-derives its
    reminders (the ``views`` effect does both), so its obligations follow the new answers."""
    async with database.session() as db:
        stmt = select(Incident.id).where(Incident.status != "closed")
        ids = [i for i in (await db.execute(stmt)).scalars() if i is not None]
    for incident_id in ids:
        await outbox.refresh(database, incident_id, now)
    return len(ids)


def own(incident: Incident, fact: str) -> bool | None:
    """The incident's own answer to a firm fact (from ``/breach facts``), None when not given."""
    value = (incident.facts or {}).get(fact)
    return value if isinstance(value, bool) else None


def effective(incident: Incident, fact: str, firm: FirmFacts | None) -> bool | None:
    """The incident's answer, else the firm's, else unknown."""
    mine = own(incident, fact)
    return mine if mine is not None else (firm or {}).get(fact)


def from_firm(incident: Incident, firm: FirmFacts | None) -> dict[str, bool]:
    """The facts this incident takes from the firm's settings (its own answer is unknown)."""
    return {f: v for f, v in (firm or {}).items() if f in FIRM_FACTS and own(incident, f) is None}
