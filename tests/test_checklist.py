"""Checklist items in the incident channel: one click, one truth, whoever clicks and whenever."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from incident.checklist import ItemRef
from incident.errors import Invalid
from sandbox.driver import Person
from sandbox.observe import MessageView
from sandbox.server import Delivery
from storage.models import ChecklistItem, Incident
from tests.harness import Slack
from tests.test_declare import declare

ISOLATE = "Isolate affected systems"
SUPERVISORY = "Notify the supervisory authority (GDPR Art. 33)"


def checklist(slack: Slack, incident: Incident, phase_title: str) -> MessageView:
    """The checklist message of a phase (its header starts with the phase's title)."""
    assert incident.channel_id
    for msg in reversed(slack.channel(incident.channel_id).bot_messages):
        head = msg.blocks[0] if msg.blocks else {}
        if head.get("type") == "header" and head["text"]["text"].startswith(f"{phase_title} "):
            return msg
    raise LookupError(f"no checklist for {phase_title}")


def as_seen_now(msg: MessageView) -> MessageView:
    """A copy of the message as it looks now, to click later as someone whose view went stale."""
    return msg.snapshot()


async def stale_click(person: Person, seen: MessageView, button: str, near: str) -> Delivery:
    """Click a button on an old copy of a message: the payload carries that copy's value."""
    return await person.click(seen, button, near=near, refresh=False)


async def item(slack: Slack, key: str) -> ChecklistItem:
    async with slack.db.session() as db:
        return (await db.execute(select(ChecklistItem).where(ChecklistItem.item_key == key))).scalar_one()


async def events(slack: Slack, incident: Incident, kind: str) -> list:
    return [e for e in await slack.timeline(incident) if e.kind == kind]


async def test_done_ticks_the_item_and_the_card_counts_it(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")
    assert "⬜" in respond.text_of(ISOLATE) and "Technical lead" in respond.text_of(ISOLATE)
    assert "Respond 0 / 5" in slack.channel(incident.channel_id).pins[0].all_text

    await slack.bob.click(respond, "Done", near=ISOLATE)
    await slack.settle()

    now = respond.refreshed()
    assert "✅" in now.text_of(ISOLATE) and "done by <@UBOB00001>" in now.text_of(ISOLATE)
    assert now.blocks[0]["text"]["text"] == "Respond — 1 / 5 done"
    assert "Reopen" in now.buttons
    with pytest.raises(LookupError):  # a done item offers no Done button any more
        await slack.bob.click(now, "Done", near=ISOLATE)
    assert "⬜" in now.text_of("Form the response team")  # the others are untouched
    assert "Respond 1 / 5" in slack.channel(incident.channel_id).pins[0].all_text
    [event] = await events(slack, incident, "item_done")
    assert event.actor == "UBOB00001"
    assert event.data["item_key"] == "isolate_systems"
    assert event.data["before"]["state"] == "open" and event.data["after"]["state"] == "done"
    row = await item(slack, "isolate_systems")
    assert (row.state, row.done_by, row.version) == ("done", "UBOB00001", 2)
    assert not slack.violations()


async def test_done_on_a_done_item_changes_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")
    before = as_seen_now(respond)
    await slack.bob.click(respond, "Done", near=ISOLATE)
    await slack.settle()

    await stale_click(slack.carol, before, "Done", ISOLATE)
    await slack.settle()

    assert len(await events(slack, incident, "item_done")) == 1
    row = await item(slack, "isolate_systems")
    assert (row.done_by, row.version) == ("UBOB00001", 2)
    told = slack.carol.ephemerals[-1].all_text
    assert "already done by <@UBOB00001>" in told and "nothing changed" in told
    assert "✅" in respond.refreshed().text_of(ISOLATE)
    assert not slack.violations()


async def test_a_restricted_item_is_refused_to_others_and_nothing_changes(slack: Slack) -> None:
    incident = await declare(slack)
    notify = checklist(slack, incident, "Notify & communicate")
    calls_before = len(slack.sb.calls("chat.update"))

    await slack.frank.click(notify, "Done", near=SUPERVISORY)
    await slack.settle()

    told = slack.frank.ephemerals[-1].all_text
    assert "Only the Compliance officer (<@UERIN0001>) or the incident commander (<@UHEIDI001>)" in told
    assert "Nothing was changed" in told
    row = await item(slack, "notify_supervisory_authority")
    assert (row.state, row.version) == ("open", 1)
    assert await events(slack, incident, "item_done") == []
    assert "⬜" in notify.refreshed().text_of(SUPERVISORY)
    assert len(slack.sb.calls("chat.update")) == calls_before

    await slack.erin.click(notify, "Done", near=SUPERVISORY)  # the owner may
    # One after the other: two clicks in flight at once record in whichever order they finish.
    await slack.settle()
    await slack.heidi.click(notify, "Done", near="Report to the personal-information")  # and the commander
    await slack.settle()
    assert [e.actor for e in await events(slack, incident, "item_done")] == ["UERIN0001", "UHEIDI001"]
    assert not slack.violations()


async def test_not_applicable_asks_why_and_shows_it(slack: Slack) -> None:
    incident = await declare(slack)
    notify = checklist(slack, incident, "Notify & communicate")

    await slack.erin.click(notify, "Not applicable", near="Report the incident to the provincial CAC")
    await slack.settle()
    assert "Report the incident to the provincial CAC office" in str(slack.erin.modal().data)
    refused = await slack.erin.submit({"reason": "   "})
    assert refused.errors and "reason" in refused.errors["reason"]
    await slack.erin.submit({"reason": "Fewer than 1,000,000 people: below the CAC threshold"})
    await slack.settle()

    text = notify.refreshed().text_of("provincial CAC")
    assert "➖" in text and "below the CAC threshold" in text and "<@UERIN0001>" in text
    [event] = await events(slack, incident, "item_na")
    assert event.data["after"]["na_reason"] == "Fewer than 1,000,000 people: below the CAC threshold"
    assert "Notify & communicate 1 / 18" in slack.channel(incident.channel_id).pins[0].all_text
    assert not slack.violations()


async def test_a_stale_done_never_turns_a_not_applicable_item_done(slack: Slack) -> None:
    incident = await declare(slack)
    notify = checklist(slack, incident, "Notify & communicate")
    heidis_view = as_seen_now(notify)
    await slack.erin.click(notify, "Not applicable", near=SUPERVISORY)
    await slack.settle()
    await slack.erin.submit({"reason": "No EU data subjects"})
    await slack.settle()

    await stale_click(slack.heidi, heidis_view, "Done", SUPERVISORY)
    await slack.settle()

    row = await item(slack, "notify_supervisory_authority")
    assert (row.state, row.na_reason) == ("na", "No EU data subjects")
    assert await events(slack, incident, "item_done") == []
    told = slack.heidi.ephemerals[-1].all_text
    assert "marked not applicable by <@UERIN0001>" in told and "did not mark it done" in told
    assert "➖" in notify.refreshed().text_of(SUPERVISORY)
    assert not slack.violations()


async def test_a_stale_click_never_reverts_a_reopen_and_redo(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")
    old = as_seen_now(respond)
    await slack.bob.click(respond, "Done", near=ISOLATE)
    await slack.settle()
    done_view = as_seen_now(respond)
    await slack.heidi.click(respond, "Reopen", near=ISOLATE)
    await slack.settle()
    await slack.carol.click(respond, "Done", near=ISOLATE)
    await slack.settle()

    await stale_click(slack.dave, old, "Done", ISOLATE)  # Done from before all that
    await stale_click(slack.heidi, done_view, "Reopen", ISOLATE)  # Reopen of bob's, not carol's
    await slack.settle()

    row = await item(slack, "isolate_systems")
    assert (row.state, row.done_by) == ("done", "UCAROL001")
    assert [e.actor for e in await events(slack, incident, "item_done")] == ["UBOB00001", "UCAROL001"]
    assert len(await events(slack, incident, "item_reopened")) == 1
    assert "already done by <@UCAROL001>" in slack.dave.ephemerals[-1].all_text
    assert "changed by someone else after you saw it" in slack.heidi.ephemerals[-1].all_text
    assert "done by <@UCAROL001>" in respond.refreshed().text_of(ISOLATE)
    assert not slack.violations()


async def test_only_the_commander_reopens(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")
    await slack.bob.click(respond, "Done", near=ISOLATE)
    await slack.settle()

    await slack.bob.click(respond, "Reopen", near=ISOLATE)
    await slack.settle()
    assert "Only the incident commander (<@UHEIDI001>) can reopen" in slack.bob.ephemerals[-1].all_text
    assert (await item(slack, "isolate_systems")).state == "done"

    await slack.heidi.click(respond, "Reopen", near=ISOLATE)
    await slack.settle()
    assert "⬜" in respond.refreshed().text_of(ISOLATE)
    [event] = await events(slack, incident, "item_reopened")
    assert (event.actor, event.data["before"]["state"], event.data["after"]["state"]) == (
        "UHEIDI001",
        "done",
        "open",
    )
    assert "Respond 0 / 5" in slack.channel(incident.channel_id).pins[0].all_text
    assert not slack.violations()


async def test_assign_and_note_show_on_the_item(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")

    await slack.heidi.click(respond, "Assign", near=ISOLATE)
    await slack.settle()
    outsider = await slack.heidi.submit({"assignee": "mallory"})
    assert outsider.errors and "not in the incident channel" in outsider.errors["assignee"]
    await slack.heidi.submit({"assignee": "carol"})
    await slack.settle()
    await slack.carol.click(respond, "Note", near=ISOLATE)
    await slack.settle()
    await slack.carol.submit({"note": "VPN concentrator pulled; <@UMALLORY1> must not be pinged"})
    await slack.settle()

    text = respond.refreshed().text_of(ISOLATE)
    assert "assigned to <@UCAROL001>" in text
    assert "📝 VPN concentrator pulled; &lt;@UMALLORY1&gt; must not be pinged" in text
    [assigned] = await events(slack, incident, "item_assigned")
    assert (assigned.data["before"]["assignee"], assigned.data["after"]["assignee"]) == (None, "UCAROL001")
    [note] = await events(slack, incident, "item_note")
    assert note.actor == "UCAROL001" and note.data["after"]["note"].startswith("VPN concentrator")
    assert (await item(slack, "isolate_systems")).version == 3
    assert not slack.violations()


async def test_someone_outside_the_channel_changes_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")

    await slack.mallory.click(respond, "Done", near=ISOLATE)
    await slack.settle()

    assert await events(slack, incident, "item_done") == []
    assert (await item(slack, "isolate_systems")).state == "open"
    said = [m.all_text for m in slack.mallory.dms + slack.mallory.ephemerals]
    assert said and all("Isolate" not in s and "Payroll" not in s for s in said)


@pytest.mark.pg_only
async def test_two_people_clicking_done_at_once_complete_it_once(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")

    await asyncio.gather(
        slack.bob.click(respond, "Done", near=ISOLATE), slack.carol.click(respond, "Done", near=ISOLATE)
    )
    await slack.settle()

    done = await events(slack, incident, "item_done")
    assert len(done) == 1
    row = await item(slack, "isolate_systems")
    assert (row.state, row.version, row.done_by) == ("done", 2, done[0].actor)
    assert f"done by <@{done[0].actor}>" in respond.refreshed().text_of(ISOLATE)
    assert "Respond 1 / 5" in slack.channel(incident.channel_id).pins[0].all_text
    assert not slack.violations()


@pytest.mark.parametrize("value", ["", "abc", "-1", "0", "1:-2", "99999999999999999999", "１２", "1:x"])
def test_a_forged_button_value_names_no_item(value: str) -> None:
    with pytest.raises(Invalid):
        ItemRef.parse(value)


def test_a_button_value_carries_the_item_and_its_version() -> None:
    assert ItemRef.parse("123:4") == ItemRef(123, 4)
    assert str(ItemRef(123, 4)) == "123:4"
    assert ItemRef.parse("123") == ItemRef(123, None)
