"""What a notice item's ``fill`` reads from the incident's record, phrased in the notice's language.

`DraftRecord` is the record as the draft sees it (read by ``incident.notice_draft.record``);
`answer` turns one ``fill`` field into the sentence the notice carries, or None when the record
does not know it yet, which the draft shows as a marked gap for a person to fill.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from incident.i18n import Key, t
from incident.text import Text

# How many entries of a list (measures taken, planned) a notice carries before it says how many more.
LIST_MAX = 8


@dataclass(frozen=True)
class Contact:
    """A role holder named in a notice: the name Slack knows them by (else their Slack id) and role."""

    name: str
    role: Text


@dataclass(frozen=True)
class DraftRecord:
    """Everything a notice may be filled from. Unknown values are None (or empty where a list)."""

    key: str
    title: str
    summary: str = ""
    drill: bool = False
    severity: Text | None = None
    categories: tuple[Text, ...] = ()
    people_affected: int | None = None
    jurisdictions: tuple[Text, ...] = ()
    times: Mapping[str, datetime | None] = field(default_factory=dict)
    cac_grade: Text | None = None
    incident_type: Text | None = None
    measures_taken: tuple[Text, ...] = ()
    measures_planned: tuple[Text, ...] = ()
    dpo_contact: Contact | None = None
    firm_contact: Contact | None = None
    flags: Mapping[str, bool | None] = field(default_factory=dict)
    # When each notice to individuals was sent (empty: none yet).
    individuals_notified: tuple[datetime, ...] = ()


def moment(at: datetime, language: str) -> str:
    at = at.astimezone(UTC)
    return t("drafts.fill.moment", language, year=at.year, month=at.month, day=at.day, time=f"{at:%H:%M}")


def _listed(items: tuple[Text, ...], language: str) -> str | None:
    if not items:
        return None
    lines = [f"- {item.get(language)}" for item in items[:LIST_MAX]]
    more = len(items) - LIST_MAX
    if more > 0:
        lines.append("- " + t("drafts.fill.more", language, more=more))
    return "\n".join(lines)


def _joined(items: tuple[Text, ...], language: str) -> str | None:
    if not items:
        return None
    return t("drafts.fill.list_separator", language).join(item.get(language) for item in items)


def _contact(contact: Contact | None, language: str) -> str | None:
    if contact is None:
        return None
    return t("drafts.fill.contact", language, name=contact.name, role=contact.role.get(language))


# Yes / no facts: the message keys of what each answer says.
FLAG_PHRASES: Mapping[str, tuple[Key, Key]] = {
    "crime_suspected": (Key("drafts.fill.crime_suspected.yes"), Key("drafts.fill.crime_suspected.no")),
    "law_enforcement_investigating": (
        Key("drafts.fill.law_enforcement_investigating.yes"),
        Key("drafts.fill.law_enforcement_investigating.no"),
    ),
    "encrypted": (Key("drafts.fill.encrypted.yes"), Key("drafts.fill.encrypted.no")),
}
TIME_FIELDS = ("discovered_at", "aware_at", "determined_at", "declared_at")


def _flag(name: str) -> Callable[[DraftRecord, str], str | None]:
    def read(record: DraftRecord, language: str) -> str | None:
        value = record.flags.get(name)
        if value is None:
            return None
        yes, no = FLAG_PHRASES[name]
        return t(yes if value else no, language)

    return read


def _time(name: str) -> Callable[[DraftRecord, str], str | None]:
    def read(record: DraftRecord, language: str) -> str | None:
        at = record.times.get(name)
        return moment(at, language) if at is not None else None

    return read


def _people(record: DraftRecord, language: str) -> str | None:
    count = record.people_affected
    if count is None:
        return None
    return t("drafts.fill.people", language, count=count)


def _individuals(record: DraftRecord, language: str) -> str:
    sent = sorted(record.individuals_notified)
    if not sent:
        return t("drafts.fill.individuals.none", language)
    times = t("drafts.fill.individuals.separator", language).join(moment(at, language) for at in sent)
    return t("drafts.fill.individuals.notified", language, times=times)


def _text(value: Text | None, language: str) -> str | None:
    return value.get(language) if value is not None else None


READERS: Mapping[str, Callable[[DraftRecord, str], str | None]] = {
    "title": lambda r, lang: r.title or None,
    "summary": lambda r, lang: r.summary or None,
    "categories": lambda r, lang: _joined(r.categories, lang),
    "people_affected": _people,
    "jurisdictions": lambda r, lang: _joined(r.jurisdictions, lang),
    **{name: _time(name) for name in TIME_FIELDS},
    "severity": lambda r, lang: _text(r.severity, lang),
    "cac_grade": lambda r, lang: _text(r.cac_grade, lang),
    "incident_type": lambda r, lang: _text(r.incident_type, lang),
    "measures_taken": lambda r, lang: _listed(r.measures_taken, lang),
    "measures_planned": lambda r, lang: _listed(r.measures_planned, lang),
    "dpo_contact": lambda r, lang: _contact(r.dpo_contact, lang),
    "firm_contact": lambda r, lang: _contact(r.firm_contact, lang),
    **{name: _flag(name) for name in FLAG_PHRASES},
    "individuals_notified": _individuals,
}


def answer(fill: str | None, record: DraftRecord, language: str) -> str | None:
    """The record's answer to a ``fill`` field in ``language``; None when unknown (or no fill)."""
    if fill is None:
        return None
    read = READERS.get(fill)
    if read is None:
        raise KeyError(f"no reader for fill {fill!r}")
    value = read(record, language)
    return value.strip() if value and value.strip() else None
