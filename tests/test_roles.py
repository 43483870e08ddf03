"""Roles: handoffs keep history, the new holder is brought in and told, only managers may assign."""

from __future__ import annotations

from sqlalchemy import select

from handlers.roles import find_role
from incident.roles_config import load_roles
from storage.models import Incident, RoleAssignment
from tests.harness import DECLARE_FIELDS, Slack, fire_due, submit_declaration
from tests.test_declare import declare

BOB = "<@UBOB00001|bob>"
IVAN = "<@UIVAN0001|ivan>"


async def holders_of(slack: Slack, incident: Incident, role: str) -> list[RoleAssignment]:
    async with slack.db.session() as s:
        rows = await s.execute(
            select(RoleAssignment)
            .where(RoleAssignment.incident_id == incident.id, RoleAssignment.role == role)
            .order_by(RoleAssignment.id)
        )
        return list(rows.scalars())


def card_of(slack: Slack, incident: Incident):
    return slack.channel(incident.channel_id).pins[0].refreshed()


async def test_a_handoff_keeps_history_invites_and_briefs_the_new_holder(slack: Slack) -> None:
    incident = await declare(slack)
    channel = slack.channel(incident.channel_id)
    # Ivan left the incident channel earlier; taking the role brings him back.
    slack.sb.workspace.require_channel(incident.channel_id).members.remove("UIVAN0001")
    slack.sb.clock.advance(600)

    await slack.heidi.command(f"role tech_lead {IVAN}", channel=incident.channel_id)
    await slack.settle()

    assert "UIVAN0001" in channel.members
    assert any("Technical lead" in m.all_text and incident.key in m.all_text for m in slack.ivan.dms)
    assert "Technical lead: <@UIVAN0001>" in card_of(slack, incident).all_text
    told = slack.heidi.ephemerals[-1].all_text
    assert "<@UBOB00001>" in told and "<@UIVAN0001>" in told
    bob, ivan = await holders_of(slack, incident, "tech_lead")
    assert (bob.user_id, bob.relieved_by) == ("UBOB00001", "UHEIDI001")
    assert bob.relieved_at == ivan.assumed_at and bob.relieved_at is not None
    assert ivan.relieved_at is None and ivan.assigned_by == "UHEIDI001"
    event = (await slack.timeline(incident))[-1]
    assert event.kind == "role_assigned" and event.actor == "UHEIDI001"
    assert event.data == {"role": "tech_lead", "before": "UBOB00001", "after": "UIVAN0001"}
    assert not slack.violations()


async def test_a_handoffs_invite_slack_refuses_for_now_is_retried_until_the_holder_is_in(
    slack: Slack,
) -> None:
    """The role is committed before Slack is asked: a refused invite is retried by the outbox, not
    lost with the request, and the duties come after the new holder is in."""
    incident = await declare(slack)
    channel = slack.channel(incident.channel_id)
    slack.sb.workspace.require_channel(incident.channel_id).members.remove("UIVAN0001")
    slack.sb.faults.add(method="conversations.invite", kind="error:internal_error", times=1)
    briefed = len(slack.ivan.dms)

    await slack.heidi.command(f"role tech_lead {IVAN}", channel=incident.channel_id)
    await slack.settle()

    told = slack.heidi.ephemerals[-1].all_text
    assert "<@UIVAN0001>" in told and "<@UBOB00001>" in told  # the handoff, not an error
    assert "UIVAN0001" not in channel.members and len(slack.ivan.dms) == briefed
    slack.sb.clock.advance(10)  # past the first back-off
    await fire_due(slack)
    assert "UIVAN0001" in channel.members
    assert any("Technical lead" in m.all_text for m in slack.ivan.dms[briefed:])


