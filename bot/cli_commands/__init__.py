"""Further `breachroom` subcommands: each module here defines `add(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path


def write_output(text: str, output: str | None, written: str) -> None:
    """A command's `text` into the file `output`, then `written` said; to stdout without a file."""
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(written)
    else:
        sys.stdout.write(text)


def add_all(sub: argparse._SubParsersAction) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.add(sub)
