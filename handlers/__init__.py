"""Slack adapters: translate payloads into domain calls and domain results into Block Kit.

Every module in this package that defines `register(app, deps)` is a feature's set of
listeners; they are all attached here, so adding a feature means adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from handlers.deps import Deps


def feature_modules() -> list[str]:
    return sorted(
        f"{__name__}.{m.name}"
        for m in pkgutil.iter_modules(__path__)
        if not m.ispkg and not m.name.startswith("_")
    )


def register(app: Any, deps: Deps) -> None:
    """Attach every listener to the Bolt app."""
    from handlers import gate
    from handlers.commands import find_for
    from handlers.errors import install
    from handlers.membership import forget_all

    install(app, lambda: deps.locale)
    forget_all()
    gate.install(app, deps, find_for)
    for name in feature_modules():
        module = importlib.import_module(name)
        hook = getattr(module, "register", None)
        if callable(hook):
            hook(app, deps)