async def test_a_new_holder_slack_will_not_add_is_shown_on_the_card_and_still_briefed(slack: Slack) -> None:
    incident = await declare(slack)
    channel = slack.channel(incident.channel_id)
    slack.sb.workspace.require_channel(incident.channel_id).members.remove("UIVAN0001")
    slack.sb.faults.add(method="conversations.invite", kind="error:user_is_restricted", times=None)

    await slack.heidi.command(f"role tech_lead {IVAN}", channel=incident.channel_id)
    await slack.settle()

    assert "UIVAN0001" not in channel.members
    assert "could not be invited to the channel" in card_of(slack, incident).all_text
    assert any("Technical lead" in m.all_text for m in slack.ivan.dms)
    skipped = [e for e in await slack.timeline(incident) if e.kind == "setup_skipped"]
    assert [(e.data["what"], e.data["target"], e.data["role"]) for e in skipped] == [
        ("invite", "UIVAN0001", "tech_lead")
    ]


async def test_a_role_handed_over_before_the_channel_exists_is_briefed_once_in_it(slack: Slack) -> None:
    """Slack has not let set-up make the channel yet: the handoff's effect points nobody at a
    channel that does not exist; set-up, once it makes it, brings the new holder in and briefs them."""
    slack.sb.faults.add(method="conversations.create", kind="server_error", times=20)
    incident = await submit_declaration(
        slack, {**DECLARE_FIELDS, "What happened": "Backups exposed"}, title="Leak"
    )
    assert incident.channel_id is None
    told = slack.alice.ephemerals[-1]
    await slack.heidi.command(f"role tech_lead {IVAN} {incident.key}", channel="C0GENERAL1")
    await slack.settle()
    assert not [m for m in slack.ivan.dms if "Technical lead" in m.all_text]

    slack.sb.faults.clear()
    await slack.alice.click(told, "Retry")  # the declarer is offered Retry, as the card would
    await slack.settle()
    incident = await slack.incident()
    assert incident.channel_id and "UIVAN0001" in slack.channel(incident.channel_id).members
    briefs = [m.all_text for m in slack.ivan.dms if "Technical lead" in m.all_text]
    assert len(briefs) == 1 and incident.channel_id in briefs[0]
    assert not any("<#None>" in m.all_text for m in slack.ivan.dms)


