"""Which OAuth scopes the bot holds, and which one each Web API call needs.

The granted set comes from the app's own `manifest.yml` (`oauth_config.scopes.bot`), so the
sandbox grants exactly what an installed app would get, and a call outside it fails the way
Slack fails it: `missing_scope`, with the scope it needed and the ones the token has.
Per-method scopes are derived from Slack's published description into
`data/web_api_scopes.json` (see `sandbox/tools/derive_scopes.py`); methods newer than it
are written out below.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data" / "web_api_scopes.json"
# libyaml's parser when PyYAML has it: every sandbox (every test) reads the manifest.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"

NEWER_METHODS: dict[str, list[str]] = {
    "bookmarks.add": ["bookmarks:write"],
    "bookmarks.list": ["bookmarks:read"],
    "files.getUploadURLExternal": ["files:write"],
    "files.completeUploadExternal": ["files:write"],
    # Called with the app-level token, whose connections:write is not a bot scope.
    "apps.connections.open": [],
}

# Which family of a per-conversation scope applies to which kind of conversation.
KIND_PREFIX = {"public": "channels", "private": "groups", "im": "im", "mpim": "mpim"}


def manifest_scopes(path: Path = MANIFEST) -> set[str]:
    """The bot scopes the app's manifest asks for."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    bot = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    return {str(s) for s in bot}


@cache
def method_scopes() -> dict[str, tuple[str, ...]]:
    raw: dict[str, list[str]] = json.loads(DATA.read_text(encoding="utf-8"))
    return {name: tuple(scopes) for name, scopes in {**raw, **NEWER_METHODS}.items()}


def needed(method: str, kind: str | None) -> tuple[str, ...]:
    """The scopes any one of which lets the bot call `method` on a conversation of `kind`.

    kind: "public", "private", "im", "mpim", or None when the call names no conversation
    (or one the sandbox cannot see; then any of the method's scopes will do).
    """
    scopes = method_scopes().get(method, ())
    if kind is None:
        return scopes
    prefix = KIND_PREFIX[kind]
    families = {s.split(":", 1)[0] for s in scopes}
    if not families & set(KIND_PREFIX.values()):
        return scopes
    picked = tuple(s for s in scopes if s.split(":", 1)[0] == prefix)
    return picked or scopes


def missing(method: str, kind: str | None, granted: Iterable[str]) -> str | None:
    """The scope to name in a `missing_scope` answer, or None when the call is allowed."""
    options = needed(method, kind)
    granted = set(granted)
    if not options or granted & set(options):
        return None
    return options[0]


def header(granted: Iterable[str]) -> str:
    """The `x-oauth-scopes` value Slack sends with every Web API answer."""
    return ",".join(sorted(granted))


def every_scope() -> set[str]:
    """Every bot scope any known method asks for: a token that may call anything.

    chat:write.public is left out: it changes what chat.postMessage does (posting where the
    bot is not a member), so a test that wants it grants it.
    """
    return {s for options in method_scopes().values() for s in options}


def default_grant() -> set[str]:
    """What the sandbox's bot token holds unless told otherwise: the manifest's scopes.

    An installed package (the Docker image's `breachroom sandbox`) has no manifest beside it;
    the demo then grants every scope rather than refuse to start. Tests run from the source
    tree, where the manifest is always there.
    """
    if MANIFEST.exists():
        return manifest_scopes()
    log.warning("no manifest.yml beside the sandbox package: the sandbox grants every scope")
    return every_scope()
