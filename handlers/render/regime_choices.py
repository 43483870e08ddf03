"""The jurisdictions and data categories the forms offer, as the regimes file lists them.

Pure Block Kit: grouped menus (`option_groups`) for the jurisdictions, checkboxes for a short list
of categories; past Slack's 100 options a menu becomes an external select whose options the bot
serves as one types (`suggestions`, behind the options listener in handlers/regime_choices.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from handlers.ids import ActionId
from handlers.render.common import option, plain
from incident.regimes import Regimes
from incident.text import Text

# Slack's limits: checkboxes hold 10 options, a static menu 100, an options answer 100.
MAX_CHECKBOXES = 10
MAX_STATIC_OPTIONS = 100
MAX_SUGGESTIONS = 100
# An option's text and a group's label are at most 75 characters.
MAX_OPTION_TEXT = 75

Group = tuple[str, list[dict[str, Any]]]


def _opt(name: Text, value: str, locale: str) -> dict[str, Any]:
    return option(name.get(locale)[:MAX_OPTION_TEXT], value)


def jurisdiction_groups(regimes: Regimes, locale: str) -> list[Group]:
    """(group heading, options) in file order."""
    return [
        (group.name.get(locale)[:MAX_OPTION_TEXT], [_opt(j.name, j.code, locale) for j in group.codes])
        for group in regimes.jurisdictions
    ]


def category_groups(regimes: Regimes, locale: str) -> list[Group]:
    """The categories as one untitled group (the file does not group them)."""
    return [("", [_opt(c.name, c.key, locale) for c in regimes.categories])]


def _flat(groups: list[Group]) -> list[dict[str, Any]]:
    return [o for _, options in groups for o in options]


def _as_slack_groups(groups: list[Group]) -> list[dict[str, Any]]:
    return [{"label": plain(label, MAX_OPTION_TEXT), "options": options} for label, options in groups]


def _menu(groups: list[Group], chosen: Iterable[str], action_id: str, placeholder: str) -> dict[str, Any]:
    """A multi-select of `groups`: static while Slack allows (grouped when there are headings),
    external past 100 options; `chosen` values preselected."""
    options = _flat(groups)
    wanted = set(chosen)
    initial = [o for o in options if o["value"] in wanted]
    element: dict[str, Any] = {"action_id": action_id, "placeholder": plain(placeholder, 150)}
    if len(options) > MAX_STATIC_OPTIONS:
        element.update(type="multi_external_select", min_query_length=1)
    elif len(groups) > 1 or any(label for label, _ in groups):
        element.update(type="multi_static_select", option_groups=_as_slack_groups(groups))
    else:
        element.update(type="multi_static_select", options=options)
    if initial:
        element["initial_options"] = initial
    return element


def jurisdictions_element(
    regimes: Regimes, locale: str, placeholder: str, chosen: Iterable[str] = ()
) -> dict[str, Any]:
    return _menu(jurisdiction_groups(regimes, locale), chosen, ActionId.JURISDICTIONS, placeholder)


def categories_element(
    regimes: Regimes, locale: str, placeholder: str, chosen: Iterable[str] = ()
) -> dict[str, Any]:
    """Checkboxes while they fit (all visible at once), else a menu."""
    groups = category_groups(regimes, locale)
    options = _flat(groups)
    if len(options) > MAX_CHECKBOXES:
        return _menu(groups, chosen, ActionId.DATA_CATEGORIES, placeholder)
    element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ActionId.DATA_CATEGORIES,
        "options": options,
    }
    initial = [o for o in options if o["value"] in set(chosen)]
    if initial:
        element["initial_options"] = initial
    return element


def _matches(query: str, *texts: str) -> bool:
    return any(query in text.casefold() for text in texts)


def suggestions(regimes: Regimes, action_id: str, locale: str, query: str) -> dict[str, Any]:
    """The options answer for a menu's typed `query`: every jurisdiction (or category) whose code,
    name in either language or group heading contains it, case-insensitively, at most 100."""
    needle = query.strip().casefold()
    found: list[Group] = []
    left = MAX_SUGGESTIONS
    if action_id == ActionId.JURISDICTIONS:
        for group in regimes.jurisdictions:
            in_group = _matches(needle, group.name.zh_CN.casefold(), group.name.en.casefold())
            options = [
                _opt(j.name, j.code, locale)
                for j in group.codes
                if in_group
                or _matches(needle, j.code.casefold(), j.name.zh_CN.casefold(), j.name.en.casefold())
            ][:left]
            if options:
                found.append((group.name.get(locale)[:MAX_OPTION_TEXT], options))
                left -= len(options)
        return {"option_groups": _as_slack_groups(found)}
    if action_id == ActionId.DATA_CATEGORIES:
        options = [
            _opt(c.name, c.key, locale)
            for c in regimes.categories
            if _matches(needle, c.key.casefold(), c.name.zh_CN.casefold(), c.name.en.casefold())
        ]
        return {"options": options[:MAX_SUGGESTIONS]}
    return {"options": []}
