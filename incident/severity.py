"""Severity: a suggested SEV1–SEV4 from the facts, the matrix as help text, and the
status-update cadence each level sets.

The matrix is data (``incident/data/severity.yaml``); its rules use the same facts and
conditions as the regulatory regimes. The bot only suggests: the incident commander
decides, so every suggestion carries its reasons and what could still raise it.
"""

from __future__ import annotations

from dataclasses import InitVar
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, PlainValidator, ValidationInfo, model_validator
from pydantic.dataclasses import dataclass

from incident.i18n import both, t
from incident.regimes import ConditionField, Duration, Facts, Outcome
from incident.text import LOCALES, Locale, Text, normalize_locale
from incident.yamlmodel import STRICT, Bilingual, load_model, report

DEFAULT_SEVERITY_PATH = Path(__file__).parent / "data" / "severity.yaml"

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # most severe first

# Slack's modal help text (a section's text) must stay well inside its limits.
HELP_LIMIT = 2000


def _cadence(value: Any, info: ValidationInfo) -> Duration:
    try:
        every = value if isinstance(value, Duration) else Duration.parse(value)
    except ValueError as exc:
        raise ValueError(f"{info.field_name}: {exc}") from None
    if every.unit == "bd":
        raise ValueError(f"{info.field_name} is a fixed length: use m, h or d, not business days")
    return every


@dataclass(frozen=True, config=STRICT)
class Level:
    id: Severity
    name: Bilingual
    summary: Bilingual
    cadence: Annotated[Duration, PlainValidator(_cadence)]

    @property
    def update_every(self) -> timedelta:
        return self.cadence.after(_EPOCH) - _EPOCH


@dataclass(frozen=True, config=STRICT)
class Rule:
    severity: Severity
    when: ConditionField


@dataclass(frozen=True, config=STRICT)
class SeverityMatrix:
    levels: tuple[Level, ...]
    rules: Annotated[tuple[Rule, ...], Field(min_length=1)]
    fallback: Severity
    shared: InitVar[Any] = None  # YAML anchors the rules refer to
    version: InitVar[Any] = None

    @model_validator(mode="after")
    def _levels_in_order_and_help_fits(self) -> SeverityMatrix:
        if [level.id for level in self.levels] != list(SEVERITIES):
            report((("levels",), f"levels must be {', '.join(SEVERITIES)}, each once, in that order"))
        sizes = {locale: len(_help(self, locale)) for locale in LOCALES}
        report(
            *[
                (("levels",), f"the {locale} help text is {size} characters; keep it within {HELP_LIMIT}")
                for locale, size in sizes.items()
                if size > HELP_LIMIT
            ]
        )
        return self

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
        picked: Severity = (
            max(matrix.fallback, min(possible, key=_rank), key=_rank) if possible else matrix.fallback
        )
        chosen = picked
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
    return load_model(source, SeverityMatrix, what="the severity file")


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
