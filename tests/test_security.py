"""An outsider cannot read or change an incident through any door: every subcommand, every button the
bot ever drew, every form it ever opened (with its real metadata), the message shortcut, and the
report link. Forged signatures and replays are refused before anything runs (see also
tests/test_foundation.py, which covers a forged slash command)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from handlers.commands import SUBCOMMANDS
from handlers.ids import ActionId, CallbackId
from incident.postmortem.access import make_token
from sandbox.driver import Person
from sandbox.observe import MessageView
from sandbox.signing import signed_headers
from storage.models import TimelineEvent
from tests.harness import SIGNING_SECRET, Slack
from tests.test_declare import SECRET_TITLE, declare

SECRETS = (SECRET_TITLE, "Acme Trading", "Beta Foods", "payroll records", "Payroll export")
GENERAL = "C0GENERAL1"


async def snapshot(slack: Slack, channel: str) -> tuple[Any, ...]:
    """Everything an outsider must not be able to change: every table's row count, the timeline,
    and the incident channel's messages as they are now."""
    counts = {}
    async with slack.db.session() as db:
        for table in SQLModel.metadata.sorted_tables:
            counts[table.name] = (await db.execute(select(func.count()).select_from(table))).scalar_one()
        events = [(e.seq, e.hash) for e in (await db.execute(select(TimelineEvent))).scalars()]
        await db.execute(text("SELECT 1"))
    messages = [(m.ts, m.text, json.dumps(m.blocks, sort_keys=True)) for m in slack.channel(channel).messages]
    return counts, events, messages


def seen_by(slack: Slack, person: Person) -> str:
    """All the bot has shown this person: ephemerals, DMs, and any form opened for them."""
    parts = [m.all_text for m in person.ephemerals] + [m.all_text for m in person.dms]
    parts += [json.dumps(v.data) for v in slack.sb.workspace.views.values() if v.user == person.id]
    return "\n".join(parts)


def assert_nothing_revealed(slack: Slack, extra: str = "") -> None:
    shown = seen_by(slack, slack.mallory) + extra
    for secret in SECRETS:
        assert secret not in shown, f"mallory was shown {secret!r}"


@pytest.fixture
async def incident(slack: Slack) -> Any:
    await declare(slack)
    return await slack.incident()


# Signatures ------------------------------------------------------------------------------------


def _interactive_body(incident_id: int) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "UHEIDI001", "username": "heidi", "name": "heidi", "team_id": "T0SANDBOX1"},
        "team": {"id": "T0SANDBOX1", "domain": "sandbox"},
        "api_app_id": "A0BREACHRM",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "channel_id": GENERAL, "message_ts": "1.1"},
        "channel": {"id": GENERAL, "name": "general"},
        "actions": [
            {
                "action_id": ActionId.CARD_RESOLVE.value,
                "block_id": "b",
                "type": "button",
                "value": str(incident_id),
                "action_ts": "1.1",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def _event_body() -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0SANDBOX1",
            "api_app_id": "A0BREACHRM",
            "event_id": "EvFORGED0001",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": "UHEIDI001", "tab": "home"},
        }
    )


@pytest.mark.parametrize("kind", ["interactive", "event"])
@pytest.mark.parametrize(
    "sign",
    [
        pytest.param(lambda body: {}, id="unsigned"),
        pytest.param(lambda body: signed_headers("not-the-secret", body), id="wrong-secret"),
        pytest.param(
            lambda body: signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 301), id="replayed"
        ),
    ],
)
async def test_forged_or_replayed_buttons_and_events_are_refused(
    slack: Slack, incident: Any, kind: str, sign: Any
) -> None:
    """A captured genuine request replayed five minutes later, or one signed with another secret,
    changes nothing (the foundation tests cover slash commands)."""
    before = await snapshot(slack, incident.channel_id)
    calls = len(slack.sb.calls())
    body = _interactive_body(incident.id) if kind == "interactive" else _event_body()
    content_type = "application/x-www-form-urlencoded" if kind == "interactive" else "application/json"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            slack.bot_url, data=body, headers={"Content-Type": content_type, **sign(body)}
        ) as resp:
            assert resp.status == 401
    await slack.settle()
    assert len(slack.sb.calls()) == calls
    assert await snapshot(slack, incident.channel_id) == before


# Every door, as mallory ----------------------------------------------------------------------


