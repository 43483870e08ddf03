"""YAML data files a firm edits (roles, playbooks, regimes), loaded with their line numbers.

A firm's admin edits these files by hand, so every mistake must be reported with the
line it is on, and all mistakes at once. The API is small:

- ``load_with_lines(source) -> (data, lines)``: plain Python data (dicts, lists,
  scalars) plus a ``LineMap``. ``lines(("phases", 0, "items", 2, "owner"))`` is the
  line of that field; a path that is not in the file (a missing field) falls back to
  its nearest ancestor, which is where the field should have been.
- ``Checker``: collects ``Problem``s while validating one file, with small helpers
  for the shapes every file uses (mappings, known fields, bilingual text, flags).
- ``ConfigError(path, problems)``: raised once, listing every problem, one per line:
  ``playbooks/x.yaml:42: unknown role 'hacker' (known: incident_commander, ...)``.

A YAML syntax error and a key written twice in the same mapping (which PyYAML would
otherwise silently resolve to the last one) are reported by ``load_with_lines`` itself.

Playbooks, roles, the severity matrix and drill scenarios are pydantic models validated
through ``incident/yamlmodel.py`` on top of ``load_with_lines``; ``Checker`` serves the files
not yet converted (regimes, workspace settings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from incident.text import LOCALES, Text

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


class Checker:
    """Collects the problems of one file while it is validated, then raises them together.

    Every helper takes the ``path`` of the mapping it reads and adds problems at the
    line of the offending field (or of the mapping, when a field is missing).
    """

    def __init__(self, name: str, lines: LineMap) -> None:
        self.name = name
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, path: YamlPath, message: str) -> None:
        self.problems.append(Problem(self.lines(path), message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(self.name, list(self.problems))

    def mapping(self, value: Any, path: YamlPath, what: str) -> dict[str, Any] | None:
        """``value`` if it is a mapping, else a problem and None."""
        if isinstance(value, dict):
            return value
        self.add(path, f"{what} must be a mapping of fields, not {kind_of(value)}")
        return None

    def sequence(self, value: Any, path: YamlPath, what: str) -> list[Any] | None:
        """``value`` if it is a list, else a problem and None."""
        if isinstance(value, list):
            return value
        self.add(path, f"{what} must be a list, not {kind_of(value)}")
        return None

    def fields(
        self, data: Mapping[Any, Any], path: YamlPath, *, required: Iterable[str], optional: Iterable[str]
    ) -> None:
        """Report fields that are missing or not known."""
        required = tuple(required)
        allowed = (*required, *optional)
        for key in data:
            if key not in allowed:
                self.add((*path, key), f"unknown field {key!r} (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in data:
                self.add(path, f"missing field {key!r}")

    def string(
        self,
        data: Mapping[Any, Any],
        path: YamlPath,
        field: str,
        *,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> str | None:
        """A non-empty string field (absent → None, no problem; ``fields`` reports missing ones)."""
        if field not in data or data[field] is None:
            return None
        value = data[field]
        where = (*path, field)
        if not isinstance(value, str) or not value.strip():
            self.add(where, f"{field} must be a non-empty text, not {kind_of(value)}")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.add(where, f"{field} {value!r} is not valid{': ' + hint if hint else ''}")
            return None
        return value

    def flag(self, data: Mapping[Any, Any], path: YamlPath, field: str, default: bool) -> bool:
        """A true/false field."""
        value = data.get(field, default)
        if isinstance(value, bool):
            return value
        self.add((*path, field), f"{field} must be true or false, not {value!r}")
        return default

    def text(self, data: Mapping[Any, Any], path: YamlPath, field: str) -> Text | None:
        """A bilingual field ``{zh-CN: ..., en: ...}``; both translations must be present."""
        if field not in data or data[field] is None:
            return None
        where = (*path, field)
        value = data[field]
        if isinstance(value, str):
            self.add(where, f"{field} needs both translations, e.g. {{zh-CN: ..., en: ...}}")
            return None
        value = self.mapping(value, where, field)
        if value is None:
            return None
        ok = True
        for key in value:
            if key not in LOCALES:
                self.add((*where, key), f"unknown language {key!r} in {field} (use {' and '.join(LOCALES)})")
                ok = False
        translations: dict[str, str] = {}
        for locale in LOCALES:
            text = value.get(locale)
            if text is None or (isinstance(text, str) and not text.strip()):
                self.add(where, f"{field} is missing the {locale} translation")
                ok = False
            elif not isinstance(text, str):
                self.add((*where, locale), f"{field} ({locale}) must be text, not {kind_of(text)}")
                ok = False
            else:
                translations[locale] = text.strip()
        return Text.from_dict(translations) if ok else None


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
