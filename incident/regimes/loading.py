"""The regimes file (version 2) read into the model, every mistake reported with its line.

The format is in ``incident/data/regimes.yaml``'s header and /work/briefs/regimes_v2.md:
top-level ``jurisdictions`` (groups of codes) and ``categories``, then ``regimes``, each with
one or more ``obligations`` (a recipient, a clock, the notice's contents). The file is a tree
of pydantic models (``incident/yamlmodel.py``), each turned into the model's object of the
same fields once valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import InitVar
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, Field, PlainValidator, ValidationError, ValidationInfo, model_validator
from pydantic.dataclasses import dataclass

from incident.regimes import model
from incident.regimes.conditions import ANY, ConditionField, Vocabulary
from incident.regimes.durations import Duration
from incident.regimes.facts import CATEGORY_KEY, CLOCK_STARTS, JURISDICTION_CODE, ClockStart
from incident.text import Text
from incident.yamlmodel import (
    STRICT,
    Among,
    Bilingual,
    Name,
    OneOf,
    adapter,
    known,
    load_model,
    report,
    unique,
)

DEFAULT_REGIMES_PATH = Path(__file__).parent.parent / "data" / "regimes.yaml"

_KEY = re.compile(r"[a-z][a-z0-9_]*")
_KEY_HINT = "lowercase letters, digits and '_'"
Key = Annotated[str, Name(_KEY.pattern, _KEY_HINT)]


def load_regimes(path: str | Path | None = None, role_keys: Iterable[str] | None = None) -> model.Regimes:
    """Load and validate a regimes file (None: the packaged default).

    ``role_keys``: the roles a notice item may ``ask`` (None: the packaged roles file's).
    Raises ``ConfigError`` listing every mistake with its line: unknown facts, bad durations
    and clock starts, unlisted jurisdictions, missing translations, duplicate ids, and the like.
    """
    source = Path(path) if path is not None else DEFAULT_REGIMES_PATH
    roles = tuple(role_keys) if role_keys is not None else _default_role_keys()
    regimes = load_model(source, RegimesFile, what="the regimes file", context={"roles": roles})
    return cast(model.Regimes, regimes)  # RegimesFile's last validator turns the file into Regimes


@cache
def _default_role_keys() -> tuple[str, ...]:
    from incident.roles_config import load_roles  # the roles file is read only when no keys are given

    return load_roles().keys()


@cache
def default_vocabulary() -> Vocabulary:
    """What the packaged regimes file lets conditions name (for files with no list of their own,
    such as the severity matrix): its categories, and any well-formed jurisdiction code."""
    return Vocabulary(load_regimes().category_names())


def _as(domain: type) -> AfterValidator:
    """A valid entry becomes the model's object with the same fields."""
    return AfterValidator(lambda entry: domain(**_fields(entry)))


def _fields(entry: Any, **more: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in entry.__pydantic_fields__} | more


def _duration(value: Any, info: ValidationInfo) -> Duration:
    try:
        return value if isinstance(value, Duration) else Duration.parse(value)
    except ValueError as exc:
        raise ValueError(f"{info.field_name}: {exc}") from None


def _clock_start(value: Any) -> ClockStart | model.After:
    if isinstance(value, model.After) or value in CLOCK_STARTS:
        return value
    if isinstance(value, dict) and list(value) == ["after"] and _KEY.fullmatch(str(value["after"])):
        return model.After(value["after"])
    raise ValueError(
        f"clock_start must be one of {', '.join(CLOCK_STARTS)} or {{after: <obligation key>}}, not {value!r}"
    )


Deadline = Annotated[Duration, PlainValidator(_duration)]
"""A deadline length: ``30m``, ``24h``, ``72h``, ``30d``, ``14bd``."""


# --------------------------------------------------------------------------- the file's parts


@dataclass(frozen=True, config=STRICT)
class _Source:
    cite: Annotated[str, Name()]
    url: Annotated[str, Name(r"https?://\S+", "an http(s) address")] | None = None
    note: Annotated[str, Name()] | None = None


@dataclass(frozen=True, config=STRICT)
class _Override:
    when: ConditionField
    deadline: Deadline


@dataclass(frozen=True, config=STRICT)
class _NoticeItem:
    key: Key
    text: Bilingual
    fill: Annotated[str, OneOf(model.FILL_FIELDS)] | None = None
    ask: Annotated[str, Name(), Among("roles", "role", sorted)] | None = None


Sources = tuple[Annotated[_Source, _as(model.Source)], ...]
Notes = tuple[Bilingual, ...]


@dataclass(frozen=True, config=STRICT)
class _Obligation:
    key: Key
    recipient: Bilingual
    recipient_kind: Annotated[str, OneOf(model.RECIPIENT_KINDS)]
    languages: Annotated[
        tuple[Annotated[str, OneOf(model.NOTICE_LANGUAGES)], ...],
        Field(min_length=1),
        AfterValidator(lambda languages: tuple(dict.fromkeys(languages))),
    ] = ("en",)
    applies_when: ConditionField | None = None
    clock_start: Annotated[ClockStart | model.After, PlainValidator(_clock_start)] | None = None
    deadline: Deadline | None = None
    deadline_overrides: tuple[Annotated[_Override, _as(model.DeadlineOverride)], ...] = ()
    target_note: Bilingual | None = None
    notice_contents: Annotated[
        tuple[Annotated[_NoticeItem, _as(model.NoticeItem)], ...], Field(min_length=1)
    ] = ()
    notes: Notes = ()
    sources: Sources = ()
    unverified: Bilingual | None = None

    @model_validator(mode="after")
    def _a_clock_has_both_ends(self) -> _Obligation:
        items = [(("notice_contents", i, "key"), item.key) for i, item in enumerate(self.notice_contents)]
        found = unique(items, "notice_contents key")
        if (self.deadline is None) != (self.clock_start is None):
            message = (
                "a deadline needs a clock_start and a clock_start needs a deadline (omit both: register only)"
            )
            found.append(((), message))
        if self.deadline_overrides and self.deadline is None:
            found.append((("deadline_overrides",), "deadline_overrides need a deadline to override"))
        report(*found)
        return self


@dataclass(frozen=True, config=STRICT)
class _Regime:
    id: Annotated[str, Name(r"[a-z0-9][a-z0-9-]*", "lowercase letters, digits and '-'")]
    name: Bilingual
    jurisdiction: Annotated[str, Name(), Among("codes", "jurisdiction")]
    applies_when: ConditionField
    sources: Annotated[Sources, Field(min_length=1)]
    obligations: Annotated[tuple[_Obligation, ...], Field(min_length=1)]
    notes: Notes = ()
    unverified: Bilingual | None = None

    @model_validator(mode="after")
    def _clocks_start_after_an_obligation_of_this_regime(self) -> _Regime:
        keys = [item.key for item in self.obligations]
        after = {o.key: o.clock_start.key for o in self.obligations if isinstance(o.clock_start, model.After)}
        found = unique([(("obligations", i, "key"), key) for i, key in enumerate(keys)], "obligation")
        for key, first in after.items():
            at = ("obligations", keys.index(key), "clock_start")
            if first == key:
                found.append(((*at, "after"), f"{key!r} cannot start after itself"))
            elif first not in keys:
                found.append(
                    (
                        (*at, "after"),
                        f"after: {first!r} is not an obligation of this regime ({', '.join(keys)})",
                    )
                )
            chain = [key, first]
            while chain[-1] in after and chain[-1] not in chain[:-1]:
                chain.append(after[chain[-1]])
            if chain[-1] == key and len(chain) > 2:
                found.append((at, f"clock_start after: goes round in a circle ({' → '.join(chain)})"))
        report(*found)
        return self


@dataclass(frozen=True, config=STRICT)
class _Code:
    code: Annotated[str, Name(JURISDICTION_CODE.pattern, "CC or CC-XX in capitals, e.g. US-CA")]
    name: Bilingual


@dataclass(frozen=True, config=STRICT)
class _Group:
    codes: Annotated[tuple[Annotated[_Code, _as(model.Jurisdiction)], ...], Field(min_length=1)]
    name: Bilingual = Field(alias="group")


@dataclass(frozen=True, config=STRICT)
class _Category:
    key: Annotated[str, Name(CATEGORY_KEY.pattern, _KEY_HINT)]
    name: Bilingual


Groups = Annotated[tuple[Annotated[_Group, _as(model.JurisdictionGroup)], ...], Field(min_length=1)]
Categories = Annotated[tuple[Annotated[_Category, _as(model.Category)], ...], Field(min_length=1)]


class _EveryKey(dict[str, Text]):
    """The categories while the file's own list is invalid: any key, named as itself."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> Text:
        return Text(key, key)


@dataclass(frozen=True, config=STRICT)
class _File:
    version: Literal[2]
    jurisdictions: Groups
    categories: Categories
    regimes: Annotated[tuple[_Regime, ...], Field(min_length=1)]
    shared: InitVar[Any] = None  # YAML anchors the regimes refer to

    @model_validator(mode="before")
    @classmethod
    def _what_conditions_may_name(cls, data: Any, info: ValidationInfo) -> Any:
        """The file's own jurisdictions and categories, for its regimes' conditions (unchecked
        while those lists are invalid: their own mistakes are reported)."""
        if isinstance(data, dict) and info.context is not None:
            try:
                groups = adapter(Groups).validate_python(data.get("jurisdictions"), context=info.context)
                categories = adapter(Categories).validate_python(data.get("categories"), context=info.context)
            except ValidationError:
                info.context["vocabulary"] = Vocabulary(_EveryKey())
            else:
                codes = [j.code for group in groups for j in group.codes]
                info.context["codes"] = (*codes, ANY)
                info.context["vocabulary"] = Vocabulary({c.key: c.name for c in categories}, frozenset(codes))
        return data


def _regimes(file: _File, info: ValidationInfo) -> model.Regimes:
    """The valid file as the model, once each code, category and regime id is listed once."""
    report(
        *unique(
            [
                (("jurisdictions", i, "codes", j, "code"), code.code)
                for i, group in enumerate(file.jurisdictions)
                for j, code in enumerate(group.codes)
            ],
            "jurisdiction code",
        ),
        *unique([(("categories", i, "key"), c.key) for i, c in enumerate(file.categories)], "category"),
        *unique([(("regimes", i, "id"), r.id) for i, r in enumerate(file.regimes)], "id"),
    )
    lines = known(info, "lines") or (lambda path: None)
    regimes = [
        model.Regime(
            **_fields(
                regime,
                line=lines(("regimes", i)),
                obligations=tuple(
                    model.Obligation(
                        **_fields(item, regime_id=regime.id, line=lines(("regimes", i, "obligations", j)))
                    )
                    for j, item in enumerate(regime.obligations)
                ),
            )
        )
        for i, regime in enumerate(file.regimes)
    ]
    # Each entry became the model's object (_as); the file's annotations still name the entries.
    groups, categories = file.jurisdictions, file.categories
    return model.Regimes(regimes, known(info, "name") or "", groups, categories)  # type: ignore[arg-type]


RegimesFile = Annotated[_File, AfterValidator(_regimes)]
"""The regimes file, read into ``Regimes``."""
