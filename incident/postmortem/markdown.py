"""The post-mortem as Markdown: the file uploaded to the incident channel."""

from __future__ import annotations

from incident.postmortem.document import Document, Pairs, Paragraph, Table


def cell(text: str) -> str:
    """One table cell: pipes escaped, line breaks kept as <br> so a row stays one line."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>") or " "


def render_markdown(doc: Document) -> str:
    lines = [f"# {doc.title}", "", f"_{doc.subtitle}_", ""]
    if doc.banner:
        lines += [f"> **{doc.banner}**", ""]
    for section in doc.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Pairs):
                lines += [f"- **{cell(k)}**: {cell(v)}" for k, v in block.rows]
            elif isinstance(block, Table):
                lines.append("| " + " | ".join(cell(h) for h in block.headers) + " |")
                lines.append("|" + "|".join("---" for _ in block.headers) + "|")
                lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in block.rows]
            elif isinstance(block, Paragraph):
                lines += block.text.splitlines() or [""]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
