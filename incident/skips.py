"""What incident set-up skipped: configured defaults it could not use, said instead of failing.

A default holder who left the firm, a user group that was deleted, an announcement channel the
bot cannot post in: each is recorded on the incident (the card lists them) and as a
``setup_skipped`` timeline event with Slack's reason, and set-up goes on without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from storage import timeline
from storage.db import Database
from storage.models import Incident

SkipWhat = Literal["holder", "usergroup", "invite", "announcement", "role_dm"]


@dataclass(frozen=True)
class Skip:
    """A configured default set-up could not use, and why (Slack's error code, or ``deactivated``).

    ``what``: a default ``holder`` (user) or ``usergroup`` of ``role``, a team member the
    ``invite`` failed for, the ``announcement`` channel, or a ``role_dm`` that could not be sent.
    """

    what: SkipWhat
    target: str
    reason: str
    role: str | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Skip:
        return cls(what=data["what"], target=data["target"], reason=data["reason"], role=data.get("role"))


def skipped(incident: Incident) -> list[Skip]:
    """What set-up skipped so far, in the order it happened."""
    return [Skip.from_data(d) for d in (incident.setup or {}).get("skipped") or []]


def declarer_commands(incident: Incident) -> bool:
    """True when no default commander could be filled and the declarer took command."""
    return bool((incident.setup or {}).get("declarer_commands"))


async def note_skipped(
    db: AsyncSession, incident: Incident, skips: Iterable[Skip], *, now: datetime
) -> list[Skip]:
    """Inside a transaction: record each new skip on the incident and as a ``setup_skipped`` event.

    A skip already recorded (a retried step meeting the same deactivated account) is not repeated.
    """
    assert incident.id is not None
    known = skipped(incident)
    added = [s for s in dict.fromkeys(skips) if s not in known]
    if not added:
        return []
    incident.setup = {**(incident.setup or {}), "skipped": [asdict(s) for s in [*known, *added]]}
    for skip in added:
        role = f"{skip.role}: " if skip.role else ""
        await timeline.append(
            db,
            incident.id,
            actor="breachroom",
            kind="setup_skipped",
            summary=f"{role}{skip.what} {skip.target} skipped ({skip.reason})",
            data=asdict(skip),
            at=now,
        )
    return added


async def record(database: Database, incident_id: int, skips: Iterable[Skip], *, now: datetime) -> list[Skip]:
    """``note_skipped`` in a transaction of its own, for set-up steps that run after declaring."""
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        return await note_skipped(db, incident, skips, now=now)
