"""The one authorization gate (handlers/gate.py): every listener the bot has, walked as a table,
refuses the outsider and shows her nothing; and the findings of issue 13 about who keeps access.

The table is built from the running Bolt app itself, so a listener added without the gate, or one
whose incident the gate cannot find, fails here."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import select

from handlers.commands import FINDS, SUBCOMMANDS
from handlers.gate import Find, Gate
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from sandbox.signing import signed_headers
from storage.models import AccessRequest, ActionItem, ChecklistItem, Reminder
from tests.harness import SIGNING_SECRET, Slack
from tests.test_declare import declare
from tests.test_security import SECRETS, assert_nothing_revealed, seen_by, snapshot

GENERAL = "C0GENERAL1"
ADMINS = "S0ADMINS01"
ACTION_TEXT = "Rotate the Acme Trading portal credentials"

# Listeners about no incident, each for a reason; a new one must be added here deliberately.
OPEN_TO_ALL = {
    ("command", "help"): "the command's help",
    ("command", "declare"): "declaring opens a fresh form of one's own",
    ("command", "drill"): "a drill is declared like an incident",
    ("command", "list"): "lists only the incidents whose channel one is in",
    ("command", "ls"): "the same",
    ("command", "log"): "opens the form for a register entry that is not an incident",
    ("view", CallbackId.DECLARE.value): "the declare form creates an incident; it reads none",
    ("view", CallbackId.LOG_EVENT.value): "records a register entry that is not an incident; reads none",
    ("event", "app_home_opened"): "App Home lists only the incidents whose channel one is in",
    ("event", "member_joined_channel"): "only forgets a cached member list",
    ("event", "member_left_channel"): "only forgets a cached member list",
    ("event", "channel_left"): "only forgets a cached member list",
    ("event", "subteam_members_changed"): "only forgets a cached user group",
    ("action", ActionId.SETTINGS_EDIT.value): "workspace settings: the listener lets admins only",
    ("view", CallbackId.SETTINGS.value): "workspace settings: the listener lets admins only",
    ("action", ActionId.JURISDICTIONS.value): "the declare form asks for clock starts; it reads none",
    ("options", ActionId.JURISDICTIONS.value): "the regimes file's jurisdictions: configuration, no incident",
    ("options", ActionId.DATA_CATEGORIES.value): "the data categories: configuration, no incident",
}


def gate_of(slack: Slack) -> Gate:
    return slack.rt.deps.extras["gate"]  # type: ignore[no-any-return]


async def first(slack: Slack, model: Any, **where: Any) -> Any:
    async with slack.db.session() as db:
        stmt = select(model).filter_by(**where).order_by(model.id).limit(1)
        return (await db.execute(stmt)).scalar_one()


async def add_action(slack: Slack, channel: str, text: str, owner: str) -> None:
    await slack.heidi.command("action", channel=channel)
    await slack.settle()
    delivery = await slack.heidi.submit({"What needs doing": text, "Owner": owner, "Category": "training"})
    assert not delivery.errors, delivery.errors
    await slack.settle()


def refusals(slack: Slack, key: str) -> set[str]:
    locale = slack.rt.deps.locale
    return {t("error.not_found", locale), t("error.incident_not_found", locale, key=key)}


def told(slack: Slack, person: Any) -> list[str]:
    return [m.all_text for m in person.ephemerals] + [m.all_text for m in person.dms]


def since(slack: Slack, person: Any, before: list[str]) -> list[str]:
    """What the bot told `person` (ephemerals and DMs) after `before` was taken."""
    return list((Counter(told(slack, person)) - Counter(before)).elements())


# The table -------------------------------------------------------------------------------------


async def test_every_bolt_listener_was_registered_through_the_gate(slack: Slack) -> None:
    gate = gate_of(slack)
    # One Bolt listener per route: a listener added straight to the app has no route and the gate
    # refuses every request for it, so it would do nothing; this says so before anyone clicks.
    assert len(slack.rt.app._async_listeners) == len(gate.routes)
    for name in SUBCOMMANDS:
        how = FINDS[name]
        assert how is not Find.NONE or ("command", name) in OPEN_TO_ALL, f"/breach {name} reads no incident?"
    for (kind, ident), how in gate.routes.items():
        if how is Find.NONE:
            assert (kind, ident) in OPEN_TO_ALL, f"{kind} {ident} passes the gate without an incident"


async def test_a_listener_without_a_route_does_nothing(slack: Slack) -> None:
    """A request no listener was registered for through the gate is acked and refused silently."""
    await declare(slack)
    incident = await slack.incident()
    calls = len(slack.sb.calls())
    card = slack.channel(incident.channel_id).pins[0]
    action = {"action_id": "not_registered", "block_id": "b", "type": "button", "value": str(incident.id)}
    delivery = await slack.sb.deliver("interactive", slack.heidi.block_actions(card, action))
    await slack.settle()
    assert delivery.status == 200
    assert len(slack.sb.calls()) == calls


def _view_payload(slack: Slack, callback: str, meta: dict[str, Any]) -> dict[str, Any]:
    return slack.mallory.view_submission(
        {
            "id": "VFORGED001",
            "type": "modal",
            "callback_id": callback,
            "private_metadata": json.dumps(meta),
            "state": {"values": {}},
        }
    )


async def test_the_outsider_is_refused_by_every_listener_and_shown_nothing(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    channel = incident.channel_id
    # Rows for every way a payload names an incident: an item with a note, a reminder, a follow-up
    # owned by someone else, and an access request (mallory's own, which she may make).
    card = slack.channel(channel).pins[0]
    item = await first(slack, ChecklistItem, incident_id=incident.id)
    await add_action(slack, channel, ACTION_TEXT, "bob")
    action = await first(slack, ActionItem, incident_id=incident.id)
    await slack.mallory.click(
        slack.channel("C0SECURITY").message_with_button("Request access"), "Request access"
    )
    await slack.settle()
    request = await first(slack, AccessRequest, incident_id=incident.id)
    reminder = await first(slack, Reminder, incident_id=incident.id)
    ref = f"{item.id}:{item.version}"
    values = {
        Find.VALUE: str(incident.id),
        Find.SETUP: str(incident.id),
        Find.ACCESS_REQUEST: str(incident.id),
        Find.ITEM: ref,
        Find.REMINDER: str(reminder.id),
        Find.ACTION_ITEM: str(action.id),
        Find.ACCESS_DECISION: str(request.id),
    }
    meta = {"incident": incident.id, "incident_id": incident.id, "ref": ref, "channel": GENERAL}
    form = _view_payload(slack, CallbackId.NOTIFY.value, meta)["view"]

    mallory = slack.mallory
    before = await snapshot(slack, channel)
    tested: list[tuple[str, str]] = []
    refused_quietly = refusals(slack, incident.key)
    for (kind, ident), how in sorted(gate_of(slack).routes.items()):
        if how is Find.NONE:
            continue
        shown = told(slack, mallory)
        if kind == "command":
            for name in sorted(SUBCOMMANDS):
                if FINDS[name] is Find.NONE:
                    continue
                shown = told(slack, mallory)
                await mallory.command(f"{name} {incident.key}", channel=GENERAL)
                await slack.settle()
                assert set(since(slack, mallory, shown)) & refused_quietly, f"/breach {name}"
                tested.append(("command", name))
            continue
        if kind == "action":
            element = {"action_id": ident, "block_id": "b", "type": "button", "value": values.get(how, "")}
            if ident in (ActionId.CARD_SEVERITY, ActionId.REMINDER_SNOOZE, ActionId.NOTIFY_REGIME):
                option = {"text": {"type": "plain_text", "text": "x"}, "value": f"{values.get(how, '')}:SEV1"}
                element = {**element, "type": "static_select", "selected_option": option}
                element.pop("value")
            if how is Find.FORM:
                payload = mallory.block_actions(card, element)
                payload["view"] = form
                payload["container"] = {"type": "view", "view_id": form["id"]}
            else:
                payload = mallory.block_actions(card, element)
                payload["channel"] = {"id": GENERAL, "name": "general"}
                payload["container"]["channel_id"] = GENERAL
            await slack.sb.deliver("interactive", payload)
        elif kind == "view":
            await slack.sb.deliver("interactive", _view_payload(slack, ident, meta))
        elif kind == "shortcut":
            await mallory.shortcut(slack.channel(channel).messages[-1], ident)
        elif kind == "event":
            event = {
                "type": ident,
                "user": mallory.id,
                "reaction": "pushpin",
                "item": {"type": "message", "channel": channel, "ts": card.ts},
                "event_ts": f"{time.time():.6f}",
            }
            await slack.sb.deliver("event", mallory.event_envelope(event))
        await slack.settle()
        while mallory.ws.top_modal(mallory.id) is not None:
            await mallory.close_modal()
            await slack.settle()
        new = since(slack, mallory, shown)
        if how is Find.ACCESS_REQUEST:
            assert new and all(incident.key in text for text in new)  # "still pending": the key only
        elif kind == "event":
            assert new == []  # an event is refused without a word
        elif kind != "shortcut":
            assert set(new) & refused_quietly, f"{kind} {ident} told mallory {new}"
        tested.append((kind, ident))

    assert {("action", a.value) for a in ActionId if ("action", a.value) in gate_of(slack).routes} - set(
        OPEN_TO_ALL
    ) <= set(tested)
    assert {("view", c.value) for c in CallbackId if ("view", c.value) in gate_of(slack).routes} - set(
        OPEN_TO_ALL
    ) <= set(tested)
    assert ("command", "status") in tested and ("shortcut", CallbackId.ADD_TO_TIMELINE.value) in tested
    assert not [v for v in slack.sb.workspace.views.values() if v.user == mallory.id]
    assert await snapshot(slack, channel) == before
    assert_nothing_revealed(slack)
    assert ACTION_TEXT not in seen_by(slack, mallory)
    assert [
        v
        for v in slack.violations()
        if not (v.error == "user_not_in_channel" and v.params.get("user") == mallory.id)
    ] == []


# The declarer keeps nothing -------------------------------------------------------------------


def link_in(text: str) -> str | None:
    match = re.search(r"https?://[^\s|>]+/r/[^\s|>]+", text)
    return match.group(0) if match else None


async def test_a_declarer_removed_from_the_channel_can_no_longer_read_or_write(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    alice = slack.alice
    await alice.command(f"postmortem {incident.key}", channel=GENERAL)
    await slack.settle()
    link = link_in(alice.ephemerals[-1].all_text)
    assert link is not None
    async with aiohttp.ClientSession() as http, http.get(link) as resp:
        assert resp.status == 200

    await slack.sb.webapi.remove_from_channel(incident.channel_id, alice.id)
    await slack.settle()
    events_before = await slack.kinds(incident)
    shown = told(slack, alice)
    for command in ("status", "timeline", "postmortem", "note Moved the export server offline"):
        words = command.split(" ", 1)
        await alice.command(" ".join([words[0], incident.key, *words[1:]]), channel=GENERAL)
        await slack.settle()
    answers = since(slack, alice, shown)
    assert answers == [t("error.incident_not_found", slack.rt.deps.locale, key=incident.key)] * 4
    assert await slack.kinds(incident) == events_before
    for secret in SECRETS:
        assert secret not in "\n".join(answers)
    # The link she was given before passes the same gate: it no longer opens.
    async with aiohttp.ClientSession() as http, http.get(link) as resp:
        body = await resp.text()
        assert resp.status == 403
        assert not any(secret in body for secret in SECRETS)


# Buttons that only open a form ------------------------------------------------------------------


async def test_checklist_forms_open_only_for_members_and_tell_outsiders_nothing(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    channel = incident.channel_id
    msg = slack.channel(channel).message_with_button("Note", near="Isolate affected systems")
    await slack.heidi.click(msg, "Note", near="Isolate affected systems")
    await slack.settle()
    await slack.heidi.submit({"Note": "Acme Trading's server 10.2.3.4 is unplugged"})
    await slack.settle()
    msg = slack.channel(channel).message_with_button("Note", near="Isolate affected systems")
    mallory = slack.mallory
    before = await snapshot(slack, channel)
    for button in ("Note", "Not applicable", "Assign"):
        shown = told(slack, mallory)
        await mallory.click(msg, button, near="Isolate affected systems")
        await slack.settle()
        assert mallory.ws.top_modal(mallory.id) is None, f"{button} opened a form for mallory"
        assert set(since(slack, mallory, shown)) & refusals(slack, incident.key)
    assert "10.2.3.4" not in seen_by(slack, mallory)

    # A forged Assign submission naming the item: no field error saying who is in the channel.
    item = await first(slack, ChecklistItem, incident_id=incident.id, note=None)
    for person in ("bob", "mallory"):
        payload = _view_payload(
            slack, CallbackId.ITEM_ASSIGN.value, {"ref": f"{item.id}:{item.version}", "channel": GENERAL}
        )
        user = slack.person(person).id
        payload["view"]["state"] = {
            "values": {"assignee": {"value": {"type": "users_select", "selected_user": user}}}
        }
        delivery = await slack.sb.deliver("interactive", payload)
        await slack.settle()
        assert delivery.errors == {} and "channel" not in delivery.body
    assert await snapshot(slack, channel) == before
    assert_nothing_revealed(slack)


# Follow-up owners outside the channel ----------------------------------------------------------


async def test_an_owner_outside_the_channel_closing_their_action_sees_only_their_own(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await add_action(slack, incident.channel_id, "Mallory returns her building badge", "mallory")
    await add_action(slack, incident.channel_id, ACTION_TEXT, "bob")
    mallory = slack.mallory
    await mallory.command("actions", channel=GENERAL)
    await slack.settle()
    listing = mallory.ephemerals[-1]
    assert "building badge" in listing.all_text and ACTION_TEXT not in listing.all_text
    await mallory.click(listing, "Done", near="building badge")
    await slack.settle()
    after = mallory.ephemerals[-1].all_text
    assert ACTION_TEXT not in after and "Rotate" not in seen_by(slack, mallory)
    mine = await first(slack, ActionItem, owner=mallory.id)
    assert mine.status == "done"
    assert (await first(slack, ActionItem, owner=slack.bob.id)).status == "open"
    assert_nothing_revealed(slack)


# Membership caches follow Slack's events ---------------------------------------------------------


async def test_someone_removed_from_the_channel_loses_access_at_once(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    grace = slack.grace
    await grace.command(f"status {incident.key}", channel=GENERAL)
    await slack.settle()
    assert incident.key in grace.ephemerals[-1].all_text and "Acme" in grace.ephemerals[-1].all_text
    await slack.sb.webapi.remove_from_channel(incident.channel_id, grace.id)
    await slack.settle()
    # No clock moves: only the member_left_channel event can have cleared what was remembered.
    await grace.command(f"status {incident.key}", channel=GENERAL)
    await slack.settle()
    assert grace.ephemerals[-1].all_text == t(
        "error.incident_not_found", slack.rt.deps.locale, key=incident.key
    )


async def test_someone_removed_from_the_admin_group_loses_its_reach_at_once(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await add_action(slack, incident.channel_id, ACTION_TEXT, "bob")
    heidi = slack.heidi
    await heidi.command("actions", channel=GENERAL)
    await slack.settle()
    assert ACTION_TEXT in heidi.ephemerals[-1].all_text  # the admin group sees every open follow-up
    group = slack.sb.workspace.usergroups[ADMINS]
    await slack.sb.webapi.set_group_members(ADMINS, [u for u in group.users if u != heidi.id])
    await slack.settle()
    await heidi.command("actions", channel=GENERAL)
    await slack.settle()
    assert ACTION_TEXT not in heidi.ephemerals[-1].all_text


# Requests that never passed verification -------------------------------------------------------


@pytest.mark.parametrize("case", ["timestamp", "body"])
async def test_an_unverified_request_gets_a_4xx_and_causes_nothing(slack: Slack, case: str) -> None:
    await declare(slack)
    calls = len(slack.sb.calls())
    heard = told(slack, slack.heidi)
    form = {
        "command": "/breach",
        "text": "status",
        "user_id": slack.heidi.id,
        "channel_id": GENERAL,
        "team_id": "T0SANDBOX1",
        "trigger_id": "1.2.3",
        "response_url": f"{slack.sb.url}/response/none",
    }
    if case == "timestamp":
        body = urlencode(form)
        headers = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=" + "0" * 64}
    else:
        body = "payload=%7Bnot+json"
        headers = signed_headers(SIGNING_SECRET, body)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            slack.bot_url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded", **headers}
        ) as resp:
            assert 400 <= resp.status < 500
    await slack.settle()
    assert slack.sb.calls()[calls:] == []
    assert since(slack, slack.heidi, heard) == []
