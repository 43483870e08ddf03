"""The post-mortem, from declaration to close: every section says what was done, when and by whom,
the HTML page shows the same figures as the Markdown file, and the export re-verifies on its own."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import aiohttp
import pytest

from bot.cli import main
from handlers.postmortem import build_postmortem, names_for, people_in
from incident.postmortem import render
from storage import timeline
from tests.harness import SIGNING_SECRET, Slack, record_notice, submit_form
from tests.test_records import declare

HOUR = 3600
SHA = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
PIPL = "Personal-information breach notice (PIPL Art. 57)"
GDPR33 = "Breach notification to the supervisory authority (GDPR Art. 33)"
GDPR34 = "Communication to the data subjects (GDPR Art. 34)"
ISOLATE = "Isolate affected systems"
CAC = "Report the incident to the provincial CAC"


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def near(at: datetime, text: str) -> bool:
    """The sandbox clock is wall time plus an offset: a step taken seconds after `at` may land in
    the next minute."""
    return stamp(at) in text or stamp(at + timedelta(minutes=1)) in text


# Reading the two renderings back into (section title, cells) -------------------------------------


def md_sections(md: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in md.splitlines():
        if line.startswith("## "):
            out.append((line[3:], []))
        elif out and line.startswith("| ") and not line.startswith("|---"):
            cells = re.split(r"(?<!\\) \| ", line[2:-2])
            out[-1][1].extend(c.replace("\\|", "|").replace("<br>", "\n").strip() for c in cells)
        elif out and line.startswith("- **"):
            out[-1][1].append(line.split("**: ", 1)[1].replace("\\|", "|").replace("<br>", "\n"))
    return out


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, list[str]]] = []
        self._cell: list[str] | None = None
        self._h2: list[str] | None = None
        self.svg = 0
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.external.append(value)
        if tag == "svg":
            self.svg += 1
        if tag == "h2":
            self._h2 = []
        elif tag in ("td", "th", "dd") and self.sections:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._h2 is not None:
            self.sections.append(("".join(self._h2), []))
            self._h2 = None
        elif tag in ("td", "th", "dd") and self._cell is not None:
            self.sections[-1][1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._h2 is not None:
            self._h2.append(data)
        elif self._cell is not None:
            self._cell.append(data)


def html_sections(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


def rows(md: str, section: str) -> list[str]:
    """The table lines of one Markdown section."""
    body = md.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in body.splitlines() if line.startswith("| ")]


def row(md: str, section: str, *needles: str) -> str:
    found = [r for r in rows(md, section) if all(n in r for n in needles)]
    assert len(found) == 1, (section, needles, rows(md, section))
    return found[0]


def uploaded(slack: Slack, channel: str) -> list[tuple[str, str]]:
    """(message text, file content) of every file the bot uploaded to the channel."""
    out = []
    for msg in slack.channel(channel).bot_messages:
        for f in msg.files:
            stored = slack.sb.workspace.files[f["id"]]
            out.append((msg.text, (stored.content or b"").decode("utf-8")))
    return out


# Driving an incident through the front door ------------------------------------------------------


def at(base: int, hours: float) -> int:
    return int(base + hours * HOUR)


async def run_incident(slack: Slack) -> tuple[object, int]:
    """Declare → record → hand over → checklist → phase override → contain → notify → resolve → close."""
    base = int(slack.rt.clock.now().timestamp())
    incident = await declare(
        slack,
        "Client portal payroll export leaked",
        **{
            "Discovered at": at(base, -6),
            "Was the data encrypted (key safe)?": "No",
            "Our role for this data": "Controller (we decide why the data is processed)",
        },
    )
    ch = incident.channel_id
    # The firm's EU main establishment is in Ireland: GDPR Art. 33 goes to the lead authority alone.
    await submit_form(slack, "heidi", "facts", ch, {"aware_at": at(base, -2), "eu_main_establishment": "Yes"})

    slack.sb.clock.advance(1 * HOUR)
    await slack.judy.command("note Portal export endpoint disabled by IT", channel=ch)
    await slack.settle()
    await submit_form(
        slack,
        "heidi",
        "decision",
        ch,
        {
            "Decision": "Take the client portal offline",
            "Rationale": "Exports still reachable from the internet",
            "Alternatives considered": "Rotate credentials only",
            "Approver": "dave",
        },
    )
    await submit_form(
        slack,
        "carol",
        "evidence",
        ch,
        {
            "Description": "Portal access logs",
            "Location": "s3://forensics/portal-logs.tar.gz",
            "SHA-256": SHA,
            "Custodian": "carol",
            "Collected at": at(base, 0.5),
        },
    )
    due = (datetime.fromtimestamp(base, UTC) + timedelta(days=30)).date().isoformat()
    await submit_form(
        slack,
        "heidi",
        "action",
        ch,
        {
            "What needs doing": "Require MFA on portal exports",
            "Owner": "bob",
            "Due date": due,
            "Category": "policy",
        },
    )
    await submit_form(
        slack,
        "heidi",
        "action",
        ch,
        {"What needs doing": "Train staff on export permissions", "Owner": "erin", "Category": "training"},
    )
    await slack.erin.command("actions", channel=ch)
    await slack.settle()
    await slack.erin.click(slack.erin.ephemerals[-1], "Done", near="Train staff")
    await slack.settle()

    slack.sb.clock.advance(1 * HOUR)  # B+2h: the technical lead hands over
    await slack.heidi.command("role tech_lead <@UIVAN0001|ivan>", channel=ch)
    await slack.settle()

    respond = next(
        m for m in reversed(slack.channel(ch).bot_messages) if m.blocks and "Respond —" in m.all_text
    )
    await slack.bob.click(respond, "Done", near=ISOLATE)
    await slack.settle()
    notify = next(
        m
        for m in reversed(slack.channel(ch).bot_messages)
        if m.blocks and "Notify & communicate —" in m.all_text
    )
    await slack.erin.click(notify, "Not applicable", near=CAC)
    await slack.settle()
    await slack.erin.submit({"reason": "Fewer than 1,000,000 people: below the CAC threshold"})
    await slack.settle()
    await submit_form(slack, "heidi", "phase override", ch, {"Reason": "Forensics must start now"})

    slack.sb.clock.advance(3 * HOUR)  # B+5h
    await submit_form(
        slack, "heidi", "resolve", ch, {"Stage reached": "contained", "Contained at": at(base, 4)}
    )

    slack.sb.clock.advance(6 * HOUR)  # B+11h
    await record_notice(
        slack, "erin", ch, "cn-pipl-57", "Shanghai CAC office", "PIPL-2026-0042", at(base, 10)
    )
    slack.sb.clock.advance(70 * HOUR)  # B+81h
    await record_notice(
        slack, "dave", ch, "eu-gdpr-33", "Irish Data Protection Commission", "DPC-77421", at(base, 80)
    )
    slack.sb.clock.advance(10 * HOUR)  # B+91h
    await submit_form(
        slack, "heidi", "resolve", ch, {"Stage reached": "resolved", "Resolved at": at(base, 90)}
    )
    slack.sb.clock.advance(5 * HOUR)  # B+96h
    await submit_form(slack, "heidi", "close", ch, {"Lessons learned": "Exports need MFA and an owner."})
    return incident, base


async def test_the_post_mortem_written_on_close_says_what_was_done(slack: Slack) -> None:
    incident, base = await run_incident(slack)
    ch = incident.channel_id  # type: ignore[attr-defined]
    closed = await slack.incident()
    assert closed.status == "closed"
    files = uploaded(slack, ch)
    assert len(files) == 1, "closing uploads one post-mortem"
    summary, md = files[0]
    B = datetime.fromtimestamp(base, UTC)
    # Clocks count obligations: the PIPL authority met; the PIPL individuals, GDPR 33 and 34 missed.
    assert f"Post-mortem of {closed.key}" in summary and "1 met, 3 missed" in summary

    # Summary and impact
    assert f"- **Incident**: {closed.key}" in md and "Client portal payroll export leaked" in md
    assert "- **Severity**: SEV2" in md and "- **Status**: closed" in md
    assert "- **People affected**: 1200" in md and "- **Clients affected**: Acme Trading, Beta Foods" in md
    assert "- **Jurisdictions**: CN, EU" in md and "national ID" in md and "payroll" in md
    assert "- **Our role**: controller" in md

    # Key times
    assert stamp(B - timedelta(hours=6)) in row(md, "Key times", "Discovered")
    assert stamp(B - timedelta(hours=2)) in row(md, "Key times", "Aware")
    assert stamp(closed.declared_at) in row(md, "Key times", "Declared", "Alice Chen")
    assert stamp(B + timedelta(hours=4)) in row(md, "Key times", "Contained")
    pipl = row(md, "Key times", "Notification", "PIPL-2026-0042")
    assert stamp(B + timedelta(hours=10)) in pipl and "Shanghai CAC office" in pipl and "Erin Zhao" in pipl
    assert stamp(B + timedelta(hours=80)) in row(md, "Key times", "Notification", "DPC-77421")
    assert stamp(B + timedelta(hours=90)) in row(md, "Key times", "Resolved")
    assert stamp(closed.closed_at) in row(md, "Key times", "Closed")

    # Durations: from discovery, and per regime from its clock start
    assert "| 6h |" in row(md, "Durations", "Time to declare")
    assert "| 10h |" in row(md, "Durations", "Time to contain")
    assert "| 16h |" in row(md, "Durations", "Time to notify", "PIPL")
    assert "| 3d 10h |" in row(md, "Durations", "Time to notify", "GDPR Art. 33")
    assert "| 4d |" in row(md, "Durations", "Time to resolve")

    # Regulatory clocks: met or missed, with the reference numbers
    assert "1 met, 3 missed" in md
    assert "| met | PIPL-2026-0042 |" in row(md, "Regulatory clocks", PIPL + " → The authority")
    assert "missed (not notified)" in row(md, "Regulatory clocks", PIPL + " → The affected individuals")
    assert stamp(B + timedelta(hours=18)) in row(md, "Regulatory clocks", PIPL + " → The authority")
    assert "| missed (notified late) | DPC-77421 |" in row(md, "Regulatory clocks", GDPR33)
    assert stamp(B + timedelta(hours=70)) in row(md, "Regulatory clocks", GDPR33)
    assert "missed (not notified)" in row(md, "Regulatory clocks", GDPR34)

    # Roles over time: the handover keeps who held it from when to when
    bob = row(md, "Roles over time", "Technical lead", "Bob Li")
    ivan = row(md, "Roles over time", "Technical lead", "Ivan Petrov")
    handover = B + timedelta(hours=2)
    assert near(handover, bob) and near(handover, ivan) and "to the end" in ivan and "Heidi Sun" in ivan
    assert "Incident commander | Heidi Sun (UHEIDI001)" in md

    # Phases: Respond left by override for Investigate, which ran until close
    respond = row(md, "Phase durations", "| Respond |")
    assert stamp(closed.declared_at) in respond and near(B + timedelta(hours=2), respond)
    assert "| 2h |" in respond
    investigate = row(md, "Phase durations", "| Investigate |")
    assert "advanced by override" in investigate and stamp(closed.closed_at) in investigate
    assert "| — | — |" in row(md, "Phase durations", "| Review & improve |")  # never reached

    # Checklist outcome per phase
    assert "Respond**: 1 done, 0 not applicable, 4 left open" in md
    assert "| done | Bob Li (UBOB00001)" in row(md, "Checklist outcome", ISOLATE)
    assert "below the CAC threshold · Erin Zhao" in row(
        md, "Checklist outcome", "provincial CAC", "not applicable"
    )
    assert "| left open |" in row(md, "Checklist outcome", "Form the response team")

    # Decisions (the phase override is one too), evidence, actions, lessons
    decision = row(md, "Decisions", "Take the client portal offline")
    assert "Exports still reachable" in decision and "Rotate credentials only" in decision
    assert "Dave Müller" in decision and "Heidi Sun" in decision
    assert "Forensics must start now" in row(md, "Decisions", "investigate")
    evidence = row(md, "Evidence register (chain of custody)", SHA)
    assert "Portal access logs" in evidence and "Carol Wang" in evidence
    assert stamp(B + timedelta(minutes=30)) in evidence
    mfa = row(md, "Follow-up actions", "Require MFA")
    assert "| policy | Bob Li (UBOB00001) |" in mfa and "| open |" in mfa
    assert "| training | Erin Zhao (UERIN0001) | — | done |" in row(md, "Follow-up actions", "Train staff")
    assert "Exports need MFA and an owner." in md.split("## Lessons learned", 1)[1]

    # The full timeline and its hash-chain head as of generation
    events = await slack.timeline(closed)
    generated = next(e for e in events if e.kind == "postmortem_generated")
    before = [e for e in events if e.seq < generated.seq]
    assert len(rows(md, "Full timeline")) == len(before) + 1  # and the header
    assert "Portal export endpoint disabled by IT" in row(md, "Full timeline", "| note |")
    assert f"- **Events**: {len(before)}" in md and f"- **Hash-chain head**: {before[-1].hash}" in md
    assert "intact: nothing was changed or removed" in md
    assert generated.data["head"] == before[-1].hash and generated.data["file_id"]
    assert not slack.violations()


async def test_the_html_page_shows_the_markdowns_figures(slack: Slack) -> None:
    incident, _ = await run_incident(slack)
    ch = incident.channel_id  # type: ignore[attr-defined]
    _, closing_md = uploaded(slack, ch)[0]
    await slack.heidi.command("postmortem", channel=ch)
    await slack.settle()
    answer = slack.heidi.ephemerals[-1].all_text
    url = re.search(r"http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_.-]+", answer)
    assert url, answer
    assert len(uploaded(slack, ch)) == 2  # on demand: another file in the channel
    async with aiohttp.ClientSession() as http, http.get(url.group(0)) as response:
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
    parsed = html_sections(page)
    assert parsed.svg == 1 and parsed.external == []  # self-contained, with its phase chart
    # The page is built when it is read: same figures as the file, but for the timeline and chain
    # head, which have grown by the post-mortem's own event since.
    served = dict(parsed.sections)
    for title, cells in md_sections(closing_md):
        if title in ("Full timeline", "Timeline integrity"):
            continue
        assert served[title] == cells, title

    # And from one state of the record, the two renderings agree on every cell, timeline included.
    pm = await build_postmortem(slack.rt.deps, incident.id)  # type: ignore[attr-defined]
    names = await names_for(slack.rt.client, people_in(pm))
    assert html_sections(render(pm, "html", names)).sections == md_sections(render(pm, "md", names))


async def test_closing_a_chinese_incident_writes_a_chinese_post_mortem(db_url: str) -> None:
    from tests.harness import running_bot

    async with running_bot(db_url, locale="zh-CN") as zh:
        await zh.alice.command("declare 客户工资表泄露", channel="C0GENERAL1")
        await zh.settle()
        delivery = await zh.alice.submit({"severity": "SEV3"})
        assert not delivery.errors
        await zh.settle()
        incident = await zh.incident()
        await zh.judy.command("note 已断开导出接口 身份证 11010519491231002X", channel=incident.channel_id)
        await zh.settle()
        zh.sb.clock.advance(2 * HOUR)
        await submit_form(zh, "heidi", "close", incident.channel_id, {"lessons": "导出需要双人复核。"})
        [(summary, md)] = uploaded(zh, incident.channel_id)
        assert f"*{incident.key} 复盘报告*" in summary and "按时 0 项" in summary
        assert md.startswith(f"# 事件复盘报告：{incident.key}") or md.startswith(
            f"# 事件复盘报告: {incident.key}"
        )
        for heading in (
            "## 关键时间",
            "## 用时",
            "## 法规时限",
            "## 检查清单结果",
            "## 经验教训",
            "## 完整时间线",
        ):
            assert heading in md
        assert "导出需要双人复核。" in md and "已断开导出接口" in md
        assert "11010519491231002X" not in md and "[redacted: CN resident ID ****002X]" in md


async def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, *argv: str) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    # The bot's signing secret: with no dedicated timeline key, the chain's key derives from it.
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    return await asyncio.to_thread(main, list(argv))


async def test_the_cli_writes_every_format_and_an_export_that_reverifies_alone(
    slack: Slack, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    incident = await declare(slack)
    privileged = {
        "Decision": "Engage outside counsel",
        "Rationale": "Cross-border notice duties",
        "Legal privilege": ["Attorney-client privileged"],
    }
    await submit_form(slack, "heidi", "decision", incident.channel_id, privileged)
    capsys.readouterr()
    assert await cli(monkeypatch, db_url, "postmortem", incident.key, "--format", "md") == 0
    md = capsys.readouterr().out
    assert md.startswith(f"# Post-mortem: {incident.key}") and "## Full timeline" in md
    assert "Engage outside counsel" not in md and "legally privileged; withheld" in md
    assert (
        await cli(monkeypatch, db_url, "postmortem", incident.key, "--format", "md", "--locale", "zh-CN") == 0
    )
    zh = capsys.readouterr().out
    assert "事件复盘报告" in zh and "## 关键时间" in zh and "## 法规时限" in zh
    assert await cli(monkeypatch, db_url, "postmortem", incident.key, "--format", "html") == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    assert await cli(monkeypatch, db_url, "postmortem", incident.key, "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["incident"]["key"] == incident.key and data["verification"]["ok"] is True
    assert data["decisions"][0]["withheld"] is True and data["decisions"][0]["text"] is None

    out = tmp_path / "bundle.json"
    assert await cli(monkeypatch, db_url, "export", incident.key, "--output", str(out)) == 0
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert bundle["format"] == "breachroom-export/1" and bundle["decisions"][0]["text"] is None
    assert [r["role"] for r in bundle["roles"]][:2] == ["incident_commander", "deputy"]
    assert sum(len(p["items"]) for p in bundle["checklist"]) > 0
    # Anyone holding the file and the timeline key can recompute the chain from them alone.
    keys = slack.db.timeline_keys
    assert keys is not None
    prev = timeline.GENESIS
    for event in bundle["timeline"]:
        body = {k: event[k] for k in ("seq", "at", "actor", "kind", "summary", "data")}
        body["incident_id"] = bundle["incident"]["id"]
        assert event["prev_hash"] == prev
        prev = timeline.chain_hash(prev, body, keys.keys[event["key_id"]])
        assert event["hash"] == prev
    assert prev == bundle["verification"]["head"]
    assert await cli(monkeypatch, db_url, "export", incident.key, "--include-privileged", "-o", str(out)) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["decisions"][0]["text"] == "Engage outside counsel"
