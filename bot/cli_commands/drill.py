"""`breachroom drill --offline`: play a drill scenario against the embedded sandbox workspace.

The bot runs for real (HTTP, signed requests, its own database); the scenario's people act
through the sandbox driver; simulated time runs ``--speed`` times faster than real time. At the
end the post-mortem is written as Markdown and HTML. Exit 0 when every step took, 1 when one
did not (the message says which and why), 2 for a usage or set-up problem.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from incident.scenarios import Scenario

DEFAULT_SCENARIO = "portal-credential-stuffing"
DEFAULT_SPEED = 43_200.0  # half a simulated day a second: a 3-day scenario waits about 6 s
DEFAULT_OUT = Path("var") / "drills"


class TerminalReporter:
    """One line per step; on a terminal the status line is redrawn in place, elsewhere printed on change."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._status = ""

    def _clear(self) -> None:
        if self.tty and self._status:
            self.stream.write("\r\033[K")

    def line(self, text: str) -> None:
        self._clear()
        self.stream.write(text + "\n")
        if self.tty and self._status:
            self.stream.write(self._status)
        self.stream.flush()

    def status(self, text: str) -> None:
        if self.tty:
            self._clear()
            self._status = f"           ▸ {text}"
            self.stream.write(self._status)
        else:
            self.stream.write(f"{'':11}▸ {text}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self._status:
            self.stream.write("\n")
            self._status = ""
        self.stream.flush()


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the speed can't be negative (0 means as fast as possible)")
    return value


def _scenario(args: argparse.Namespace, settings: Settings) -> Scenario | None:
    """The scenario to play, checked against the firm's configuration before anything starts."""
    from handlers.i18n import t
    from incident.config import load_config
    from incident.scenarios import load_scenario, load_scenarios

    config = load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file)
    if args.scenario_file:
        return load_scenario(Path(args.scenario_file), config=config)
    scenarios = load_scenarios(config=config)
    if args.scenario not in scenarios:
        known = ", ".join(sorted(scenarios))
        message = t("drill.cli.unknown_scenario", settings.locale, name=args.scenario, known=known)
        print(f"breachroom: {message}", file=sys.stderr)
        return None
    return scenarios[args.scenario]


async def _play(args: argparse.Namespace, scenario: Scenario, database_url: str, locale: str) -> int:
    from bot.drill_player import DrillFailed, DrillPlayer, format_offset
    from bot.embedded import embedded
    from handlers.i18n import t
    from incident.durations import duration

    async with embedded(database_url, locale=locale) as env:
        reporter = TerminalReporter(sys.stdout)
        speed = (
            t("drill.cli.speed", locale, speed=f"{args.speed:g}")
            if args.speed
            else t("drill.cli.speed_max", locale)
        )
        reporter.line(
            t(
                "drill.cli.start",
                locale,
                id=scenario.id,
                title=scenario.title.get(locale),
                length=duration(scenario.length, locale),
                speed=speed,
            )
        )
        player = DrillPlayer(env, scenario, speed=args.speed, reporter=reporter, locale=locale)
        try:
            outcome = await player.play()
        except DrillFailed as failed:
            reporter.finish()
            step = failed.step
            print(
                "breachroom: "
                + t(
                    "drill.cli.failed",
                    locale,
                    number=failed.number,
                    at=format_offset(step.at),
                    who=step.who,
                    do=step.do,
                    line=step.line or "?",
                    reason=failed.reason,
                ),
                file=sys.stderr,
            )
            return 1
        reporter.finish()
        files = await player.write_postmortem(Path(args.out))
        s = outcome.status
        print(
            t(
                "drill.cli.done",
                player.locale,
                key=outcome.key,
                seconds=f"{outcome.seconds:.1f}",
                met=s.met,
                missed=s.missed,
            )
        )
        for path in files:
            print(t("drill.cli.wrote", player.locale, path=path))
        if outcome.violations:
            print(
                f"breachroom: warning: {outcome.violations} Slack rule violation(s) seen by the sandbox",
                file=sys.stderr,
            )
    return 0


def cmd_drill(args: argparse.Namespace) -> int:
    from incident.yamlsource import ConfigError
    from storage.migrate import upgrade

    if not args.offline:
        print(
            "breachroom: drills run against the built-in sandbox workspace only: add --offline",
            file=sys.stderr,
        )
        return 2
    settings = load_settings()
    try:
        scenario = _scenario(args, settings)
    except ConfigError as exc:
        print(f"breachroom: the scenario has mistakes:\n{exc}", file=sys.stderr)
        return 2
    if scenario is None:
        return 2
    root = logging.getLogger()
    level = root.level
    if not args.verbose:
        # The bot's own log would bury the live view; its warnings still show.
        root.setLevel(max(level, logging.WARNING))
    try:
        with tempfile.TemporaryDirectory(prefix="breachroom-drill-") as scratch:
            database_url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'drill.db'}"
            upgrade(database_url)
            return asyncio.run(_play(args, scenario, database_url, settings.locale))
    except OSError as exc:
        print(f"breachroom: cannot start the sandbox: {exc}", file=sys.stderr)
        return 2
    finally:
        root.setLevel(level)


def add(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "drill", help="play a breach drill scenario against the built-in sandbox workspace"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="run against the embedded sandbox workspace (no Slack app needed; required)",
    )
    parser.add_argument(
        "--scenario", default=DEFAULT_SCENARIO, help=f"scenario id (default {DEFAULT_SCENARIO})"
    )
    parser.add_argument("--scenario-file", default=None, help="play this scenario file instead")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=DEFAULT_SPEED,
        help=f"simulated seconds per real second (default {DEFAULT_SPEED:g}; 0: as fast as possible)",
    )
    parser.add_argument(
        "--out", default=str(DEFAULT_OUT), help=f"folder for the post-mortem files (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--database-url", default=None, help="default: a throw-away SQLite database in a temporary folder"
    )
    parser.add_argument("--verbose", action="store_true", help="show the bot's own log lines too")
    parser.set_defaults(func=cmd_drill)
