"""The report as Markdown (for Slack and for reading), internal or client-facing."""

from __future__ import annotations

from incident.report.labels import label
from incident.report.model import Figures, Report, Spread

AUDIENCES = ("internal", "client")


def hours(seconds: float | None, locale: str) -> str:
    if seconds is None:
        return label("none", locale)
    if seconds < 3600:
        return f"{seconds / 60:.0f} {'分钟' if locale == 'zh-CN' else 'min'}"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f} {'小时' if locale == 'zh-CN' else 'h'}"
    return f"{seconds / 86400:.1f} {'天' if locale == 'zh-CN' else 'd'}"


def spread(s: Spread, locale: str) -> str:
    if s.count == 0:
        return label("none", locale)
    return f"{hours(s.median, locale)} / {hours(s.worst, locale)} (n={s.count})"


def trend(now: Spread, before: Spread) -> str:
    if now.median is None or before.median is None:
        return "—"
    if before.median == 0:
        return "—"
    change = (now.median - before.median) / before.median
    arrow = "↓" if change < 0 else ("↑" if change > 0 else "→")
    return f"{arrow} {abs(change):.0%}"


def rate(f: Figures) -> str:
    return "—" if f.met_rate is None else f"{f.met_rate:.0%}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def row(*cells: str) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render(report: Report, locale: str, audience: str = "internal") -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}")
    client = audience == "client"
    L = lambda key: label(key, locale)  # noqa: E731
    cur, prev = report.current, report.previous
    out: list[str] = [
        f"# {L('title.client' if client else 'title.internal')} · {report.period.label}",
        "",
        f"{L('period')}: {report.period.start:%Y-%m-%d} – {report.period.end:%Y-%m-%d} (UTC) · "
        f"{L('generated')}: {report.generated_at:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    if client:
        out += [f"_{L('client_note')}_", ""]
    out += [
        f"## {L('section.summary')}",
        "",
        f"- {L('incidents')}: **{cur.incidents}** ({L('previous')}: {prev.incidents})",
        f"- {L('clocks_met')}: **{cur.clocks_met} / {cur.clocks}** ({L('met_rate')} {rate(cur)}; "
        f"{L('previous')}: {rate(prev)})",
        f"- {L('open_actions')}: **{len(report.open_actions)}**, {L('overdue_actions')}: "
        f"**{len(report.overdue_actions)}**",
        f"- {L('policy_changes')}: **{report.policy_changes}** · {L('training_changes')}: "
        f"**{report.training_changes}**",
        f"- {L('drills_held')}: **{len(report.drills)}**",
        "",
        f"## {L('section.severity')}",
        "",
    ]
    for sev in ("SEV1", "SEV2", "SEV3", "SEV4"):
        out.append(
            f"- {sev}: {cur.by_severity.get(sev, 0)} ({L('previous')}: {prev.by_severity.get(sev, 0)})"
        )
    out += ["", f"## {L('section.category')}", ""]
    out += [f"- {cat}: {n}" for cat, n in cur.by_category.items()] or [f"- {L('none')}"]
    out += [
        "",
        f"## {L('section.times')}",
        "",
        f"| | {L('median')} / {L('worst')} | {L('previous')} | {L('trend')} |",
        "|---|---|---|---|",
    ]
    for key in ("to_declare", "to_contain", "to_notify", "to_resolve"):
        now_s, before_s = getattr(cur, key), getattr(prev, key)
        out.append(
            f"| {L(key)} | {spread(now_s, locale)} | {spread(before_s, locale)} | {trend(now_s, before_s)} |"
        )
    out += ["", f"## {L('section.register')}", ""]
    if client:
        out += [
            f"| {L('col.key')} | {L('col.severity')} | {L('col.status')} | {L('col.categories')} | "
            f"{L('col.people')} | {L('col.notify')} |",
            "|---|---|---|---|---|---|",
        ]
    else:
        out += [
            f"| {L('col.key')} | {L('col.severity')} | {L('col.status')} | {L('col.title')} | "
            f"{L('col.categories')} | {L('col.people')} | {L('col.notify')} |",
            "|---|---|---|---|---|---|---|",
        ]
    for r in (r for r in report.register if not r.drill):
        notes = ", ".join(f"{d.obligation}: {L('decision.' + d.decision)}" for d in r.decisions) or (
            L("decision.not_notified") if r.not_notified_rationale else "—"
        )
        people = "—" if r.people_affected is None else str(r.people_affected)
        cells = [r.key, r.severity, L("kind.log") if r.kind == "log" else r.status]
        if not client:
            cells.append(r.title)
        cells += [", ".join(r.data_categories) or "—", people, notes]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if not client and report.decisions:
        out += [
            "",
            f"## {L('section.decisions')}",
            "",
            row(L("col.key"), L("col.regime"), L("col.decision"), L("col.rationale"), L("col.by")),
            "|---|---|---|---|---|",
        ]
        for d in report.decisions:
            mark = L("privileged") if d.privileged else ""
            out.append(
                "| "
                + " | ".join(
                    _cell(c)
                    for c in (d.key, d.regime or "—", d.text + mark, d.rationale, f"<@{d.decided_by}>")
                )
                + " |"
            )
    out += ["", f"## {L('section.actions')}", ""]
    if report.open_actions:
        if client:
            for cat in ("policy", "training", "other"):
                n = sum(1 for a in report.open_actions if a.category == cat)
                out.append(f"- {cat}: {n}")
        else:
            out += [
                row(L("col.key"), L("col.action"), L("col.owner"), L("col.due"), L("col.category")),
                "|---|---|---|---|---|",
            ]
            for a in report.open_actions:
                due = f"{a.due_at:%Y-%m-%d}" if a.due_at else "—"
                if a.overdue:
                    due += f" ({L('overdue')})"
                owner = f"<@{a.owner}>" if a.owner else "—"
                out.append(
                    "| " + " | ".join(_cell(c) for c in (a.key, a.text, owner, due, a.category)) + " |"
                )
    else:
        out.append(f"- {L('none')}")
    out += ["", f"## {L('section.drills')}", ""]
    for d in report.drills:
        state = L("drill.closed") if d.closed else L("drill.open")
        name = d.key if client else f"{d.key} {d.title}"
        out.append(
            f"- {_cell(name)}: {L('drill.contained')} {hours(d.to_contain, locale)}, "
            f"{L('drill.clocks')} {d.clocks_met}/{d.clocks_missed}, {state}"
        )
    if not report.drills:
        out.append(f"- {L('none')}")
    out += ["", f"## {L('section.lessons')}", ""]
    if client:
        out.append(f"- {L('lessons_count')}: {len(report.lessons)}")
    else:
        out += [f"- **{key}**: {_cell(text)}" for key, text in report.lessons] or [f"- {L('none')}"]
    return "\n".join(out) + "\n"
