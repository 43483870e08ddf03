"""Notices drafted from the record (`/breach notify draft`, the Draft notice button): each required
item filled from the record or left as a marked gap, in the obligation's language; legal edits and
approves it in a modal (a decision, the text's SHA-256 stored, in the export and the register); the
draft's text never reaches the channel, and no one outside the incident can draft."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.cli import main
from incident.errors import Invalid
from incident.notice_draft.compose import compose
from incident.notice_draft.fills import READERS, Contact, DraftRecord
from incident.regimes import DEFAULT_REGIMES_PATH, FILL_FIELDS, NoticeItem, Obligation
from incident.text import Text
from sandbox.driver import Person
from storage.models import Decision, NoticeDraft
from tests.harness import SIGNING_SECRET, Slack, running_bot
from tests.test_clocks import declare as declare_in_eu

GENERAL = "C0GENERAL1"
CN_ID = "11010519491231002X"
WHAT_HAPPENED = "A client-portal export of payroll records was downloaded by an unknown IP."


async def declare(slack: Slack, **values: Any) -> Any:
    """An EU incident (as tests/test_clocks.py declares one) with what happened and how many people."""
    record = {
        "What happened": WHAT_HAPPENED,
        "Data categories": ["payroll", "national ID"],
        "Estimated people affected": "1200",
        **values,
    }
    await declare_in_eu(slack, "Payroll export of Acme Trading leaked", **record)
    return await slack.incident()


def obligation_of(slack: Slack, regime: str, kind: str) -> Obligation:
    return next(o for o in slack.rt.deps.config.regimes.get(regime).obligations if o.recipient_kind == kind)


def role_name(slack: Slack, key: str, language: str) -> str:
    role = slack.rt.deps.config.roles.get(key)
    return role.name.get(language) if role else key


async def open_draft(slack: Slack, person: Person, channel: str, obligation: str) -> Any:
    await person.command(f"notify draft {obligation}", channel=channel)
    await slack.settle()
    return person.modal()


def draft_inputs(view: Any) -> dict[str, str]:
    """Each editable notice in the modal: label → its text."""
    return {
        b["label"]["text"]: b["element"].get("initial_value", "")
        for b in view.data["blocks"]
        if b.get("type") == "input"
    }


def shown_text(view: Any) -> str:
    return "\n".join(
        str(b.get("text", {}).get("text", "")) for b in view.data["blocks"] if b.get("type") == "section"
    )


async def drafts_in_db(slack: Slack, incident_id: int) -> list[NoticeDraft]:
    async with slack.db.session() as db:
        rows = await db.execute(
            select(NoticeDraft).where(NoticeDraft.incident_id == incident_id).order_by(NoticeDraft.id)
        )
        return list(rows.scalars())


def channel_text(slack: Slack, channel: str) -> str:
    return "\n".join(m.all_text for m in slack.channel(channel).messages)


def item_answer(text: str, item_text: str) -> str:
    """What the draft says under one numbered item: the lines after it up to the next blank line."""
    after = text.split(f". {item_text}\n", 1)[1]
    return after.split("\n\n", 1)[0]


# The English GDPR Art. 33 notice ------------------------------------------------------------------


async def test_a_gdpr_art_33_draft_has_every_required_item_filled_or_marked_in_english(slack: Slack) -> None:
    incident = await declare(slack)
    obligation = obligation_of(slack, "eu-gdpr-33", "authority")
    # EU main establishment not answered: both Art. 33 recipients may apply; the first is drafted.
    assert obligation.id == "eu-gdpr-33/every_supervisory_authority"
    assert obligation.languages == ("en",)
    view = await open_draft(slack, slack.heidi, incident.channel_id, obligation.id)
    assert view.data["callback_id"] == "notice_draft" and view.data["submit"]["text"] == "Approve"
    inputs = draft_inputs(view)
    assert list(inputs) == ["Notice (English)"]
    text = inputs["Notice (English)"]
    assert text.startswith(f"To: {obligation.recipient.en}") and incident.key in text
    # What the record knows, as each fill reads it; what it does not know yet is None.
    known = {
        "title": incident.title,
        "summary": WHAT_HAPPENED,
        # The regimes file's category names, as a notice's sentence reads them.
        "categories": "national ID (ID card, SSN, TIN), payroll",
        "people_affected": "About 1,200 people (estimate)",
        "jurisdictions": "EU",
        "declared_at": incident.declared_at.strftime("%Y-%m-%d %H:%M UTC"),
        "severity": "SEV2",
        "incident_type": "",
        "firm_contact": f"Heidi Sun, {role_name(slack, 'incident_commander', 'en')}",
        "dpo_contact": "Erin Zhao",
        "encrypted": "No: the data was not encrypted",
        "individuals_notified": "Not yet",
    }
    assert obligation.notice_contents
    for number, item in enumerate(obligation.notice_contents, start=1):
        assert f"{number}. {item.text.en}\n" in text
        said = item_answer(text, item.text.en)
        if item.fill in known:
            assert known[item.fill] in said and "[unknown:" not in said, (item.key, said)
        else:
            ask = role_name(slack, item.ask or "incident_commander", "en")
            assert said.strip() == f"[unknown: {item.text.en} — ask {ask}]", (item.key, said)
    # Nothing of it reached the channel, and the record holds it as version 1 with its hash.
    assert text.split("\n", 1)[0] not in channel_text(slack, incident.channel_id)
    (row,) = await drafts_in_db(slack, incident.id)
    assert (row.obligation, row.language, row.version, row.approved_at) == (obligation.id, "en", 1, None)
    assert row.text == text and row.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert "notice_drafted" in await slack.kinds(incident)


async def test_the_cac_report_is_drafted_in_chinese(slack: Slack) -> None:
    incident = await declare(slack, **{"Jurisdictions": ["China"], "Estimated people affected": "1500000"})
    obligation = obligation_of(slack, "cn-cac-report", "authority")
    assert obligation.languages == ("zh-CN",)
    view = await open_draft(slack, slack.dave, incident.channel_id, obligation.id)
    (label, text) = next(iter(draft_inputs(view).items()))
    assert label == "Notice (Chinese)"
    assert text.startswith(f"致：{obligation.recipient.zh_CN}") and f"本所编号：{incident.key}" in text
    for number, item in enumerate(obligation.notice_contents, start=1):
        assert f"{number}. {item.text.zh_CN}\n" in text
        said = item_answer(text, item.text.zh_CN)
        if item.fill is None:
            ask = role_name(slack, item.ask or "incident_commander", "zh-CN")
            assert said.strip() == f"[未知：{item.text.zh_CN} —— 请询问{ask}]"
    # English appears only where the record itself is in English (the title, what happened).
    assert "unknown:" not in text and "Subject:" not in text and "事由：" in text


# Approval --------------------------------------------------------------------------------------


async def test_legal_edits_and_approves_a_decision_with_the_texts_sha256_and_nothing_of_it_in_the_channel(
    slack: Slack, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    incident = await declare(slack)
    channel = incident.channel_id
    obligation = obligation_of(slack, "eu-gdpr-33", "authority")
    view = await open_draft(slack, slack.dave, channel, obligation.id)
    drafted = draft_inputs(view)["Notice (English)"]
    # Legal edits it, pasting an ID number by mistake: the stored text keeps its last four digits.
    edited = drafted.replace("[unknown:", "[legal to confirm:", 1) + f"\nSigned: Dave Müller ({CN_ID})\n"
    delivery = await slack.dave.submit({"Notice (English)": edited})
    assert not delivery.errors, delivery.errors
    await slack.settle()

    stored = edited.strip().replace(CN_ID, "[redacted: CN resident ID ****002X]")
    assert CN_ID not in stored and "[legal to confirm:" in stored
    digest = hashlib.sha256(stored.encode()).hexdigest()
    (row,) = await drafts_in_db(slack, incident.id)
    assert row.text == stored and row.sha256 == digest
    assert row.approved_by == slack.dave.id and row.approved_at is not None
    async with slack.db.session() as db:
        (decision,) = (
            await db.execute(select(Decision).where(Decision.incident_id == incident.id))
        ).scalars()
    assert decision.kind == "notice_approved" and decision.approver == slack.dave.id
    assert (decision.regime, decision.obligation) == (obligation.regime_id, obligation.key)
    assert digest in decision.rationale and "after editing" in decision.rationale
    events = await slack.timeline(incident)
    approval = next(e for e in events if e.kind == "decision")
    assert approval.data["notice_draft"] == {
        "obligation": obligation.id,
        "version": 1,
        "sha256": {"en": digest},
    }
    # The channel hears one line: who approved which notice, with the hash; never the text.
    said = channel_text(slack, channel)
    assert digest in said and obligation.id in said
    for line in (x for x in stored.splitlines() if len(x) > 12):
        assert line not in said, line
    told = "\n".join(m.all_text for m in slack.dave.ephemerals[-2:])
    assert digest in told and "notice draft" in told and CN_ID not in told

    # A second approval of the same version is refused: draft again to change it.
    await slack.heidi.submit({"Notice (English)": "Something else"}, view=view)
    await slack.settle()
    assert "already approved" in slack.heidi.ephemerals[-1].all_text
    assert (await drafts_in_db(slack, incident.id))[0].text == stored

    # The export carries the approved text and its hash; the register its hash.
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    out = tmp_path / "bundle.json"
    assert await asyncio.to_thread(main, ["export", incident.key, "-o", str(out)]) == 0
    bundle = json.loads(out.read_text(encoding="utf-8"))
    (exported,) = bundle["notice_drafts"]
    assert (exported["sha256"], exported["text"], exported["approved_by"]) == (digest, stored, slack.dave.id)
    register = tmp_path / "register.csv"
    assert await asyncio.to_thread(main, ["register", "--format", "csv", "--out", str(register)]) == 0
    (entry,) = csv.DictReader(io.StringIO(register.read_text(encoding="utf-8")))
    assert entry["approved_notices"] == f"{obligation.id} en v1 sha256={digest}"
    assert await asyncio.to_thread(main, ["register", "--format", "json", "--out", str(register)]) == 0
    (entry,) = json.loads(register.read_text(encoding="utf-8"))
    assert entry["approved_notices"][0]["text"] == stored


async def test_someone_who_may_not_approve_reads_the_draft_and_is_refused(slack: Slack) -> None:
    incident = await declare(slack)
    obligation = obligation_of(slack, "eu-gdpr-33", "authority")
    # The tech lead may read the draft, not edit or approve it: no inputs, no Approve button.
    bob_view = await open_draft(slack, slack.bob, incident.channel_id, obligation.id)
    assert not bob_view.data.get("submit") and not draft_inputs(bob_view)
    assert obligation.notice_contents[0].text.en in shown_text(bob_view)
    assert "Only legal counsel (<@UDAVE0001>)" in json.dumps(bob_view.data, ensure_ascii=False)
    # Submitting legal's form as the tech lead is refused under the text, and nothing is approved.
    dave_view = await open_draft(slack, slack.dave, incident.channel_id, obligation.id)
    refused = await slack.bob.submit({"Notice (English)": "Approved by the tech lead"}, view=dave_view)
    assert refused.errors and "Only legal counsel" in refused.errors["text_en"]
    await slack.settle()
    rows = await drafts_in_db(slack, incident.id)
    assert [r.version for r in rows] == [1, 2] and all(r.approved_at is None for r in rows)
    assert "decision" not in await slack.kinds(incident)


async def test_an_outsider_cannot_draft_and_is_shown_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    obligation = obligation_of(slack, "eu-gdpr-33", "authority")
    await slack.mallory.command(f"notify draft {obligation.id} {incident.key}", channel=GENERAL)
    await slack.settle()
    assert f"{incident.key}" in slack.mallory.ephemerals[-1].all_text
    assert slack.mallory.ws.top_modal(slack.mallory.id) is None
    # The button, pressed with a forged value, is refused the same way.
    card = slack.channel(incident.channel_id).pins[0]
    action = {
        "action_id": "notice_draft",
        "block_id": "b",
        "type": "button",
        "value": f"{incident.id}:{obligation.id}",
    }
    payload = slack.mallory._block_actions(card, None, action)
    payload["channel"] = {"id": GENERAL, "name": "general"}
    payload["container"]["channel_id"] = GENERAL
    await slack.sb.deliver("interactive", payload)
    await slack.settle()
    assert slack.mallory.ws.top_modal(slack.mallory.id) is None
    assert await drafts_in_db(slack, incident.id) == []
    assert WHAT_HAPPENED not in "\n".join(m.all_text for m in slack.mallory.ephemerals)


async def test_draft_notice_buttons_on_the_draft_list_and_on_obligations(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.dave.command("notify draft", channel=incident.channel_id)
    await slack.settle()
    listing = slack.dave.ephemerals[-1]
    obligation = obligation_of(slack, "eu-gdpr-33", "authority")
    assert obligation.id in listing.all_text
    await slack.dave.click(listing, "Draft notice", near=obligation.id)
    await slack.settle()
    assert "Notice (English)" in draft_inputs(slack.dave.modal())
    # /breach obligations carries the same button on each obligation.
    await slack.dave.close_modal()
    await slack.dave.command("obligations", channel=incident.channel_id)
    await slack.settle()
    await slack.dave.click(slack.dave.ephemerals[-1], "Draft notice", near=obligation.id)
    await slack.settle()
    assert obligation.recipient.en in shown_text(slack.dave.modal())
    await slack.dave.command("notify draft no-such/obligation", channel=incident.channel_id)
    await slack.settle()
    assert "no-such/obligation" in slack.dave.ephemerals[-1].all_text


# Every fill, in both languages, from a regime added to a copy of the regimes file ---------------

EVERY_FILL = {
    "id": "xx-every-fill",
    "name": {"zh-CN": "测试：每个字段", "en": "Test: every fill"},
    "jurisdiction": "EU",
    "applies_when": {"fact": "jurisdictions", "includes": "EU"},
    "sources": [{"cite": "A test regime"}],
    "obligations": [
        {
            "key": "both",
            "recipient": {"zh-CN": "测试机构", "en": "The test authority"},
            "recipient_kind": "authority",
            "languages": ["zh-CN", "en"],
            "clock_start": "discovered_at",
            "deadline": "72h",
            "notice_contents": [
                {
                    "key": name,
                    "text": {"zh-CN": f"项目 {name}", "en": f"Item {name}"},
                    "fill": name,
                    "ask": "legal",
                }
                for name in FILL_FIELDS
            ]
            + [
                {
                    "key": "free",
                    "text": {"zh-CN": "可能后果", "en": "Likely consequences"},
                    "ask": "forensics",
                }
            ],
        }
    ],
}


async def test_every_fill_is_read_from_the_record_in_both_languages(db_url: str, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_REGIMES_PATH.read_text(encoding="utf-8"))
    data["regimes"].append(EVERY_FILL)
    regimes_file = tmp_path / "regimes.yaml"
    regimes_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    async with running_bot(db_url, regimes_file=str(regimes_file)) as slack:
        incident = await declare(slack)
        channel = incident.channel_id
        view = await open_draft(slack, slack.heidi, channel, "xx-every-fill/both")
        texts = draft_inputs(view)
        assert list(texts) == ["Notice (Chinese)", "Notice (English)"]
        en, zh = texts["Notice (English)"], texts["Notice (Chinese)"]
        gaps = {name for name in FILL_FIELDS if item_answer(en, f"Item {name}").startswith("   [unknown:")}
        # Unknown so far: the awareness and determination times, the CAC grade (not in China),
        # the measures (nothing done yet), crime and law enforcement, the DPO (none in the roster).
        assert gaps <= {
            "aware_at",
            "determined_at",
            "cac_grade",
            "measures_taken",
            "measures_planned",
            "crime_suspected",
            "law_enforcement_investigating",
        }, gaps
        assert item_answer(en, "Item people_affected") == "   About 1,200 people (estimate)"
        assert item_answer(zh, "项目 people_affected") == "   约 1,200 人（估计）"
        assert item_answer(zh, "项目 encrypted") == "   否：数据未加密，或密钥已泄露。"
        assert "[未知：可能后果 —— 请询问" in zh and "[unknown: Likely consequences — ask" in en


# The composer on its own -----------------------------------------------------------------------


def duty(kind: str, *items: NoticeItem) -> Obligation:
    return Obligation("x", "y", Text("机构", "Authority"), kind, ("en",), None, None, None, items)  # type: ignore[arg-type]


ROLES = {
    "forensics": Text("取证负责人", "Forensics lead"),
    "incident_commander": Text("事件指挥官", "Commander"),
}


def test_every_fill_in_the_spec_has_a_reader() -> None:
    assert set(READERS) == set(FILL_FIELDS)


def test_a_known_fact_fills_its_item_and_an_unknown_one_is_a_marked_gap() -> None:
    at = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    authority = duty(
        "authority",
        NoticeItem("when", Text("发现时间", "When found"), "discovered_at"),
        NoticeItem("aware", Text("知悉时间", "When aware"), "aware_at", "forensics"),
        NoticeItem("crime", Text("犯罪", "Crime"), "crime_suspected"),
        NoticeItem("done", Text("措施", "Measures"), "measures_taken"),
        NoticeItem("who", Text("联系人", "Contact"), "firm_contact"),
    )
    record = DraftRecord(
        key="BR-2026-0001",
        title="t",
        times={"discovered_at": at},
        flags={"crime_suspected": True},
        measures_taken=tuple(Text(f"步骤 {i}", f"Step {i}") for i in range(10)),
        firm_contact=Contact("Heidi Sun", Text("事件指挥官", "Commander")),
    )
    en = compose(authority, Text("法", "Law"), record, "en", ROLES)
    assert "1. When found\n   2026-12-02 09:30 UTC\n" in en.text
    assert "2. When aware\n   [unknown: When aware — ask Forensics lead]\n" in en.text
    assert "3. Crime\n   Yes: a crime is suspected.\n" in en.text
    assert "   - Step 7\n   - (and 2 more)\n" in en.text and "Step 8" not in en.text
    assert "5. Contact\n   Heidi Sun, Commander" in en.text
    assert en.gaps == ("aware",)
    zh = compose(authority, Text("法", "Law"), record, "zh-CN", ROLES)
    assert "1. 发现时间\n   2026年12月2日 09:30（UTC）\n" in zh.text
    assert "[未知：知悉时间 —— 请询问取证负责人]" in zh.text and "Heidi Sun（事件指挥官）" in zh.text


def test_a_drill_draft_says_so_and_an_overlong_one_is_refused() -> None:
    individuals = duty("individuals", NoticeItem("s", Text("经过", "What"), "summary"))
    drill = compose(
        individuals, Text("法", "Law"), DraftRecord(key="K", title="t", summary="s", drill=True), "en", ROLES
    )
    assert (
        drill.text.startswith("DRILL: PRACTICE ONLY")
        and "Subject: A data breach involving your" in drill.text
    )
    many = duty("authority", *(NoticeItem(f"i{n}", Text("x" * 150, "x" * 150), "summary") for n in range(30)))
    with pytest.raises(Invalid):
        compose(many, Text("法", "Law"), DraftRecord(key="K", title="t", summary="y" * 5000), "en", ROLES)
