"""Regulatory clocks in the channel: facts change them, the card and /breach obligations show them."""

from __future__ import annotations

from tests.harness import Slack, fire_due, record_notice, submit_form

HOUR = 3600


async def declare(slack: Slack, title: str = "Payroll files of EU clients exposed", **values) -> None:
    await slack.alice.command(f"declare {title}")
    await slack.settle()
    fields = {
        "Severity": "SEV2",
        "Data categories": ["payroll"],
        "Jurisdictions": ["EU / EEA"],
        "Was the data encrypted (key safe)?": "No",
        "Our role for this data": "Controller (we decide why the data is processed)",
        **values,
    }
    delivery = await slack.alice.submit(fields)
    assert not delivery.errors, delivery.errors
    await slack.settle()


async def set_facts(slack: Slack, who: str = "heidi", **values) -> None:
    incident = await slack.incident()
    await submit_form(slack, who, "facts", incident.channel_id, values)


async def obligations(slack: Slack, who: str = "dave") -> str:
    incident = await slack.incident()
    person = slack.person(who)
    await person.command("obligations", channel=incident.channel_id)
    await slack.settle()
    return person.ephemerals[-1].all_text


async def test_more_people_affected_starts_the_ftc_clock_on_the_record(slack: Slack) -> None:
    from tests.test_settings import edit_settings

    # The firm answered once, in App Home, that the FTC Safeguards Rule covers it.
    await edit_settings(slack, "heidi", {"Covered by the FTC Safeguards Rule": "Yes"})
    await declare(
        slack,
        "Client tax returns exposed",
        **{"Jurisdictions": ["United States (federal)"], "Estimated people affected": "400"},
    )
    incident = await slack.incident()
    assert "FTC" not in slack.channel(incident.channel_id).pins[0].all_text
    await set_facts(slack, "erin", people_affected="1200")
    events = {e.kind: e for e in await slack.timeline(incident)}
    changed = events["facts_changed"]
    assert changed.actor == "UERIN0001"
    assert changed.data["before"] == {"people_affected": 400} and changed.data["after"] == {
        "people_affected": 1200
    }
    moved = events["clocks_reevaluated"].summary
    assert "FTC Safeguards Rule notification event — The FTC" in moved and "now applies" in moved
    channel = slack.channel(incident.channel_id)
    assert "FTC Safeguards Rule" in channel.pins[0].all_text and "left" in channel.pins[0].all_text
    said = channel.message_with_text("updated the facts")
    assert "400 → 1200" in said.all_text and "now applies" in said.all_text
    # Its reminders now exist: the 30-day clock reminds 24 h before.
    slack.sb.clock.advance(29 * 24 * HOUR + 1)
    await fire_due(slack)
    assert any("FTC Safeguards Rule" in m.all_text and "left" in m.all_text for m in slack.dave.dms)


async def test_unchanged_facts_log_nothing(slack: Slack) -> None:
    await declare(slack, **{"Estimated people affected": "50"})
    incident = await slack.incident()
    await set_facts(slack)
    assert "facts_changed" not in await slack.kinds(incident)


async def test_obligations_say_what_applies_why_and_what_is_unknown(slack: Slack) -> None:
    await declare(slack)
    text = await obligations(slack)
    assert "Breach notification to the supervisory authority (GDPR Art. 33)" in text
    # The legal start (awareness) is unknown: the clock runs from discovery anyway, marked assumed.
    gdpr = text.split("(GDPR Art. 33)")[1].split("\n*")[0]
    assert "clock start not known yet" not in gdpr and "assumed start" in gdpr and "left" in gdpr
    assert "awareness time" in text
    assert "Why:" in text and "data not encrypted" in text
    assert "Facts still unknown" in text and "whether people face a high risk" in text
    await set_facts(slack, aware_at=int(slack.rt.clock.now().timestamp()))
    text = await obligations(slack)
    gdpr = text.split("(GDPR Art. 33)")[1].split("\n*")[0]
    assert "2d 23h left" in gdpr or "3d left" in gdpr
    assert "clock start not known yet" not in gdpr and "assumed start" not in gdpr


async def test_outsiders_cannot_read_or_change_the_facts(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await slack.mallory.command(f"obligations {incident.key}")
    await slack.settle()
    assert "GDPR" not in slack.mallory.ephemerals[-1].all_text
    await slack.mallory.command(f"facts {incident.key}")
    await slack.settle()
    assert "There is no incident" in slack.mallory.ephemerals[-1].all_text
    assert not [v for v in slack.sb.workspace.views.values() if v.data.get("callback_id") == "facts"]


async def test_gdpr_72_hours_met_by_a_recorded_notification(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    # No EU establishment: GDPR's every-authority obligation applies (not the lead authority's).
    await set_facts(slack, aware_at=int(slack.rt.clock.now().timestamp()), eu_main_establishment="no")
    slack.sb.clock.advance(70 * HOUR)
    sent_at = int(slack.rt.clock.now().timestamp()) - 600
    await record_notice(
        slack,
        "dave",
        incident.channel_id,
        "eu-gdpr-33",
        "Irish Data Protection Commission",
        "DPC-2026-118",
        sent_at,
    )
    card = slack.channel(incident.channel_id).pins[0]
    assert "notified" in card.text_of("GDPR Art. 33") and "DPC-2026-118" in card.all_text
    assert "✅ met" in await obligations(slack)
    # Nothing more is said about that clock: its pending reminders were cancelled.
    before = len(slack.heidi.dms)
    slack.sb.clock.advance(5 * HOUR)
    await fire_due(slack)
    assert not any("GDPR Art. 33" in m.all_text for m in slack.heidi.dms[before:])
    assert "notification_recorded" in await slack.kinds(incident)


async def test_gdpr_72_hours_overdue_when_nothing_is_recorded(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    # No EU establishment: GDPR's every-authority obligation applies (not the lead authority's).
    await set_facts(slack, aware_at=int(slack.rt.clock.now().timestamp()), eu_main_establishment="no")
    slack.sb.clock.advance(72 * HOUR + 60)
    await fire_due(slack)
    overdue = [m for m in slack.erin.dms if "GDPR Art. 33" in m.all_text and "overdue" in m.all_text]
    assert len(overdue) == 1
    await slack.heidi.click(slack.channel(incident.channel_id).pins[0], "Refresh")
    await slack.settle()
    assert "overdue" in slack.channel(incident.channel_id).pins[0].text_of("GDPR Art. 33")
    text = await obligations(slack)
    assert "overdue by" in text and "nothing recorded" in text