async def open_every_form(slack: Slack, incident: Any) -> dict[str, dict[str, Any]]:
    """Have the commander open every form the incident offers; return one real view per callback id."""
    heidi = slack.heidi
    channel = incident.channel_id
    seen: dict[str, dict[str, Any]] = {}

    def collect() -> None:
        for view in slack.sb.workspace.views.values():
            callback = view.data.get("callback_id")
            if view.user == heidi.id and callback and callback not in seen:
                seen[callback] = json.loads(json.dumps(view.data))

    async def shut() -> None:
        collect()
        while heidi.ws.top_modal(heidi.id) is not None:
            await heidi.close_modal()
        await slack.settle()

    for command in (
        "close",
        "resolve",
        "notify",
        "decision",
        "evidence",
        "action",
        "log",
        "facts",
        "nonotify",
    ):
        await heidi.command(command, channel=channel)
        await slack.settle()
        await shut()
    card = slack.channel(channel).pins[0]
    for button in ("Post update", "Assign role"):
        await heidi.click(card, button)
        await slack.settle()
        await shut()
    respond = slack.channel(channel).message_with_button("Not applicable", near="Isolate affected systems")
    for button in ("Not applicable", "Assign", "Note"):
        await heidi.click(respond, button, near="Isolate affected systems")
        await slack.settle()
        await shut()
    # The notice-draft form, from the obligations `notify draft` lists.
    await heidi.command("notify draft", channel=channel)
    await slack.settle()
    await heidi.click(heidi.ephemerals[-1], "Draft notice")
    await slack.settle()
    await shut()
    # The phase gate refuses while required items are open and offers an override form.
    await heidi.click(slack.channel(channel).pins[0], "Next phase")
    await slack.settle()
    override = [m for m in heidi.ephemerals if any("verride" in b for b in m.buttons)]
    if override:
        await heidi.click(override[-1], "verride")
        await slack.settle()
    await shut()
    # App Home's settings form (heidi administers the workspace).
    await heidi.open_home()
    await slack.settle()
    await heidi.click(slack.sb.workspace.views[slack.sb.workspace.home_views[heidi.id]], "Edit settings")
    await slack.settle()
    await shut()
    return seen


def every_element(messages: list[MessageView]) -> list[tuple[MessageView, dict, dict]]:
    found = []
    for msg in messages:
        for block in msg.blocks:
            elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
            if block.get("accessory"):
                elements.append(block["accessory"])
            for element in elements:
                if isinstance(element, dict) and element.get("action_id"):
                    found.append((msg, block, element))
    return found


def forged_action(mallory: Person, msg: MessageView, block: dict, element: dict) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action_id": element["action_id"],
        "block_id": block.get("block_id", ""),
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if "value" in element:
        action["value"] = element["value"]
    if element.get("type") == "static_select":
        options = element.get("options") or [
            o for g in element.get("option_groups", []) for o in g["options"]
        ]
        action["selected_option"] = options[0]
    if element.get("type") == "users_select":
        action["selected_user"] = mallory.id
    return mallory.block_actions(msg, action)


