"""The post-mortem: a model built from the database alone, laid out once, rendered as Markdown,
HTML and JSON. `render(pm, fmt, names)` is the one entry point the bot and the CLI use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from incident.postmortem.document import build_document
from incident.postmortem.html import render_html
from incident.postmortem.jsonout import dumps, postmortem_json
from incident.postmortem.markdown import render_markdown
from incident.postmortem.model import PostMortem, build

Format = Literal["md", "html", "json"]
FORMATS: tuple[Format, ...] = ("md", "html", "json")


def render(
    pm: PostMortem, fmt: Format, names: Mapping[str, str] | None = None, locale: str | None = None
) -> str:
    """The post-mortem in the incident's language (or `locale`)."""
    lang = locale or pm.incident.locale
    if fmt == "json":
        return dumps(postmortem_json(pm))
    doc = build_document(pm, lang, names)
    if fmt == "md":
        return render_markdown(doc)
    return render_html(doc, list(pm.phases), pm.as_of)


__all__ = ["FORMATS", "Format", "PostMortem", "build", "render"]
