"""Notes, decisions, evidence and follow-up actions: each one is a row and a timeline event,
confirmed in the incident channel, and nothing sensitive is stored in full."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import ActionItem, Decision, Evidence, Incident
from tests.harness import Slack

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
VISA = "4111111111111111"


async def declare(slack: Slack, title: str = "Payroll export leaked", **values: object) -> Incident:
    await slack.alice.command(f"declare {title}", channel="C0GENERAL1")
    await slack.settle()
    fields: dict[str, object] = {
        "Severity": "SEV2",
        "Data categories": ["payroll", "national ID"],
        "Estimated people affected": "1200",
        "Affected clients": "Acme Trading\nBeta Foods",
        "Jurisdictions": ["EU / EEA", "China"],
    }
    fields.update(values)
    delivery = await slack.alice.submit(fields)
    assert not delivery.errors, delivery.errors
    await slack.settle()
    return await slack.incident()


async def rows(slack: Slack, model: type) -> list:
    async with slack.db.session() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())  # type: ignore[attr-defined]


async def test_a_note_goes_on_the_timeline_and_into_the_channel(slack: Slack) -> None:
    incident = await declare(slack)
    channel = slack.channel(incident.channel_id)
    await slack.bob.command("note Firewall rule added; export endpoint disabled", channel=incident.channel_id)
    await slack.settle()
    events = await slack.timeline(incident)
    note = events[-1]
    assert note.kind == "note" and note.actor == "UBOB00001"
    assert note.data["text"] == "Firewall rule added; export endpoint disabled"
    posted = channel.bot_messages[-1].all_text
    assert "Firewall rule added" in posted and "<@UBOB00001>" in posted and f"#{note.seq}" in posted
    assert not slack.violations()


async def test_an_empty_note_is_refused_kindly_and_records_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    before = await slack.kinds(incident)
    await slack.bob.command("note", channel=incident.channel_id)
    await slack.settle()
    assert "Write the note" in slack.bob.ephemerals[-1].all_text
    assert await slack.kinds(incident) == before


async def test_a_note_with_a_card_number_is_stored_redacted_and_the_author_told_why(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.bob.command(f"note Client paid with card {VISA} yesterday", channel=incident.channel_id)
    await slack.settle()
    note = (await slack.timeline(incident))[-1]
    assert VISA not in note.data["text"] and VISA not in note.summary
    assert "[redacted: bank card ****1111]" in note.data["text"]
    assert all(
        VISA not in m.all_text for m in slack.channel(incident.channel_id).messages if m.user != "UBOB00001"
    )
    told = slack.bob.ephemerals[-1].all_text
    assert "bank card number" in told and "last four digits" in told


async def test_a_note_the_channel_cannot_show_is_kept_and_its_author_told(slack: Slack) -> None:
    incident = await declare(slack)
    slack.sb.workspace.require_channel(incident.channel_id).archived = True
    slack.expect_rejected("chat.postMessage", "is_archived")
    await slack.bob.command(f"note {incident.key} Backups verified offline", channel="C0GENERAL1")
    await slack.settle()
    note = (await slack.timeline(incident))[-1]
    assert note.kind == "note" and note.data["text"] == "Backups verified offline"
    told = slack.bob.dms[-1].all_text
    assert f"Recorded on {incident.key}'s timeline" in told and "couldn't confirm" in told
    assert not any("Backups verified" in m.all_text for m in slack.channel(incident.channel_id).bot_messages)


async def test_outsiders_cannot_write_to_an_incident_by_its_key(slack: Slack) -> None:
    incident = await declare(slack)
    before = await slack.kinds(incident)
    await slack.mallory.command(f"note {incident.key} nothing to see", channel="C0GENERAL1")
    await slack.settle()
    assert f"There is no incident {incident.key}" in slack.mallory.ephemerals[-1].all_text
    assert await slack.kinds(incident) == before


async def test_a_decision_with_rationale_alternatives_and_approver(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command("decision", channel=incident.channel_id)
    await slack.settle()
    delivery = await slack.heidi.submit(
        {
            "Decision": "Take the client portal offline",
            "Rationale": "Exports are still reachable from the internet",
            "Alternatives considered": "Rotate credentials only",
            "Approver": "dave",
        }
    )
    assert not delivery.errors
    await slack.settle()
    [decision] = await rows(slack, Decision)
    assert (decision.text, decision.approver, decision.decided_by, decision.privileged) == (
        "Take the client portal offline",
        "UDAVE0001",
        "UHEIDI001",
        False,
    )
    event = (await slack.timeline(incident))[-1]
    assert event.kind == "decision" and event.data["decision_id"] == decision.id
    posted = slack.channel(incident.channel_id).bot_messages[-1].all_text
    assert "Take the client portal offline" in posted and "Rotate credentials only" in posted
    assert "<@UDAVE0001>" in posted


async def test_a_privileged_decision_keeps_its_content_out_of_the_channel_and_timeline(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.dave.command("decision", channel=incident.channel_id)
    await slack.settle()
    await slack.dave.submit(
        {
            "Decision": "Do not notify the insurer before counsel's review",
            "Rationale": "Coverage position",
            "Approver": "heidi",
            "Legal privilege": ["Attorney-client privileged"],
        }
    )
    await slack.settle()
    [decision] = await rows(slack, Decision)
    assert decision.privileged and decision.text.startswith("Do not notify")
    event = (await slack.timeline(incident))[-1]
    assert "insurer" not in event.summary and "text" not in event.data
    posted = slack.channel(incident.channel_id).bot_messages[-1].all_text
    assert "privileged" in posted and "insurer" not in posted


async def test_a_decision_without_rationale_gets_a_field_error(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command("decision", channel=incident.channel_id)
    await slack.settle()
    delivery = await slack.heidi.submit({"Decision": "Pay the ransom"})
    assert delivery.errors and "reason" in delivery.errors["rationale"]
    await slack.settle()
    assert await rows(slack, Decision) == []


async def test_evidence_is_registered_with_its_hash_and_custodian(slack: Slack) -> None:
    incident = await declare(slack)
    collected = int((slack.rt.clock.now() - timedelta(hours=2)).timestamp())
    await slack.carol.command("evidence", channel=incident.channel_id)
    await slack.settle()
    delivery = await slack.carol.submit(
        {
            "Description": "Portal access logs 25-28 Nov",
            "Location": "s3://forensics/br/portal-logs.tar.gz",
            "SHA-256": SHA.upper(),
            "Custodian": "carol",
            "Collected at": collected,
        }
    )
    assert not delivery.errors
    await slack.settle()
    [row] = await rows(slack, Evidence)
    assert row.sha256 == SHA and row.custodian == "UCAROL001"
    assert row.collected_at is not None and int(row.collected_at.timestamp()) == collected
    event = (await slack.timeline(incident))[-1]
    assert event.kind == "evidence_added" and event.data["sha256"] == SHA
    posted = slack.channel(incident.channel_id).bot_messages[-1].all_text
    assert SHA in posted and "<@UCAROL001>" in posted


async def test_evidence_with_a_bad_hash_or_a_future_time_gets_field_errors(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.carol.command("evidence", channel=incident.channel_id)
    await slack.settle()
    future = int((slack.rt.clock.now() + timedelta(days=1)).timestamp())
    delivery = await slack.carol.submit(
        {
            "Description": "Disk image",
            "Location": "safe 2",
            "SHA-256": "abc123",
            "Custodian": "carol",
            "Collected at": future,
        }
    )
    assert delivery.errors is not None
    assert "64 hexadecimal" in delivery.errors["sha256"]
    assert "future" in delivery.errors["collected_at"]
    await slack.settle()
    assert await rows(slack, Evidence) == []
    assert "evidence_added" not in await slack.kinds(incident)


async def test_follow_up_actions_are_added_listed_and_done_once(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command("action", channel=incident.channel_id)
    await slack.settle()
    due = (slack.rt.clock.now() + timedelta(days=14)).date().isoformat()
    await slack.heidi.submit(
        {
            "What needs doing": "Retrain staff on export permissions",
            "Owner": "erin",
            "Due date": due,
            "Category": "training",
        }
    )
    await slack.settle()
    [item] = await rows(slack, ActionItem)
    assert (item.owner, item.category, item.status) == ("UERIN0001", "training", "open")
    assert item.due_at is not None and item.due_at.date().isoformat() == due

    await slack.erin.command("actions", channel=incident.channel_id)
    await slack.settle()
    listing = slack.erin.ephemerals[-1]
    assert "Retrain staff" in listing.all_text and "Done" in listing.buttons
    await slack.erin.click(listing, "Done", near="Retrain staff")
    await slack.settle()
    await slack.erin.click(listing, "Done", near="Retrain staff")  # a stale second click
    await slack.settle()
    [item] = await rows(slack, ActionItem)
    assert item.status == "done" and item.done_by == "UERIN0001"
    kinds = await slack.kinds(incident)
    assert kinds.count("action_added") == 1 and kinds.count("action_done") == 1
    done_posts = [
        m for m in slack.channel(incident.channel_id).bot_messages if "Follow-up done" in m.all_text
    ]
    assert len(done_posts) == 1
    assert not slack.violations()


async def test_the_timeline_shows_the_latest_twenty_privately_filterable_by_kind(slack: Slack) -> None:
    incident = await declare(slack)
    for i in range(22):
        await slack.judy.command(f"note entry {i:02d}", channel=incident.channel_id)
        await slack.settle()
    posted_before = len(slack.channel(incident.channel_id).messages)
    await slack.bob.command("timeline", channel=incident.channel_id)
    await slack.settle()
    view = slack.bob.ephemerals[-1]
    lines = [b for b in view.blocks if b.get("type") == "section" and "`#" in b["text"]["text"]]
    assert len(lines) == 20
    assert "entry 21" in lines[0]["text"]["text"] and "entry 02" in lines[-1]["text"]["text"]
    assert "<@UJUDY0001>" in lines[0]["text"]["text"] and "<!date^" in lines[0]["text"]["text"]
    # Private: nothing new in the channel.
    assert len(slack.channel(incident.channel_id).messages) == posted_before

    await slack.bob.command("timeline role_assigned", channel=incident.channel_id)
    await slack.settle()
    filtered = slack.bob.ephemerals[-1].all_text
    assert "role_assigned" in filtered and "entry" not in filtered

    await slack.bob.command("timeline nonsense", channel=incident.channel_id)
    await slack.settle()
    answer = slack.bob.ephemerals[-1].all_text
    assert "no `nonsense` events" in answer and "`note`" in answer


async def test_the_cards_timeline_button_answers_the_clicker_only(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.judy.command("note first containment step", channel=incident.channel_id)
    await slack.settle()
    card = slack.channel(incident.channel_id).pins[0]
    await slack.frank.click(card, "Timeline")
    await slack.settle()
    assert "first containment step" in slack.frank.ephemerals[-1].all_text
    assert all("first containment step" not in e.all_text for e in slack.heidi.ephemerals)


@pytest.mark.parametrize("value", ["abc", "-1", "0", "99999999999999999999", "１２", "1"])
async def test_forged_done_and_timeline_clicks_change_and_reveal_nothing(
    slack: Slack, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    incident = await declare(slack)
    before = await slack.kinds(incident)
    for action in ("action_done", "card_timeline"):
        payload = {
            "type": "block_actions",
            "user": {"id": "UMALLORY1", "username": "mallory", "name": "mallory", "team_id": "T0SANDBOX1"},
            "api_app_id": "A0BREACHRM",
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": "1.0",
                "channel_id": "C0GENERAL1",
                "is_ephemeral": False,
            },
            "trigger_id": "1.2.3",
            "team": {"id": "T0SANDBOX1", "domain": "sandbox"},
            "channel": {"id": "C0GENERAL1", "name": "general"},
            "response_url": "http://127.0.0.1:9/nowhere",
            "actions": [
                {"action_id": action, "block_id": "b", "value": value, "type": "button", "action_ts": "1.0"}
            ],
        }
        delivery = await slack.sb.deliver("interactive", payload)
        await slack.settle()
        assert delivery.status == 200
    assert await slack.kinds(incident) == before
    assert all(incident.title not in e.all_text for e in slack.mallory.ephemerals)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