async def test_an_outsider_can_neither_read_nor_change_an_incident_through_any_door(
    slack: Slack, incident: Any
) -> None:
    channel = incident.channel_id
    key = incident.key
    forms = await open_every_form(slack, incident)
    # Reminder messages (with their buttons) exist once the clocks and items fall due.
    slack.sb.clock.advance(3 * 3600)
    for _ in range(2):  # the second pass derives the rows that follow the ones just sent
        await slack.rt.engine.run_due()
        await slack.settle()
    missing_forms = (
        {c.value for c in CallbackId} - set(forms) - {CallbackId.DECLARE, CallbackId.ADD_TO_TIMELINE}
    )
    mallory = slack.mallory
    before = await snapshot(slack, channel)
    acks: list[str] = []

    # 1. Every subcommand, naming the incident, from #general.
    for name in sorted(SUBCOMMANDS):
        if name in ("declare", "drill"):
            continue  # they open a fresh form of mallory's own; declaring her own is allowed
        delivery = await mallory.command(f"{name} {key}", channel=GENERAL)
        acks.append(delivery.body)
        await slack.settle()
        while mallory.ws.top_modal(mallory.id) is not None:
            acks.append(json.dumps(mallory.modal().data))
            await mallory.close_modal()
            await slack.settle()

    # 2. Every button and select the bot has drawn anywhere, with its real value.
    messages = [*slack.channel(channel).messages]
    for person in (slack.heidi, slack.dave, slack.erin, slack.alice):
        messages += person.dms + person.ephemerals
    elements = every_element(messages)
    clicked = set()
    for msg, block, element in elements:
        if element["action_id"] == ActionId.REQUEST_ACCESS:
            continue  # asking for access is what an outsider may do; tested below
        if (element["action_id"], element.get("value")) in clicked:
            continue
        clicked.add((element["action_id"], element.get("value")))
        delivery = await slack.sb.deliver("interactive", forged_action(mallory, msg, block, element))
        acks.append(delivery.body)
        await slack.settle()
        while mallory.ws.top_modal(mallory.id) is not None:
            await mallory.close_modal()
            await slack.settle()
    drawn = {a for a, _ in clicked}
    assert {ActionId.ITEM_DONE, ActionId.CARD_RESOLVE, ActionId.CARD_CLOSE, ActionId.CARD_SEVERITY} <= drawn
    assert {ActionId.REMINDER_DONE, ActionId.REMINDER_SNOOZE} <= drawn

    # 3. Every form the bot opened, submitted by mallory with its real private_metadata.
    for callback, view in forms.items():
        if callback == CallbackId.DECLARE:
            continue
        payload = mallory.view_submission(view)
        delivery = await slack.sb.deliver("interactive", payload)
        acks.append(delivery.body)
        await slack.settle()

    # 4. The "Add to breach timeline" shortcut on a message of the incident channel.
    await mallory.shortcut(slack.channel(channel).messages[-1], CallbackId.ADD_TO_TIMELINE.value)
    await slack.settle()

    assert not missing_forms, f"forms never opened, so untested: {missing_forms}"
    assert await snapshot(slack, channel) == before
    assert_nothing_revealed(slack, "\n".join(acks))
    assert mallory.id not in slack.channel(channel).members
    # Telling mallory privately "in" a channel she is not in fails as Slack would; the bot then DMs.
    assert [
        v
        for v in slack.violations()
        if not (v.error == "user_not_in_channel" and v.params.get("user") == mallory.id)
    ] == []


async def test_asking_for_access_reveals_nothing_and_changes_only_the_request(
    slack: Slack, incident: Any
) -> None:
    before_events = [(e.seq, e.hash) for e in await slack.timeline(incident)]
    channel_before = len(slack.channel(incident.channel_id).messages)
    await slack.mallory.click(
        slack.channel("C0SECURITY").message_with_button("Request access"), "Request access"
    )
    await slack.settle()
    assert_nothing_revealed(slack)
    assert len(slack.channel(incident.channel_id).messages) == channel_before
    assert [(e.seq, e.hash) for e in await slack.timeline(incident)][: len(before_events)] == before_events
    assert slack.mallory.id not in slack.channel(incident.channel_id).members


async def test_report_links_without_a_valid_token_reveal_nothing(slack: Slack, incident: Any) -> None:
    base = slack.bot_url.removesuffix("/slack/events")
    await slack.mallory.command("declare My own laptop", channel=GENERAL)
    await slack.settle()
    await slack.mallory.submit({"Severity": "SEV4"})
    await slack.settle()
    own = await slack.incident()
    assert own.id != incident.id
    expires = slack.rt.clock.now().replace(microsecond=0)
    later = expires.replace(year=expires.year + 1)
    genuine_own = make_token(own.id, later, slack.rt.deps.link_secret, user=slack.mallory.id)
    # A link names the person it was issued to: one naming nobody, or someone outside the
    # incident's channel, passes no gate.
    nobodys = make_token(own.id, later, slack.rt.deps.link_secret)
    someone_elses = make_token(incident.id, later, slack.rt.deps.link_secret, user=slack.mallory.id)
    payload, signature = genuine_own.split(".")
    other = make_token(incident.id, expires.replace(year=expires.year + 1), b"guessed-secret" * 3)
    spliced = f"{other.split('.')[0]}.{signature}"
    async with aiohttp.ClientSession() as http:
        tokens = ("", "x", "not.a-token", other, spliced, f"{payload}x.{signature}", nobodys, someone_elses)
        for token in tokens:
            async with http.get(f"{base}/r/{token}") as resp:
                body = await resp.text()
                assert resp.status in (403, 404, 410), (token, resp.status)
                for secret in SECRETS:
                    assert secret not in body
        # Her own incident's genuine link shows her own incident only.
        async with http.get(f"{base}/r/{genuine_own}") as resp:
            body = await resp.text()
            assert resp.status == 200 and "My own laptop" in body
            for secret in SECRETS:
                assert secret not in body
