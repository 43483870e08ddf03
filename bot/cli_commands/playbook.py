"""`breachroom playbook check FILE` and `breachroom playbook show [ID] [--locale zh-CN|en]`.

Both read the roles and regimes the bot itself would use (settings → files), so a playbook that
passes `check` here loads at start-up too.
"""

from __future__ import annotations

import argparse
import sys

from bot.settings import load_settings
from incident.config import load_config
from incident.playbook import check_report, render_playbook
from incident.regimes import load_regimes
from incident.roles_config import load_roles
from incident.text import LOCALES, normalize_locale
from incident.yamlsource import ConfigError


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        roles = load_roles(settings.roles_file)
        regimes = load_regimes(settings.regimes_file)
    except ConfigError as error:
        print(f"cannot check playbooks: the configuration they refer to is invalid\n{error}", file=sys.stderr)
        return 2
    ok, text = check_report(args.file, roles, set(regimes.ids()))
    print(text, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_show(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        config = load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file)
    except ConfigError as error:
        print(f"the configuration is invalid:\n{error}", file=sys.stderr)
        return 2
    playbook_id = args.playbook_id or args.id or config.default_playbook
    if playbook_id not in config.playbooks:
        known = ", ".join(sorted(config.playbooks))
        print(f"no playbook {playbook_id!r} (known: {known})", file=sys.stderr)
        return 1
    locale = normalize_locale(args.locale or settings.locale)
    print(render_playbook(config.playbooks[playbook_id], locale, config.roles), end="")
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    playbook = sub.add_parser("playbook", help="check or show playbooks")
    actions = playbook.add_subparsers(dest="playbook_command", required=True)

    check = actions.add_parser("check", help="validate a playbook file (or a folder of them)")
    check.add_argument("file", help="a playbook .yaml file or a folder of them")
    check.set_defaults(func=cmd_check)

    show = actions.add_parser("show", help="print a playbook's phases and items")
    show.add_argument(
        "playbook_id", nargs="?", metavar="ID", help="playbook id, e.g. data_breach (default: the default)"
    )
    show.add_argument("--id", help=argparse.SUPPRESS)  # the older spelling still works
    show.add_argument("--locale", choices=LOCALES, help="language (default: the workspace's)")
    show.set_defaults(func=cmd_show)
