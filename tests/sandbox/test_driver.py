import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.server import Sandbox
from sandbox.signing import signed_headers


def option(text: str, value: str) -> dict[str, Any]:
    """A Block Kit option object: the text a person reads, the value the app receives."""
    return {"text": {"type": "plain_text", "text": text}, "value": value}


class FakeBot:
    """Records what the sandbox sends and answers with a queued ack."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)
        self.requests: list[dict[str, Any]] = []
        self.acks: list[web.Response] = []
        self.arrived = asyncio.Event()  # set when a request has come in
        self.hold: asyncio.Event | None = None  # when set, each answer waits for it

    async def handle(self, request: web.Request) -> web.Response:
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        body = await request.text()
        self.requests.append(
            {
                "body": body,
                "headers": dict(request.headers),
                "valid": self.verifier.is_valid_request(body, dict(request.headers)),
            }
        )
        return self.acks.pop(0) if self.acks else web.Response(status=200)

    def form(self, i: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[i]["body"]).items()}

    def payload(self, i: int = -1) -> dict[str, Any]:
        return json.loads(self.form(i)["payload"])


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[FakeBot]:
    fake = FakeBot(sandbox.signing_secret)
    app = web.Application()
    app.router.add_post("/slack/events", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sandbox.bot_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    yield fake
    await runner.cleanup()


def test_signature_headers_pass_slack_sdk_verifier() -> None:
    headers = signed_headers("s3cret", "a=b")
    assert SignatureVerifier("s3cret").is_valid(
        "a=b", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )


async def test_slash_command_is_a_signed_form_like_slacks(sandbox: Sandbox, bot: FakeBot) -> None:
    bot.acks.append(web.json_response({"text": "Declaring…"}))
    result = await sandbox.person("alice").command("declare Payroll leak")
    assert result.status == 200 and bot.requests[0]["valid"]
    form = bot.form()
    assert set(form) == {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert (form["command"], form["text"], form["user_id"], form["channel_name"]) == (
        "/breach",
        "declare Payroll leak",
        "UALICE001",
        "general",
    )
    assert form["trigger_id"] in sandbox.workspace.triggers
    assert [e.text for e in sandbox.person("alice").ephemerals] == ["Declaring…"]


async def test_click_builds_block_actions_for_the_button_near_a_text(
    sandbox: Sandbox, bot: FakeBot, client: AsyncWebClient
) -> None:
    def item(text: str, value: str) -> list[dict]:
        return [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "actions",
                "block_id": f"b-{value}",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Done"},
                        "action_id": "item_done",
                        "value": value,
                    }
                ],
            },
        ]

    await client.chat_postMessage(
        channel="C0GENERAL1",
        text="Checklist",
        blocks=item("Isolate affected systems", "i1") + item("Reset passwords", "i2"),
    )
    msg = sandbox.channel("general").message_with_button("Done", near="Reset passwords")
    await sandbox.person("bob").click(msg, "Done", near="Reset passwords")
    payload = bot.payload()
    assert bot.requests[0]["valid"]
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "UBOB00001"
    assert payload["actions"][0]["value"] == "i2" and payload["actions"][0]["action_id"] == "item_done"
    assert payload["container"] == {
        "type": "message",
        "message_ts": msg.ts,
        "channel_id": "C0GENERAL1",
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == msg.ts and payload["response_url"].startswith(sandbox.url)
    assert payload["trigger_id"] in sandbox.workspace.triggers


async def test_modal_submit_sends_state_values_and_shows_errors(
    sandbox: Sandbox, bot: FakeBot, client: AsyncWebClient
) -> None:
    view = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": "Declare"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
            {
                "type": "input",
                "block_id": "sev",
                "label": {"type": "plain_text", "text": "Severity"},
                "element": {
                    "type": "static_select",
                    "action_id": "v",
                    "options": [
                        option("SEV1", "1"),
                        option("SEV2", "2"),
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "lead",
                "label": {"type": "plain_text", "text": "Lead"},
                "element": {"type": "users_select", "action_id": "v"},
            },
        ],
    }
    carol = sandbox.person("carol")
    await client.views_open(trigger_id=sandbox.workspace.issue_trigger(carol.id), view=view)
    bot.acks.append(web.json_response({"response_action": "errors", "errors": {"title": "Too short"}}))
    result = await carol.submit({"Title": "x", "Severity": "SEV2", "lead": "bob"})
    assert result.errors == {"title": "Too short"}
    values = bot.payload()["view"]["state"]["values"]
    assert values == {
        "title": {"v": {"type": "plain_text_input", "value": "x"}},
        "sev": {
            "v": {"type": "static_select", "selected_option": view["blocks"][1]["element"]["options"][1]}
        },
        "lead": {"v": {"type": "users_select", "selected_user": "UBOB00001"}},
    }
    assert carol.modal().data["callback_id"] == "declare"
    await carol.submit({"Title": "Payroll export leaked", "Severity": "SEV1", "Lead": "carol"})
    with pytest.raises(LookupError):
        carol.modal()


async def test_reaction_event_and_retry_headers(
    sandbox: Sandbox, bot: FakeBot, client: AsyncWebClient
) -> None:
    ts = (await client.chat_postMessage(channel="C0GENERAL1", text="card"))["ts"]
    first = await sandbox.person("dave").react("C0GENERAL1", ts, "pushpin")
    assert first is not None
    envelope = json.loads(bot.requests[0]["body"])
    assert envelope["type"] == "event_callback" and envelope["event"]["type"] == "reaction_added"
    assert envelope["event"]["item"] == {"type": "message", "channel": "C0GENERAL1", "ts": ts}
    assert envelope["event_id"].startswith("Ev") and envelope["api_app_id"] == "A0BREACHRM"
    await sandbox.person("dave").redeliver(first)
    retried = bot.requests[1]
    assert json.loads(retried["body"])["event_id"] == envelope["event_id"]
    assert retried["headers"]["X-Slack-Retry-Num"] == "1"
    assert retried["headers"]["X-Slack-Retry-Reason"] == "http_timeout" and retried["valid"]
    assert sandbox.channel("general").message_with_text("card").reactions == {"pushpin": ["UDAVE0001"]}


async def test_settle_waits_for_a_request_in_flight(sandbox: Sandbox, bot: FakeBot) -> None:
    bot.hold = asyncio.Event()  # the bot answers only when the test lets it
    command = asyncio.ensure_future(sandbox.person("alice").command("status"))
    await bot.arrived.wait()
    # Still in flight: settle gives up rather than return while the bot has not answered.
    with pytest.raises(TimeoutError):
        await sandbox.settle(timeout=0.2)
    assert not command.done()
    bot.hold.set()
    await sandbox.settle(timeout=5)
    assert command.done() and command.result().status == 200
