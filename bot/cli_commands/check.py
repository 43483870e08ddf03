"""`breachroom check`: validate every configuration file the bot would load, naming the line of each error.

Without options it checks what `breachroom serve` would load (the files the environment selects,
else the packaged ones); `--roles`, `--playbooks`, `--regimes`, `--severity` check other paths.
The validation is the loaders' own, so a file that passes here loads at start-up too.
Exit status: 0 when every file is valid, 1 when any is not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import load_settings
from incident.playbook import BUILTIN_DIR, check_report
from incident.regimes import DEFAULT_REGIMES_PATH, load_regimes
from incident.roles_config import DEFAULT_ROLES_PATH, RolesConfig, load_roles
from incident.severity import DEFAULT_SEVERITY_PATH, load_severity
from incident.yamlsource import ConfigError


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

    roles: RolesConfig | None = None
    try:
        roles = load_roles(roles_path)
        report(True, f"{roles_path}: OK — {len(roles.roles)} roles")
    except ConfigError as error:
        report(False, _problems(error))
    regime_ids: set[str] | None = None
    try:
        # A notice item's `ask:` names a role: the roles file's, when it loaded.
        regimes = load_regimes(regimes_path, roles.keys() if roles is not None else None)
        regime_ids = set(regimes.ids())
        obligations = sum(1 for _ in regimes.obligations())
        report(True, f"{regimes_path}: OK — {len(regime_ids)} regimes, {obligations} obligations")
    except ConfigError as error:
        report(False, _problems(error))
    try:
        matrix = load_severity(severity_path)
        report(True, f"{severity_path}: OK — {len(matrix.levels)} levels")
    except ConfigError as error:
        report(False, _problems(error))
    if roles is None:
        report(False, f"{playbooks_path}: not checked: the roles file they refer to is invalid")
    else:
        # Playbooks are checked against the regimes only when those loaded.
        report(*check_report(playbooks_path, roles, regime_ids))
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
