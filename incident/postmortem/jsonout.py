"""The post-mortem and the whole record as JSON, for tools, legal counsel and regulators."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from incident.postmortem.model import PostMortem
from storage.models import Decision

EXPORT_FORMAT = "breachroom-export/1"


def iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n"


def _incident(pm: PostMortem) -> dict[str, Any]:
    inc = pm.incident
    return {
        "key": inc.key,
        "title": inc.title,
        "summary": inc.summary,
        "severity": inc.severity,
        "status": inc.status,
        "locale": inc.locale,
        "is_drill": inc.is_drill,
        "playbook": {"id": inc.playbook_id, "version": inc.playbook_version},
        "declared_by": inc.declared_by,
        "times": {
            "discovered_at": iso(inc.discovered_at),
            "aware_at": iso(inc.aware_at),
            "declared_at": iso(inc.declared_at),
            "materiality_decided_at": iso(inc.materiality_decided_at),
            "contained_at": iso(inc.contained_at),
            "resolved_at": iso(inc.resolved_at),
            "closed_at": iso(inc.closed_at),
        },
        "impact": {
            "data_categories": list(inc.data_categories),
            "people_affected": inc.people_affected,
            "affected_clients": list(inc.affected_clients),
            "jurisdictions": list(inc.jurisdictions),
            "encrypted": inc.encrypted,
            "exfiltration_confirmed": inc.exfiltration_confirmed,
            "processor_role": inc.processor_role,
            "facts": dict(inc.facts or {}),
        },
        "lessons": inc.lessons,
        "not_notified_rationale": inc.not_notified_rationale,
    }


def _decision(d: Decision, include_privileged: bool) -> dict[str, Any]:
    withheld = d.privileged and not include_privileged
    return {
        "id": d.id,
        "decided_at": iso(d.decided_at),
        "decided_by": d.decided_by,
        "approver": d.approver,
        "privileged": d.privileged,
        "withheld": withheld,
        "text": None if withheld else d.text,
        "rationale": None if withheld else d.rationale,
        "alternatives": None if withheld else d.alternatives,
    }


def _common(pm: PostMortem, include_privileged: bool) -> dict[str, Any]:
    v = pm.verification
    return {
        "incident": _incident(pm),
        "durations_seconds": [
            {
                "measure": i.measure,
                "from": i.start_basis,
                "to": i.end_basis,
                "regime": i.regime,
                "seconds": i.seconds,
            }
            for i in pm.intervals
        ],
        "clocks": [
            {
                "regime": c.regime_id,
                "obligation": c.id,
                "applicability": c.applicability.status,
                "clock_start": iso(c.applicability.clock_start),
                "deadline_at": iso(c.deadline_at),
                "notified_at": iso(c.notified_at),
                "state": c.state,
                "missed": c.state in ("late", "overdue"),
                "reference": c.reference,
            }
            for c in pm.clocks
        ],
        "roles": [
            {
                "role": r.role,
                "user": r.user,
                "assigned_by": r.assigned_by,
                "assumed_at": iso(r.assumed_at),
                "relieved_at": iso(r.relieved_at),
            }
            for r in pm.roles
        ],
        "phases": [
            {
                "phase": p.key,
                "parallel": p.parallel,
                "started_at": iso(p.start),
                "ended_at": iso(p.end),
                "seconds": p.seconds,
                "override": p.overridden,
            }
            for p in pm.phases
        ],
        "checklist": [
            {
                "phase": p.key,
                "done": p.count("done"),
                "na": p.count("na"),
                "open": p.count("open"),
                "items": [
                    {
                        "key": i.key,
                        "state": i.state,
                        "required": i.required,
                        "done_by": i.done_by,
                        "done_at": iso(i.done_at),
                        "na_reason": i.na_reason,
                    }
                    for i in p.items
                ],
            }
            for p in pm.checklist
        ],
        "decisions": [_decision(d, include_privileged) for d in pm.decisions],
        "evidence": [
            {
                "id": e.id,
                "description": e.description,
                "location": e.location,
                "sha256": e.sha256,
                "custodian": e.custodian,
                "collected_at": iso(e.collected_at),
                "recorded_by": e.recorded_by,
                "recorded_at": iso(e.recorded_at),
            }
            for e in pm.evidence
        ],
        "notifications": [
            {
                "regime": n.regime,
                "recipient_kind": n.recipient_kind,
                "recipient": n.recipient,
                "due_at": iso(n.due_at),
                "sent_at": iso(n.sent_at),
                "sent_by": n.sent_by,
                "reference": n.reference,
                "channel": n.channel,
            }
            for n in pm.notifications
        ],
        "actions": [
            {
                "id": a.id,
                "text": a.text,
                "category": a.category,
                "owner": a.owner,
                "due_at": iso(a.due_at),
                "status": a.status,
                "created_by": a.created_by,
                "created_at": iso(a.created_at),
                "done_by": a.done_by,
                "done_at": iso(a.done_at),
            }
            for a in pm.actions
        ],
        "verification": {
            "ok": v.ok,
            "count": v.count,
            "head": v.head,
            "first_bad_seq": v.first_bad_seq,
            "reason": v.reason,
        },
    }


def postmortem_json(pm: PostMortem) -> dict[str, Any]:
    """The post-mortem's figures, machine-readable; the timeline without its hashes."""
    out = {"generated_at": iso(pm.generated_at), "as_of": iso(pm.as_of), **_common(pm, False)}
    out["timeline"] = [
        {"seq": e.seq, "at": iso(e.at), "actor": e.actor, "kind": e.kind, "summary": e.summary}
        for e in pm.events
    ]
    return out


def export_bundle(pm: PostMortem, *, include_privileged: bool = False) -> dict[str, Any]:
    """The whole record for legal counsel and regulators: every event with its hashes and data,
    so the chain can be re-verified from this file alone (see `storage.timeline.canonical`)."""
    out = {
        "format": EXPORT_FORMAT,
        "exported_at": iso(pm.generated_at),
        "privileged_included": include_privileged,
        **_common(pm, include_privileged),
    }
    for n, row in zip(out["notifications"], pm.notifications, strict=True):
        n["content"] = row.content
        n["contents_checked"] = list(row.contents_checked)
        n["recorded_at"] = iso(row.recorded_at)
    out["incident"]["id"] = pm.incident.id
    out["timeline"] = [
        {
            "seq": e.seq,
            # The exact spelling that was hashed, so the chain can be recomputed from this file.
            "at": e.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": e.actor,
            "kind": e.kind,
            "summary": e.summary,
            "data": e.data,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
            # Which timeline key signed it: recomputing the chain takes that key (HMAC-SHA256).
            "key_id": e.key_id,
        }
        for e in pm.events
    ]
    return out
