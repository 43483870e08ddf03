"""Slack failing under a whole incident: 5xx, 429s and slow answers delay messages, never lose an event,
and once Slack is healthy again every message the bot owns shows exactly what the database says."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from handlers.render.card import card, card_text
from handlers.render.checklist import phase_messages
from handlers.views import rendered_hash as _hash
from incident import checklist as checklist_domain
from incident.config import IncidentConfig
from incident.overview import open_phase_keys, overview, pending_setup, playbook_of
from incident.phases import current_index
from sandbox.driver import Person
from sandbox.server import Sandbox
from storage import timeline
from storage.db import Database
from storage.models import BotMessage, Incident
from tests.harness import Slack

_LEFT = re.compile(r"(?<=\()-?\d+[dhm](?: \d+[hm])?(?= left\))|(?<=overdue by )-?\d+[dhm](?: \d+[hm])?")
Rendered = dict[tuple[str, str], tuple[list[dict[str, Any]], str]]
ISOLATE = "Isolate affected systems"
TEAM_ITEM = "Form the response team"
ASSESS = "Initial assessment"


# Shared helpers (the restart and replica tests use them too) -------------------------------------


def _blocks(raw: object) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        return json.loads(raw)
    return json.loads(json.dumps(list(raw or [])))


def _lines(blocks: list[dict[str, Any]], text: str) -> list[str]:
    """A message as comparable lines, so a mismatch shows which line is behind. The time left on a
    clock ("59m left") depends on when it was drawn, not on the database, so it is left out."""
    dumped = json.dumps(blocks, indent=1, sort_keys=True, ensure_ascii=False)
    return [text, *(_LEFT.sub("…", line) for line in dumped.splitlines())]


async def rendered_from_db(
    database: Database, config: IncidentConfig, incident_id: int, now: datetime | None = None
) -> Rendered:
    """What the renderers produce from the database now: the card and each open phase's checklist parts."""
    async with database.session() as db:
        incident = await db.get(Incident, incident_id)
        assert incident is not None and incident.channel_id
        now = now or datetime.now(UTC)
        ov = await overview(db, incident, config, now)
        items = await checklist_domain.items_of(db, incident_id)
    locale = incident.locale
    out: Rendered = {("card", ""): (card(ov, config.roles, locale, now), card_text(ov, locale))}
    playbook = playbook_of(incident)
    open_keys = open_phase_keys(incident, playbook)
    current = current_index(incident, playbook)
    for index, phase in enumerate(playbook.phases):
        if phase.key not in open_keys:
            continue
        mine = [i for i in items if i.phase == phase.key]
        parts = phase_messages(
            incident, phase, mine, config.roles, locale, now, current=index == current, passed=index < current
        )
        for part in parts:
            out[("checklist", part.ref)] = (part.blocks, part.text)
    return out


async def owned(database: Database, incident_id: int) -> list[BotMessage]:
    async with database.session() as db:
        stmt = select(BotMessage).where(BotMessage.incident_id == incident_id).order_by(BotMessage.id)
        return list((await db.execute(stmt)).scalars())


def shown(sb: Sandbox, channel_id: str, ts: str) -> tuple[list[dict[str, Any]], str]:
    """The blocks and text Slack holds for one message now."""
    for msg in sb.channel(channel_id).messages:
        if msg.ts == ts:
            return _blocks(msg.blocks), msg.text
    raise LookupError(f"no message {ts} in {channel_id}")


async def assert_views_match_db(
    sb: Sandbox, database: Database, config: IncidentConfig, incident_id: int, now: datetime | None = None
) -> None:
    """Every message the bot owns shows what it last rendered, and what it would render from the
    database now is exactly that (for the card and the checklist parts it keeps re-rendering)."""
    rows = await owned(database, incident_id)
    by_key = {(r.kind, r.ref): r for r in rows}
    for row in rows:
        assert row.ts, f"{row.kind}/{row.ref} was never posted"
        blocks, text = shown(sb, row.channel_id, row.ts)
        assert _hash(blocks, text) == row.rendered_hash, f"{row.kind}/{row.ref}: Slack shows something else"
    expected = await rendered_from_db(database, config, incident_id, now)
    for key, (blocks, text) in expected.items():
        assert key in by_key, f"{key} is not on Slack"
        row = by_key[key]
        assert row.ts
        now_blocks, now_text = shown(sb, row.channel_id, row.ts)
        assert _lines(now_blocks, now_text) == _lines(_blocks(blocks), text), f"{key} is behind the database"


async def timeline_intact(database: Database, incident_id: int) -> int:
    async with database.session() as db:
        result = await timeline.verify(db, incident_id)
    assert result.ok, result
    return result.count


# Driving through failures ----------------------------------------------------------------------


async def calm(slack: Slack) -> None:
    """Wait for the bot's acked work to finish, Slack's retries and back-offs included."""
    assert await slack.rt.tracker.wait_idle(timeout=90), "the bot never finished its work"
    await slack.settle(timeout=30)


