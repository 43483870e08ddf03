"""The post-mortem as one self-contained HTML page: inline style, an inline SVG phase chart, no assets."""

from __future__ import annotations

from datetime import datetime
from html import escape

from incident.durations import duration
from incident.postmortem.document import Document, Pairs, Paragraph, Table
from incident.postmortem.labels import label
from incident.postmortem.model import PhaseSpan

STYLE = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1d1c1d;line-height:1.45}
h1{font-size:1.6rem;border-bottom:3px solid #7a1f1f;padding-bottom:.3rem}
h2{font-size:1.2rem;margin-top:2rem;color:#7a1f1f}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f6f6f6}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0}
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem 1rem}
.subtitle{color:#616061}
svg text{font-size:12px;font-family:inherit}
""".strip()

CHART_WIDTH = 900
LABEL_WIDTH = 220
ROW = 26


def phase_chart(phases: list[PhaseSpan], locale: str, end_default: datetime) -> str:
    """Horizontal bars on one time axis, one row per phase that started."""
    started = [p for p in phases if p.start is not None]
    if not started:
        return ""
    t0 = min(p.start for p in started if p.start)
    t1 = max([p.end or end_default for p in started] + [end_default])
    span = max((t1 - t0).total_seconds(), 60.0)
    plot = CHART_WIDTH - LABEL_WIDTH - 20
    height = ROW * len(started) + 30
    title = escape(label("phase.chart", locale))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{title}" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        f"<title>{title}</title>",
    ]
    for i, p in enumerate(started):
        assert p.start is not None
        end = p.end or end_default
        x = LABEL_WIDTH + plot * (p.start - t0).total_seconds() / span
        w = max(plot * (end - p.start).total_seconds() / span, 2.0)
        y = i * ROW + 4
        color = "#d9822b" if p.overridden else "#7a1f1f"
        name = escape(p.title.get(locale))
        parts.append(f'<text x="4" y="{y + 15}">{name}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 8}" fill="{color}" rx="3">'
            f"<title>{name}: {escape(duration(p.seconds, locale, units=3))}</title></rect>"
        )
    axis_y = ROW * len(started) + 8
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + plot}" y2="{axis_y}" stroke="#999"/>'
    )
    parts.append(
        f'<text x="{LABEL_WIDTH}" y="{axis_y + 16}">{escape(t0.strftime("%Y-%m-%d %H:%M UTC"))}</text>'
    )
    parts.append(
        f'<text x="{LABEL_WIDTH + plot}" y="{axis_y + 16}" text-anchor="end">'
        f"{escape(t1.strftime('%Y-%m-%d %H:%M UTC'))}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _text(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def render_html(doc: Document, phases: list[PhaseSpan], end_default: datetime) -> str:
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(doc.locale)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex,nofollow">',
        f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1>",
        f'<p class="subtitle">{escape(doc.subtitle)}</p>',
    ]
    if doc.banner:
        out.append(f'<p class="banner">{escape(doc.banner)}</p>')
    for section in doc.sections:
        out.append(f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>')
        if section.key == "phases":
            out.append(phase_chart(phases, doc.locale, end_default))
        for block in section.blocks:
            if isinstance(block, Pairs):
                out.append("<dl>")
                out += [f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in block.rows]
                out.append("</dl>")
            elif isinstance(block, Table):
                out.append("<table><thead><tr>")
                out += [f"<th>{_text(h)}</th>" for h in block.headers]
                out.append("</tr></thead><tbody>")
                for row in block.rows:
                    out.append("<tr>" + "".join(f"<td>{_text(c)}</td>" for c in row) + "</tr>")
                out.append("</tbody></table>")
            elif isinstance(block, Paragraph):
                out.append(f"<p>{_text(block.text)}</p>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
