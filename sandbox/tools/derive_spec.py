"""Derive sandbox/data/web_api_methods.json from Slack's published OpenAPI description.

Run from the repository root:

    python -m sandbox.tools.derive_spec ../shared/slack-api-specs/web-api-openapi-v2.json

The output is committed so fresh clones and CI do not need the 2020 spec file.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "web_api_methods.json"


def derive(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return method -> {"params": [...], "required": [...]} plus "types" (name -> boolean,
    integer or number) for the parameters that are not plain strings; token excluded."""
    methods: dict[str, dict[str, Any]] = {}
    for path, verbs in sorted(spec["paths"].items()):
        params: set[str] = set()
        required: set[str] = set()
        types: dict[str, str] = {}
        for operation in verbs.values():
            for param in operation.get("parameters", []):
                name = param["name"]
                if name == "token":
                    continue
                params.add(name)
                if param.get("required"):
                    required.add(name)
                if param.get("type") in ("boolean", "integer", "number"):
                    types[name] = param["type"]
        entry: dict[str, Any] = {"params": sorted(params), "required": sorted(required)}
        if types:
            entry["types"] = dict(sorted(types.items()))
        methods[path.lstrip("/")] = entry
    return methods


def run(doc: str | None, derive_from: Callable[[dict[str, Any]], dict[str, Any]], default_out: Path) -> None:
    """The command line both derivations share: read Slack's spec, write the derived JSON."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("spec", type=Path)
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args()
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    derived = derive_from(spec)
    args.out.write_text(json.dumps(derived, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(derived)} methods -> {args.out}")


def main() -> None:
    run(__doc__, derive, DEFAULT_OUT)


if __name__ == "__main__":
    main()
