"""The report as one self-contained HTML page with SVG charts (no external assets)."""

from __future__ import annotations

from html import escape

from incident.report.labels import label
from incident.report.markdown import rate, spread, took, trend
from incident.report.model import Report

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
COLORS = {"current": "#7a1f1f", "previous": "#c9a3a3"}


def bar_chart(title: str, series: dict[str, dict[str, float]], categories: list[str]) -> str:
    """Grouped bars: one group per category, one bar per series (current / previous)."""
    width, height, pad, top = 560, 220, 40, 28
    peak = max([v for s in series.values() for v in s.values()] + [1])
    group = (width - 2 * pad) / max(1, len(categories))
    bar = group / (len(series) + 1)
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<text x="{pad}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#333"/>',
    ]
    for gi, cat in enumerate(categories):
        x0 = pad + gi * group
        for si, (name, values) in enumerate(series.items()):
            value = values.get(cat, 0)
            h = (height - pad - top) * value / peak
            x = x0 + bar * (si + 0.5)
            y = height - pad - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLORS.get(name, "#888")}">'
                f"<title>{escape(cat)} {escape(name)}: {value:g}</title></rect>"
            )
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle">{value:g}</text>'
            )
        parts.append(
            f'<text x="{x0 + group / 2:.1f}" y="{height - pad + 16}" font-size="11" text-anchor="middle">'
            f"{escape(cat)}</text>"
        )
    legend_x = width - pad - 170
    for i, name in enumerate(series):
        parts.append(
            f'<rect x="{legend_x + i * 90}" y="8" width="10" height="10" fill="{COLORS.get(name, "#888")}"/>'
        )
        parts.append(f'<text x="{legend_x + i * 90 + 14}" y="17" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(report: Report, locale: str, audience: str = "internal") -> str:
    client = audience == "client"
    L = lambda key: label(key, locale)  # noqa: E731
    cur, prev = report.current, report.previous
    now_name, prev_name = report.period.label, report.period.previous().label
    severity = bar_chart(
        L("section.severity"),
        {
            now_name: {s: cur.by_severity.get(s, 0) for s in SEVERITIES},
            prev_name: {s: prev.by_severity.get(s, 0) for s in SEVERITIES},
        },
        list(SEVERITIES),
    )
    times_keys = ("to_declare", "to_contain", "to_notify", "to_resolve")
    times = bar_chart(
        f"{L('section.times')} — {L('median')} (h)",
        {
            now_name: {L(k): round((getattr(cur, k).median or 0) / 3600, 1) for k in times_keys},
            prev_name: {L(k): round((getattr(prev, k).median or 0) / 3600, 1) for k in times_keys},
        },
        [L(k) for k in times_keys],
    )
    rows_times = "".join(
        f"<tr><th>{escape(L(k))}</th><td>{escape(spread(getattr(cur, k), locale))}</td>"
        f"<td>{escape(spread(getattr(prev, k), locale))}</td><td>{escape(trend(getattr(cur, k), getattr(prev, k)))}</td></tr>"
        for k in times_keys
    )
    incidents = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(c)}</td>"
            for c in (
                [r.key, r.severity, L("kind.log") if r.kind == "log" else r.status]
                + ([] if client else [r.title])
                + [
                    ", ".join(r.data_categories) or "—",
                    "—" if r.people_affected is None else str(r.people_affected),
                ]
            )
        )
        + "</tr>"
        for r in report.register
        if not r.drill
    )
    head_cells = (
        [L("col.key"), L("col.severity"), L("col.status")]
        + ([] if client else [L("col.title")])
        + [L("col.categories"), L("col.people")]
    )
    drills = (
        "".join(
            f"<li>{escape(d.key if client else f'{d.key} {d.title}')}: {escape(L('drill.contained'))} "
            f"{escape(took(d.to_contain, locale))}, {escape(L('drill.clocks'))} {d.clocks_met}/{d.clocks_missed}</li>"
            for d in report.drills
        )
        or f"<li>{escape(L('none'))}</li>"
    )
    lessons = (
        f"<p>{escape(L('lessons_count'))}: {len(report.lessons)}</p>"
        if client
        else "<ul>"
        + (
            "".join(f"<li><b>{escape(k)}</b>: {escape(t)}</li>" for k, t in report.lessons)
            or f"<li>{escape(L('none'))}</li>"
        )
        + "</ul>"
    )
    title = L("title.client" if client else "title.internal")
    return f"""<!doctype html>
<html lang="{escape(locale)}"><head><meta charset="utf-8">
<title>{escape(title)} · {escape(report.period.label)}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:920px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
.note{{color:#555;font-style:italic}}.figure{{font-size:1.4em;font-weight:bold}}</style></head><body>
<h1>{escape(title)} · {escape(report.period.label)}</h1>
<p>{escape(L("period"))}: {report.period.start:%Y-%m-%d} – {report.period.end:%Y-%m-%d} (UTC) ·
{escape(L("generated"))}: {report.generated_at:%Y-%m-%d %H:%M} UTC</p>
{f'<p class="note">{escape(L("client_note"))}</p>' if client else ""}
<h2>{escape(L("section.summary"))}</h2>
<ul>
<li>{escape(L("incidents"))}: <span class="figure" data-figure="incidents">{cur.incidents}</span>
 ({escape(L("previous"))}: {prev.incidents})</li>
<li>{escape(L("clocks_met"))}: <span class="figure" data-figure="clocks">{cur.clocks_met} / {cur.clocks}</span>
 ({escape(L("met_rate"))} {rate(cur)})</li>
<li>{escape(L("open_actions"))}: <span data-figure="open_actions">{len(report.open_actions)}</span>,
 {escape(L("overdue_actions"))}: <span data-figure="overdue_actions">{len(report.overdue_actions)}</span></li>
<li>{escape(L("policy_changes"))}: <span data-figure="policy">{report.policy_changes}</span> ·
 {escape(L("training_changes"))}: <span data-figure="training">{report.training_changes}</span></li>
<li>{escape(L("drills_held"))}: <span data-figure="drills">{len(report.drills)}</span></li>
</ul>
{severity}
<h2>{escape(L("section.times"))}</h2>
<table><tr><th></th><th>{escape(L("median"))} / {escape(L("worst"))}</th><th>{escape(L("previous"))}</th>
<th>{escape(L("trend"))}</th></tr>{rows_times}</table>
{times}
<h2>{escape(L("section.register"))}</h2>
<table><tr>{"".join(f"<th>{escape(h)}</th>" for h in head_cells)}</tr>{incidents}</table>
<h2>{escape(L("section.drills"))}</h2><ul>{drills}</ul>
<h2>{escape(L("section.lessons"))}</h2>{lessons}
</body></html>
"""
