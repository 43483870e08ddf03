"""Lines about facts the firm answered once and about jurisdictions no regime covers (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handlers.i18n import t
from handlers.render.common import escape
from handlers.render.labels import fact_label, joined
from incident.text import Text


def uncovered_line(names: Sequence[Text], locale: str) -> str | None:
    """The warning that no regime covers some of the incident's places, or None when all are."""
    if not names:
        return None
    places = joined((escape(n.get(locale)) for n in names), locale)
    key = "firm_facts.uncovered.one" if len(names) == 1 else "firm_facts.uncovered.many"
    return t(key, locale, places=places)


def from_settings_line(used: Mapping[str, bool], locale: str, command: str) -> str | None:
    """Which facts came from the firm's settings (App Home), or None when none did."""
    if not used:
        return None
    answers = [
        t(
            "firm_facts.answer",
            locale,
            fact=fact_label(fact, locale),
            answer=t(f"firm_facts.value.{'yes' if value else 'no'}", locale),
        )
        for fact, value in used.items()
    ]
    return t("firm_facts.from_settings", locale, facts=joined(answers, locale), command=command)
