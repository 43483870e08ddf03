"""Declaring a breach: the first thing a frightened employee does must be fast, forgiving and safe."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.harness import Slack

TEAM = {
    "UALICE001",
    "UHEIDI001",
    "UIVAN0001",
    "UBOB00001",
    "UCAROL001",
    "UDAVE0001",
    "UERIN0001",
    "UFRANK001",
    "UGRACE001",
    "UJUDY0001",
}
SECRET_TITLE = "Payroll export of Acme Trading leaked"


async def declare(slack: Slack, person: str = "alice", title: str = SECRET_TITLE, **values) -> None:
    who = slack.person(person)
    await who.command(f"declare {title}", channel="C0GENERAL1")
    await slack.settle()
    modal = who.modal()
    assert modal.data["callback_id"] == "declare"
    fields = {
        "Severity": "SEV2",
        "What happened": "A client-portal export of payroll records was downloaded by an unknown IP.",
        "Data categories": ["payroll", "national ID"],
        "Estimated people affected": "1200",
        "Affected clients": "Acme Trading\nBeta Foods",
        "Jurisdictions": ["EU / EEA", "China"],
    }
    fields.update(values)
    delivery = await who.submit(fields)
    assert not delivery.errors, delivery.errors
    await slack.settle()


async def test_declare_opens_a_private_channel_with_exactly_the_team(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    assert incident.key.startswith("BR-") and incident.key.endswith("-0001")
    channel = slack.channel(incident.channel_id)
    assert channel.is_private
    assert channel.name == f"{incident.key.lower()}-payroll-export-of-acme-trading-leaked"
    assert set(channel.members) - {"UBREACHBOT"} == TEAM
    assert "UMALLORY1" not in channel.members
    assert incident.key in channel.topic and "SEV2" in channel.topic
    card = channel.pins[0]
    assert incident.key in card.all_text and SECRET_TITLE in card.all_text
    assert "Incident commander: <@UHEIDI001>" in card.all_text
    assert not slack.violations()


async def test_announcement_carries_no_details(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    announce = slack.channel("security-announce").bot_messages[-1]
    text = announce.all_text
    assert incident.key in text and "SEV2" in text and "onfidential" in text
    assert "Request access" in announce.buttons
    for secret in (SECRET_TITLE, "Acme", "Payroll", "payroll", "1200", "EU"):
        assert secret not in text
    # Nothing about the incident reached the public channel it was declared from.
    assert all(SECRET_TITLE not in m.all_text for m in slack.channel("general").messages)


async def test_declarer_is_told_where_the_channel_is(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    told = slack.alice.ephemerals[-1].all_text
    assert incident.key in told and incident.channel_id in told


async def test_each_role_holder_gets_their_duties_by_dm(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    dms = slack.heidi.dms
    assert any("Incident commander" in m.all_text and incident.key in m.all_text for m in dms)
    assert any("Technical lead" in m.all_text for m in slack.bob.dms)


async def test_the_timeline_records_declaration_roles_and_channel(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    kinds = await slack.kinds(incident)
    assert kinds[0] == "declared"
    # Every role with a default holder in the sandbox firm: the nine departments and the DPO.
    assert kinds.count("role_assigned") == 10
    assert "channel_created" in kinds and "members_invited" in kinds


async def test_field_errors_come_back_on_the_fields(slack: Slack) -> None:
    await slack.alice.command("declare Laptop stolen")
    await slack.settle()
    future = int((slack.rt.clock.now() + timedelta(days=2)).timestamp())
    delivery = await slack.alice.submit({"Estimated people affected": "-5", "Discovered at": future})
    assert delivery.errors is not None
    assert "negative" in delivery.errors["people_affected"]
    assert "future" in delivery.errors["discovered_at"]
    await slack.settle()
    assert await slack.incidents() == []


async def test_a_chinese_title_gets_a_pinyin_channel_name(slack: Slack) -> None:
    await declare(slack, title="客户工资表泄露")
    incident = await slack.incident()
    assert slack.channel(incident.channel_id).name.endswith("-ke-hu-gong-zi-biao-xie-lou")


async def test_a_double_submitted_modal_makes_one_incident(slack: Slack) -> None:
    await slack.alice.command("declare Double click")
    await slack.settle()
    view = slack.alice.modal()
    first = slack.alice.submit({"Severity": "SEV3"}, view=view)
    second = slack.alice.submit({"Severity": "SEV3"}, view=view)
    await asyncio.gather(first, second)
    await slack.settle()
    assert len(await slack.incidents()) == 1
    assert len([c for c in slack.sb.calls("conversations.create") if c.ok]) == 1


async def test_a_failed_invite_is_recovered_by_retry(slack: Slack) -> None:
    slack.sb.faults.add(method="conversations.invite", kind="server_error", times=10)
    await declare(slack)
    incident = await slack.incident()
    channel = slack.channel(incident.channel_id)
    card = channel.pins[0]
    assert "Not done yet" in card.all_text and "inviting members" in card.all_text
    assert set(channel.members) == {"UBREACHBOT"}
    # The declarer was told privately what is missing, with a Retry button.
    told = slack.alice.ephemerals[-1]
    assert "inviting members" in told.all_text and "Retry" in told.buttons
    slack.sb.faults.clear()
    # Someone outside the incident cannot drive its set-up.
    await slack.mallory.click(card, "Retry")
    await slack.settle()
    assert set(channel.members) == {"UBREACHBOT"}
    await slack.alice.click(told, "Retry")
    await slack.settle()
    assert set(channel.members) - {"UBREACHBOT"} == TEAM
    assert "Not done yet" not in channel.refreshed(card).all_text


@pytest.mark.pg_only
async def test_two_declarations_at_once_get_distinct_keys_and_channels(slack: Slack) -> None:
    await slack.alice.command("declare First leak")
    await slack.judy.command("declare Second leak")
    await slack.settle()
    await asyncio.gather(slack.alice.submit({"Severity": "SEV2"}), slack.judy.submit({"Severity": "SEV3"}))
    await slack.settle()
    incidents = await slack.incidents()
    assert len(incidents) == 2
    assert len({i.key for i in incidents}) == 2
    assert len({i.channel_id for i in incidents}) == 2 and None not in {i.channel_id for i in incidents}


async def test_a_jurisdiction_outside_the_list_is_accepted(slack: Slack) -> None:
    await declare(slack, Jurisdictions=["Other"])
    incident = await slack.incident()
    assert incident.jurisdictions == ["XX"]
    card = slack.channel(incident.channel_id).pins[0]
    assert "Regulatory clocks" in card.all_text
    assert not slack.violations()
