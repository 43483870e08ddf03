"""Access requests: the bare announcement lets someone ask; only the commander's side can let them in."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.models import AccessRequest, Incident
from tests.harness import Slack, fire_due
from tests.test_declare import SECRET_TITLE, declare


def announcement(slack: Slack):
    return slack.channel("security-announce").message_with_button("Request access")


async def requests_of(slack: Slack, incident: Incident) -> list[AccessRequest]:
    async with slack.db.session() as s:
        rows = await s.execute(
            select(AccessRequest).where(AccessRequest.incident_id == incident.id).order_by(AccessRequest.id)
        )
        return list(rows.scalars())


async def ask(slack: Slack, person: str = "mallory") -> None:
    await slack.person(person).click(announcement(slack), "Request access")
    await slack.settle()


def decision_dm(slack: Slack, person: str = "heidi"):
    return next(m for m in reversed(slack.person(person).dms) if "asked at" in m.all_text)


async def test_a_request_reaches_the_commander_once_and_the_requester_is_told(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await ask(slack)
    await ask(slack)

    (request,) = await requests_of(slack, incident)
    assert (request.user_id, request.status) == ("UMALLORY1", "pending")
    events = [e for e in await slack.timeline(incident) if e.kind == "access_requested"]
    assert len(events) == 1 and events[0].actor == "UMALLORY1"
    assert events[0].data == {"user": "UMALLORY1", "request": request.id}
    first, second = (e.all_text for e in slack.mallory.ephemerals[-2:])
    assert "asked the incident commander" in first and "still waiting" in second
    dm = decision_dm(slack)
    assert dm.buttons == ["Approve", "Deny"]
    assert "<@UMALLORY1>" in dm.all_text and incident.key in dm.all_text
    assert SECRET_TITLE not in dm.all_text
    assert len([m for m in slack.heidi.dms if "asked at" in m.all_text]) == 1
    assert "UMALLORY1" not in slack.channel(incident.channel_id).members
    assert not slack.violations()


async def test_the_commander_approves_and_the_requester_is_in_the_channel(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    before = announcement(slack)
    await ask(slack)
    await slack.heidi.click(decision_dm(slack), "Approve")
    await slack.settle()

    assert "UMALLORY1" in slack.channel(incident.channel_id).members
    (request,) = await requests_of(slack, incident)
    assert (request.status, request.decided_by) == ("approved", "UHEIDI001")
    event = next(e for e in await slack.timeline(incident) if e.kind == "access_approved")
    assert event.actor == "UHEIDI001"
    assert event.data == {
        "user": "UMALLORY1",
        "request": request.id,
        "before": "pending",
        "after": "approved",
    }
    assert (
        "approved" in slack.mallory.dms[-1].all_text and incident.channel_id in slack.mallory.dms[-1].all_text
    )
    dm = decision_dm(slack)
    assert dm.buttons == [] and "Approved by <@UHEIDI001>" in dm.all_text
    # The announcement never changes, let alone gains details.
    assert announcement(slack).data == before.data
    assert not slack.violations()


async def test_an_approval_whose_message_slack_will_not_redraw_yet_is_redrawn_later(slack: Slack) -> None:
    """The approval is committed before Slack is asked to redraw the decision message: a refusal
    is retried by the outbox, and the commander is told of no failure."""
    await declare(slack)
    incident = await slack.incident()
    await ask(slack)
    slack.sb.faults.add(method="chat.update", kind="error:internal_error", times=None)
    await slack.heidi.click(decision_dm(slack), "Approve")
    await slack.settle()

    (request,) = await requests_of(slack, incident)
    assert request.status == "approved"
    assert "UMALLORY1" in slack.channel(incident.channel_id).members
    assert decision_dm(slack).buttons == ["Approve", "Deny"]  # not redrawn yet
    assert not any("went wrong" in m.all_text for m in [*slack.heidi.ephemerals, *slack.heidi.dms])
    slack.sb.faults.clear()
    slack.sb.clock.advance(60)  # past the back-off
    await fire_due(slack)
    dm = decision_dm(slack)
    assert dm.buttons == [] and "Approved by <@UHEIDI001>" in dm.all_text


async def test_a_denial_keeps_them_out(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await ask(slack)
    await slack.heidi.click(decision_dm(slack), "Deny")
    await slack.settle()

    assert "UMALLORY1" not in slack.channel(incident.channel_id).members
    (request,) = await requests_of(slack, incident)
    assert request.status == "denied"
    assert "access_denied" in await slack.kinds(incident) and "access_approved" not in await slack.kinds(
        incident
    )
    assert "declined" in slack.mallory.dms[-1].all_text
    assert SECRET_TITLE not in slack.mallory.dms[-1].all_text
    assert "Denied by <@UHEIDI001>" in decision_dm(slack).all_text


async def test_a_double_click_decides_once(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await ask(slack)
    dm = decision_dm(slack)
    await asyncio.gather(slack.heidi.click(dm, "Approve"), slack.heidi.click(dm, "Approve"))
    await slack.settle()
    kinds = await slack.kinds(incident)
    assert kinds.count("access_approved") == 1
    invites = [c for c in slack.sb.calls("conversations.invite") if "UMALLORY1" in c.params["users"]]
    assert len(invites) == 1
    assert len([m for m in slack.mallory.dms if "approved" in m.all_text]) == 1
    assert "UMALLORY1" in slack.channel(incident.channel_id).members


async def test_a_former_commander_cannot_decide(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await slack.heidi.command("role incident_commander <@UBOB00001|bob>", channel=incident.channel_id)
    await slack.settle()
    await ask(slack)
    dm = decision_dm(slack, "bob")
    # Bob hands command on before answering; bob is no admin, so his click is refused.
    await slack.bob.command("role incident_commander <@UCAROL001|carol>", channel=incident.channel_id)
    await slack.settle()
    kinds = await slack.kinds(incident)
    await slack.bob.click(dm, "Approve")
    await slack.settle()

    assert "Only the incident commander" in slack.bob.ephemerals[-1].all_text
    assert "UMALLORY1" not in slack.channel(incident.channel_id).members
    assert (await requests_of(slack, incident))[0].status == "pending"
    assert await slack.kinds(incident) == kinds
    assert decision_dm(slack, "bob").buttons == ["Approve", "Deny"]


async def test_someone_already_in_the_channel_is_told_so(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await ask(slack, "bob")
    assert incident.channel_id in slack.bob.ephemerals[-1].all_text
    assert await requests_of(slack, incident) == []
    assert "access_requested" not in await slack.kinds(incident)
