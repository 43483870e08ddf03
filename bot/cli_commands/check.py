"""`breachroom check`: validate every configuration file the bot would load, naming the line of each error.

Without options it checks what `breachroom serve` would load (the files the environment selects,
else the packaged ones); `--roles`, `--playbooks`, `--regimes`, `--severity` check other paths.
The validation is the loaders' own, so a file that passes here loads at start-up too.
Exit status: 0 when every file is valid, 1 when any is not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.settings import load_settings
from incident.playbook import BUILTIN_DIR, check_report
from incident.regimes import DEFAULT_REGIMES_PATH, load_regimes
from incident.roles_config import DEFAULT_ROLES_PATH, load_roles
from incident.severity import DEFAULT_SEVERITY_PATH, load_severity
from incident.yamlsource import ConfigError

T = TypeVar("T")


def _problems(error: ConfigError) -> str:
    count = len(error.problems)
    return f"{error}\n{count} problem{'s' if count != 1 else ''} found."


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    roles_path = Path(args.roles or settings.roles_file or DEFAULT_ROLES_PATH)
    regimes_path = Path(args.regimes or settings.regimes_file or DEFAULT_REGIMES_PATH)
    playbooks_path = Path(args.playbooks or settings.playbook_dir or BUILTIN_DIR)
    severity_path = Path(args.severity or DEFAULT_SEVERITY_PATH)
    failed = False

    def report(ok: bool, text: str) -> None:
        nonlocal failed
        failed = failed or not ok
        print(text, file=sys.stdout if ok else sys.stderr)

    def check(path: Path, load: Callable[[Path], T], summary: Callable[[T], str]) -> T | None:
        """Every file kind takes this path: its loader's own validation, then one line saying so."""
        try:
            loaded = load(path)
        except ConfigError as error:
            report(False, _problems(error))
            return None
        report(True, f"{path}: OK — {summary(loaded)}")
        return loaded

    roles = check(roles_path, load_roles, lambda roles: f"{len(roles.roles)} roles")
    # A notice item's `ask:` names a role: the roles file's, when it loaded.
    regimes = check(
        regimes_path,
        lambda path: load_regimes(path, roles.keys() if roles is not None else None),
        lambda regimes: f"{len(regimes.ids())} regimes, {sum(1 for _ in regimes.obligations())} obligations",
    )
    check(severity_path, load_severity, lambda matrix: f"{len(matrix.levels)} levels")
    if roles is None:
        report(False, f"{playbooks_path}: not checked: the roles file they refer to is invalid")
    else:
        # Playbooks are checked against the regimes only when those loaded.
        report(*check_report(playbooks_path, roles, set(regimes.ids()) if regimes is not None else None))
    report(not failed, "all configuration files are valid" if not failed else "the configuration has errors")
    return 1 if failed else 0


def add(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    check = sub.add_parser("check", help="validate the roles, playbooks, regimes and severity files")
    check.add_argument("--roles", help="roles file (default: BREACHROOM_ROLES_FILE, else the packaged one)")
    check.add_argument(
        "--playbooks", help="playbook file or folder (default: BREACHROOM_PLAYBOOK_DIR, else packaged)"
    )
    check.add_argument(
        "--regimes", help="regimes file (default: BREACHROOM_REGIMES_FILE, else the packaged one)"
    )
    check.add_argument("--severity", help="severity matrix file (default: the packaged one)")
    check.set_defaults(func=cmd_check)
