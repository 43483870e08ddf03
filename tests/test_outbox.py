"""The outbox through the front door: a change's effects are written with it, coalesce, and an
effect Slack keeps refusing is dead, shown on the card and in doctor, and retried by Refresh."""

from __future__ import annotations

from sqlalchemy import select

from storage import outbox
from storage.models import Effect
from tests.harness import Slack
from tests.test_card_glance import card_of
from tests.test_notify import declare, open_notify


async def effects(slack: Slack) -> list[Effect]:
    async with slack.db.session() as s:
        return list((await s.execute(select(Effect).order_by(Effect.id))).scalars())


async def record_notification(slack: Slack) -> None:
    await open_notify(slack, "cn-pipl-57")
    delivery = await slack.dave.submit(
        {
            "recipient": "Shanghai municipal CAC office",
            "reference": "SH-77",
            "sent_at": int(slack.rt.clock.now().timestamp()) - 60,
            "contents": ["Cause"],
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()


async def test_a_refused_announcement_is_dead_shown_on_the_card_and_refresh_delivers_it(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    channel = slack.channel(incident.channel_id)
    slack.sb.faults.add(method="chat.postMessage", kind="error:account_inactive", times=None)
    await record_notification(slack)

    dead = [e for e in await effects(slack) if e.status == outbox.DEAD]
    assert [(e.kind, e.last_error) for e in dead] == [("announce", "account_inactive")]
    assert not [m for m in channel.bot_messages if "Notification recorded" in m.all_text]
    assert "update(s) to Slack failed repeatedly" in card_of(slack, incident).all_text
    assert (await outbox.backlog(slack.db)).dead == 1

    slack.sb.faults.clear()
    await slack.heidi.click(card_of(slack, incident), "Refresh")
    await slack.settle()
    lines = [m for m in channel.bot_messages if "Notification recorded" in m.all_text]
    assert len(lines) == 1
    assert "failed repeatedly" not in card_of(slack, incident).all_text
    assert not [e for e in await effects(slack) if e.status in (outbox.DEAD, outbox.PENDING)]


async def test_a_burst_of_changes_leaves_one_pending_re_render_per_incident(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    assert incident.id is not None
    now = slack.rt.clock.now()
    slack.rt.db.on_effects = None  # no delivery while the burst is written: count what is pending
    for _ in range(10):
        await outbox.refresh(slack.db, incident.id, now)
    pending = [e for e in await effects(slack) if e.status == outbox.PENDING and e.kind == outbox.VIEWS]
    assert len(pending) == 1