async def opened_form(slack: Slack, person: Person, text: str, channel: str, callback: str) -> None:
    """Type a command that opens a form, again if Slack lost the modal (as a person would)."""
    for _ in range(6):
        before = {v.id for v in person.ws.views.values() if not v.closed}
        await person.command(text, channel=channel)
        await calm(slack)
        top = person.ws.top_modal(person.id)
        if top is not None and top.id not in before and top.data.get("callback_id") == callback:
            return
    raise AssertionError(f"{text!r} never opened its form for {person.user.name}")


async def submitted(slack: Slack, person: Person, fields: dict[str, Any]) -> None:
    delivery = await person.submit(fields)
    assert delivery.status == 200 and not delivery.errors, (delivery.status, delivery.errors)
    await calm(slack)


def checklist_message(slack: Slack, channel: str, phase_title: str):
    for msg in reversed(slack.channel(channel).bot_messages):
        head = msg.blocks[0] if msg.blocks else {}
        if head.get("type") == "header" and head["text"]["text"].startswith(f"{phase_title} "):
            return msg
    raise LookupError(phase_title)


async def test_a_whole_incident_through_a_flaky_slack_loses_nothing_and_converges(slack: Slack) -> None:
    sb = slack.sb
    sb.faults.add(method=None, kind="server_error", rate=0.2)
    sb.faults.add(method=None, kind="ratelimited", rate=0.05, retry_after=1)
    sb.faults.add(method=None, kind="timeout", rate=0.05, delay=0.4)

    await opened_form(slack, slack.alice, "declare Ledger backups exposed", "C0GENERAL1", "declare")
    await submitted(
        slack,
        slack.alice,
        {
            "Severity": "SEV2",
            "Data categories": ["payroll"],
            "Jurisdictions": ["China"],
            "Affected clients": "Acme Trading",
            "Our role for this data": "Controller (we decide why the data is processed)",
        },
    )
    [incident] = await slack.incidents()
    assert incident.id is not None and incident.channel_id, "the channel must exist (Retry set-up otherwise)"
    channel = incident.channel_id
    for _ in range(4):  # the declarer's Retry, pressed until set-up is complete
        incident = await slack.incident()
        if not pending_setup(incident):
            break
        card_msg = slack.channel(channel).message_with_button("Retry")
        await slack.alice.click(card_msg, "Retry")
        await calm(slack)
    assert not pending_setup(incident)

    await slack.heidi.command("role tech_lead <@UIVAN0001|ivan>", channel=channel)
    await calm(slack)

    done = [ISOLATE, TEAM_ITEM]
    for item in done:
        respond = checklist_message(slack, channel, "Respond")
        await slack.heidi.click(respond, "Done", near=item)
        await calm(slack)
    # A click while every message update fails, Slack's retries included: the change is made and
    # recorded; the checklist and the card fall behind until Slack is back.
    outage = sb.faults.add(method="chat.update", kind="server_error", times=None)
    sb.faults.rules.insert(0, sb.faults.rules.pop())  # ahead of the random faults
    await slack.heidi.click(checklist_message(slack, channel, "Respond"), "Done", near=ASSESS)
    await calm(slack)
    done.append(ASSESS)
    assert outage.fired >= 4
    sb.faults.rules.remove(outage)

    notes = [f"Containment step {i}: firewall rule {i} applied" for i in range(4)]
    for text in notes:
        await slack.judy.command(f"note {text}", channel=channel)
        await calm(slack)

    await opened_form(slack, slack.heidi, "decision", channel, "decision")
    await submitted(
        slack,
        slack.heidi,
        {"Decision": "Take the backup share offline", "Rationale": "It is still reachable"},
    )
    await opened_form(slack, slack.dave, "notify cn-pipl-57", channel, "notify")
    await submitted(
        slack,
        slack.dave,
        {"recipient": "Shanghai CAC", "sent_at": int(slack.rt.clock.now().timestamp()) - 60},
    )
    await opened_form(slack, slack.heidi, "resolve", channel, "resolve")
    await submitted(slack, slack.heidi, {"Stage reached": "resolved"})
    await opened_form(slack, slack.heidi, "close", channel, "close")
    await submitted(slack, slack.heidi, {"Lessons learned": "Backups need their own credentials."})

    # Slack is healthy again; someone presses Refresh on the card.
    assert sum(f.fired for f in sb.faults.rules) > 10, "Slack should really have failed"
    sb.faults.clear()
    card_msg = slack.channel(channel).message_with_button("Refresh")
    await slack.heidi.click(card_msg, "Refresh")
    await calm(slack)

    kinds = Counter(await slack.kinds(incident))
    assert kinds["declared"] == 1
    assert kinds["item_done"] == len(done)
    assert kinds["note"] == len(notes)
    assert kinds["decision"] == 1
    assert kinds["notification_recorded"] == 1
    assert kinds["resolved"] == 1 and kinds["closed"] == 1
    handoffs = [e.data for e in await slack.timeline(incident) if e.kind == "role_assigned"]
    assert [h for h in handoffs if h["role"] == "tech_lead" and h["after"] == "UIVAN0001"]
    texts = [e.summary for e in await slack.timeline(incident) if e.kind == "note"]
    assert all(any(n in s for s in texts) for n in notes)
    await timeline_intact(slack.db, incident.id)
    await assert_views_match_db(sb, slack.db, slack.rt.deps.config, incident.id, slack.rt.clock.now())
    assert not slack.violations()
