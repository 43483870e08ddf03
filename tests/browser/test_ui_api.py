"""The browser UI's small API, without a browser: what a person may see, and that acting goes to the bot.

The page is only as honest as this API: it must show a person exactly what Slack would
(never a private channel they are not in), and every action must reach the bot as a
signed request through the driver.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.observe import MessageView
from sandbox.server import Sandbox
from sandbox.ui.routes import STATIC
from sandbox.workspace import Channel
from tests.harness import Slack


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = await Sandbox.start()
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def secret_channel(sb: Sandbox) -> Channel:
    channel = Channel(
        id="C0SECRET01",
        name="br-2026-0001-secret",
        is_private=True,
        members=["UALICE001", "UHEIDI001", sb.workspace.bot_user_id],
    )
    sb.workspace.channels[channel.id] = channel
    sb.workspace.bot_message(channel, {"text": "Payroll export leaked"})
    return channel


async def get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(url) as resp:
        return resp.status, await resp.json()


async def post(http: aiohttp.ClientSession, sb: Sandbox, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(f"{sb.url}/ui/api/{path}", json=body) as resp:
        data = await resp.json()
        data["_status"] = resp.status
        return data


async def test_the_workspace_address_serves_the_page_with_only_local_assets(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{sandbox.url}/") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/ui/static/") or a.startswith("data:") for a in assets), assets
    for asset in assets:
        if asset.startswith("/"):
            async with http.get(f"{sandbox.url}{asset}") as resp:
                assert resp.status == 200, asset
    # No CDN, no web fonts: nothing in the static files reaches outside the sandbox.
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", text), path.name
        assert "@import" not in text and "fonts.googleapis" not in text, path.name


async def test_a_private_channel_is_invisible_to_a_person_outside_it(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    channel = secret_channel(sandbox)
    status, alice = await get_json(http, f"{sandbox.url}/ui/api/state?as=alice&channel={channel.id}")
    assert status == 200
    assert channel.id in [c["id"] for c in alice["channels"]]
    assert "Payroll export leaked" in [m["text"] for m in alice["channel"]["messages"]]

    status, mallory = await get_json(http, f"{sandbox.url}/ui/api/state?as=mallory")
    assert status == 200
    assert channel.id not in json.dumps(mallory)
    assert "secret" not in json.dumps(mallory)
    status, refused = await get_json(http, f"{sandbox.url}/ui/api/state?as=mallory&channel={channel.id}")
    assert status == 404 and refused == {"ok": False, "error": "channel_not_found"}
    # Nor can she act in it: no reaction, no message.
    react = await post(
        http, sandbox, "react", {"as": "mallory", "channel": channel.id, "ts": "1", "name": "eyes"}
    )
    say = await post(http, sandbox, "say", {"as": "mallory", "channel": channel.id, "text": "hello?"})
    assert react["_status"] == say["_status"] == 404
    assert len(channel.messages) == 1 and "reactions" not in channel.messages[0]


async def test_ephemeral_messages_show_only_to_their_person(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    sandbox.add_ephemeral(
        "C0GENERAL1", "UALICE001", {"text": "only for alice"}, sandbox.workspace.next_ts(), "ack"
    )
    _, alice = await get_json(http, f"{sandbox.url}/ui/api/state?as=alice&channel=C0GENERAL1")
    _, bob = await get_json(http, f"{sandbox.url}/ui/api/state?as=bob&channel=C0GENERAL1")
    mine = [m for m in alice["channel"]["messages"] if m["ephemeral"]]
    assert [m["text"] for m in mine] == ["only for alice"] and mine[0]["bot"]
    assert "only for alice" not in json.dumps(bob)


async def test_the_event_stream_announces_a_change_and_stays_quiet_on_reads(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{sandbox.url}/ui/api/events") as stream:
        assert stream.content_type == "text/event-stream"

        async def next_change() -> int:
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("data:"):
                    return int(json.loads(line[5:])["version"])

        first = await asyncio.wait_for(next_change(), 10)
        await get_json(http, f"{sandbox.url}/ui/api/state?as=alice&channel=C0GENERAL1")
        assert sandbox.workspace.version == first  # reading is not a change
        channel = sandbox.workspace.require_channel("C0GENERAL1")
        sandbox.workspace.bot_message(channel, {"text": "hello"})
        sandbox.workspace.changed()
        assert await asyncio.wait_for(next_change(), 10) > first


async def test_a_click_by_position_reaches_the_bot_for_that_exact_item(
    slack: Slack, http: aiohttp.ClientSession
) -> None:
    sb = slack.sb
    async with http.post(
        f"{sb.url}/ui/api/command",
        json={"as": "alice", "channel": "C0GENERAL1", "text": "/breach declare Payroll export leaked"},
    ) as resp:
        assert (await resp.json())["ok"]
    await slack.settle()
    view = slack.alice.modal()
    errors = await post(
        http, sb, "submit", {"as": "alice", "view_id": view.id, "values": {"people_affected": "-5"}}
    )
    assert errors["response_action"] == "errors" and "people_affected" in errors["errors"]
    _, state = await get_json(http, f"{sb.url}/ui/api/state?as=alice")
    assert state["modal"]["id"] == view.id and "people_affected" in state["modal"]["errors"]
    done = await post(
        http,
        sb,
        "submit",
        {"as": "alice", "view_id": view.id, "values": {"severity": "SEV2", "people_affected": "12"}},
    )
    assert done["ok"] and "errors" not in done
    await slack.settle()
    incident = await slack.incident()
    channel = slack.channel(incident.channel_id)

    # Several messages carry identical "Done" buttons: the page names the second one by its place.
    # (A checklist message: a may-apply clock's reminder carries a "Done" button of its own.)
    def item_places(message: MessageView) -> list[tuple[int, int]]:
        return [
            (bi, ei)
            for bi, block in enumerate(message.blocks)
            if block.get("type") == "actions"
            for ei, element in enumerate(block["elements"])
            if element.get("action_id") == "item_done"
        ]

    message = next(m for m in reversed(channel.messages) if len(item_places(m)) >= 2)
    places = item_places(message)
    block_index, element_index = places[1]
    first_item = message.blocks[places[0][0] - 1]["text"]["text"]
    second_item = message.blocks[block_index - 1]["text"]["text"]
    clicked = await post(
        http,
        sb,
        "click",
        {
            "as": "heidi",
            "channel": channel.id,
            "ts": message.ts,
            "block": block_index,
            "element": element_index,
        },
    )
    assert clicked["ok"] and clicked["status"] == 200, clicked
    await slack.settle()
    after = message.refreshed()
    texts = [b["text"]["text"] for b in after.blocks if b.get("type") == "section" and "text" in b]
    assert any(t.startswith("✅") and second_item.split("*")[1] in t for t in texts), texts
    assert any(t == first_item for t in texts)  # the first item is untouched
    assert not slack.violations()


async def test_the_page_is_served_with_a_strict_content_security_policy(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    for path in ("/", "/ui/static/mrkdwn.js", "/ui/api/state?as=alice"):
        async with http.get(f"{sandbox.url}{path}") as resp:
            assert resp.status == 200, path
            policy = dict(
                part.strip().split(" ", 1) for part in resp.headers["Content-Security-Policy"].split(";")
            )
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in json.dumps(policy)
    # The page works under it: no inline script, no inline style, no handler attributes.
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<style" not in page
    assert not re.search(r"\s(?:style|on[a-z]+)=", page)
    # And nothing in its scripts parses a string as HTML.
    for script in STATIC.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "eval("):
            assert sink not in text, (script.name, sink)


async def test_a_cross_site_post_is_refused_and_does_nothing(
    slack: Slack, http: aiohttp.ClientSession
) -> None:
    sb = slack.sb
    general = slack.channel("general")
    before = len(general.messages)
    body = json.dumps({"as": "alice", "channel": "C0GENERAL1", "text": "sent by another site"})

    async def say(headers: dict[str, str]) -> int:
        """The status the sandbox answers that body posted to its say endpoint with `headers`."""
        async with http.post(f"{sb.url}/ui/api/say", data=body, headers=headers) as resp:
            return resp.status

    # What a form or no-preflight fetch on another site can send: text/plain, no Origin check.
    assert await say({"Content-Type": "text/plain", "Origin": "https://evil.example"}) == 415
    assert await say({"Content-Type": "text/plain"}) == 415
    # JSON from a foreign page (after a preflight the sandbox never approves) is refused too.
    assert await say({"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"}) == 403
    await slack.settle()
    assert len(general.messages) == before
    assert all("another site" not in m.text for m in general.messages)
    # The page itself, same origin and JSON, still acts.
    assert await say({"Content-Type": "application/json", "Origin": sb.url}) == 200
    await slack.settle()
    assert general.messages[-1].text == "sent by another site"
