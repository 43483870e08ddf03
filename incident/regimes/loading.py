"""The regimes file (version 2) read into the model, every mistake reported with its line.

The format is in ``incident/data/regimes.yaml``'s header and /work/briefs/regimes_v2.md:
top-level ``jurisdictions`` (groups of codes) and ``categories``, then ``regimes``, each with
one or more ``obligations`` (a recipient, a clock, the notice's contents).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from incident.regimes.conditions import ANY, Condition, Vocabulary, parse_condition
from incident.regimes.durations import Duration
from incident.regimes.facts import CATEGORY_KEY, CLOCK_STARTS, JURISDICTION_CODE, ClockStart
from incident.regimes.model import (
    FILL_FIELDS,
    NOTICE_LANGUAGES,
    RECIPIENT_KINDS,
    After,
    Category,
    DeadlineOverride,
    Jurisdiction,
    JurisdictionGroup,
    NoticeItem,
    Obligation,
    Regime,
    Regimes,
    Source,
)
from incident.text import Text
from incident.yamlsource import Checker, YamlPath, load_with_lines, source_name

DEFAULT_REGIMES_PATH = Path(__file__).parent.parent / "data" / "regimes.yaml"
VERSION = 2

_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_URL = re.compile(r"https?://\S+")
_KEY_HINT = "lowercase letters, digits and '_'"


def load_regimes(path: str | Path | None = None, role_keys: Iterable[str] | None = None) -> Regimes:
    """Load and validate a regimes file (None: the packaged default).

    ``role_keys``: the roles a notice item may ``ask`` (None: the packaged roles file's).
    Raises ``ConfigError`` listing every mistake with its line: unknown facts, bad durations
    and clock starts, unlisted jurisdictions, missing translations, duplicate ids, and the like.
    """
    source = Path(path) if path is not None else DEFAULT_REGIMES_PATH
    name = source_name(source)
    data, lines = load_with_lines(source)
    check = Checker(name, lines)
    roles = frozenset(role_keys) if role_keys is not None else _default_role_keys()
    root = check.mapping(data, (), "the regimes file")
    regimes: list[Regime] = []
    groups: tuple[JurisdictionGroup, ...] = ()
    categories: tuple[Category, ...] = ()
    if root is not None:
        check.fields(
            root, (), required=("version", "jurisdictions", "categories", "regimes"), optional=("shared",)
        )
        if "version" in root and root["version"] != VERSION:
            check.add(("version",), f"version {root['version']!r}: this Breachroom reads version {VERSION}")
        groups = _parse_jurisdictions(root, check)
        categories = _parse_categories(root, check)
        codes = frozenset(j.code for g in groups for j in g.codes)
        vocabulary = Vocabulary({c.key: c.name for c in categories}, codes)
        entries = check.sequence(root.get("regimes", []), ("regimes",), "regimes") or []
        first_line: dict[str, int | None] = {}
        for index, entry in enumerate(entries):
            path_ = ("regimes", index)
            regime = _parse_regime(entry, path_, check, vocabulary, roles)
            if regime is None:
                continue
            if regime.id in first_line:
                check.add(
                    (*path_, "id"), f"duplicate id {regime.id!r} (first on line {first_line[regime.id]})"
                )
                continue
            first_line[regime.id] = regime.line
            regimes.append(regime)
        if not entries:
            check.add(("regimes",), "no regimes defined")
    check.raise_if_any()
    return Regimes(regimes, name, groups, categories)


@cache
def _default_role_keys() -> frozenset[str]:
    from incident.roles_config import load_roles  # the roles file is read only when no keys are given

    return frozenset(load_roles().keys())


@cache
def default_vocabulary() -> Vocabulary:
    """What the packaged regimes file lets conditions name (for files with no list of their own,
    such as the severity matrix)."""
    data, lines = load_with_lines(DEFAULT_REGIMES_PATH)
    check = Checker(source_name(DEFAULT_REGIMES_PATH), lines)
    categories = _parse_categories(data, check)
    check.raise_if_any()
    return Vocabulary({c.key: c.name for c in categories})


# --------------------------------------------------------------------------- what the forms offer


def _parse_jurisdictions(root: Mapping[str, Any], check: Checker) -> tuple[JurisdictionGroup, ...]:
    where: YamlPath = ("jurisdictions",)
    entries = check.sequence(root.get("jurisdictions", []), where, "jurisdictions") or []
    groups: list[JurisdictionGroup] = []
    seen: dict[str, int | None] = {}
    for i, entry in enumerate(entries):
        path = (*where, i)
        data = check.mapping(entry, path, "a jurisdiction group")
        if data is None:
            continue
        check.fields(data, path, required=("group", "codes"), optional=())
        name = check.text(data, path, "group")
        codes: list[Jurisdiction] = []
        for j, item in enumerate(check.sequence(data.get("codes", []), (*path, "codes"), "codes") or []):
            item_path = (*path, "codes", j)
            row = check.mapping(item, item_path, "a jurisdiction")
            if row is None:
                continue
            check.fields(row, item_path, required=("code", "name"), optional=())
            code = check.string(
                row, item_path, "code", pattern=JURISDICTION_CODE, hint="CC or CC-XX in capitals, e.g. US-CA"
            )
            label = check.text(row, item_path, "name")
            if code and code in seen:
                check.add((*item_path, "code"), f"{code} is listed twice (first on line {seen[code]})")
            elif code and label:
                seen[code] = check.lines((*item_path, "code"))
                codes.append(Jurisdiction(code, label))
        if not codes and "codes" in data:
            check.add((*path, "codes"), "a group lists at least one code")
        if name and codes:
            groups.append(JurisdictionGroup(name, tuple(codes)))
    if "jurisdictions" in root and not entries:
        check.add(where, "list at least one jurisdiction")
    return tuple(groups)


def _parse_categories(root: Mapping[str, Any], check: Checker) -> tuple[Category, ...]:
    where: YamlPath = ("categories",)
    entries = check.sequence(root.get("categories", []), where, "categories") or []
    categories: list[Category] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        path = (*where, i)
        data = check.mapping(entry, path, "a data category")
        if data is None:
            continue
        check.fields(data, path, required=("key", "name"), optional=())
        key = check.string(data, path, "key", pattern=CATEGORY_KEY, hint=_KEY_HINT)
        name = check.text(data, path, "name")
        if key in seen:
            check.add((*path, "key"), f"category {key!r} is listed twice")
        elif key and name:
            seen.add(key)
            categories.append(Category(key, name))
    if "categories" in root and not entries:
        check.add(where, "list at least one data category")
    return tuple(categories)


# --------------------------------------------------------------------------- regimes


def _parse_regime(
    value: Any, path: YamlPath, check: Checker, vocabulary: Vocabulary, roles: frozenset[str]
) -> Regime | None:
    data = check.mapping(value, path, "a regime")
    if data is None:
        return None
    before = len(check.problems)
    check.fields(
        data,
        path,
        required=("id", "name", "jurisdiction", "applies_when", "sources", "obligations"),
        optional=("notes", "unverified"),
    )
    regime_id = check.string(data, path, "id", pattern=_ID, hint="lowercase letters, digits and '-'")
    name = check.text(data, path, "name")
    jurisdiction = check.string(data, path, "jurisdiction")
    if jurisdiction is not None and jurisdiction != ANY and jurisdiction not in (vocabulary.codes or ()):
        check.add(
            (*path, "jurisdiction"),
            f"jurisdiction {jurisdiction!r} is not listed under jurisdictions (or ANY)",
        )
    applies_when = parse_condition(data.get("applies_when"), (*path, "applies_when"), check, vocabulary)
    sources = _parse_sources(data, path, check, required=True)
    notes = _parse_notes(data, path, check)
    unverified = check.text(data, path, "unverified")
    obligations = _parse_obligations(data, path, regime_id or "", check, vocabulary, roles)

    if len(check.problems) > before:
        return None
    assert regime_id and name and jurisdiction and applies_when is not None
    return Regime(
        id=regime_id,
        name=name,
        jurisdiction=jurisdiction,
        applies_when=applies_when,
        obligations=obligations,
        sources=sources,
        notes=notes,
        unverified=unverified,
        line=check.lines(path),
    )


def _parse_obligations(
    data: Mapping[str, Any],
    path: YamlPath,
    regime_id: str,
    check: Checker,
    vocabulary: Vocabulary,
    roles: frozenset[str],
) -> tuple[Obligation, ...]:
    where = (*path, "obligations")
    if "obligations" not in data:
        return ()
    entries = check.sequence(data["obligations"], where, "obligations")
    if entries is None:
        return ()
    if not entries:
        check.add(where, "a regime has at least one obligation")
    parsed: list[Obligation] = []
    keys: dict[str, int] = {}
    for i, entry in enumerate(entries):
        item = _parse_obligation(entry, (*where, i), regime_id, check, vocabulary, roles)
        if item is None:
            continue
        if item.key in keys:
            check.add((*where, i, "key"), f"obligation {item.key!r} is listed twice in this regime")
            continue
        keys[item.key] = i
        parsed.append(item)
    for item in parsed:
        start = item.clock_start
        if isinstance(start, After):
            at = (*where, keys[item.key], "clock_start", "after")
            if start.key == item.key:
                check.add(at, f"{item.key!r} cannot start after itself")
            elif start.key not in keys:
                check.add(at, f"after: {start.key!r} is not an obligation of this regime ({', '.join(keys)})")
    _refuse_cycles(parsed, where, keys, check)
    return tuple(parsed)


def _refuse_cycles(
    items: list[Obligation], where: YamlPath, index: Mapping[str, int], check: Checker
) -> None:
    after = {o.key: o.clock_start.key for o in items if isinstance(o.clock_start, After)}
    for key in after:
        seen, current = [key], after[key]
        while current in after and current not in seen:
            seen.append(current)
            current = after[current]
        if current == key and len(seen) > 1:
            chain = " → ".join([*seen, key])
            check.add(
                (*where, index[key], "clock_start"), f"clock_start after: goes round in a circle ({chain})"
            )


def _parse_obligation(
    value: Any,
    path: YamlPath,
    regime_id: str,
    check: Checker,
    vocabulary: Vocabulary,
    roles: frozenset[str],
) -> Obligation | None:
    data = check.mapping(value, path, "an obligation")
    if data is None:
        return None
    before = len(check.problems)
    check.fields(
        data,
        path,
        required=("key", "recipient", "recipient_kind"),
        optional=(
            "languages",
            "applies_when",
            "clock_start",
            "deadline",
            "deadline_overrides",
            "target_note",
            "notice_contents",
            "notes",
            "sources",
            "unverified",
        ),
    )
    key = check.string(data, path, "key", pattern=_KEY, hint=_KEY_HINT)
    recipient = check.text(data, path, "recipient")
    kind = data.get("recipient_kind")
    if "recipient_kind" in data and kind not in RECIPIENT_KINDS:
        check.add(
            (*path, "recipient_kind"), f"recipient_kind {kind!r} is not one of: {', '.join(RECIPIENT_KINDS)}"
        )
    languages = _parse_languages(data, path, check)
    applies_when: Condition | None = None
    if "applies_when" in data:
        applies_when = parse_condition(data["applies_when"], (*path, "applies_when"), check, vocabulary)
    clock_start = _parse_clock_start(data, path, check)
    deadline = _parse_duration(data, path, "deadline", check)
    if (data.get("deadline") is None) != (data.get("clock_start") is None):
        check.add(
            path,
            "a deadline needs a clock_start and a clock_start needs a deadline (omit both: register only)",
        )
    overrides = _parse_overrides(data, path, check, vocabulary)
    if overrides and data.get("deadline") is None:
        check.add((*path, "deadline_overrides"), "deadline_overrides need a deadline to override")
    contents = _parse_contents(data, path, check, roles)
    target_note = check.text(data, path, "target_note")
    notes = _parse_notes(data, path, check)
    sources = _parse_sources(data, path, check, required=False)
    unverified = check.text(data, path, "unverified")
    if len(check.problems) > before:
        return None
    assert key and recipient
    return Obligation(
        regime_id=regime_id,
        key=key,
        recipient=recipient,
        recipient_kind=kind,
        languages=languages,
        applies_when=applies_when,
        clock_start=clock_start,
        deadline=deadline,
        notice_contents=contents,
        deadline_overrides=overrides,
        target_note=target_note,
        notes=notes,
        sources=sources,
        unverified=unverified,
        line=check.lines(path),
    )


def _parse_languages(data: Mapping[str, Any], path: YamlPath, check: Checker) -> tuple[str, ...]:
    if "languages" not in data:
        return ("en",)
    where = (*path, "languages")
    entries = check.sequence(data["languages"], where, "languages")
    if entries is None:
        return ("en",)
    wrong = [v for v in entries if v not in NOTICE_LANGUAGES]
    if wrong or not entries:
        check.add(where, f"languages {wrong or entries!r}: use one or both of {', '.join(NOTICE_LANGUAGES)}")
    return tuple(dict.fromkeys(v for v in entries if v in NOTICE_LANGUAGES)) or ("en",)


def _parse_clock_start(data: Mapping[str, Any], path: YamlPath, check: Checker) -> ClockStart | After | None:
    raw = data.get("clock_start")
    where = (*path, "clock_start")
    if raw is None:
        return None
    if isinstance(raw, dict):
        if set(raw) != {"after"} or not isinstance(raw["after"], str) or not _KEY.fullmatch(raw["after"]):
            check.add(where, "clock_start {after: <obligation key>} names one obligation of this regime")
            return None
        return After(raw["after"])
    if raw not in CLOCK_STARTS:
        check.add(where, f"clock_start {raw!r} is not one of: {', '.join(CLOCK_STARTS)}, or {{after: <key>}}")
        return None
    return raw  # type: ignore[no-any-return]  # checked against CLOCK_STARTS just above


def _parse_duration(data: Mapping[str, Any], path: YamlPath, key: str, check: Checker) -> Duration | None:
    raw = data.get(key)
    if raw is None:
        return None
    try:
        return Duration.parse(raw)
    except ValueError as exc:
        check.add((*path, key), f"{key}: {exc}")
        return None


def _parse_overrides(
    data: Mapping[str, Any], path: YamlPath, check: Checker, vocabulary: Vocabulary
) -> tuple[DeadlineOverride, ...]:
    where = (*path, "deadline_overrides")
    entries = check.sequence(data.get("deadline_overrides", []), where, "deadline_overrides") or []
    overrides = []
    for i, entry in enumerate(entries):
        item = check.mapping(entry, (*where, i), "a deadline override")
        if item is None:
            continue
        check.fields(item, (*where, i), required=("when", "deadline"), optional=())
        when = (
            parse_condition(item.get("when"), (*where, i, "when"), check, vocabulary)
            if "when" in item
            else None
        )
        deadline = _parse_duration(item, (*where, i), "deadline", check)
        if when is not None and deadline is not None:
            overrides.append(DeadlineOverride(when, deadline))
    return tuple(overrides)


def _parse_contents(
    data: Mapping[str, Any], path: YamlPath, check: Checker, roles: frozenset[str]
) -> tuple[NoticeItem, ...]:
    where = (*path, "notice_contents")
    if "notice_contents" not in data:
        return ()
    entries = check.sequence(data["notice_contents"], where, "notice_contents")
    if entries is None:
        return ()
    if not entries:
        check.add(where, "notice_contents needs at least one entry (or leave it out)")
    items: list[NoticeItem] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        at = (*where, i)
        item = check.mapping(entry, at, "an entry of notice_contents")
        if item is None:
            continue
        check.fields(item, at, required=("key", "text"), optional=("fill", "ask"))
        item_key = check.string(item, at, "key", pattern=_KEY, hint=_KEY_HINT)
        text = check.text(item, at, "text")
        fill = check.string(item, at, "fill")
        if fill is not None and fill not in FILL_FIELDS:
            check.add((*at, "fill"), f"fill {fill!r} is not a record field (known: {', '.join(FILL_FIELDS)})")
        ask = check.string(item, at, "ask")
        if ask is not None and ask not in roles:
            check.add((*at, "ask"), f"ask {ask!r} is not a role (known: {', '.join(sorted(roles))})")
        if item_key in seen:
            check.add((*at, "key"), f"notice_contents has {item_key!r} twice")
        elif item_key and text:
            seen.add(item_key)
            items.append(NoticeItem(item_key, text, fill, ask))
    return tuple(items)


def _parse_sources(
    data: Mapping[str, Any], path: YamlPath, check: Checker, *, required: bool
) -> tuple[Source, ...]:
    where = (*path, "sources")
    if "sources" not in data:
        return ()
    entries = check.sequence(data["sources"], where, "sources")
    if entries is None:
        return ()
    if not entries and required:
        check.add(where, "cite at least one source")
    sources = []
    for i, entry in enumerate(entries):
        item = check.mapping(entry, (*where, i), "a source")
        if item is None:
            continue
        check.fields(item, (*where, i), required=("cite",), optional=("url", "note"))
        cite = check.string(item, (*where, i), "cite")
        url = check.string(item, (*where, i), "url", pattern=_URL, hint="an http(s) address")
        note = check.string(item, (*where, i), "note")
        if cite:
            sources.append(Source(cite, url, note))
    return tuple(sources)


def _parse_notes(data: Mapping[str, Any], path: YamlPath, check: Checker) -> tuple[Text, ...]:
    where = (*path, "notes")
    entries = check.sequence(data.get("notes", []), where, "notes") or []
    # Checker.text reads a field of a mapping; the index is that field here.
    by_index = dict(enumerate(entries))
    notes = [check.text(by_index, where, i) for i in by_index]  # type: ignore[arg-type]  # an index is the field
    return tuple(n for n in notes if n is not None)
