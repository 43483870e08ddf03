"""The regimes file as data: regimes, each with its obligations (one clock and one notice per
recipient), and the jurisdictions and data categories the forms offer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from incident.errors import NotFound
from incident.i18n import both
from incident.regimes.conditions import Condition, Vocabulary
from incident.regimes.durations import Duration
from incident.regimes.facts import ClockStart
from incident.text import Text

RecipientKind = Literal[
    "authority", "individuals", "attorney_general", "credit_bureaus", "controller", "law_enforcement", "other"
]
RECIPIENT_KINDS: tuple[RecipientKind, ...] = get_args(RecipientKind)
NOTICE_LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
# The record fields a notice's content item may be filled from (the draft reads them).
FILL_FIELDS: tuple[str, ...] = (
    "title",
    "summary",
    "categories",
    "people_affected",
    "jurisdictions",
    "discovered_at",
    "aware_at",
    "determined_at",
    "declared_at",
    "severity",
    "cac_grade",
    "incident_type",
    "measures_taken",
    "measures_planned",
    "dpo_contact",
    "firm_contact",
    "crime_suspected",
    "law_enforcement_investigating",
    "individuals_notified",
    "encrypted",
)
OBLIGATION_SEPARATOR = "/"


@dataclass(frozen=True)
class NoticeItem:
    """One thing a notice must contain; ``fill`` the record field that answers it, ``ask`` the
    role to ask when it is unknown."""

    key: str
    text: Text
    fill: str | None = None
    ask: str | None = None


@dataclass(frozen=True)
class Source:
    cite: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class DeadlineOverride:
    when: Condition
    deadline: Duration


@dataclass(frozen=True)
class After:
    """A clock that starts when another obligation of the same regime is met."""

    key: str


@dataclass(frozen=True)
class Obligation:
    """One recipient to tell, with its own clock. No ``deadline``: a register entry only."""

    regime_id: str
    key: str
    recipient: Text
    recipient_kind: RecipientKind
    languages: tuple[str, ...]
    applies_when: Condition | None
    clock_start: ClockStart | After | None
    deadline: Duration | None
    notice_contents: tuple[NoticeItem, ...] = ()
    deadline_overrides: tuple[DeadlineOverride, ...] = ()
    target_note: Text | None = None
    notes: tuple[Text, ...] = ()
    sources: tuple[Source, ...] = ()
    unverified: Text | None = None
    line: int | None = None

    @property
    def id(self) -> str:
        """``<regime id>/<key>``: how notices, decisions and reminders name this obligation."""
        return obligation_id(self.regime_id, self.key)

    @property
    def register_only(self) -> bool:
        return self.deadline is None


@dataclass(frozen=True)
class Regime:
    """One law or guidance, with the obligations it creates."""

    id: str
    name: Text
    jurisdiction: str
    applies_when: Condition
    obligations: tuple[Obligation, ...]
    sources: tuple[Source, ...]
    notes: tuple[Text, ...] = ()
    unverified: Text | None = None
    line: int | None = None

    @property
    def register_only(self) -> bool:
        return all(o.register_only for o in self.obligations)

    def obligation(self, key: str) -> Obligation:
        for item in self.obligations:
            if item.key == key:
                return item
        raise NotFound(regime=obligation_id(self.id, key))


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: Text


@dataclass(frozen=True)
class JurisdictionGroup:
    """The codes the forms offer under one heading (a Slack option group)."""

    name: Text
    codes: tuple[Jurisdiction, ...]


@dataclass(frozen=True)
class Category:
    key: str
    name: Text


def obligation_title(regime: Regime, obligation: Obligation) -> Text:
    """How an obligation reads in both languages: its regime, then who is told."""
    return both("regime.obligation_title", regime=regime.name, recipient=obligation.recipient)


def obligation_id(regime_id: str, key: str) -> str:
    return f"{regime_id}{OBLIGATION_SEPARATOR}{key}"


def split_obligation_id(value: str) -> tuple[str, str]:
    """``("cn-pipl-57", "individuals")`` from ``cn-pipl-57/individuals``; ("", "") if malformed."""
    regime_id, sep, key = value.partition(OBLIGATION_SEPARATOR)
    return (regime_id, key) if sep and regime_id and key else ("", "")


class Regimes:
    """The loaded regimes file: regimes in file order, the jurisdictions and the categories."""

    def __init__(
        self,
        regimes: Iterable[Regime],
        source: str = "",
        jurisdictions: Iterable[JurisdictionGroup] = (),
        categories: Iterable[Category] = (),
    ) -> None:
        self._by_id = {r.id: r for r in regimes}
        self.source = source
        self.jurisdictions: tuple[JurisdictionGroup, ...] = tuple(jurisdictions)
        self.categories: tuple[Category, ...] = tuple(categories)

    def get(self, regime_id: str) -> Regime:
        try:
            return self._by_id[regime_id]
        except KeyError:
            raise NotFound(regime=regime_id) from None

    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def __iter__(self) -> Iterator[Regime]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, regime_id: object) -> bool:
        return regime_id in self._by_id

    # ------------------------------------------------------------------ obligations

    def obligations(self) -> Iterator[Obligation]:
        """Every obligation of every regime, in file order."""
        for regime in self:
            yield from regime.obligations

    def obligation(self, value: str) -> Obligation:
        """The obligation named ``<regime id>/<key>``; NotFound otherwise."""
        regime_id, key = split_obligation_id(value)
        if regime_id not in self._by_id:
            raise NotFound(regime=value)
        return self._by_id[regime_id].obligation(key)

    def has_obligation(self, value: str) -> bool:
        regime_id, key = split_obligation_id(value)
        regime = self._by_id.get(regime_id)
        return regime is not None and any(o.key == key for o in regime.obligations)

    # ------------------------------------------------------------------ what the forms offer

    def jurisdiction_codes(self) -> tuple[str, ...]:
        """Every listed code, in file order (ANY is not one: it is not a place)."""
        return tuple(j.code for group in self.jurisdictions for j in group.codes)

    def jurisdiction_name(self, code: str) -> Text:
        """A code's bilingual name; an unlisted code reads as itself."""
        for group in self.jurisdictions:
            for j in group.codes:
                if j.code == code:
                    return j.name
        return Text(code, code)

    def category_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.categories)

    def category_names(self) -> Mapping[str, Text]:
        return {c.key: c.name for c in self.categories}

    def category_name(self, key: str) -> Text:
        """A category's bilingual name; an unlisted key reads as itself."""
        return self.category_names().get(key) or Text(key, key)

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self.category_names(), frozenset(self.jurisdiction_codes()))
