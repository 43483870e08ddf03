"""The report as one self-contained HTML page with SVG charts, no external assets
(templates/report.html). This module measures the charts and picks the rows; the template lays
them out and escapes every word."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment

from incident.pages import templates
from incident.report.labels import label
from incident.report.markdown import AUDIENCES, rate, spread, took, trend
from incident.report.model import Report

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
TIMES = ("to_declare", "to_contain", "to_notify", "to_resolve")
COLORS = {"current": "#7a1f1f", "previous": "#c9a3a3"}
OTHER_COLOR = "#888"


@dataclass(frozen=True)
class Bar:
    category: str
    series: str
    value: float
    x: float
    y: float
    width: float
    height: float
    color: str


@dataclass(frozen=True)
class BarChart:
    """Grouped bars: one group per category, one bar per series (current / previous period)."""

    title: str
    width: int
    height: int
    pad: int
    bars: list[Bar]
    ticks: list[tuple[str, float]]  # a category's name under its group, at x
    legend: list[tuple[str, float, str]]  # a series' name, at x, in its colour


def bar_chart(title: str, series: dict[str, dict[str, float]], categories: list[str]) -> BarChart:
    width, height, pad, top = 560, 220, 40, 28
    peak = max([v for s in series.values() for v in s.values()] + [1])
    group = (width - 2 * pad) / max(1, len(categories))
    bar = group / (len(series) + 1)
    colors = [*COLORS.values(), *[OTHER_COLOR] * len(series)]
    bars, ticks = [], []
    for gi, cat in enumerate(categories):
        x0 = pad + gi * group
        for si, (name, values) in enumerate(series.items()):
            value = values.get(cat, 0)
            h = (height - pad - top) * value / peak
            bars.append(Bar(cat, name, value, x0 + bar * (si + 0.5), height - pad - h, bar, h, colors[si]))
        ticks.append((cat, x0 + group / 2))
    legend_x = width - pad - 170
    legend = [(name, float(legend_x + i * 90), colors[i]) for i, name in enumerate(series)]
    return BarChart(title, width, height, pad, bars, ticks, legend)


@cache
def _pages() -> Environment:
    return templates("incident.report")


def render(report: Report, locale: str, audience: str = "internal") -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}")
    client = audience == "client"

    def L(key: str) -> str:
        return label(key, locale)

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
    times = bar_chart(
        f"{L('section.times')} — {L('median')}{L('in_hours')}",
        {
            now_name: {L(k): round((getattr(cur, k).median or 0) / 3600, 1) for k in TIMES},
            prev_name: {L(k): round((getattr(prev, k).median or 0) / 3600, 1) for k in TIMES},
        },
        [L(k) for k in TIMES],
    )
    times_rows = [
        (
            L(k),
            spread(getattr(cur, k), locale),
            spread(getattr(prev, k), locale),
            trend(getattr(cur, k), getattr(prev, k)),
        )
        for k in TIMES
    ]
    headers = (
        [L("col.key"), L("col.severity"), L("col.status")]
        + ([] if client else [L("col.title")])
        + [L("col.categories"), L("col.people")]
    )
    incidents = [
        [r.key, r.severity, L("kind.log") if r.kind == "log" else r.status]
        + ([] if client else [r.title])
        + [", ".join(r.data_categories) or "—", "—" if r.people_affected is None else str(r.people_affected)]
        for r in report.register
        if not r.drill
    ]
    drills = [
        (
            d.key if client else f"{d.key} {d.title}",
            took(d.to_contain, locale),
            f"{d.clocks_met}/{d.clocks_missed}",
        )
        for d in report.drills
    ]
    return (
        _pages()
        .get_template("report.html")
        .render(
            L=L,
            locale=locale,
            client=client,
            title=L("title.client" if client else "title.internal"),
            report=report,
            cur=cur,
            prev=prev,
            met_rate=rate(cur),
            severity=severity,
            times=times,
            times_rows=times_rows,
            headers=headers,
            incidents=incidents,
            drills=drills,
        )
    )
