"""The checklist renderer: pure, within Slack's limits however long a phase is, and honest about state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.render.checklist import ITEMS_PER_PART, item_value, phase_messages
from incident.config import IncidentConfig, load_config
from incident.playbook import Item, Opens, Phase
from incident.text import Text
from sandbox.blocks import check_blocks
from storage.models import ChecklistItem, Incident
from tests.harness import unsaved_incident

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def config() -> IncidentConfig:
    return load_config()


def incident() -> Incident:
    return unsaved_incident(NOW - timedelta(hours=2), id=7, key="BR-2026-0007", number=7, locale="en")


def rows(phase: Phase) -> list[ChecklistItem]:
    return [
        ChecklistItem(
            id=100 + n,
            incident_id=7,
            phase=phase.key,
            item_key=item.key,
            position=n,
            owner_role=item.owner,
            required=item.required,
            restricted=item.restricted,
            regime=item.regime,
            version=1,
        )
        for n, item in enumerate(phase.items)
    ]


def long_phase(count: int) -> Phase:
    items = tuple(
        Item(
            key=f"step_{n}",
            title=Text(zh_CN=f"步骤 {n} " + "很长" * 400, en=f"Step {n} " + "long " * 400),
            owner="tech_lead",
        )
        for n in range(count)
    )
    return Phase(
        key="investigate",
        title=Text(zh_CN="调查取证", en="Investigate"),
        opens=Opens.AFTER_PREVIOUS,
        items=items,
    )


def texts(blocks: list[dict]) -> str:
    out = []
    for block in blocks:
        if block["type"] in ("section", "header"):
            out.append(block["text"]["text"])
        if block["type"] == "context":
            out.extend(e["text"] for e in block["elements"])
    return "\n".join(out)


def test_each_item_shows_its_state_owner_and_buttons(config: IncidentConfig) -> None:
    phase = config.playbook("data_breach").phase("respond")
    items = rows(phase)
    items[2].state, items[2].done_by, items[2].done_at, items[2].version = "done", "UBOB00001", NOW, 2
    items[3].state, items[3].done_by, items[3].done_at = "na", "UHEIDI001", NOW
    items[3].na_reason = "severity set at declaration"
    items[1].assignee, items[1].due_at = "UCAROL001", NOW - timedelta(minutes=5)
    items[0].due_at = NOW + timedelta(hours=1)

    [part] = phase_messages(incident(), phase, items, config.roles, "en", NOW, current=True)

    assert part.ref == "respond:1"
    assert part.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Respond — 2 / 5 done", "emoji": True},
    }
    text = texts(part.blocks)
    assert "▶️ Current phase" in text
    assert "⬜ *Form the response team*\nIncident commander · due <!date^" in text
    assert "🔒 owner or commander only" in text
    assert "assigned to <@UCAROL001>" in text and "⚠️ overdue" in text
    assert "✅ *Isolate affected systems*\nTechnical lead\ndone by <@UBOB00001> <!date^" in text
    assert "➖ *Set the severity from the assessment*" in text and "severity set at declaration" in text
    assert text.count("⚠️ overdue") == 1  # only the overdue open item, not the one due later
    # Open items: Done / N/A / Assign / Note; closed ones: Reopen / Note, values carry id and version.
    buttons = {
        b["block_id"]: [(e["text"]["text"], e["value"]) for e in b["elements"]]
        for b in part.blocks
        if b["type"] == "actions"
    }
    assert buttons["item_100"] == [
        ("Done", "100:1"),
        ("Not applicable", "100:1"),
        ("Assign", "100:1"),
        ("Note", "100:1"),
    ]
    assert buttons["item_102"] == [("Reopen", "102:2"), ("Note", "102:2")]
    assert item_value(items[2]) == "102:2"
    assert not check_blocks(part.blocks)


def test_rendering_is_deterministic_and_bilingual(config: IncidentConfig) -> None:
    phase = config.playbook("data_breach").phase("notify")
    first = phase_messages(incident(), phase, rows(phase), config.roles, "zh-CN", NOW)
    again = phase_messages(incident(), phase, rows(phase), config.roles, "zh-CN", NOW)
    assert [p.blocks for p in first] == [p.blocks for p in again]
    assert first[0].blocks[0]["text"]["text"] == "沟通披露 — 已完成 0 / 18"
    assert "启动事件响应时即开启" in texts(first[0].blocks)
    assert "完成" in [
        e["text"]["text"] for b in first[0].blocks if b["type"] == "actions" for e in b["elements"]
    ]


@pytest.mark.parametrize("count", [ITEMS_PER_PART, ITEMS_PER_PART + 1, 3 * ITEMS_PER_PART - 1, 70])
def test_a_long_phase_splits_within_slack_limits(config: IncidentConfig, count: int) -> None:
    phase = long_phase(count)
    items = rows(phase)
    for item in items[:4]:
        item.state, item.done_by, item.done_at, item.note = "done", "UBOB00001", NOW, "n" * 5000

    parts = phase_messages(incident(), phase, items, config.roles, "en", NOW)

    expected_parts = -(-count // ITEMS_PER_PART)
    assert len(parts) == expected_parts
    assert [p.ref for p in parts] == [f"investigate:{n}" for n in range(1, expected_parts + 1)]
    rendered = [b for p in parts for b in p.blocks if b["type"] == "actions"]
    assert len(rendered) == count  # every item once, none lost at a boundary
    for number, part in enumerate(parts, start=1):
        assert not check_blocks(part.blocks), check_blocks(part.blocks)
        assert len(part.blocks) <= 50
        if expected_parts > 1:
            assert (
                part.blocks[0]["text"]["text"]
                == f"Investigate ({number}/{expected_parts}) — 4 / {count} done"
            )
        else:
            assert part.blocks[0]["text"]["text"] == f"Investigate — 4 / {count} done"
