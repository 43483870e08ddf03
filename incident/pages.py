"""HTML pages from Jinja2 templates kept in a `templates/` folder beside the code that fills them.

Autoescaping is on for every template, so whatever people typed (a title, a lesson, a decision)
reaches the page as text and never as markup; a template never needs an `escape()` of its own.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def templates(package: str) -> Environment:
    """The templates of `package` (its `templates/` folder). An undefined name fails the render
    instead of leaving a silent blank on a page someone will file with a regulator."""
    return Environment(
        loader=PackageLoader(package),
        autoescape=select_autoescape(enabled_extensions=("html", "svg"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
