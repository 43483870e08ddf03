"""A card a commander reads at a glance: the severity the facts call for, accepted in one click;
the clocks that apply first; the ones that only may apply folded; no raw keys in any language."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.i18n import t
from handlers.render.card import MAX_CLOCK_SECTIONS, clock_sections
from handlers.render.labels import fact_label
from incident.clocks import clocks
from incident.config import load_config
from incident.overview import glance
from incident.regimes import CLOCK_STARTS, FACT_NAMES
from incident.roles_config import load_roles
from storage.models import Decision, Incident
from tests.harness import Slack, running_bot, submit_form, unsaved_leak

SUGGESTS_SEV2 = {
    "severity": "SEV3",
    "people_affected": "1200",
    "data_categories": ["national_id", "payroll"],
    "encrypted": "no",
}


async def declare(slack: Slack, **values: object) -> Incident:
    await slack.alice.command("declare Payroll export downloaded", channel="C0GENERAL1")
    await slack.settle()
    delivery = await slack.alice.submit(values)
    assert not delivery.errors, delivery.errors
    await slack.settle()
    return await slack.incident()


async def set_facts(slack: Slack, incident: Incident, who: str = "heidi", **values: object) -> None:
    await submit_form(slack, who, "facts", incident.channel_id, values)


def card_of(slack: Slack, incident: Incident):  # type: ignore[no-untyped-def]
    return slack.channel(incident.channel_id).pins[0].refreshed()


async def decisions(slack: Slack, incident: Incident) -> list[Decision]:
    async with slack.db.session() as s:
        rows = await s.execute(select(Decision).where(Decision.incident_id == incident.id))
        return list(rows.scalars())


# --------------------------------------------------------------------------- suggested severity


async def test_the_card_suggests_sev2_and_only_a_manager_accepts_it(slack: Slack) -> None:
    incident = await declare(slack, **SUGGESTS_SEV2)
    card = card_of(slack, incident)
    assert (
        "💡 Suggested *SEV2*: 1,200 people, national ID (ID card, SSN, TIN), payroll, not encrypted"
        in card.all_text
    )
    assert "Accept SEV2" in card.buttons

    # The tech lead may not manage: refused, nothing written.
    await slack.bob.click(card, "Accept SEV2")
    await slack.settle()
    assert "Only the incident commander" in slack.bob.ephemerals[-1].all_text
    assert (await slack.incident()).severity == "SEV3"
    assert not await decisions(slack, incident)
    assert "decision" not in await slack.kinds(incident)

    await slack.heidi.click(card, "Accept SEV2")
    await slack.settle()
    after = await slack.incident()
    assert after.severity == "SEV2"
    (decision,) = await decisions(slack, incident)
    assert decision.kind == "severity" and decision.decided_by == "UHEIDI001"
    assert "SEV3 → SEV2" in decision.text and "≥500 people affected (1,200)" in decision.rationale
    events = await slack.timeline(incident)
    changed = [e for e in events if e.kind == "severity_changed"]
    assert [(e.actor, e.data["before"], e.data["after"], e.data["suggested"]) for e in changed] == [
        ("UHEIDI001", "SEV3", "SEV2", True)
    ]
    assert [e.data["decision_id"] for e in events if e.kind == "decision"] == [decision.id]
    card = card_of(slack, incident)
    assert "SEV2" in card.all_text.splitlines()[0]
    assert "Suggested" not in card.all_text and not any("Accept" in b for b in card.buttons)
    assert "SEV2" in slack.channel(incident.channel_id).topic
    assert "as suggested" in slack.heidi.ephemerals[-1].all_text
    assert not slack.violations()


@pytest.mark.pg_only
async def test_two_managers_accepting_at_once_make_one_decision(slack: Slack) -> None:
    incident = await declare(slack, **SUGGESTS_SEV2)
    card = card_of(slack, incident)
    await asyncio.gather(slack.heidi.click(card, "Accept SEV2"), slack.ivan.click(card, "Accept SEV2"))
    await slack.settle()
    assert (await slack.incident()).severity == "SEV2"
    assert len(await decisions(slack, incident)) == 1
    assert (await slack.kinds(incident)).count("severity_changed") == 1


async def test_changed_facts_bring_a_new_suggestion_and_a_stale_accept_changes_nothing(slack: Slack) -> None:
    incident = await declare(slack, **{**SUGGESTS_SEV2, "severity": "SEV2"})
    # The incident already has the severity the facts call for: nothing to suggest.
    assert "Suggested" not in card_of(slack, incident).all_text

    await set_facts(slack, incident, encrypted="yes")
    card = card_of(slack, incident)
    assert "Suggested *SEV4*: 1,200 people" in card.all_text and "encrypted, key safe" in card.all_text
    # Slack fails to redraw the card after the next change: it still offers SEV4.
    slack.sb.faults.add(method="chat.update", kind="server_error", times=None)
    await set_facts(slack, incident, encrypted="no")
    assert "Accept SEV4" in card_of(slack, incident).buttons

    await slack.heidi.click(card, "Accept SEV4")
    await slack.settle()
    assert "the suggestion is now SEV2" in slack.heidi.ephemerals[-1].all_text
    assert (await slack.incident()).severity == "SEV2"
    assert not await decisions(slack, incident)
    assert "severity_changed" not in await slack.kinds(incident)
    slack.sb.faults.clear()
    await slack.heidi.click(card, "Refresh")
    await slack.settle()
    assert "Suggested" not in card_of(slack, incident).all_text


async def test_the_suggestion_in_chinese(db_url: str) -> None:
    async with running_bot(db_url, locale="zh-CN") as slack:
        incident = await declare(slack, **SUGGESTS_SEV2)
        card = card_of(slack, incident)
        assert (
            "💡 建议级别 *SEV2*：1,200 人、身份证件号码（身份证 / SSN / TIN）、工资薪金资料、未加密"
            in card.all_text
        )
        assert "采纳 SEV2" in card.buttons


# --------------------------------------------------------------------------- clocks at a glance


async def test_clocks_that_apply_come_first_and_the_may_apply_ones_fold_into_one_line(slack: Slack) -> None:
    # A processor must tell its client whatever the jurisdiction; the other clocks wait on facts.
    incident = await declare(
        slack,
        severity="SEV2",
        people_affected="1200",
        data_categories=["tax_return"],
        encrypted="no",
        processor_role="processor",
    )
    text = card_of(slack, incident).text_of("Regulatory clocks")
    lines = text.splitlines()
    assert (
        lines[1].startswith("*Processor tells the controller (the client) → The client")
        and "left" in lines[1]
    )
    folded = re.fullmatch(r"(\d+) more may apply: (.+) unknown — set them with `/breach facts`\.", lines[-1])
    assert folded, lines[-1]
    async with slack.db.session() as s:
        views = clocks(
            await s.get(Incident, incident.id), [], slack.rt.deps.config.regimes, slack.rt.clock.now()
        )
    may_apply = [v for v in views if v.applicability.status == "unknown"]
    assert int(folded.group(1)) == len(may_apply) >= 2
    assert folded.group(2).startswith("jurisdictions")
    assert len(lines) == 3
    # The federal clocks that may apply have no line of their own (the folded line may still name
    # a fact they wait on, such as FTC Safeguards Rule coverage).
    for name in ("FTC Safeguards Rule notification event", "IRS and the states"):
        assert name not in text

    # With nothing but the jurisdictions unknown, a controller sees a dozen clocks as one line.
    await set_facts(slack, incident, processor_role="controller")
    lines = card_of(slack, incident).text_of("Regulatory clocks").splitlines()
    folded = re.fullmatch(r"(\d+) more may apply: (.+) unknown — set them with `/breach facts`\.", lines[1])
    assert folded and int(folded.group(1)) >= 9, lines
    assert len(lines) == 2 and "California" not in "\n".join(lines)
    # /breach obligations still lists every one of them.
    await slack.heidi.command("obligations", channel=incident.channel_id)
    await slack.settle()
    assert "California breach notice" in slack.heidi.ephemerals[-1].all_text


# --------------------------------------------------------------------------- no raw keys

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
KEBAB_ID = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+){2,}\b")
MARKUP = re.compile(r"<[^>]*>|`[^`]*`")
REGIME_IDS = load_config().regimes.ids()


def raw_keys(text: str, locale: str) -> list[str]:
    """Ids a person should never read: snake_case keys, our regime ids, kebab-case ids."""
    plain = MARKUP.sub(" ", text)
    found = SNAKE.findall(plain) + KEBAB_ID.findall(plain)
    found += [r for r in REGIME_IDS if r in plain]
    if locale == "zh-CN":
        # Chinese text has no lowercase English words: a fact or role key in it is one of ours.
        known = {*FACT_NAMES, *CLOCK_STARTS, *load_roles().keys(), "processor_role"}
        found += [w for w in re.findall(r"[a-z][a-z_-]*[a-z]", plain) if w in known or "-" in w]
    return sorted(set(found))


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_no_raw_keys_on_the_card_or_in_obligations(db_url: str, locale: str) -> None:
    async with running_bot(db_url, locale=locale) as slack:
        incident = await declare(slack, severity="SEV3", data_categories=["payroll"])
        await slack.heidi.command("obligations", channel=incident.channel_id)
        await slack.settle()
        card = card_of(slack, incident).all_text
        obligations = slack.heidi.ephemerals[-1].all_text
        assert t("dayone.fact.jurisdictions", locale) in card
        assert t("dayone.fact.role", locale) in obligations
        assert raw_keys(card, locale) == []
        assert raw_keys(obligations, locale) == []


def test_the_raw_key_check_catches_what_it_is_for() -> None:
    assert raw_keys("可能适用，缺少：jurisdictions, encrypted, role", "zh-CN") == [
        "encrypted",
        "jurisdictions",
        "role",
    ]
    assert raw_keys("Still unknown: high_risk, aware_at", "en") == ["aware_at", "high_risk"]
    assert raw_keys("due soon: us-ftc-safeguards", "en") == ["us-ftc-safeguards"]
    assert (
        raw_keys("Report client tax-data theft; <!date^1^{date_short_pretty}|x> `/breach facts`", "en") == []
    )


def test_every_fact_a_regime_or_the_matrix_asks_for_has_a_label_in_both_languages() -> None:
    for name in sorted({*FACT_NAMES, *CLOCK_STARTS, "processor_role"}):
        for locale in ("zh-CN", "en"):
            label = fact_label(name, locale)
            assert label and label != t("dayone.fact.other", locale), (name, locale)
            assert "_" not in label


# --------------------------------------------------------------------------- the glance itself


def test_glance_puts_overdue_first_then_by_deadline_and_folds_the_may_apply_ones() -> None:
    config = load_config()
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    incident = unsaved_leak(
        now - timedelta(days=5), ["EU", "CN"], ["payroll"], aware_at=now - timedelta(days=1)
    )
    views = clocks(incident, [], config.regimes, now)
    seen = glance(views)
    states = [v.state for v in seen.shown]
    assert states == sorted(states, key=lambda s: s != "overdue")
    open_deadlines = [v.deadline_at for v in seen.shown if v.state == "open"]
    assert open_deadlines == sorted(open_deadlines)
    assert all(v.applicability.status == "applies" for v in seen.shown)
    assert all(v.applicability.status == "unknown" for v in seen.may_apply)
    assert seen.may_apply and set(seen.missing_facts) == {
        f for v in seen.may_apply for f in v.applicability.missing_facts
    }


def test_a_card_with_many_clocks_shows_each_line_whole_and_points_to_the_rest() -> None:
    """A multi-state incident's clocks do not fit one section: none is cut, none silently dropped."""
    lines = [f"*Regime {i} → Recipient {i}*: " + "x" * 380 for i in range(80)]
    twelve = clock_sections(lines[:12], "en", "/breach")
    shown = "\n".join(b["text"]["text"] for b in twelve)
    assert len(twelve) > 1 and all(line in shown for line in lines[:12])
    blocks = clock_sections(lines, "en", "/breach")
    texts = [b["text"]["text"] for b in blocks]
    assert len(blocks) == MAX_CLOCK_SECTIONS and all(len(text) <= 3000 for text in texts)
    kept = [line for line in lines if line in "\n".join(texts)]
    assert kept == lines[: len(kept)], "the most urgent (first) lines are the ones kept"
    assert texts[-1].endswith(f"…and {len(lines) - len(kept)} more: `/breach obligations` lists every clock.")
    # A line longer than a section is split across two, not cut.
    long = clock_sections(["z" * 7000], "en", "/breach")
    assert len(long) == 4 and "".join(b["text"]["text"] for b in long[1:]) == "z" * 7000


