"""Which Web API methods and parameter names Slack accepts.

The bulk comes from Slack's 2020 OpenAPI description (derived into
``data/web_api_methods.json`` by ``sandbox/tools/derive_spec.py``). Methods and
parameters Slack added later are written out by hand below, because the sandbox must
reject what Slack rejects without rejecting what Slack has since learned to accept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "web_api_methods.json"

# Accepted by every method: the token itself, and the workspace selector slack_sdk adds
# when a client is built with team_id (org-wide installs).
UNIVERSAL_PARAMS = frozenset({"token", "team_id"})

NEWER_METHODS: dict[str, dict[str, list[str]]] = {
    "bookmarks.add": {
        "params": ["channel_id", "title", "type", "emoji", "entity_id", "link", "parent_id", "access_level"],
        "required": ["channel_id", "title", "type"],
    },
    "bookmarks.list": {"params": ["channel_id"], "required": ["channel_id"]},
    "files.getUploadURLExternal": {
        "params": ["filename", "length", "alt_txt", "snippet_type"],
        "required": ["filename", "length"],
    },
    "files.completeUploadExternal": {
        "params": ["files", "channel_id", "channels", "initial_comment", "thread_ts", "blocks"],
        "required": ["files"],
    },
    "apps.connections.open": {"params": [], "required": []},
}

NEWER_PARAMS: dict[str, list[str]] = {
    "chat.postMessage": ["metadata", "markdown_text", "container_id"],
    "chat.update": ["metadata", "markdown_text", "file_ids", "reply_broadcast"],
    "chat.postEphemeral": ["markdown_text"],
    "conversations.invite": ["force"],
    "conversations.history": ["include_all_metadata"],
    "conversations.replies": ["include_all_metadata"],
    "views.open": ["interactivity_pointer"],
    "views.push": ["interactivity_pointer"],
    "team.info": ["domain", "include_slackbot_availability"],
}

# Types of the newer parameters that are not plain strings.
NEWER_TYPES: dict[str, dict[str, str]] = {
    "conversations.invite": {"force": "boolean"},
    "conversations.history": {"include_all_metadata": "boolean"},
    "conversations.replies": {"include_all_metadata": "boolean"},
    "chat.update": {"reply_broadcast": "boolean"},
    "files.getUploadURLExternal": {"length": "integer"},
    "team.info": {"include_slackbot_availability": "boolean"},
}

# Parameters Slack reads as JSON: an array or object, sent as such or as its JSON text.
JSON_PARAMS = {"blocks": list, "attachments": list, "view": dict, "files": list, "metadata": dict}

# The 2020 description marks few parameters required; these are what Slack enforces
# for the methods the bot uses (checked by the handlers with Slack's own error codes).
ENFORCED_REQUIRED: dict[str, list[str]] = {
    "chat.postMessage": ["channel"],
    "chat.update": ["channel", "ts"],
    "chat.postEphemeral": ["channel", "user"],
    "conversations.create": ["name"],
    "conversations.invite": ["channel", "users"],
    "conversations.info": ["channel"],
    "conversations.members": ["channel"],
    "conversations.history": ["channel"],
    "conversations.setTopic": ["channel", "topic"],
    "conversations.setPurpose": ["channel", "purpose"],
    "conversations.archive": ["channel"],
    "conversations.join": ["channel"],
    "views.open": ["trigger_id", "view"],
    "views.push": ["trigger_id", "view"],
    "views.update": ["view"],
    "views.publish": ["user_id", "view"],
    "users.info": ["user"],
    "usergroups.users.list": ["usergroup"],
}


@dataclass(frozen=True)
class MethodSpec:
    name: str
    params: frozenset[str]
    required: frozenset[str]
    types: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SpecCheck:
    method: str
    known_method: bool
    unknown_params: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    bad_types: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.known_method and not self.unknown_params and not self.missing_required and not self.bad_types
        )


@cache
def methods() -> dict[str, MethodSpec]:
    """All methods the sandbox knows Slack to have, with their accepted parameter names."""
    raw: dict[str, dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))
    raw = {**raw, **NEWER_METHODS}
    result: dict[str, MethodSpec] = {}
    for name, entry in raw.items():
        params = set(entry["params"]) | set(NEWER_PARAMS.get(name, []))
        required = set(entry["required"]) | set(ENFORCED_REQUIRED.get(name, []))
        types = {**entry.get("types", {}), **NEWER_TYPES.get(name, {})}
        result[name] = MethodSpec(name, frozenset(params | required), frozenset(required), types)
    return result


def _is_boolean(value: object) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in (0, 1)
    return isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0")


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


TYPE_CHECKS = {"boolean": _is_boolean, "integer": _is_integer, "number": _is_number}


def type_problems(spec: MethodSpec, params: dict[str, object]) -> list[str]:
    """`[ERROR] ...` lines for parameters whose value is not of the type Slack expects.

    Empty values count as absent (slack_sdk drops None; forms send ""). JSON parameters must
    already have been decoded (see `sandbox.webapi.read_params`): text left over is not JSON.
    """
    problems: list[str] = []
    for name, value in params.items():
        if value is None or value == "":
            continue
        kind = spec.types.get(name)
        if kind is not None and not TYPE_CHECKS[kind](value):
            problems.append(f"[ERROR] expected {kind} for {name}, got {value!r:.40}")
        shape = JSON_PARAMS.get(name)
        if shape is not None and not isinstance(value, shape):
            want = "array" if shape is list else "object"
            problems.append(f"[ERROR] {name} must be a JSON {want} [json-pointer:/{name}]")
    return problems


def check(method: str, params: dict[str, object]) -> SpecCheck:
    """Compare one call's parameter names with what Slack accepts for the method."""
    spec = methods().get(method)
    if spec is None:
        return SpecCheck(method, known_method=False)
    unknown = sorted(k for k in params if k not in spec.params and k not in UNIVERSAL_PARAMS)
    missing = sorted(k for k in spec.required if params.get(k) in (None, ""))
    return SpecCheck(method, True, unknown, missing, type_problems(spec, params))
