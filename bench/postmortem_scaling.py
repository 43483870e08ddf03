"""Benchmark 3: post-mortem scaling — generating the post-mortem of incidents with 1k, 10k and 100k
timeline events, from the database alone.

Each incident is declared through the domain (`incident.declare.declare`: its roles, checklist and
first events), then filled in bulk: real `timeline_event` rows with a valid hash chain (computed
here with `storage.timeline.chain_hash`, inserted in chunks instead of one transaction per
event), role handoffs, every checklist item done or N/A, notifications, decisions, evidence and
follow-up actions, and closed. The timed part is what `/breach postmortem` and
`breachroom postmortem` do: `incident.postmortem.build` in a fresh session (every query, and the
chain verification it includes), then the Markdown and the HTML rendering. `storage.timeline.verify`
is also timed on its own. The target is 10k events in at most 1 s.

    python -m bench.postmortem_scaling [--sizes 1000,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import insert, update
from sqlmodel import col, select

from bench.databases import postgres_available, scratch
from bench.load import table
from incident import checklist
from incident.config import IncidentConfig, load_config
from incident.declare import DeclareInput, declare
from incident.postmortem import build, render
from storage import timeline
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    ActionItem,
    ChecklistItem,
    Decision,
    Evidence,
    Incident,
    Notification,
    RoleAssignment,
    TimelineEvent,
)

TARGET_10K = 1.0
CHUNK = 5_000
# The benchmark's own timeline key: it signs the rows it inserts and the build verifies them.
BENCH_KEYS = timeline.TimelineKeys("bench", {"bench": b"breachroom-benchmark-timeline-key-000"})

HOLDERS = {
    "incident_commander": "UHEIDI001",
    "deputy": "UIVAN0001",
    "tech_lead": "UBOB00001",
    "forensics": "UCAROL001",
    "legal": "UDAVE0001",
    "compliance": "UERIN0001",
    "comms": "UFRANK001",
    "customer_care": "UGRACE001",
    "scribe": "UJUDY0001",
}
PEOPLE = [*HOLDERS.values(), "UALICE001"]
NAMES = {
    "UALICE001": "Alice Chen",
    "UBOB00001": "Bob Li",
    "UCAROL001": "Carol Wang",
    "UDAVE0001": "Dave Müller",
    "UERIN0001": "Erin Zhao",
    "UFRANK001": "Frank Liu",
    "UGRACE001": "Grace Huang",
    "UHEIDI001": "Heidi Sun",
    "UIVAN0001": "Ivan Petrov",
    "UJUDY0001": "Judy Xu",
}
# Handoffs during the response: (fraction of the way through, role, new holder).
HANDOFFS = [(0.2, "scribe", "UALICE001"), (0.45, "tech_lead", "UIVAN0001"), (0.7, "scribe", "UJUDY0001")]
NOTIFIED = [("us-state-ca", "California Attorney General"), ("us-irs-tax-pro", "IRS Stakeholder Liaison")]


@dataclass
class Timing:
    build: float
    markdown: float
    html: float
    verify: float

    @property
    def total(self) -> float:
        return self.build + self.markdown + self.html


def _filler(i: int, at: datetime, channel: str) -> tuple[str, str, str, dict[str, Any]]:
    """One ordinary event of a busy response: captured messages, reminders, updates, notes."""
    who = PEOPLE[i % len(PEOPLE)]
    slot = i % 10
    if slot < 5:
        text = (
            f"Checked mailbox rule #{i} on the client portal; forwarding to an external address "
            "was removed and the session tokens were revoked."
        )
        return (
            who,
            "message_added",
            text[:120],
            {
                "channel": channel,
                "ts": f"{at.timestamp():.6f}",
                "author": who,
                "posted_at": at.isoformat(),
                "text": text,
                "permalink": f"https://sandbox.slack.com/archives/{channel}/p{int(at.timestamp() * 1e6)}",
                "via": "shortcut",
                "files": [],
                "redacted": [],
            },
        )
    if slot < 7:
        return (
            "breachroom",
            "reminder_sent",
            f"status_update {i} → {channel}",
            {"reminder_id": i, "kind": "status_update", "ref": str(i), "target": channel, "attempts": 1},
        )
    if slot == 7:
        text = f"Update {i}: containment holding, 3 workstations re-imaged, no new exfiltration seen."
        return (who, "status_update", text, {"text": text, "severity": "SEV2", "status": "open"})
    if slot == 8:
        return (who, "note", f"Call with the insurer's breach coach, note {i}", {"text": f"note {i}"})
    return (who, "item_note", f"Note on item {i % 40}", {"item": i % 40, "note": "waiting on vendor logs"})


def _event(
    incident_id: int,
    seq: int,
    prev: str,
    at: datetime,
    actor: str,
    kind: str,
    summary: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "incident_id": incident_id,
        "seq": seq,
        "at": at,
        "actor": actor,
        "kind": kind,
        "summary": summary,
        "data": data,
        "prev_hash": prev,
    }
    digest = timeline.chain_hash(prev, TimelineEvent(**row, hash=""), BENCH_KEYS.current)
    return {**row, "hash": digest, "key_id": BENCH_KEYS.current_id}


async def make_incident(database: Database, config: IncidentConfig, size: int, start: datetime) -> int:
    """A closed incident whose timeline has exactly `size` events, with its records to match."""
    declared = await declare(
        database,
        config,
        DeclareInput(
            title=f"Client portal mailbox compromise ({size} events)",
            severity="SEV2",
            summary="Attacker forwarded client tax documents from a staff mailbox.",
            data_categories=["national_id", "tax_return", "bank_account"],
            people_affected=1200,
            affected_clients=["Acme Dental LLC", "Rivera Family Trust"],
            jurisdictions=["US", "US-CA"],
            encrypted=False,
            exfiltration_confirmed=True,
            processor_role="controller",
            discovered_at=start - timedelta(hours=6),
        ),
        actor="UALICE001",
        now=start,
        locale="en",
        holders=HOLDERS,
    )
    incident = declared.incident
    assert incident.id is not None
    iid = incident.id
    channel = f"C0BENCH{iid:04d}"
    span = timedelta(days=20)
    step = span / size
    async with database.transaction() as db:
        (last,) = await timeline.events(db, iid, limit=1, newest_first=True)
        seq, prev = last.seq, last.hash
        items = sorted(await checklist.items_of(db, iid), key=lambda item: item.position)
        playbook_phases = [p["key"] for p in (incident.playbook_snapshot or {}).get("phases", [])]
        remaining = size - seq
        # Where the structured events go: phase moves, item outcomes, handoffs, records.
        special: dict[int, tuple[str, Any]] = {}
        for n, (a, b) in enumerate(itertools.pairwise(playbook_phases), start=1):
            special[int(remaining * n / len(playbook_phases))] = ("phase", (a, b))
        for n, item in enumerate(items):
            special.setdefault(int(remaining * (0.05 + 0.85 * n / max(len(items), 1))) + 1, ("item", item))
        for fraction, role, user in HANDOFFS:
            special.setdefault(int(remaining * fraction) + 2, ("handoff", (role, user)))
        for n in range(12):
            special.setdefault(int(remaining * (0.1 + 0.07 * n)) + 3, ("decision", n))
        for n in range(6):
            special.setdefault(int(remaining * (0.15 + 0.1 * n)) + 4, ("evidence", n))
        for n, regime in enumerate(NOTIFIED):
            special.setdefault(int(remaining * (0.55 + 0.1 * n)) + 5, ("notify", regime))
        for n in range(4):
            special.setdefault(remaining - 2 - n, ("action", n))
        special[remaining - 1] = ("closed", None)

        rows: list[dict[str, Any]] = []
        records: list[Any] = []
        contained_at = resolved_at = None
        for k in range(remaining):
            seq += 1
            at = start + step * (k + 1)
            actor, kind, summary, data = _filler(k, at, channel)
            what = special.get(k)
            if what is not None:
                tag, value = what
                if tag == "phase":
                    kind, actor = "phase_advanced", "UHEIDI001"
                    summary = f"{value[0]} → {value[1]}"
                    data = {"from": value[0], "to": value[1], "override": False, "opened": [value[1]]}
                    if value[0] == "respond":
                        contained_at = at
                elif tag == "item":
                    item = cast(ChecklistItem, value)
                    state = "na" if item.position % 7 == 6 else "done"
                    owner = HOLDERS.get(item.owner_role, "UHEIDI001")
                    await db.execute(
                        update(ChecklistItem)
                        .where(col(ChecklistItem.id) == item.id)
                        .values(
                            state=state,
                            done_by=owner,
                            done_at=at,
                            na_reason="Not applicable: no card data" if state == "na" else None,
                            version=ChecklistItem.version + 1,
                        )
                    )
                    kind, actor = f"item_{state}", owner
                    summary, data = item.item_key, {"item_id": item.id, "item_key": item.item_key}
                elif tag == "handoff":
                    role, user = value
                    held = (
                        await db.execute(
                            select(RoleAssignment).where(
                                RoleAssignment.incident_id == iid,
                                RoleAssignment.role == role,
                                col(RoleAssignment.relieved_at).is_(None),
                            )
                        )
                    ).scalar_one()
                    held.relieved_at, held.relieved_by = at, "UHEIDI001"
                    await db.flush()
                    db.add(
                        RoleAssignment(
                            incident_id=iid, role=role, user_id=user, assigned_by="UHEIDI001", assumed_at=at
                        )
                    )
                    await db.flush()
                    kind, actor = "role_assigned", "UHEIDI001"
                    summary, data = (
                        f"{role}: {held.user_id} → {user}",
                        {"role": role, "before": held.user_id, "after": user},
                    )
                elif tag == "decision":
                    text = f"Decision {value}: engage outside counsel for the notification letters"
                    records.append(
                        Decision(
                            incident_id=iid,
                            text=text,
                            rationale="Multi-state notification obligations",
                            alternatives="Handle in-house",
                            approver="UHEIDI001",
                            privileged=value % 4 == 3,
                            decided_by="UDAVE0001",
                            decided_at=at,
                        )
                    )
                    kind, actor, summary, data = "decision", "UDAVE0001", text, {"text": text}
                elif tag == "evidence":
                    description = f"Mailbox audit log export {value}"
                    records.append(
                        Evidence(
                            incident_id=iid,
                            description=description,
                            location=f"s3://forensics/case/{value}",
                            sha256=f"{value:064x}",
                            custodian="UCAROL001",
                            collected_at=at,
                            recorded_by="UCAROL001",
                            recorded_at=at,
                        )
                    )
                    kind, actor, summary, data = "evidence_added", "UCAROL001", description, {"n": value}
                elif tag == "notify":
                    regime, recipient = value
                    records.append(
                        Notification(
                            incident_id=iid,
                            regime=regime,
                            recipient_kind="regulator",
                            recipient=recipient,
                            sent_at=at,
                            sent_by="UERIN0001",
                            reference=f"REF-{iid}-{regime}",
                            channel="portal",
                            content="Notice of data breach",
                            recorded_at=at,
                        )
                    )
                    kind, actor = "notification_recorded", "UERIN0001"
                    summary, data = f"{regime} → {recipient}", {"regime": regime, "recipient": recipient}
                    resolved_at = at
                elif tag == "action":
                    text = f"Follow-up {value}: enforce phishing-resistant MFA on the client portal"
                    records.append(
                        ActionItem(
                            incident_id=iid,
                            text=text,
                            owner="UBOB00001",
                            due_at=at + timedelta(days=30),
                            category="policy",
                            created_by="UHEIDI001",
                            created_at=at,
                        )
                    )
                    kind, actor, summary, data = "action_added", "UHEIDI001", text, {"text": text}
                elif tag == "closed":
                    kind, actor, summary, data = "closed", "UHEIDI001", "closed", {"status": "closed"}
            rows.append(_event(iid, seq, prev, at, actor, kind, summary, data))
            prev = rows[-1]["hash"]
            if len(rows) >= CHUNK:
                await db.execute(insert(TimelineEvent), rows)
                rows = []
        if rows:
            await db.execute(insert(TimelineEvent), rows)
        db.add_all(records)
        end = start + span
        await db.execute(
            update(Incident)
            .where(col(Incident.id) == iid)
            .values(
                status="closed",
                timeline_seq=seq,  # the head the incident records, as `timeline.append` keeps it
                timeline_head=prev,
                phase=playbook_phases[-1] if playbook_phases else incident.phase,
                contained_at=contained_at or start + span / 4,
                resolved_at=resolved_at or start + span * 3 / 4,
                closed_at=end,
                lessons="Portal MFA was optional; mailbox forwarding rules were not monitored.",
            )
        )
    return iid


async def time_once(database: Database, config: IncidentConfig, iid: int, now: datetime) -> Timing:
    async with database.session() as db:
        started = time.perf_counter()
        incident = await db.get(Incident, iid)
        assert incident is not None
        pm = await build(db, incident, config, now)
        built = time.perf_counter()
    md = render(pm, "md", NAMES)
    rendered_md = time.perf_counter()
    html = render(pm, "html", NAMES)
    rendered_html = time.perf_counter()
    assert pm.verification.ok, f"bench chain is broken: {pm.verification}"
    assert md and html
    async with database.session() as db:
        v_start = time.perf_counter()
        verification = await timeline.verify(db, iid)
        v_end = time.perf_counter()
    assert verification.ok
    return Timing(built - started, rendered_md - built, rendered_html - rendered_md, v_end - v_start)


def median(timings: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.build for t in timings),
        statistics.median(t.markdown for t in timings),
        statistics.median(t.html for t in timings),
        statistics.median(t.verify for t in timings),
    )


async def measure(kind: str, sizes: list[int], repeat: int) -> dict[int, tuple[Timing, float]]:
    """Per size: the median timing and how long the incident took to build."""
    config = load_config()
    out: dict[int, tuple[Timing, float]] = {}
    async with scratch(kind) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(url, timeline_keys=BENCH_KEYS)
        try:
            now = datetime.now(UTC).replace(microsecond=0)
            for size in sizes:
                started = time.perf_counter()
                iid = await make_incident(database, config, size, now - timedelta(days=30))
                setup = time.perf_counter() - started
                runs = max(1, repeat if size <= 10_000 else min(repeat, 2))
                await time_once(database, config, iid, now)  # warm-up (statement caches, imports)
                timings = [await time_once(database, config, iid, now) for _ in range(runs)]
                out[size] = (median(timings), setup)
        finally:
            await database.dispose()
    return out


def per_event_us(seconds: float, size: int) -> str:
    return f"{seconds / size * 1e6:.1f}"


async def main(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    rows = []
    verdicts = []
    for kind in kinds:
        results = await measure(kind, sizes, args.repeat)
        for size, (t, setup) in results.items():
            rows.append(
                [
                    kind,
                    f"{size:,}",
                    f"{t.build:.3f}",
                    f"{t.markdown:.3f}",
                    f"{t.html:.3f}",
                    f"{t.total:.3f}",
                    per_event_us(t.total, size),
                    f"{t.verify:.3f}",
                    per_event_us(t.verify, size),
                    f"{setup:.1f}",
                ]
            )
        smallest, largest = min(results), max(results)
        small, large = results[smallest][0], results[largest][0]
        ratio = (large.total / largest) / (small.total / smallest)
        growth = "linear" if ratio <= 1.5 else "super-linear"
        if 10_000 in results:
            ten_k = results[10_000][0].total
            verdict = "met" if ten_k <= TARGET_10K else "MISSED"
            target = f"10k events {ten_k:.3f} s: {verdict} (≤ {TARGET_10K:.0f} s)"
        else:
            target = "10k not measured"
        verdicts.append(
            f"- {kind}: {target}; per-event cost {largest:,} vs {smallest:,} events = {ratio:.2f}× ({growth})"
        )
    print(
        f"\nPost-mortem scaling (build from the database incl. chain check + Markdown + HTML; median of "
        f"{args.repeat} runs, 2 above 10k; verify timed alone too)"
    )
    print(
        table(
            [
                "database",
                "events",
                "build s",
                "md s",
                "html s",
                "total s",
                "µs/event",
                "verify s",
                "verify µs/event",
                "setup s",
            ],
            rows,
        )
    )
    print("\n".join(verdicts))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="timeline sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (median reported)")
    asyncio.run(main(parser.parse_args()))
