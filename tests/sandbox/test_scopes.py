"""The token's scopes: the manifest's grant, Slack's header, and missing_scope for the rest."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox import scopes
from sandbox.server import Sandbox
from sandbox.tools.derive_scopes import derive
from tests.harness import Slack
from tests.test_records import declare

ROOT = Path(__file__).resolve().parents[2]

# Scopes that events (not Web API calls) need, from Slack's event pages.
EVENT_SCOPES = {
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "member_left_channel": {"channels:read", "groups:read"},
    "channel_left": {"channels:read", "groups:read"},
    "group_left": {"groups:read"},
    "subteam_members_changed": {"usergroups:read"},
    "subteam_updated": {"usergroups:read"},
    "app_home_opened": set(),
}
# slack_sdk helpers that call more than one Web API method.
COMPOSITE = {"files_upload_v2": ["files.getUploadURLExternal", "files.completeUploadExternal"]}
CALL = re.compile(r"\bclient\.([a-z]+_[A-Za-z_0-9]+)\(")


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    sb = await Sandbox.start()
    yield sb
    await sb.stop()


def _client(sb: Sandbox) -> AsyncWebClient:
    return AsyncWebClient(token=sb.bot_token, base_url=sb.api_url)


def methods_the_bot_calls() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers", "schedules"):
        for path in (ROOT / folder).rglob("*.py"):
            for name in CALL.findall(path.read_text(encoding="utf-8")):
                if name in COMPOSITE:
                    found.update(COMPOSITE[name])
                else:
                    family, _, rest = name.partition("_")
                    found.add(f"{family}.{rest.replace('_', '.')}")
    return found


async def test_the_sandbox_grants_the_manifest_scopes_and_says_so_on_every_answer(box: Sandbox) -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    assert box.scopes == granted
    client = _client(box)
    ok = await client.auth_test()
    assert ok.headers["x-oauth-scopes"] == ",".join(sorted(granted))
    with pytest.raises(SlackApiError) as failed:
        await client.users_info(user="UNOBODY00")
    assert failed.value.response.headers["x-oauth-scopes"] == ",".join(sorted(granted))


async def test_a_call_outside_the_scopes_is_refused_with_what_it_needed(box: Sandbox) -> None:
    box.scopes.discard("users:read")
    with pytest.raises(SlackApiError) as refused:
        await _client(box).users_info(user="UALICE001")
    answer = refused.value.response.data
    assert answer["ok"] is False and answer["error"] == "missing_scope"
    assert answer["needed"] == "users:read"
    assert answer["provided"] == ",".join(sorted(box.scopes)) and "users:read" not in answer["provided"]
    assert [(v.method, v.error) for v in box.violations] == [("users.info", "missing_scope")]
    assert "user" not in answer


async def test_the_scope_follows_the_kind_of_conversation(box: Sandbox) -> None:
    client = _client(box)
    # The manifest asks for groups:write, not channels:manage: private channels only.
    private = await client.conversations_create(name="br-private", is_private=True)
    assert private["channel"]["is_private"] is True
    with pytest.raises(SlackApiError) as public:
        await client.conversations_create(name="br-public")
    assert public.value.response["needed"] == "channels:manage"
    assert "br-public" not in {c.name for c in box.workspace.channels.values()}
    # Reading a private channel's members takes groups:read; a public one's channels:read.
    await client.conversations_members(channel=private["channel"]["id"])
    box.scopes.discard("channels:read")  # the manifest asks for it (doctor, config export): withdraw it here
    with pytest.raises(SlackApiError) as members:
        await client.conversations_members(channel="C0GENERAL1")
    assert members.value.response["needed"] == "channels:read"


async def test_chat_write_public_lets_the_bot_post_where_it_is_not_a_member(box: Sandbox) -> None:
    client = _client(box)
    box.scopes.add("channels:manage")
    channel = (await client.conversations_create(name="elsewhere"))["channel"]["id"]
    box.workspace.channels[channel].members.remove(box.workspace.bot_user_id)
    with pytest.raises(SlackApiError) as outside:
        await client.chat_postMessage(channel=channel, text="hello")
    assert outside.value.response["error"] == "not_in_channel"
    box.scopes.add("chat:write.public")
    posted = await client.chat_postMessage(channel=channel, text="hello")
    assert box.channel(channel).messages[-1].ts == posted["ts"]


def test_the_derived_table_translates_classic_scopes_to_bot_scopes() -> None:
    spec = {
        "paths": {
            "/chat.postMessage": {
                "post": {"security": [{"slackAuth": ["chat:write:user", "chat:write:bot"]}]}
            },
            "/conversations.join": {"post": {"security": [{"slackAuth": ["channels:write"]}]}},
            "/conversations.invite": {
                "post": {"security": [{"slackAuth": ["channels:write", "groups:write", "im:write"]}]}
            },
            "/auth.test": {"get": {"security": [{"slackAuth": ["none"]}]}},
        }
    }
    assert derive(spec) == {
        "auth.test": [],
        "chat.postMessage": ["chat:write"],
        "conversations.invite": ["channels:manage", "groups:write", "im:write"],
        "conversations.join": ["channels:join"],
    }
    committed = scopes.method_scopes()
    assert committed["chat.postMessage"] == ("chat:write",)
    assert committed["pins.add"] == ("pins:write",)
    assert committed["users.lookupByEmail"] == ("users:read.email",)
    assert committed["files.completeUploadExternal"] == ("files:write",)


def test_the_manifest_asks_only_for_scopes_the_code_uses() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    calls = methods_the_bot_calls()
    assert {"chat.postMessage", "conversations.create", "files.completeUploadExternal"} <= calls
    unknown = sorted(m for m in calls if m not in scopes.method_scopes())
    assert not unknown, f"not Web API methods the sandbox knows: {unknown}"
    usable = {s for m in calls for s in scopes.method_scopes()[m]}
    usable |= {s for e in events for s in EVENT_SCOPES[e]}
    usable.add("commands")  # the slash command and the message shortcut
    assert granted - usable == set(), "scopes nothing calls"
    for unused in ("bookmarks:write", "reactions:write", "users:read.email"):
        assert unused not in granted


async def test_the_bot_without_a_scope_it_needs_cannot_do_that_part(slack: Slack) -> None:
    # The day the manifest loses pins:write (or the code starts needing a scope it lacks),
    # declaring shows it: the card is posted but cannot be pinned.
    slack.sb.scopes.discard("pins:write")
    slack.expect_rejected("pins.add", "missing_scope")
    incident = await declare(slack)
    channel = slack.channel(incident.channel_id)
    assert channel.pins == []
    assert any(incident.key in m.all_text for m in channel.bot_messages)
    refused = [c for c in slack.sb.calls("pins.add") if not c.ok]
    assert refused and all(c.error == "missing_scope" for c in refused)
    assert all(c.ok for c in slack.sb.calls("conversations.create"))


async def test_a_refusal_the_test_did_not_declare_is_reported(box: Sandbox) -> None:
    client = _client(box)
    box.scopes.discard("users:read")
    with pytest.raises(SlackApiError):
        await client.users_info(user="UALICE001")
    assert box.unexpected_rejections() == ["users.info -> missing_scope"]
    box.expect_rejected("users.info", "missing_scope")
    assert box.unexpected_rejections() == []
    # An expectation nothing meets is reported too, so a stale one cannot hide the next refusal.
    box.expect_rejected("pins.add", "missing_scope")
    assert box.unexpected_rejections() == ["expected pins.add -> missing_scope, never happened"]
