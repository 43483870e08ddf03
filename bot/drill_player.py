"""Playing a drill scenario through the sandbox workspace, the way its people would.

Every step is something a person does in Slack: a slash command, a button found by its label
in a message they can see, a form filled in and submitted — each a signed request through the
sandbox driver (``sandbox.driver.Person``), exactly as the tests drive the bot. The player never
changes the record itself; it only *reads* the database to judge whether a step took (the
expected event is on the timeline) and to show progress (phase, clocks).

Simulated time: the bot's clock follows the sandbox clock. Between steps the player moves it
forward to the next reminder due (or the next step, whichever is first) and runs what is due,
as the scheduler's wake-up would, so reminders go out at their own simulated moments.

It lives in ``bot/`` rather than ``sandbox/`` because it composes the bot, the workspace and the
domain's read models; the sandbox stays a Slack emulator that knows nothing of Breachroom.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlmodel import col, select

from bot.embedded import Embedded
from handlers.i18n import t
from handlers.ids import ActionId
from handlers.render.checklist import TITLE_MAX
from handlers.render.common import clip, escape
from incident import clocks as clock_views
from incident.overview import playbook_of
from incident.postmortem import build, render
from incident.reminders import next_due
from incident.scenarios import BUILTIN_DIR, Scenario, Step
from sandbox.driver import Person
from sandbox.observe import ChannelView, MessageView
from sandbox.server import Delivery
from storage import timeline
from storage.models import ChecklistItem, Incident, Notification, Reminder

DECLARE_CHANNEL = "C0GENERAL1"
MAX_WAKEUPS_PER_GAP = 500  # a runaway reminder loop must not hang a drill
_KEY = re.compile(r"\*?(BR-\d{4}-\d{4,})\*?")
_CHANNEL = re.compile(r"<#(C[A-Z0-9]+)(?:\|[^>]*)?>")

EXPECTED_EVENT = {
    "take_role": "role_assigned",
    "note": "note",
    "decision": "decision",
    "evidence": "evidence_added",
    "facts": "facts_changed",
    "notify": "notification_recorded",
    "advance_phase": "phase_advanced",
    "close": "closed",
}


class DrillFailed(Exception):
    """A step did not take: the bot refused it, or what was to be clicked was not there."""

    def __init__(self, number: int, step: Step, reason: str) -> None:
        super().__init__(reason)
        self.number = number
        self.step = step
        self.reason = reason


@dataclass(frozen=True)
class Status:
    phase: str
    done: int
    total: int
    open: int
    met: int
    missed: int


@dataclass
class Outcome:
    key: str
    incident_id: int
    channel_id: str
    status: Status
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    violations: int = 0


class Reporter(Protocol):
    """Where progress goes. The CLI prints it; a test may collect it."""

    def line(self, text: str) -> None: ...

    def status(self, text: str) -> None: ...


def format_offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"+{hours}h{minutes:02d}m"


class DrillPlayer:
    def __init__(
        self, env: Embedded, scenario: Scenario, *, speed: float, reporter: Reporter, locale: str
    ) -> None:
        self.env = env
        self.sb = env.sb
        self.rt = env.rt
        self.scenario = scenario
        self.speed = speed
        self.reporter = reporter
        self.locale = locale
        self.start = 0.0
        self.incident_id: int | None = None
        self.key = ""
        self.channel_id = ""
        self._last_status = ""

    # -- the run -------------------------------------------------------------------------------

    async def play(self) -> Outcome:
        began = time.monotonic()
        self.start = self.sb.clock.now()
        for number, step in enumerate(self.scenario.steps, start=1):
            await self._advance_to(self.start + step.at.total_seconds())
            result = await self._run(number, step)
            who = step.who if step.do != "take_role" else step.get("by") or step.who
            self.reporter.line(f"{format_offset(step.at):>9}  {who:<6} {step.do:<14} {result}")
            await self._show_status()
        status = await self.status()
        return Outcome(
            key=self.key,
            incident_id=self._id(),
            channel_id=self.channel_id,
            status=status,
            seconds=time.monotonic() - began,
            violations=len(self.sb.violations),
        )

    def _id(self) -> int:
        assert self.incident_id is not None
        return self.incident_id

    async def _run(self, number: int, step: Step) -> str:
        try:
            return await getattr(self, f"_do_{step.do}")(number, step)
        except DrillFailed:
            raise
        except LookupError as exc:
            raise DrillFailed(number, step, t("drill.error.not_found", self.locale, what=exc)) from exc

    # -- simulated time -----------------------------------------------------------------------

    async def _advance_to(self, target: float) -> None:
        for _ in range(MAX_WAKEUPS_PER_GAP):
            now = self.sb.clock.now()
            due = await next_due(self.rt.db)
            stop = target
            if due is not None and now < due.timestamp() + 1 < target:
                stop = due.timestamp() + 1
            if stop > now:
                if self.speed > 0:
                    await asyncio.sleep((stop - now) / self.speed)
                self.sb.clock.advance(max(0.0, stop - self.sb.clock.now()))
            if self.incident_id is not None:
                passed = await self.rt.engine.run_due()
                await self.sb.settle()
                if passed.sent:
                    await self._report_reminders(passed.sent)
            if stop >= target:
                return

    async def _report_reminders(self, ids: list[int]) -> None:
        async with self.rt.db.session() as db:
            rows = (await db.execute(select(Reminder).where(col(Reminder.id).in_(ids)))).scalars().all()
        kinds = Counter(r.kind for r in rows)
        text = ", ".join(f"{kind} ×{count}" for kind, count in sorted(kinds.items()))
        at = format_offset(timedelta(seconds=self.sb.clock.now() - self.start))
        self.reporter.line(
            f"{at:>9}  {'⏰':<6} {'reminders':<14} "
            + t("drill.cli.reminders", self.locale, count=len(rows), kinds=text)
        )

    # -- what people see -----------------------------------------------------------------------

    def person(self, name: str) -> Person:
        return self.sb.person(name)

    def channel(self) -> ChannelView:
        return self.sb.channel(self.channel_id)

    def card(self) -> MessageView:
        pins = self.channel().pins
        if not pins:
            raise LookupError("the incident card is not pinned")
        return pins[0]

    def _said(self, person: Person, ephemerals: int, dms: int) -> str:
        new = [m.all_text for m in person.ephemerals[ephemerals:]] + [m.all_text for m in person.dms[dms:]]
        text = " / ".join(" ".join(s.split()) for s in new if s.strip())
        return clip(text, 600) or "—"

    # -- reading the record (never writing it) ------------------------------------------------

    async def incident(self) -> Incident:
        async with self.rt.db.session() as db:
            found = await db.get(Incident, self._id())
            assert found is not None
            return found

    async def _count(self, kind: str) -> int:
        async with self.rt.db.session() as db:
            return sum(1 for e in await timeline.events(db, self._id()) if e.kind == kind)

    async def _clock_views(self) -> list[clock_views.ClockView]:
        async with self.rt.db.session() as db:
            incident = await db.get(Incident, self._id())
            assert incident is not None
            sent = (
                await db.execute(select(Notification).where(Notification.incident_id == incident.id))
            ).scalars()
            return clock_views.clocks(incident, list(sent), self.rt.deps.config.regimes, self.rt.clock.now())

    async def status(self) -> Status:
        incident = await self.incident()
        playbook = playbook_of(incident)
        phase = next((p for p in playbook.phases if p.key == incident.phase), playbook.phases[0])
        async with self.rt.db.session() as db:
            items = (
                await db.execute(
                    select(ChecklistItem).where(
                        ChecklistItem.incident_id == incident.id, ChecklistItem.phase == phase.key
                    )
                )
            ).scalars()
            states = [i.state for i in items]
        views = await self._clock_views()
        return Status(
            phase=phase.title.get(self.locale),
            done=sum(1 for s in states if s != "open"),
            total=len(states),
            open=sum(1 for v in views if v.state == "open"),
            met=sum(1 for v in views if v.state == "met"),
            missed=sum(1 for v in views if v.state in ("late", "overdue")),
        )

    async def _show_status(self) -> None:
        s = await self.status()
        text = t("drill.cli.status", self.locale, **asdict(s))  # the line shows every field of Status
        if text != self._last_status:
            self._last_status = text
            self.reporter.status(text)

    # -- doing and checking ---------------------------------------------------------------------

    async def _act(
        self, number: int, step: Step, person: Person, expect: str, action: Callable[[], Any]
    ) -> None:
        """Do ``action`` as ``person``; the step took only if an ``expect`` event joined the timeline."""
        before = await self._count(expect)
        ephemerals, dms = len(person.ephemerals), len(person.dms)
        await action()
        await self.sb.settle()
        if await self._count(expect) <= before:
            said = self._said(person, ephemerals, dms)
            raise DrillFailed(
                number, step, t("drill.error.nothing_recorded", self.locale, kind=expect, said=said)
            )

    def _check(self, number: int, step: Step, delivery: Delivery | None) -> None:
        if delivery is None:
            return
        if not delivery.ok:
            raise DrillFailed(number, step, t("drill.error.no_answer", self.locale, status=delivery.status))
        if delivery.errors:
            errors = "; ".join(f"{k}: {v}" for k, v in delivery.errors.items())
            raise DrillFailed(number, step, t("drill.error.field_errors", self.locale, errors=errors))

    async def _command(self, number: int, step: Step, person: Person, text: str) -> None:
        self._check(number, step, await person.command(text, channel=self.channel_id))
        await self.sb.settle()

    async def _form(self, number: int, step: Step, person: Person, text: str, values: dict[str, Any]) -> None:
        """Type a command that opens a form, then fill it in and submit it."""
        open_views = {v.id for v in self.sb.workspace.views.values()}
        await self._command(number, step, person, text)
        try:
            modal = person.modal()
        except LookupError:
            modal = None
        if modal is None or modal.id in open_views:
            said = self._said(person, max(0, len(person.ephemerals) - 1), len(person.dms))
            raise DrillFailed(number, step, t("drill.error.no_modal", self.locale) + f": {said}")
        await self._submit(number, step, person, values)

    async def _submit(self, number: int, step: Step, person: Person, values: dict[str, Any]) -> None:
        self._check(number, step, await person.submit(values))
        await self.sb.settle()

    def _now_stamp(self) -> int:
        return int(self.rt.clock.now().timestamp())

    # -- the actions ----------------------------------------------------------------------------

    async def _do_declare(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        ephemerals, dms = len(person.ephemerals), len(person.dms)
        if Path(self.scenario.source).parent == BUILTIN_DIR:
            # The bot knows the scenario: `/breach drill <id>` fills the form in.
            command, values = f"drill {self.scenario.id}", {}
        else:
            # A scenario file of the player's own: type a title and fill the form by hand.
            values = self.scenario.form_values(self.locale, self.rt.clock.now())
            command = f"drill {values.pop('title')}"
        self._check(number, step, await person.command(command, channel=DECLARE_CHANNEL))
        await self.sb.settle()
        try:
            modal = person.modal()
        except LookupError as exc:
            said = self._said(person, ephemerals, dms)
            raise DrillFailed(number, step, t("drill.error.no_modal", self.locale) + f": {said}") from exc
        await self._submit(number, step, person, values)
        told = "\n".join(m.all_text for m in person.ephemerals[ephemerals:] + person.dms[-1:])
        key, channel = _KEY.search(told), _CHANNEL.search(told)
        if key is None or channel is None:
            raise DrillFailed(
                number,
                step,
                t(
                    "drill.error.nothing_recorded",
                    self.locale,
                    kind="declared",
                    said=clip(told, 600) or modal.id,
                ),
            )
        self.key, self.channel_id = key.group(1), channel.group(1)
        async with self.rt.db.session() as db:
            found = (await db.execute(select(Incident).where(Incident.key == self.key))).scalar_one()
        self.incident_id = found.id
        if not found.is_drill:
            raise DrillFailed(number, step, t("drill.error.not_a_drill", self.locale))
        self.locale = found.locale
        return t("drill.result.declare", self.locale, key=self.key, channel=self.channel().name)

    async def _do_take_role(self, number: int, step: Step) -> str:
        who = self.person(step.who)
        by = self.person(step.get("by") or step.who)
        role = step.get("role")
        await self._act(
            number,
            step,
            by,
            "role_assigned",
            lambda: self._command(number, step, by, f"role {role} <@{who.id}|{who.user.name}>"),
        )
        role_def = self.rt.deps.config.roles.get(role)
        name = role_def.name.get(self.locale) if role_def else role
        return t("drill.result.take_role", self.locale, who=step.who, role=name, by=by.user.name)

    async def _do_click(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        incident = await self.incident()
        item = next(i for i in playbook_of(incident).items if i.key == step.get("item"))
        title = item.title.get(self.locale)
        near = f"*{escape(clip(title, TITLE_MAX))}*"
        outcome = step.get("outcome", "done")
        label = t(f"checklist.button.{outcome}", self.locale)
        action_id = ActionId.ITEM_DONE if outcome == "done" else ActionId.ITEM_NA
        # The phase checklist (it starts with a header), not a reminder that quotes the item.
        message = next(
            (
                m
                for m in reversed(self.channel().bot_messages)
                if m.blocks
                and m.blocks[0].get("type") == "header"
                and near in m.all_text
                and label in m.buttons
            ),
            None,
        )
        if message is None:
            raise LookupError(f"{label!r} for {title!r}")

        async def click() -> None:
            self._check(number, step, await person.click(message, label, near=near, action_id=action_id))
            await self.sb.settle()
            if outcome == "na":
                await self._submit(number, step, person, {"reason": step.text("reason", self.locale)})

        await self._act(number, step, person, "item_done" if outcome == "done" else "item_na", click)
        return t(f"drill.result.{outcome}", self.locale, item=title)

    async def _do_note(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        text = step.text("text", self.locale)
        await self._act(
            number, step, person, "note", lambda: self._command(number, step, person, f"note {text}")
        )
        return t("drill.result.note", self.locale, text=clip(text, 80))

    async def _do_decision(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        values: dict[str, Any] = {
            "decision": step.text("text", self.locale),
            "rationale": step.text("rationale", self.locale),
        }
        if step.get("alternatives"):
            values["alternatives"] = step.text("alternatives", self.locale)
        if step.get("approver"):
            values["approver"] = step.get("approver")
        await self._act(
            number, step, person, "decision", lambda: self._form(number, step, person, "decision", values)
        )
        return t("drill.result.decision", self.locale, text=clip(values["decision"], 80))

    async def _do_evidence(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        values: dict[str, Any] = {
            "description": step.text("description", self.locale),
            "location": step.get("location"),
            "custodian": step.get("custodian") or step.who,
            "collected_at": self._now_stamp(),
        }
        if step.get("sha256"):
            values["sha256"] = step.get("sha256")
        await self._act(
            number,
            step,
            person,
            "evidence_added",
            lambda: self._form(number, step, person, "evidence", values),
        )
        return t("drill.result.evidence", self.locale, text=clip(values["description"], 80))

    async def _do_facts(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        values: dict[str, Any] = {}
        shown: list[str] = []
        for name in (
            "people_affected",
            "data_categories",
            "jurisdictions",
            "encrypted",
            "exfiltration",
            "high_risk",
            "eu_main_establishment",
        ):
            if step.get(name) is not None:
                value = step.get(name)
                values[name] = list(value) if isinstance(value, tuple) else str(value)
                shown.append(f"{name}={','.join(value) if isinstance(value, tuple) else value}")
        if step.get("role"):
            values["processor_role"] = step.get("role")
            shown.append(f"role={step.get('role')}")
        if step.get("aware"):
            values["aware_at"] = self._now_stamp()
            shown.append("aware_at=now")
        await self._act(
            number, step, person, "facts_changed", lambda: self._form(number, step, person, "facts", values)
        )
        return t("drill.result.facts", self.locale, changes=", ".join(shown))

    async def _clock_of(self, number: int, step: Step) -> clock_views.ClockView:
        """The obligation a step names: ``regime`` (a regime id, or ``<regime id>/<key>``) and, for a
        regime with several, ``recipient_kind``."""
        regime = step.get("regime")
        kind = step.get("recipient_kind")
        views = [v for v in await self._clock_views() if regime in (v.id, v.regime_id)]
        view = next((v for v in views if kind in (None, v.obligation.recipient_kind)), None)
        if view is None:
            raise DrillFailed(number, step, t("drill.error.no_clock", self.locale, regime=regime))
        return view

    async def _do_notify(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        view = await self._clock_of(number, step)
        values: dict[str, Any] = {"recipient": step.get("recipient")}
        if step.get("reference"):
            values["reference"] = step.get("reference")
        if step.get("contents"):
            values["contents"] = list(step.get("contents"))
        await self._act(
            number,
            step,
            person,
            "notification_recorded",
            lambda: self._form(number, step, person, f"notify {view.id}", values),
        )
        after = next((v for v in await self._clock_views() if v.id == view.id), None)
        state = t(f"obligations.state.{after.state}", self.locale) if after else "—"
        return t(
            "drill.result.notify",
            self.locale,
            regime=view.name.get(self.locale),
            recipient=values["recipient"],
            state=state,
        )

    async def _do_miss(self, number: int, step: Step) -> str:
        view = await self._clock_of(number, step)
        if view.state != "overdue":
            raise DrillFailed(
                number, step, t("drill.error.not_missed", self.locale, regime=view.id, state=view.state)
            )
        deadline = (
            view.deadline_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if view.deadline_at else "—"
        )
        return t("drill.result.miss", self.locale, regime=view.name.get(self.locale), deadline=deadline)

    async def _do_advance_phase(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        before = (await self.incident()).phase
        override = bool(step.get("override"))

        async def advance() -> None:
            ephemerals = len(person.ephemerals)
            self._check(
                number, step, await person.click(self.card(), t("card.button.next_phase", self.locale))
            )
            await self.sb.settle()
            if not override:
                return
            label = t("phase.button.override", self.locale)
            refusal = next((m for m in reversed(person.ephemerals[ephemerals:]) if label in m.buttons), None)
            if refusal is None:
                raise LookupError(f"{label!r} in {self._said(person, ephemerals, len(person.dms))}")
            self._check(number, step, await person.click(refusal, label))
            await self.sb.settle()
            await self._submit(number, step, person, {"reason": step.text("reason", self.locale)})

        await self._act(number, step, person, "phase_advanced", advance)
        incident = await self.incident()
        titles = {p.key: p.title.get(self.locale) for p in playbook_of(incident).phases}
        key = "drill.result.override" if override else "drill.result.advance_phase"
        return t(
            key,
            self.locale,
            before=titles.get(before or "", before),
            after=titles.get(incident.phase or "", incident.phase),
        )

    async def _do_resolve(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        stage = step.get("stage", "resolved")
        await self._act(
            number, step, person, stage, lambda: self._form(number, step, person, "resolve", {"stage": stage})
        )
        return t(
            "drill.result.resolve", self.locale, stage=t(f"lifecycle.resolve.stage.{stage}", self.locale)
        )

    async def _do_close(self, number: int, step: Step) -> str:
        person = self.person(step.who)
        values: dict[str, Any] = {"lessons": step.text("lessons", self.locale)}
        if step.get("archive"):
            values["archive"] = ["archive"]
        await self._act(
            number, step, person, "closed", lambda: self._form(number, step, person, "close", values)
        )
        return t("drill.result.close", self.locale)

    # -- the post-mortem -------------------------------------------------------------------------

    async def write_postmortem(self, out: Path) -> list[Path]:
        """The post-mortem from the database alone, as Markdown and HTML, with people's real names."""
        async with self.rt.db.session() as db:
            incident = await db.get(Incident, self._id())
            assert incident is not None
            pm = await build(db, incident, self.rt.deps.config, self.rt.clock.now())
        names = {u.id: u.real_name or u.name for u in self.sb.workspace.users.values()}
        stem = f"{self.key.lower()}-{self.scenario.id}-postmortem"
        files = {out / f"{stem}.md": render(pm, "md", names), out / f"{stem}.html": render(pm, "html", names)}
        return await asyncio.to_thread(_write, out, files)


def _write(out: Path, files: dict[Path, str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)
