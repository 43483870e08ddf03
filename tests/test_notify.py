"""/breach notify: a notification recorded on the register stops its clock, met or late."""

from __future__ import annotations

from tests.harness import Slack

HOUR = 3600


async def declare(slack: Slack, drill: bool = False) -> None:
    await slack.alice.command(
        "drill Client files on a lost USB stick" if drill else "declare Client files leaked"
    )
    await slack.settle()
    delivery = await slack.alice.submit(
        {
            "Severity": "SEV2",
            "Data categories": ["payroll"],
            "Jurisdictions": ["China", "EU / EEA"],
            "Was the data encrypted (key safe)?": "No",
            "Our role for this data": "Controller (we decide why the data is processed)",
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()


async def open_notify(slack: Slack, args: str = "") -> None:
    incident = await slack.incident()
    await slack.dave.command(f"notify {args}".strip(), channel=incident.channel_id)
    await slack.settle()


async def test_the_form_offers_the_chosen_regimes_required_contents(slack: Slack) -> None:
    await declare(slack)
    await open_notify(slack)
    modal = slack.dave.modal()
    text = str(modal.data["blocks"])
    assert "PIPL" in text and "Types of personal information" in text
    await slack.dave.select(modal, "notify_regime", "GDPR Art. 33")
    await slack.settle()
    text = str(slack.dave.modal().data["blocks"])
    assert "Types of personal information" not in text
    assert "lead supervisory authority" in text.lower() or "supervisory" in text.lower()


async def test_a_notification_in_the_future_is_refused(slack: Slack) -> None:
    await declare(slack)
    await open_notify(slack, "cn-pipl-57")
    future = int(slack.rt.clock.now().timestamp()) + 2 * HOUR
    delivery = await slack.dave.submit({"recipient": "Shanghai CAC", "sent_at": future})
    assert "future" in delivery.errors["sent_at"]
    await slack.settle()
    assert "notification_recorded" not in await slack.kinds(await slack.incident())


async def test_a_late_notification_is_recorded_as_late(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    slack.sb.clock.advance(30 * HOUR)
    await open_notify(slack, "cn-pipl-57")
    delivery = await slack.dave.submit(
        {
            "recipient": "Shanghai municipal CAC office",
            "reference": "SH-77",
            "sent_at": int(slack.rt.clock.now().timestamp()) - 60,
            "contents": ["Cause", "Possible harm"],
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()
    event = [e for e in await slack.timeline(incident) if e.kind == "notification_recorded"][-1]
    assert event.actor == "UDAVE0001" and event.data["clock_after"] == "late"
    assert "contact" in event.data["contents_missing"] and "cause" not in event.data["contents_missing"]
    channel = slack.channel(incident.channel_id)
    assert "notified late" in channel.pins[0].text_of("PIPL Art. 57")
    assert "late" in channel.message_with_text("Notification recorded").all_text


async def test_drill_notifications_are_labelled_practice(slack: Slack) -> None:
    await declare(slack, drill=True)
    incident = await slack.incident()
    await open_notify(slack, "cn-pipl-57")
    assert "practice only" in str(slack.dave.modal().data["blocks"])
    delivery = await slack.dave.submit(
        {"recipient": "Practice authority", "sent_at": int(slack.rt.clock.now().timestamp())}
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()
    line = slack.channel(incident.channel_id).message_with_text("Notification recorded")
    assert "DRILL" in line.all_text and "practice" in line.all_text
    event = [e for e in await slack.timeline(incident) if e.kind == "notification_recorded"][-1]
    assert event.data["drill"] is True and "DRILL" in event.summary
