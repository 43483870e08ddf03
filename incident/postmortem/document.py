"""The post-mortem laid out as a document in one language: sections of tables, pairs and paragraphs.

Markdown and HTML both serialise this one document, so every figure they show is the same
string, formatted once here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from incident.durations import duration
from incident.postmortem.labels import label
from incident.postmortem.model import PostMortem


@dataclass(frozen=True)
class Pairs:
    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Paragraph:
    text: str


Block = Pairs | Table | Paragraph


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    locale: str
    title: str
    subtitle: str
    banner: str | None
    sections: list[Section]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def fmt_time(at: datetime | None, locale: str) -> str:
    if at is None:
        return label("not_yet", locale)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Names:
    """Slack user ids shown as names where the caller could resolve them, ids otherwise."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self._names = dict(names or {})

    def __call__(self, user_id: str | None) -> str:
        if not user_id:
            return "—"
        name = self._names.get(user_id)
        return f"{name} ({user_id})" if name else user_id


def _flag(value: bool | None, locale: str) -> str:
    return label("unknown" if value is None else "yes" if value else "no", locale)


# The columns of the sections that are one table, or a sentence when there is nothing to list.
LISTED = {
    "decisions": ("no", "when", "decided_by", "decision", "rationale", "alternatives", "approver"),
    "evidence": ("no", "description", "location", "sha256", "custodian", "collected", "recorded_by"),
    "actions": ("no", "action", "category", "owner", "due", "status"),
}


