"""Further `breachroom` subcommands: each module here defines `add(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil


def add_all(sub: argparse._SubParsersAction) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.add(sub)
