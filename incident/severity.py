"""Severity: a suggested SEV1–SEV4 from the facts, the matrix as help text, and the
status-update cadence each level sets.

The matrix is data (``incident/data/severity.yaml``); its rules use the same facts and
conditions as the regulatory regimes. The bot only suggests: the incident commander
decides, so every suggestion carries its reasons and what could still raise it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from incident.i18n import both, t
from incident.regimes import Condition, Duration, Facts, Outcome, parse_condition
from incident.text import LOCALES, Locale, Text, normalize_locale
from incident.yamlsource import Checker, YamlPath, load_with_lines, source_name

DEFAULT_SEVERITY_PATH = Path(__file__).parent / "data" / "severity.yaml"

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # most severe first

# Slack's modal help text (a section's text) must stay well inside its limits.
HELP_LIMIT = 2000


@dataclass(frozen=True)
class Level:
    id: Severity
    name: Text
    summary: Text
    cadence: Duration

    @property
    def update_every(self) -> timedelta:
        return self.cadence.after(_EPOCH) - _EPOCH


@dataclass(frozen=True)
class Rule:
    severity: Severity
    when: Condition


@dataclass(frozen=True)
class SeverityMatrix:
    levels: tuple[Level, ...]
    rules: tuple[Rule, ...]
    fallback: Severity
    source: str = ""

    def level(self, severity: Severity | str) -> Level:
        for level in self.levels:
            if level.id == severity:
                return level
        raise ValueError(f"unknown severity {severity!r} (use {', '.join(SEVERITIES)})")


def suggest_severity(facts: Facts, matrix: SeverityMatrix | None = None) -> tuple[Severity, list[Text]]:
    """The first rule that holds sets the severity.

    Rules still undecided (a fact unknown) are skipped; the reasons then say which more
    severe level the incident could still turn out to be, and on which facts. While no
    rule holds the matrix's fallback is suggested, but never above the most severe
    level still possible.
    """
    matrix = matrix or default_matrix()
    undecided: list[tuple[Rule, Outcome]] = []
    chosen: Severity | None = None
    reasons: list[Text] = []
    for rule in matrix.rules:
        outcome = rule.when.evaluate(facts)
        if outcome.value is True:
            chosen = rule.severity
            reasons.append(_joined("severity.reason.holds", rule.severity, outcome.reasons))
            break
        if outcome.value is None:
            undecided.append((rule, outcome))
    if chosen is None:
        possible = [rule.severity for rule, _ in undecided]
        chosen = max(matrix.fallback, min(possible, key=_rank), key=_rank) if possible else matrix.fallback
        reasons.append(both("severity.reason.undecided", severity=chosen))
    for severity in SEVERITIES[: _rank(chosen)]:
        unknown = [o for rule, o in undecided if rule.severity == severity]
        if unknown:
            why = tuple(dict.fromkeys(r for o in unknown for r in o.reasons))
            reasons.append(_joined("severity.reason.could_be", severity, why))
    return chosen, reasons


def severity_help(locale: Locale | str, matrix: SeverityMatrix | None = None) -> str:
    """A short summary of the matrix for a Slack modal (≤ 2000 characters)."""
    matrix = matrix or default_matrix()
    return _help(matrix, normalize_locale(locale))


def cadence(severity: Severity | str, matrix: SeverityMatrix | None = None) -> timedelta:
    """How often the team posts a status update at this severity."""
    return (matrix or default_matrix()).level(severity).update_every


@cache
def default_matrix() -> SeverityMatrix:
    return load_severity()


def load_severity(path: str | Path | None = None) -> SeverityMatrix:
    """Load and validate a severity matrix file (None: the packaged default).

    Raises ``ConfigError`` listing every mistake with its line.
    """
    source = Path(path) if path is not None else DEFAULT_SEVERITY_PATH
    name = source_name(source)
    data, lines = load_with_lines(source)
    check = Checker(name, lines)
    root = check.mapping(data, (), "the severity file")
    matrix = _parse_matrix(root, name, check) if root is not None else None
    check.raise_if_any()
    assert matrix is not None
    return matrix


def _parse_matrix(root: dict[str, Any], name: str, check: Checker) -> SeverityMatrix | None:
    check.fields(root, (), required=("levels", "rules", "fallback"), optional=("shared", "version"))
    levels = _parse_levels(root.get("levels"), check)
    rules = _parse_rules(root.get("rules"), check)
    fallback = root.get("fallback")
    if "fallback" in root and fallback not in SEVERITIES:
        check.add(("fallback",), f"fallback {fallback!r} is not one of: {', '.join(SEVERITIES)}")
    if check.problems:
        return None
    matrix = SeverityMatrix(tuple(levels), tuple(rules), fallback, name)
    for locale in LOCALES:
        size = len(_help(matrix, locale))
        if size > HELP_LIMIT:
            check.add(
                ("levels",), f"the {locale} help text is {size} characters; keep it within {HELP_LIMIT}"
            )
    return matrix


def _parse_levels(value: Any, check: Checker) -> list[Level]:
    entries = check.sequence(value, ("levels",), "levels") if value is not None else None
    if entries is None:
        return []
    levels: list[Level] = []
    for index, entry in enumerate(entries):
        path: YamlPath = ("levels", index)
        data = check.mapping(entry, path, "a level")
        if data is None:
            continue
        check.fields(data, path, required=("id", "name", "summary", "cadence"), optional=())
        level_id = data.get("id")
        if "id" in data and level_id not in SEVERITIES:
            check.add((*path, "id"), f"level {level_id!r} is not one of: {', '.join(SEVERITIES)}")
        name = check.text(data, path, "name")
        summary = check.text(data, path, "summary")
        every = None
        if "cadence" in data:
            try:
                every = Duration.parse(data["cadence"])
            except ValueError as exc:
                check.add((*path, "cadence"), f"cadence: {exc}")
            else:
                if every.unit == "bd":
                    check.add(
                        (*path, "cadence"), "cadence is a fixed length: use m, h or d, not business days"
                    )
        if level_id in SEVERITIES and name and summary and every:
            levels.append(Level(level_id, name, summary, every))
    if [level.id for level in levels] != list(SEVERITIES) and len(levels) == len(entries):
        check.add(("levels",), f"levels must be {', '.join(SEVERITIES)}, each once, in that order")
    return levels


def _parse_rules(value: Any, check: Checker) -> list[Rule]:
    entries = check.sequence(value, ("rules",), "rules") if value is not None else None
    if entries is None:
        return []
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        path: YamlPath = ("rules", index)
        data = check.mapping(entry, path, "a rule")
        if data is None:
            continue
        check.fields(data, path, required=("severity", "when"), optional=())
        severity = data.get("severity")
        if "severity" in data and severity not in SEVERITIES:
            check.add((*path, "severity"), f"severity {severity!r} is not one of: {', '.join(SEVERITIES)}")
        when = parse_condition(data["when"], (*path, "when"), check) if "when" in data else None
        if severity in SEVERITIES and when is not None:
            rules.append(Rule(severity, when))
    if not entries:
        check.add(("rules",), "no rules defined")
    return rules


def _help(matrix: SeverityMatrix, locale: Locale) -> str:
    # Plain text: a modal's hint field does not render mrkdwn.
    lines = [
        t(
            "severity.help.level",
            locale,
            id=level.id,
            name=level.name.get(locale),
            summary=level.summary.get(locale),
            every=level.cadence.text().get(locale),
        )
        for level in matrix.levels
    ]
    lines.append(t("severity.help.who_decides", locale))
    return "\n".join(lines)


def _joined(message: str, severity: Severity, reasons: tuple[Text, ...]) -> Text:
    """`message` in both languages, its {reasons} the condition's reasons listed in each language."""

    def say(locale: Locale) -> str:
        listed = t("severity.reason.separator", locale).join(r.get(locale) for r in reasons)
        return t(message, locale, severity=severity, reasons=listed)

    return Text(say("zh-CN"), say("en"))


def _rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


# Durations are measured from a fixed instant; m, h and d have the same length from any.
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
