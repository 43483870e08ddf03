"""Derive sandbox/data/web_api_scopes.json (method -> the bot scopes Slack accepts for it).

Run from the repository root:

    python -m sandbox.tools.derive_scopes ../shared/slack-api-specs/web-api-openapi-v2.json

Slack's 2020 description names each method's scopes in the classic-app vocabulary
(`chat:write:bot`, `channels:write`, ...). Bot tokens of today's apps hold granular scopes,
so each classic name is translated to the granular one Slack's method pages list for a bot
token. A method's list is "any one of", ordered channels / groups / im / mpim where the
scope depends on the kind of conversation the call names. The output is committed so fresh
clones and CI do not need the spec file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.tools.derive_spec import run

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "web_api_scopes.json"

# Classic scope -> the granular bot scope that replaced it; None: no scope is needed.
CLASSIC_TO_GRANULAR: dict[str, str | None] = {
    "none": None,
    "chat:write:bot": "chat:write",
    "chat:write:user": "chat:write",
    "channels:write": "channels:manage",
    "files:write:user": "files:write",
}

# Where a bot token needs another scope than the translation gives (Slack's method pages).
BOT_OVERRIDES: dict[str, list[str]] = {
    # A bot joins with channels:join; channels:manage is what a user token needs.
    "conversations.join": ["channels:join"],
}


def translate(scopes: list[str]) -> list[str]:
    out: list[str] = []
    for scope in scopes:
        granular = CLASSIC_TO_GRANULAR.get(scope, scope)
        if granular is not None and granular not in out:
            out.append(granular)
    return out


def derive(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Return method -> bot scopes (any one of them suffices; [] when none is needed)."""
    methods: dict[str, list[str]] = {}
    for path, verbs in sorted(spec["paths"].items()):
        scopes: list[str] = []
        for operation in verbs.values():
            for requirement in operation.get("security", []):
                for names in requirement.values():
                    scopes.extend(s for s in names if s not in scopes)
        name = path.lstrip("/")
        methods[name] = BOT_OVERRIDES.get(name, translate(scopes))
    return methods


def main() -> None:
    run(__doc__, derive, DEFAULT_OUT)


if __name__ == "__main__":
    main()