async def test_the_roster_shows_holders_and_who_held_each_role_before(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command(f"role tech_lead {IVAN}", channel=incident.channel_id)
    await slack.settle()
    await slack.heidi.command(f"role tech_lead {BOB}", channel=incident.channel_id)
    await slack.settle()

    await slack.carol.command("roles", channel=incident.channel_id)
    await slack.settle()
    roster = slack.carol.ephemerals[-1]
    tech = roster.text_of("Technical lead")
    assert tech.startswith("*Technical lead*: <@UBOB00001> since")
    assert "before: <@UIVAN0001>" in tech and "before: <@UBOB00001>" in tech
    assert tech.count("handed over by <@UHEIDI001>") == 2
    assert "*Scribe*: <@UJUDY0001> since" in roster.all_text
    assert not slack.violations()


async def test_a_role_can_be_named_by_key_or_by_name_in_either_language(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command(f"role 记录员 {IVAN}", channel=incident.channel_id)
    await slack.settle()
    await slack.heidi.command(f"role  customer CARE {IVAN}", channel=incident.channel_id)
    await slack.settle()
    assert [a.user_id for a in await holders_of(slack, incident, "scribe")] == ["UJUDY0001", "UIVAN0001"]
    assert [a.user_id for a in await holders_of(slack, incident, "customer_care")][-1] == "UIVAN0001"


def test_find_role_matches_keys_and_names_only() -> None:
    roles = load_roles()
    assert find_role(roles, "TECH_LEAD").key == "tech_lead"
    assert find_role(roles, "technical lead").key == "tech_lead"
    assert find_role(roles, " 技术负责人 ").key == "tech_lead"
    assert find_role(roles, "tech lead").key == "tech_lead"
    assert find_role(roles, "tech") is None
    assert find_role(roles, "") is None


async def test_an_unknown_role_is_answered_with_the_list_and_changes_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    before = await slack.kinds(incident)
    await slack.heidi.command(f"role janitor {IVAN}", channel=incident.channel_id)
    await slack.settle()
    told = slack.heidi.ephemerals[-1].all_text
    assert "`janitor`" in told and "`tech_lead` (Technical lead)" in told and "Scribe" in told
    assert await slack.kinds(incident) == before


async def test_the_assign_role_button_opens_a_form_that_hands_the_role_over(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.ivan.click(card_of(slack, incident), "Assign role")
    await slack.settle()
    form = slack.ivan.modal()
    assert form.data["callback_id"] == "assign_role"
    delivery = await slack.ivan.submit({"Role": "Scribe", "Person": "carol"})
    assert not delivery.errors
    await slack.settle()
    assert [a.user_id for a in await holders_of(slack, incident, "scribe")] == ["UJUDY0001", "UCAROL001"]
    assert "Scribe: <@UCAROL001>" in card_of(slack, incident).all_text
    assert any("Scribe" in m.all_text for m in slack.carol.dms)
    assert not slack.violations()


async def test_someone_without_a_managing_role_cannot_assign_and_nothing_changes(slack: Slack) -> None:
    incident = await declare(slack)
    kinds = await slack.kinds(incident)
    calls = len(slack.sb.calls())
    card = card_of(slack, incident)

    await slack.alice.command("role scribe <@UALICE001|alice>", channel=incident.channel_id)
    await slack.settle()
    assert "Only the incident commander, the deputy or an admin" in slack.alice.ephemerals[-1].all_text
    await slack.alice.click(card, "Assign role")
    await slack.settle()
    assert "Only the incident commander" in slack.alice.ephemerals[-1].all_text
    assert slack.sb.workspace.top_modal("UALICE001") is None

    assert await slack.kinds(incident) == kinds
    assert [a.user_id for a in await holders_of(slack, incident, "scribe")] == ["UJUDY0001"]
    changing = {
        "chat.update",
        "chat.postMessage",
        "views.open",
        "conversations.invite",
        "conversations.setTopic",
    }
    assert [c.method for c in slack.sb.calls()[calls:] if c.method in changing] == []
    assert card_of(slack, incident).all_text == card.all_text


async def test_a_former_commander_loses_the_right_an_admin_keeps_it(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command(f"role incident_commander {BOB}", channel=incident.channel_id)
    await slack.settle()
    await slack.bob.command("role incident_commander <@UCAROL001|carol>", channel=incident.channel_id)
    await slack.settle()
    # Bob handed command on and holds no managing role now; heidi is in the admin group.
    await slack.bob.command("role scribe <@UBOB00001|bob>", channel=incident.channel_id)
    await slack.settle()
    assert "commander: <@UCAROL001>" in slack.bob.ephemerals[-1].all_text
    await slack.heidi.command("role scribe <@UFRANK001|frank>", channel=incident.channel_id)
    await slack.settle()
    commanders = await holders_of(slack, incident, "incident_commander")
    assert [a.user_id for a in commanders] == ["UHEIDI001", "UBOB00001", "UCAROL001"]
    assert [a.user_id for a in await holders_of(slack, incident, "scribe")] == ["UJUDY0001", "UFRANK001"]


async def test_role_commands_outside_an_incident_say_how_to_pick_one(slack: Slack) -> None:
    await declare(slack)
    await slack.heidi.command(f"role tech_lead {IVAN}", channel="C0GENERAL1")
    await slack.settle()
    assert "isn't an incident channel" in slack.heidi.ephemerals[-1].all_text
    incident = await slack.incident()
    await slack.heidi.command(f"role tech_lead {IVAN} {incident.key}", channel="C0GENERAL1")
    await slack.settle()
    assert [a.user_id for a in await holders_of(slack, incident, "tech_lead")][-1] == "UIVAN0001"
    await slack.mallory.command(f"roles {incident.key}", channel="C0GENERAL1")
    await slack.settle()
    assert "There is no incident" in slack.mallory.ephemerals[-1].all_text