def test_a_long_list_of_skipped_set_up_steps_is_shown_whole_or_counted() -> None:
    """Every default set-up could not use is a line of its own on the card, none cut in half; past
    a few sections, the rest are counted, and the card stays within Slack's 50 blocks."""
    from handlers.render.card import MAX_SKIP_SECTIONS, card
    from incident.overview import Overview
    from incident.skips import Skip

    roles = load_roles()
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    incident = unsaved_leak(now, ["CN"], ["national_id"], id=3, channel_id="C0INC0001")

    def skipped_text(count: int) -> tuple[list[dict], str]:
        skips = [Skip(what="invite", target=f"U{i:08d}", reason="user_not_found") for i in range(count)]
        blocks = card(Overview(incident, {}, [], [], skipped=skips), roles, "en", now)
        return blocks, "\n".join(b.get("text", {}).get("text", "") for b in blocks)

    blocks, text = skipped_text(25)  # more than the 20 one section used to keep
    assert all(f"<@U{i:08d}>" in text for i in range(25)) and "more." not in text
    blocks, text = skipped_text(200)
    shown = [i for i in range(200) if f"<@U{i:08d}>" in text]
    assert shown == list(range(len(shown))) and 25 < len(shown) < 200
    assert f"…and {200 - len(shown)} more." in text
    skip_sections = [b for b in blocks if "<@U0000" in b.get("text", {}).get("text", "")]
    assert len(skip_sections) <= MAX_SKIP_SECTIONS and len(blocks) <= 50
