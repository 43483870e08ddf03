"""App Home: the open incidents you are in, your roles and your open items; each event handled once."""

from __future__ import annotations

from sqlalchemy import update

from handlers.deps import Deps
from handlers.events import first_delivery
from handlers.tracking import InFlight
from incident.clock import ManualClock
from sandbox.observe import block_texts
from storage.db import Database
from storage.models import ChecklistItem
from tests.harness import Slack, running_bot
from tests.test_declare import SECRET_TITLE, declare


def home_text(slack: Slack, person: str) -> str:
    """The person's incidents part of App Home (admins also get the register below it)."""
    view = slack.person(person).home
    assert view is not None, f"{person} has no home view"
    text = "\n".join(t for block in view["blocks"] for t in block_texts(block))
    return text.split("Breach register (recent")[0]


async def open_home(slack: Slack, person: str):
    delivery = await slack.person(person).open_home()
    await slack.settle()
    return delivery


async def test_home_shows_your_incidents_roles_and_items(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await open_home(slack, "heidi")
    text = home_text(slack, "heidi")
    assert f"*{incident.key}* · SEV2 · Open · <#{incident.channel_id}>" in text
    assert "Your role: Incident commander" in text
    assert "Form the response team" in text
    assert "Record the investigation in detail" not in text  # the scribe's, not hers
    assert SECRET_TITLE not in text
    assert not slack.violations()


async def test_items_assigned_to_you_show_and_done_items_do_not(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    async with slack.db.transaction() as s:
        await s.execute(
            update(ChecklistItem)
            .where(ChecklistItem.incident_id == incident.id, ChecklistItem.item_key == "record_investigation")
            .values(assignee="UALICE001")
        )
        await s.execute(
            update(ChecklistItem)
            .where(ChecklistItem.incident_id == incident.id, ChecklistItem.item_key == "form_team")
            .values(state="done")
        )
    await open_home(slack, "alice")
    alice = home_text(slack, "alice")
    assert "You are a member, with no role." in alice
    assert "Record the investigation in detail" in alice and "Form the response team" not in alice
    await open_home(slack, "heidi")
    assert "Form the response team" not in home_text(slack, "heidi")
    assert "Set the severity from the assessment" in home_text(slack, "heidi")


async def test_an_outsider_sees_no_incident_and_a_closed_one_leaves_home(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await open_home(slack, "mallory")
    assert incident.key not in home_text(slack, "mallory")
    assert "not in any open incident" in home_text(slack, "mallory")

    await slack.heidi.command("close", channel=incident.channel_id)
    await slack.settle()
    await slack.heidi.submit({"Lessons learned": "Check exports weekly."})
    await slack.settle()
    await open_home(slack, "heidi")
    assert incident.key not in home_text(slack, "heidi")


async def test_home_speaks_chinese_when_the_workspace_does(db_url: str) -> None:
    async with running_bot(db_url, locale="zh-CN") as slack:
        await slack.alice.command("declare 工资表泄露")
        await slack.settle()
        await slack.alice.submit({"severity": "SEV2"})  # by block id: the labels are Chinese
        await slack.settle()
        await open_home(slack, "heidi")
        text = home_text(slack, "heidi")
    assert "你参与的事件" in text and "你的角色：事件指挥官" in text
    assert "Your role" not in text


async def test_a_retried_event_is_handled_once(slack: Slack) -> None:
    await declare(slack)
    delivery = await open_home(slack, "heidi")
    await slack.heidi.redeliver(delivery, retry_num=1)
    await slack.settle()
    publishes = [c for c in slack.sb.calls("views.publish") if c.params.get("user_id") == "UHEIDI001"]
    assert len(publishes) == 1


async def test_first_delivery_claims_an_event_id_once(db: Database) -> None:
    deps = Deps(db=db, clock=ManualClock(), locale="en", command="/breach", tracker=InFlight())
    assert await first_delivery(deps, {"event_id": "Ev0001"}) is True
    assert await first_delivery(deps, {"event_id": "Ev0001"}) is False
    assert await first_delivery(deps, {"event_id": "Ev0002"}) is True
    assert await first_delivery(deps, {}) is True
