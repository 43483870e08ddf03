"""No identity number is kept, whichever free-text field it was typed into, and no field takes
more text than its limit, even from a forged submission that skips the form's own limit."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from bot.cli import main
from incident import postmortem, register
from incident.limits import LIMITS, Field
from incident.report import markdown
from incident.report.model import Period, build
from storage.models import ChecklistItem, Decision, Evidence, Incident, Notification, SQLModel
from tests.harness import SIGNING_SECRET, Slack, submit_declaration, submit_form
from tests.test_redact import numbers, prose

HOUR = 3600
ISOLATE = "Isolate affected systems"
CAC = "Report the incident to the provincial CAC"
SSN_SPACED, SSN_BARE = "123 45 6789", "123456789"
CARD_DOTTED, CARD_MIXED = "4111.1111.1111.1111", "4111-1111 1111.1111"
ID_SPACED, ID_WIDE_X = "110105 19491231 002X", "11010519491231002Ｘ"
ID_FULL_WIDTH = "１１０１０５１９４９１２３１００２Ｘ"
EVERY = (SSN_SPACED, SSN_BARE, CARD_DOTTED, CARD_MIXED, ID_SPACED, ID_WIDE_X, ID_FULL_WIDTH)
DIGITS = ("123456789", "4111111111111111", "11010519491231002")


async def dump(slack: Slack) -> str:
    """Every row of every table, as text."""
    out: list[str] = []
    async with slack.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await s.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            out.extend(repr(tuple(r)) for r in rows)
            out.extend(json.dumps([str(v) for v in r], ensure_ascii=False) for r in rows)
    return "\n".join(out)


def posted(slack: Slack) -> str:
    """Everything the bot posted, in every channel and every open view."""
    texts = [
        m.all_text for ch in slack.sb.workspace.channels.values() for m in slack.channel(ch.id).bot_messages
    ]
    return "\n".join(texts)


def assert_absent(where: str, haystack: str, needles: tuple[str, ...] | list[str]) -> None:
    found = [n for n in needles if n in haystack]
    assert not found, f"{found} found in {where}"


async def declare(slack: Slack, **values: object) -> Incident:
    fields: dict[str, object] = {
        "title": "Payroll export leaked",
        "Severity": "SEV2",
        "Data categories": ["payroll", "national ID"],
        "Jurisdictions": ["EU / EEA", "China"],
    }
    return await submit_declaration(slack, {**fields, **values})


def phase_message(slack: Slack, channel: str, title: str):  # type: ignore[no-untyped-def]
    return next(m for m in reversed(slack.channel(channel).bot_messages) if m.blocks and title in m.all_text)


async def post_update(slack: Slack, channel: str, update: str) -> object:
    card = slack.channel(channel).message_with_button("Post update")
    await slack.heidi.click(card, "Post update")
    await slack.settle()
    delivery = await slack.heidi.submit({"Update": update})
    await slack.settle()
    return delivery


# Each field class, each spelling -----------------------------------------------------------------


async def test_the_declare_form_keeps_no_number_in_title_summary_or_clients(slack: Slack) -> None:
    incident = await declare(
        slack,
        title=f"Caller SSN {SSN_SPACED} exposed",
        summary=f"Export held ID {ID_FULL_WIDTH} and card {CARD_DOTTED}.",
        affected_clients=f"Acme Trading\nBeta Foods, card {CARD_MIXED}",
    )
    assert incident.title == "Caller SSN [redacted: SSN ****6789] exposed"
    assert incident.summary == (
        "Export held ID [redacted: CN resident ID ****002X] and card [redacted: bank card ****1111]."
    )
    assert incident.affected_clients == ["Acme Trading", "Beta Foods", "card [redacted: bank card ****1111]"]
    declared = (await slack.timeline(incident))[0]
    assert declared.kind == "declared" and "[redacted: SSN ****6789]" in declared.summary
    # Counted on the event, never shown: the counts carry no digit of the numbers.
    assert declared.data["redacted"] == {"bank_card": 2, "cn_id": 1, "ssn": 1}
    assert_absent("the database", await dump(slack), [*EVERY, *DIGITS])
    assert_absent("Slack", posted(slack), [*EVERY, *DIGITS])
    assert "Caller SSN [redacted: SSN ****6789] exposed" in posted(slack)
    assert not slack.violations()


async def test_checklist_notes_and_reasons_keep_no_number(slack: Slack) -> None:
    incident = await declare(slack)
    ch = incident.channel_id
    assert ch
    await slack.carol.click(phase_message(slack, ch, "Respond —"), "Note", near=ISOLATE)
    await slack.settle()
    assert not (await slack.carol.submit({"note": f"Imaged laptop of SSN {SSN_BARE} holder"})).errors
    await slack.settle()
    await slack.erin.click(phase_message(slack, ch, "Notify & communicate —"), "Not applicable", near=CAC)
    await slack.settle()
    assert not (await slack.erin.submit({"reason": f"Only card {CARD_MIXED} leaked"})).errors
    await slack.settle()
    async with slack.db.session() as s:
        items = list(await s.execute(select(ChecklistItem).where(ChecklistItem.incident_id == incident.id)))
    notes = {i.note for (i,) in items if i.note}
    reasons = {i.na_reason for (i,) in items if i.na_reason}
    assert notes == {"Imaged laptop of SSN [redacted: SSN ****6789] holder"}
    assert reasons == {"Only card [redacted: bank card ****1111] leaked"}
    events = {e.kind: e for e in await slack.timeline(incident)}
    assert events["item_note"].data["redacted"] == {"ssn": 1}
    assert events["item_na"].data["redacted"] == {"bank_card": 1}
    assert_absent("the database", await dump(slack), [SSN_BARE, CARD_MIXED, "4111111111111111"])
    assert_absent("Slack", posted(slack), [SSN_BARE, CARD_MIXED, "4111111111111111"])
    # Reopening the Note form shows the note as kept, not as typed.
    await slack.carol.click(phase_message(slack, ch, "Respond —"), "Note", near=ISOLATE)
    await slack.settle()
    assert SSN_BARE not in json.dumps(slack.carol.modal().data, ensure_ascii=False)


async def test_a_status_update_is_posted_and_kept_redacted(slack: Slack) -> None:
    incident = await declare(slack)
    ch = incident.channel_id
    assert ch
    delivery = await post_update(slack, ch, f"Victim ID {ID_SPACED} confirmed; card {CARD_DOTTED} blocked")
    assert not delivery.errors  # type: ignore[attr-defined]
    update = (await slack.timeline(incident))[-1]
    assert update.kind == "status_update"
    assert update.data["text"] == (
        "Victim ID [redacted: CN resident ID ****002X] confirmed; card [redacted: bank card ****1111] blocked"
    )
    assert update.data["redacted"] == {"bank_card": 1, "cn_id": 1}
    assert "[redacted: CN resident ID ****002X]" in slack.channel(ch).bot_messages[-1].all_text
    assert_absent("the database", await dump(slack), [ID_SPACED, CARD_DOTTED, *DIGITS])
    assert_absent("Slack", posted(slack), [ID_SPACED, CARD_DOTTED, *DIGITS])


async def test_records_notices_and_closing_keep_no_number(slack: Slack) -> None:
    base = int(slack.rt.clock.now().timestamp())
    incident = await declare(slack)
    ch = incident.channel_id
    assert ch
    await submit_form(
        slack,
        "heidi",
        "decision",
        ch,
        {
            "Decision": f"Freeze card {CARD_MIXED}",
            "Rationale": f"ID {ID_WIDE_X} seen on a forum",
            "Alternatives considered": f"Reissue SSN {SSN_SPACED}",
        },
    )
    await submit_form(
        slack,
        "carol",
        "evidence",
        ch,
        {
            "Description": f"Screenshot naming {ID_SPACED}",
            "Location": f"s3://forensics/{SSN_BARE}/shot.png",
            "Custodian": "carol",
        },
    )
    await submit_form(
        slack, "heidi", "action", ch, {"What needs doing": f"Call holder of {CARD_DOTTED}", "Owner": "bob"}
    )
    await submit_form(slack, "heidi", "phase override", ch, {"Reason": f"Holder {SSN_SPACED} waiting"})
    await submit_form(
        slack,
        "erin",
        "notify cn-pipl-57",
        ch,
        {
            "Recipient": f"Shanghai CAC re {ID_FULL_WIDTH}",
            "Reference number": f"REF {SSN_BARE}",
            "Time sent": base,
            # 59 characters typed; three markers are longer than the 64-character column.
            "channel": " ".join([CARD_MIXED] * 3),
            "content": f"Card {CARD_DOTTED} and ID {ID_SPACED}",
        },
    )
    await submit_form(slack, "dave", "nonotify", ch, {"rationale": f"Only {SSN_SPACED} affected, no EU data"})
    await submit_form(slack, "heidi", "resolve", ch, {"Stage reached": "resolved"})
    await submit_form(slack, "heidi", "close", ch, {"Lessons learned": f"Never paste {ID_WIDE_X} into chat"})
    async with slack.db.session() as s:
        decision = (await s.execute(select(Decision).where(Decision.kind == "decision"))).scalar_one()
        evidence = (await s.execute(select(Evidence))).scalar_one()
        notice = (await s.execute(select(Notification))).scalar_one()
        closed = await s.get(Incident, incident.id)
    assert decision.text == "Freeze card [redacted: bank card ****1111]"
    assert decision.rationale == "ID [redacted: CN resident ID ****002X] seen on a forum"
    assert evidence.location == "s3://forensics/[redacted: SSN ****6789]/shot.png"
    assert notice.reference == "REF [redacted: SSN ****6789]" and "****1111" in notice.content
    assert (
        closed is not None
        and closed.resolved_at is not None
        and closed.lessons == "Never paste [redacted: CN resident ID ****002X] into chat"
    )
    counted = {e.kind: e.data.get("redacted") for e in await slack.timeline(incident)}
    assert counted["decision"] == {"bank_card": 1, "cn_id": 1, "ssn": 1}
    assert counted["evidence_added"] == {"cn_id": 1, "ssn": 1}
    assert counted["action_added"] == {"bank_card": 1}
    assert counted["phase_override"] == {"ssn": 1}
    assert counted["notification_recorded"] == {"bank_card": 4, "cn_id": 2, "ssn": 1}
    assert len(notice.channel) == LIMITS[Field.CHANNEL] and "[redacted: bank card ****1111]" in notice.channel
    assert counted["notification_declined"] == {"ssn": 1}
    assert counted["closed"] == {"cn_id": 1}
    assert_absent("the database", await dump(slack), [*EVERY, *DIGITS])
    assert_absent("Slack", posted(slack), [*EVERY, *DIGITS])


async def test_a_register_entry_keeps_no_number(slack: Slack) -> None:
    await slack.alice.command("log", channel="C0GENERAL1")
    await slack.settle()
    delivery = await slack.alice.submit(
        {
            "title": f"Email with SSN {SSN_SPACED} misdirected",
            "summary": f"Attachment listed card {CARD_DOTTED}",
            "Severity": "SEV4",
            "rationale": f"Recalled; ID {ID_WIDE_X} never opened",
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()
    entry = await slack.incident()
    assert entry.kind == "log" and entry.title == "Email with SSN [redacted: SSN ****6789] misdirected"
    assert entry.not_notified_rationale == "Recalled; ID [redacted: CN resident ID ****002X] never opened"
    assert_absent("the database", await dump(slack), [*EVERY, *DIGITS])


async def test_the_guard_switched_off_keeps_a_status_update_as_typed(db_url: str) -> None:
    from tests.harness import running_bot

    async with running_bot(db_url, redact_sensitive=False) as slack:
        incident = await declare(slack, title=f"SSN {SSN_SPACED}")
        assert incident.title == f"SSN {SSN_SPACED}"
        assert incident.channel_id
        await post_update(slack, incident.channel_id, f"card {CARD_DOTTED}")
        update = (await slack.timeline(incident))[-1]
        assert update.data["text"] == f"card {CARD_DOTTED}" and "redacted" not in update.data


# Limits ------------------------------------------------------------------------------------------


async def test_a_forged_huge_status_update_is_refused_and_nothing_stored(slack: Slack) -> None:
    incident = await declare(slack)
    ch = incident.channel_id
    assert ch
    before = await slack.kinds(incident)
    posts = len(slack.channel(ch).bot_messages)
    # Signed like any submission, but 1.5 million characters: the form's max_length never ran.
    # The body-size limit turns it away at the door, before Bolt reads it.
    delivery = await post_update(slack, ch, "leak " * 300_000)
    assert delivery.status == 413  # type: ignore[attr-defined]
    # One just over the field's limit fits in a request: the domain refuses it with a field error.
    limit = LIMITS[Field.STATUS_UPDATE]
    await slack.heidi.close_modal()
    await slack.settle()
    delivery = await post_update(slack, ch, "leak " * (limit // 5 + 1))
    assert delivery.errors == {
        "update_text": f"That is too long (at most {limit} characters). Nothing was recorded."
    }  # type: ignore[attr-defined]
    assert await slack.kinds(incident) == before
    assert len(slack.channel(ch).bot_messages) == posts
    assert "leak leak" not in await dump(slack)


async def test_forged_overlong_fields_are_refused_on_every_form(slack: Slack) -> None:
    incident = await declare(slack)
    ch = incident.channel_id
    assert ch
    before = await slack.kinds(incident)
    await slack.alice.command("declare", channel="C0GENERAL1")
    await slack.settle()
    refused = await slack.alice.submit(
        {"title": "Second", "Severity": "SEV3", "summary": "x" * (LIMITS[Field.SUMMARY] + 1)}
    )
    assert "summary" in refused.errors and len(await slack.incidents()) == 1
    await slack.heidi.command("close", channel=ch)
    await slack.settle()
    # Each just over its field's limit (a far larger body is turned away at the door: 413).
    refused = await slack.heidi.submit({"Lessons learned": "y" * (LIMITS[Field.LESSONS] + 1)})
    assert "at most 3000 characters" in refused.errors["lessons"]
    await slack.carol.click(phase_message(slack, ch, "Respond —"), "Note", near=ISOLATE)
    await slack.settle()
    await slack.carol.submit({"note": "z" * (LIMITS[Field.NOTE] + 1)})
    await slack.settle()
    assert "too long" in slack.carol.ephemerals[-1].all_text.lower()
    await slack.erin.command("notify cn-pipl-57", channel=ch)
    await slack.settle()
    refused = await slack.erin.submit(
        {
            "Recipient": "CAC",
            "Reference number": "R" * 10_000,
            "Time sent": int(slack.rt.clock.now().timestamp()),
        }
    )
    assert "reference" in refused.errors
    await slack.bob.command("note " + "n" * 5000, channel=ch)
    await slack.settle()
    assert "too long" in slack.bob.ephemerals[-1].all_text.lower()
    assert await slack.kinds(incident) == before
    assert "yyyy" not in await dump(slack) and "zzzz" not in await dump(slack)


# The whole incident, with random text ------------------------------------------------------------


async def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, *argv: str) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    # The timeline key the bot derived from its signing secret, for the chain the export carries.
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    return await asyncio.to_thread(main, list(argv))


field_text = st.tuples(prose, numbers(), prose).map(lambda p: (f"{p[0]} ID: {p[1][1]}, {p[2]}", p[1]))


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(field_text, min_size=18, max_size=18))
async def test_no_number_typed_anywhere_in_a_whole_incident_is_kept_anywhere(
    slack: Slack,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    typed: list[tuple[str, tuple[str, str]]],
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = iter(t for t, _ in typed)
    needles = [n for _, (number, spelled) in typed for n in (number, spelled)]
    incident = await declare(
        slack, title=next(texts), summary=next(texts), affected_clients=f"{next(texts)}\n{next(texts)}"
    )
    ch = incident.channel_id
    assert ch
    await slack.judy.command(f"note {next(texts)}", channel=ch)
    await slack.settle()
    await slack.carol.click(phase_message(slack, ch, "Respond —"), "Note", near=ISOLATE)
    await slack.settle()
    assert not (await slack.carol.submit({"note": next(texts)})).errors
    await slack.settle()
    await slack.erin.click(phase_message(slack, ch, "Notify & communicate —"), "Not applicable", near=CAC)
    await slack.settle()
    assert not (await slack.erin.submit({"reason": next(texts)})).errors
    await slack.settle()
    assert not (await post_update(slack, ch, next(texts))).errors  # type: ignore[attr-defined]
    decision = {"Decision": next(texts), "Rationale": next(texts), "Alternatives considered": next(texts)}
    await submit_form(slack, "heidi", "decision", ch, decision)
    evidence = {"Description": next(texts), "Location": next(texts), "Custodian": "carol"}
    await submit_form(slack, "carol", "evidence", ch, evidence)
    await submit_form(slack, "heidi", "action", ch, {"What needs doing": next(texts), "Owner": "bob"})
    await slack.grace.say(ch, next(texts))
    await slack.heidi.shortcut(slack.channel(ch).messages[-1], "add_to_timeline")
    await slack.settle()
    await submit_form(slack, "heidi", "phase override", ch, {"Reason": next(texts)})
    await submit_form(slack, "heidi", "resolve", ch, {"Stage reached": "resolved"})
    await submit_form(slack, "heidi", "close", ch, {"Lessons learned": next(texts)})
    incident = await slack.incident(incident.key)
    assert incident.status == "closed" and incident.resolved_at is not None

    assert_absent("the database", await dump(slack), needles)
    assert_absent("Slack", posted(slack), needles)
    files = [(f.content or b"").decode("utf-8", "replace") for f in slack.sb.workspace.files.values()]
    assert files and all(n not in f for f in files for n in needles), "a number in an uploaded file"
    now = slack.rt.clock.now()
    config = slack.rt.deps.config
    # The renderings `breachroom postmortem`, `register` and `report` print, built in-process (the
    # CLI runs the same functions; its own path is covered by test_postmortem and test_register).
    async with slack.db.session() as s:
        pm = await postmortem.build(s, incident, config, now)
        register_rows = await register.rows(s, config, now=now)
        report = await build(s, config, Period.containing(now, "quarterly"), now)
    for fmt in ("md", "html", "json"):
        assert_absent(f"the {fmt} post-mortem", postmortem.render(pm, fmt, locale="en"), needles)
    for fmt, to_text in register.FORMATS.items():
        assert_absent(f"the {fmt} register", to_text(register_rows), needles)
    assert_absent("the report", markdown.render(report, "en", "internal"), needles)
    bundle = tmp_path / f"{incident.key}.json"
    assert (
        await cli(monkeypatch, db_url, "export", incident.key, "--include-privileged", "-o", str(bundle)) == 0
    )
    assert_absent("the export", bundle.read_text(encoding="utf-8"), needles)
    assert_absent("the logs", caplog.text, needles)
    assert_absent("the logs", "\n".join(str(r.args) for r in caplog.records), needles)
