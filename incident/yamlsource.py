"""YAML data files a firm edits (roles, playbooks, regimes), loaded with their line numbers.

A firm's admin edits these files by hand, so every mistake must be reported with the
line it is on, and all mistakes at once. The API is small:

- ``load_with_lines(source) -> (data, lines)``: plain Python data (dicts, lists,
  scalars) plus a ``LineMap``. ``lines(("phases", 0, "items", 2, "owner"))`` is the
  line of that field; a path that is not in the file (a missing field) falls back to
  its nearest ancestor, which is where the field should have been.
- ``ConfigError(path, problems)``: raised once, listing every problem, one per line:
  ``playbooks/x.yaml:42: unknown role 'hacker' (known: incident_commander, ...)``.

A YAML syntax error and a key written twice in the same mapping (which PyYAML would
otherwise silently resolve to the last one) are reported by ``load_with_lines`` itself.

Every file kind (playbooks, roles, the severity matrix, the regimes, drill scenarios, the
workspace settings export) is a pydantic model validated through ``incident/yamlmodel.py`` on
top of ``load_with_lines``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

YamlPath = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and list indexes from the root."""

TEXT_SOURCE_NAME = "<text>"


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a data file. ``line`` is 1-based; None when no line applies.

    ``path`` overrides the file name of the enclosing ``ConfigError``, so one error can
    report problems from several files (e.g. a folder of playbooks).
    """

    line: int | None
    message: str
    path: str | None = None


class ConfigError(ValueError):
    """A data file (or folder of them) is invalid; ``str()`` lists every problem, one per line."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=_problem_order)
        super().__init__(path, self.problems)

    def __str__(self) -> str:
        return "\n".join(_format_problem(self.path, problem) for problem in self.problems)


def _problem_order(problem: Problem) -> tuple[str, int]:
    # Stable sort: the file, then its lines top to bottom; file-wide problems first.
    return (problem.path or "", problem.line or 0)


def _format_problem(default_path: str, problem: Problem) -> str:
    path = problem.path or default_path
    where = f"{path}:{problem.line}" if problem.line is not None else path
    return f"{where}: {problem.message}"


class LineMap:
    """Line numbers (1-based) of every key and list entry of a loaded document."""

    def __init__(self, lines: Mapping[YamlPath, int]) -> None:
        self._lines = dict(lines)

    def __call__(self, path: YamlPath = ()) -> int | None:
        """The line of ``path``, or of its nearest ancestor present in the file."""
        path = tuple(path)
        while True:
            line = self._lines.get(path)
            if line is not None or not path:
                return line
            path = path[:-1]

    def __contains__(self, path: object) -> bool:
        return path in self._lines


def source_name(source: str | Path) -> str:
    """How a source is named in error messages: its path, or ``<text>`` for inline YAML."""
    if isinstance(source, Path):
        return str(source)
    return TEXT_SOURCE_NAME if "\n" in source else source


def read_source(source: str | Path) -> tuple[str, str]:
    """Return ``(text, name)``. A ``Path``, or a ``str`` without a newline, names a file;
    any other ``str`` is the YAML text itself."""
    name = source_name(source)
    if isinstance(source, str) and "\n" in source:
        return source, name
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8"), name
    except FileNotFoundError:
        raise ConfigError(name, [Problem(None, "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError(name, [Problem(None, "is a folder, not a YAML file")]) from None
    except UnicodeDecodeError as exc:
        problem = Problem(None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        raise ConfigError(name, [problem]) from None


def load_with_lines(source: str | Path, *, name: str | None = None) -> tuple[Any, LineMap]:
    """Parse one YAML document with the safe loader, keeping each key's line.

    ``source`` is a path or YAML text (see ``read_source``); ``name`` overrides how it is
    named in errors. An empty document gives ``None``. Raises ``ConfigError`` on a
    syntax error, an unsafe tag, or keys repeated within one mapping.
    """
    text, default_name = read_source(source)
    name = name or default_name
    loader = yaml.SafeLoader(text)
    lines: dict[YamlPath, int] = {}
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        data = None if node is None else _build(loader, node, (), lines, problems, set())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        raise ConfigError(name, [Problem(mark.line + 1 if mark else None, f"YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, [Problem(None, f"YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if problems:
        raise ConfigError(name, problems)
    return data, LineMap(lines)


def _build(
    loader: yaml.SafeLoader,
    node: Node,
    path: YamlPath,
    lines: dict[YamlPath, int],
    problems: list[Problem],
    active: set[int],
) -> Any:
    # Mapping entries were given their key's line by the caller; list entries and the
    # root get the line where their node starts.
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, ScalarNode):
        return loader.construct_object(node, deep=True)
    if id(node) in active:
        problems.append(Problem(node.start_mark.line + 1, "YAML: an alias refers to itself"))
        return None
    active.add(id(node))
    try:
        if isinstance(node, SequenceNode):
            return [
                _build(loader, child, (*path, index), lines, problems, active)
                for index, child in enumerate(node.value)
            ]
        if isinstance(node, MappingNode):
            loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            result: dict[Any, Any] = {}
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                key_line = key_node.start_mark.line + 1
                try:
                    hash(key)
                except TypeError:
                    problems.append(Problem(key_line, "YAML: a key must be a plain value"))
                    continue
                if key in first_line:
                    problems.append(
                        Problem(key_line, f"{key!r} is written twice (first on line {first_line[key]})")
                    )
                    continue
                first_line[key] = key_line
                lines[(*path, key)] = key_line
                result[key] = _build(loader, value_node, (*path, key), lines, problems, active)
            return result
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node.tag}", node.start_mark)
    finally:
        active.discard(id(node))


def kind_of(value: Any) -> str:
    """How a value read from YAML is named in a message: ``the text 'x'``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the flag {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"the value {value!r}"
