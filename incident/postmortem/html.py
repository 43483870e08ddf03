"""The post-mortem as one self-contained HTML page (templates/postmortem.html): inline style, an
inline SVG phase chart, no assets. This module only measures the chart; the template lays out
the page and the chart, escaping every word in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from jinja2 import Environment

from incident.durations import duration
from incident.pages import templates
from incident.postmortem.document import Document, Pairs, Paragraph, Table
from incident.postmortem.labels import label
from incident.postmortem.model import PhaseSpan

CHART_WIDTH = 900
LABEL_WIDTH = 220
ROW = 26
AXIS_TIME = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class Bar:
    name: str
    duration: str
    x: float
    y: int
    width: float
    color: str


@dataclass(frozen=True)
class PhaseChart:
    """Horizontal bars on one time axis, one row per phase that started."""

    title: str
    width: int
    height: int
    row: int
    bars: list[Bar]
    axis_y: int
    axis_from: int
    axis_to: int
    start: str
    end: str


def phase_chart(phases: list[PhaseSpan], locale: str, end_default: datetime) -> PhaseChart | None:
    started = [p for p in phases if p.start is not None]
    if not started:
        return None
    t0 = min(p.start for p in started if p.start)
    t1 = max([p.end or end_default for p in started] + [end_default])
    span = max((t1 - t0).total_seconds(), 60.0)
    plot = CHART_WIDTH - LABEL_WIDTH - 20
    bars = []
    for i, p in enumerate(started):
        assert p.start is not None
        end = p.end or end_default
        bars.append(
            Bar(
                name=p.title.get(locale),
                duration=duration(p.seconds, locale, units=3),
                x=LABEL_WIDTH + plot * (p.start - t0).total_seconds() / span,
                y=i * ROW + 4,
                width=max(plot * (end - p.start).total_seconds() / span, 2.0),
                color="#d9822b" if p.overridden else "#7a1f1f",
            )
        )
    return PhaseChart(
        title=label("phase.chart", locale),
        width=CHART_WIDTH,
        height=ROW * len(started) + 30,
        row=ROW,
        bars=bars,
        axis_y=ROW * len(started) + 8,
        axis_from=LABEL_WIDTH,
        axis_to=LABEL_WIDTH + plot,
        start=t0.strftime(AXIS_TIME),
        end=t1.strftime(AXIS_TIME),
    )


@cache
def _pages() -> Environment:
    env = templates("incident.postmortem")
    env.tests.update(
        pairs=lambda block: isinstance(block, Pairs),
        table=lambda block: isinstance(block, Table),
        paragraph=lambda block: isinstance(block, Paragraph),
    )
    return env


def render_html(doc: Document, phases: list[PhaseSpan], end_default: datetime) -> str:
    chart = phase_chart(phases, doc.locale, end_default)
    return _pages().get_template("postmortem.html").render(doc=doc, chart=chart)