def build_document(pm: PostMortem, locale: str, names: Mapping[str, str] | None = None) -> Document:
    person = Names(names)
    inc = pm.incident

    def L(message: str, /, **params: object) -> str:
        return label(message, locale, **params)

    def H(*columns: str) -> list[str]:
        return [L(f"col.{column}") for column in columns]

    def listing(key: str, rows: list[list[str]]) -> Section:
        """A section of one table (its columns in LISTED), or the sentence that there were none."""
        table = Table(H(*LISTED[key]), rows) if rows else Paragraph(L(f"no_{key}"))
        return Section(key, L(f"section.{key}"), [table])

    def T(at: datetime | None) -> str:
        return fmt_time(at, locale)

    def D(seconds: float | None) -> str:
        return duration(seconds, locale, units=3)

    sections: list[Section] = []

    summary = Section("summary", L("section.summary"))
    summary.blocks.append(
        Pairs(
            [
                (L("key"), inc.key),
                (L("incident_title"), inc.title),
                (L("severity"), inc.severity),
                (
                    L("status"),
                    L(f"status.{inc.status}") if f"status.{inc.status}" in _STATUSES else inc.status,
                ),
                (L("playbook"), f"{pm.playbook.title.get(locale)} (v{pm.playbook.version})"),
                (L("declared_by"), person(inc.declared_by)),
                (L("drill"), _flag(inc.is_drill, locale)),
            ]
        )
    )
    if inc.summary:
        summary.blocks.append(Paragraph(inc.summary))
    sections.append(summary)

    known = pm.category_names
    categories = [known[c].get(locale) if c in known else c for c in inc.data_categories]
    sections.append(
        Section(
            "impact",
            L("section.impact"),
            [
                Pairs(
                    [
                        (L("data_categories"), ", ".join(categories) or L("unknown")),
                        (
                            L("people_affected"),
                            str(inc.people_affected) if inc.people_affected is not None else L("unknown"),
                        ),
                        (L("affected_clients"), ", ".join(inc.affected_clients) or L("none")),
                        (L("jurisdictions"), ", ".join(inc.jurisdictions) or L("unknown")),
                        (L("encrypted"), _flag(inc.encrypted, locale)),
                        (L("exfiltration"), _flag(inc.exfiltration_confirmed, locale)),
                        (
                            L("processor_role"),
                            L(f"role.{inc.processor_role}")
                            if inc.processor_role in ("controller", "processor")
                            else L("unknown"),
                        ),
                    ]
                )
            ],
        )
    )

    regime_names = {c.regime_id: c.applicability.regime.name.get(locale) for c in pm.clocks}
    times: list[list[str]] = [
        [L("time.discovered"), T(inc.discovered_at), ""],
        [L("time.aware"), T(inc.aware_at), ""],
        [L("time.declared"), T(inc.declared_at), person(inc.declared_by)],
        [L("time.contained"), T(inc.contained_at), ""],
    ]
    for sent in pm.notifications:
        detail = " · ".join(
            x
            for x in (
                regime_names.get(sent.regime, sent.regime),
                sent.recipient,
                sent.reference,
                person(sent.sent_by),
            )
            if x
        )
        times.append([L("time.notification"), T(sent.sent_at), detail])
    times += [[L("time.resolved"), T(inc.resolved_at), ""], [L("time.closed"), T(inc.closed_at), ""]]
    sections.append(
        Section(
            "key_times",
            L("section.key_times"),
            [Table(H("event", "time", "detail"), times)],
        )
    )

    durations = []
    for interval in pm.intervals:
        name = L(f"dur.{interval.measure}")
        if interval.regime_name is not None:
            name = f"{name}: {interval.regime_name.get(locale)}"
        basis = f"{L('basis.' + interval.start_basis)} → {L('basis.' + interval.end_basis)}"
        durations.append([name, D(interval.seconds), basis])
    sections.append(
        Section(
            "durations",
            L("section.durations"),
            [Table(H("measure", "duration", "basis"), durations)],
        )
    )

    clock_section = Section("clocks", L("section.clocks"))
    if pm.clocks:
        clock_section.blocks.append(
            Paragraph(L("clocks.summary", met=pm.clocks_met, missed=pm.clocks_missed))
        )
        clock_section.blocks.append(
            Table(
                H("regime", "applies", "clock_start", "deadline", "notified", "outcome", "reference"),
                [
                    [
                        c.name.get(locale),
                        L(f"applies.{c.applicability.status}"),
                        T(c.applicability.clock_start) if c.applicability.clock_start else "—",
                        T(c.deadline_at) if c.deadline_at else "—",
                        T(c.notified_at) if c.notified_at else "—",
                        L(f"clock.{c.state}"),
                        c.reference or "—",
                    ]
                    for c in pm.clocks
                ],
            )
        )
    else:
        clock_section.blocks.append(Paragraph(L("no_clocks")))
    sections.append(clock_section)

    sections.append(
        Section(
            "roles",
            L("section.roles"),
            [
                Table(
                    H("role", "person", "from", "to", "assigned_by"),
                    [
                        [
                            r.name.get(locale),
                            person(r.user),
                            T(r.assumed_at),
                            T(r.relieved_at) if r.relieved_at else L("still_holding"),
                            person(r.assigned_by),
                        ]
                        for r in pm.roles
                    ],
                )
            ],
        )
    )

    phase_rows = []
    for span in pm.phases:
        notes = []
        if span.parallel:
            notes.append(L("phase.parallel"))
        if span.overridden:
            notes.append(L("phase.override"))
        end = T(span.end) if span.end else (L("phase.ongoing") if span.start else "—")
        phase_rows.append(
            [
                span.title.get(locale),
                T(span.start) if span.start else "—",
                end,
                D(span.seconds),
                "; ".join(notes),
            ]
        )
    sections.append(
        Section(
            "phases",
            L("section.phases"),
            [
                Table(
                    H("phase", "started", "ended", "duration", "note"),
                    phase_rows,
                )
            ],
        )
    )

    checklist = Section("checklist", L("section.checklist"))
    checklist.blocks.append(
        Pairs(
            [
                (
                    p.title.get(locale),
                    L("checklist.counts", done=p.count("done"), na=p.count("na"), open=p.count("open")),
                )
                for p in pm.checklist
            ]
        )
    )
    item_rows = []
    for p in pm.checklist:
        for item in p.items:
            if item.state == "done":
                detail = f"{person(item.done_by)} · {T(item.done_at)}"
            elif item.state == "na":
                detail = f"{item.na_reason or '—'} · {person(item.done_by)}"
            else:
                detail = ""
            item_rows.append([p.title.get(locale), item.title.get(locale), L(f"item.{item.state}"), detail])
    checklist.blocks.append(Table(H("phase", "item", "outcome", "by"), item_rows))
    sections.append(checklist)

    decision_rows = []
    for n, d in enumerate(pm.decisions, start=1):
        if d.privileged:
            text, rationale, alternatives = L("privileged"), "—", "—"
        else:
            text, rationale, alternatives = d.text, d.rationale or "—", d.alternatives or "—"
        decision_rows.append(
            [str(n), T(d.decided_at), person(d.decided_by), text, rationale, alternatives, person(d.approver)]
        )
    sections.append(listing("decisions", decision_rows))

    evidence_rows = [
        [
            str(n),
            e.description,
            e.location or "—",
            e.sha256 or "—",
            person(e.custodian),
            T(e.collected_at),
            f"{person(e.recorded_by)} · {T(e.recorded_at)}",
        ]
        for n, e in enumerate(pm.evidence, start=1)
    ]
    sections.append(listing("evidence", evidence_rows))

    action_rows = [
        [
            str(n),
            a.text,
            L(f"category.{a.category}") if a.category in ("policy", "training", "other") else a.category,
            person(a.owner),
            a.due_at.date().isoformat() if a.due_at else "—",
            L(f"action.{a.status}") if a.status in ("open", "done") else a.status,
        ]
        for n, a in enumerate(pm.actions, start=1)
    ]
    sections.append(listing("actions", action_rows))

    sections.append(
        Section("lessons", L("section.lessons"), [Paragraph(inc.lessons.strip() or L("no_lessons"))])
    )

    sections.append(
        Section(
            "timeline",
            L("section.timeline"),
            [
                Table(
                    H("seq", "time", "actor", "kind", "summary"),
                    [[str(e.seq), T(e.at), person(e.actor), e.kind, e.summary] for e in pm.events],
                )
            ],
        )
    )

    v = pm.verification
    result = L("integrity.ok") if v.ok else L("integrity.broken", seq=v.first_bad_seq, reason=v.reason or "?")
    sections.append(
        Section(
            "integrity",
            L("section.integrity"),
            [
                Pairs(
                    [
                        (L("integrity.count"), str(v.count)),
                        (L("integrity.head"), v.head),
                        (L("integrity.result"), result),
                    ]
                ),
                Paragraph(L("integrity.how", key=inc.key)),
            ],
        )
    )

    return Document(
        locale=locale,
        title=f"{L('title')}: {inc.key} · {inc.title}",
        subtitle=f"{L('generated')}: {T(pm.generated_at)}",
        banner=L("drill_banner") if inc.is_drill else None,
        sections=sections,
    )


_STATUSES = frozenset({"status.open", "status.contained", "status.resolved", "status.closed"})
