"""The layers keep to their side: the domain writes no Slack markup, handlers run no SQL of their own."""

from __future__ import annotations

import ast
from pathlib import Path

from handlers.errors import message_for
from incident.errors import NotAllowed, Person

ROOT = Path(__file__).resolve().parent.parent


def modules(package: str) -> list[Path]:
    found = sorted((ROOT / package).rglob("*.py"))
    assert len(found) > 10, found  # the walk found the package
    return found


def test_the_domain_writes_no_slack_mention() -> None:
    """A user id leaves the domain as data; handlers/render writes ``<@U…>`` for Slack."""
    written = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in modules("incident")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "<@" in node.value
    ]
    assert not written, written


def test_handlers_import_no_sql_and_ask_the_domain_instead() -> None:
    importing = []
    for path in modules("handlers"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "sqlalchemy" for name in names):
                importing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not importing, importing


def test_a_refusal_names_the_person_as_a_mention_and_nobody_as_a_dash() -> None:
    held = message_for(NotAllowed("error.manage_only", commander=Person("UHEIDI001")), "en")
    assert "(commander: <@UHEIDI001>)" in held
    empty = message_for(NotAllowed("checklist.error.reopen_commander", commander=Person(None)), "zh-CN")
    assert "（—）" in empty and "Person" not in empty
