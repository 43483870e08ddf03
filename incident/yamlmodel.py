"""Configuration files validated by pydantic models, every mistake named with its YAML line.

A file kind is a tree of frozen pydantic dataclasses declared with ``config=STRICT`` (unknown
fields are refused). ``load_model(source, Model, what=...)`` reads the YAML with
``load_with_lines`` and validates it; the location of each pydantic error is a path in the
document, so it becomes a ``Problem`` at that line, worded for the person who edits the file,
and every problem is raised at once in one ``ConfigError`` (``file:line: message``).

Writing a model:

- Field types: ``Bilingual`` (``{zh-CN: ..., en: ...}``, read as ``Text``), ``Flag``,
  ``Annotated[str, Name(pattern, hint)]``, enums, Literals, tuples of models. A validator's
  ``ValueError`` is the message, so it names the field (``info.field_name``).
- What another file defines (the roles a playbook's owners name, ...) comes in the validation
  context: ``known(info, "roles")``, None when the object is built in code or from a snapshot,
  where such checks are skipped. The context also holds the file's ``name`` and ``lines``.
- A rule between fields is a model validator that calls ``report(...)`` with paths relative to
  the model; ``unique(...)`` finds repeated keys. Such a rule runs once the fields it reads are
  valid: a file with field mistakes lists those first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, TypeVar, Union, cast, get_args, get_origin

from pydantic import (
    AfterValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from incident.text import LOCALES, Text
from incident.yamlsource import (
    ConfigError,
    LineMap,
    Problem,
    YamlPath,
    kind_of,
    load_with_lines,
    source_name,
)

T = TypeVar("T")
Found = tuple[YamlPath, str] | tuple[YamlPath, str, YamlPath]
"""A mistake a rule found: its path, the message, and optionally the path ``{line}`` names."""

STRICT = ConfigDict(extra="forbid")
"""The config of every model: a field the model does not know is a mistake, not ignored."""

Flag = StrictBool
"""``true`` or ``false``; YAML's ``yes``/``no`` and quoted words are refused."""


def _bilingual(value: Any, info: ValidationInfo) -> Text:
    name = info.field_name
    if isinstance(value, Text):
        return value
    if isinstance(value, str):
        raise ValueError(f"{name} needs both translations, e.g. {{zh-CN: ..., en: ...}}")
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a mapping {{zh-CN: ..., en: ...}}, not {kind_of(value)}")
    wrong = [
        f"unknown language {key!r} in {name} (use {' and '.join(LOCALES)})"
        for key in value
        if key not in LOCALES
    ]
    for locale in LOCALES:
        text = value.get(locale)
        if text is not None and not isinstance(text, str):
            wrong.append(f"{name} ({locale}) must be text, not {kind_of(text)}")
        elif not text or not text.strip():
            wrong.append(f"{name} is missing the {locale} translation")
    if wrong:
        raise ValueError("; ".join(wrong))
    return Text(zh_CN=value["zh-CN"].strip(), en=value["en"].strip())


Bilingual = Annotated[Text, PlainValidator(_bilingual), PlainSerializer(Text.to_dict)]
"""A text in both languages, written ``{zh-CN: ..., en: ...}``; both must be there and not blank."""


def Name(pattern: str | None = None, hint: str = "") -> PlainValidator:
    """A non-blank text, matching ``pattern`` when given: ``Annotated[str, Name(KEY, "a hint")]``."""
    regex = re.compile(pattern) if pattern else None

    def check(value: Any, info: ValidationInfo) -> str:
        name = info.field_name
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty text, not {kind_of(value)}")
        if regex is not None and not regex.fullmatch(value):
            raise ValueError(f"{name} {value!r} is not valid: {hint}")
        return value

    return PlainValidator(check)


def OneOf(choices: Iterable[str]) -> PlainValidator:
    """One of ``choices``: ``Annotated[str, OneOf(("yes", "no"))]``."""
    allowed = tuple(choices)

    def check(value: Any, info: ValidationInfo) -> str:
        if value not in allowed:
            raise ValueError(f"{info.field_name} must be one of {', '.join(allowed)}, not {value!r}")
        return value

    return PlainValidator(check)


def Among(key: str, what: str, names: Callable[[Any], Iterable[str]] = list) -> AfterValidator:
    """A name another file defines: ``names(known(info, key))`` lists them; unchecked without."""

    def check(value: Any, info: ValidationInfo) -> Any:
        source = known(info, key)
        if value is not None and source is not None and value not in (listed := list(names(source))):
            raise ValueError(f"unknown {what} {value!r} (known: {', '.join(listed) or 'none configured'})")
        return value

    return AfterValidator(check)


def known(info: ValidationInfo, key: str) -> Any:
    """What the validation context says about ``key`` (another file's ids...); None without one."""
    return (info.context or {}).get(key)


def report(*found: Found) -> None:
    """Raise the mistakes a rule between fields found, each at its path relative to the model.

    A third element is the path of an earlier entry: ``{line}`` in the message becomes its line.
    """
    if not found:
        return
    details = [
        InitErrorDetails(
            type=PydanticCustomError("config", "{message}", {"message": f[1], "at": f[0], "ref": f[2:]}),
            loc=f[0],
            input=None,
        )
        for f in found
    ]
    raise ValidationError.from_exception_data("config", details)


def unique(entries: Iterable[tuple[YamlPath, str]], what: str) -> list[Found]:
    """A problem for every key already used by an earlier entry (``entries`` are (path, key))."""
    first: dict[str, YamlPath] = {}
    found: list[Found] = []
    for path, key in entries:
        if key in first:
            found.append((path, f"duplicate {what} {key!r} (first on line {{line}})", first[key]))
        else:
            first[key] = path
    return found


# ---------------------------------------------------------------------------- loading


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(model: type[T]) -> TypeAdapter[T]:
    """The (cached) pydantic adapter of a model; ``adapter(M).validate_python(snapshot)``."""
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(model)
    return cast("TypeAdapter[T]", _ADAPTERS[model])


def load_model(
    source: str | Path,
    model: type[T],
    *,
    what: str,
    context: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> T:
    """Read one YAML file (a path, or YAML text) and validate it as ``model``; ``what`` names the
    whole document in a message (``a playbook``), ``name`` the file (default: its path, or
    ``<text>``). Raises ``ConfigError`` listing every mistake."""
    data, lines = load_with_lines(source, name=name)
    name = name or source_name(source)
    try:
        return adapter(model).validate_python(data, context={**(context or {}), "name": name, "lines": lines})
    except ValidationError as error:
        problems = [
            _problem(data, lines, model, what, detail)
            for detail in error.errors(include_url=False)
            # A list with a bad entry is also "too short after validation": the entry says why.
            if detail["type"] != "too_short" or len(detail["input"]) < detail["ctx"]["min_length"]
        ]
        raise ConfigError(name, problems) from None


def load_folder(
    folder: Path,
    suffixes: Iterable[str],
    model: type[T],
    *,
    what: str,
    context: Mapping[str, Any] | None = None,
) -> dict[str, tuple[Path, T]]:
    """Every file of a folder with one of ``suffixes``, by the ``id`` each declares.

    One ``ConfigError`` for the folder lists the problems of every file and ids used twice."""
    if not folder.is_dir():
        raise ConfigError(str(folder), [Problem(None, "folder not found")])
    suffixes = tuple(suffixes)
    files = sorted(p for p in folder.iterdir() if p.suffix in suffixes and p.is_file())
    if not files:
        listed = ", ".join(f"*{s}" for s in suffixes)
        raise ConfigError(str(folder), [Problem(None, f"no {what}s ({listed}) in this folder")])
    problems: list[Problem] = []
    found: dict[str, tuple[Path, T]] = {}
    for file in files:
        try:
            loaded = load_model(file, model, what=f"a {what}", context=context)
        except ConfigError as error:
            problems.extend(Problem(p.line, p.message, p.path or error.path) for p in error.problems)
            continue
        key = loaded.id  # type: ignore[attr-defined]  # every folder's model has an id
        if key in found:
            problems.append(
                Problem(None, f"duplicate {what} id {key!r} (also in {found[key][0].name})", str(file))
            )
            continue
        found[key] = (file, loaded)
    if problems:
        raise ConfigError(str(folder), problems)
    return found


# ---------------------------------------------------------------------------- messages

_MESSAGES = {
    "missing": "missing field {key!r}",
    "unexpected_keyword_argument": "unknown field {key!r} (allowed: {allowed})",
    "dataclass_type": "{name} must be a mapping of fields, not {kind}",
    "dict_type": "{name} must be a mapping of fields, not {kind}",
    "list_type": "{name} must be a list, not {kind}",
    "tuple_type": "{name} must be a list, not {kind}",
    "string_type": "{name} must be text, not {kind}",
    "bool_type": "{name} must be true or false, not {value!r}",
    "int_type": "{name} must be a whole number, not {value!r}",
    "greater_than_equal": "{name} must be at least {ge}, not {value!r}",
    "too_short": "{name} must not be empty",
    "enum": "{name} must be {expected}, not {value!r}",
    "literal_error": "{name} must be {expected}, not {value!r}",
    "union_tag_invalid": "{discriminator} must be one of {expected_tags}, not {tag!r}",
    "union_tag_not_found": "missing field {discriminator!r}",
    "value_error": "{error}",
    "config": "{message}",
}


def _problem(data: Any, lines: LineMap, model: type, what: str, detail: Any) -> Problem:
    loc, kind, ctx = tuple(detail["loc"]), detail["type"], dict(detail.get("ctx", {}))
    for quoted in ("expected", "expected_tags", "discriminator"):  # pydantic quotes each choice
        if quoted in ctx:
            ctx[quoted] = ctx[quoted].replace("'", "")
    if kind.startswith("union_tag"):
        loc = (*loc, ctx["discriminator"])
    path = _path(data, loc)
    words = [part for part in path if isinstance(part, str)]
    name = words[-1] if words else what
    if path and isinstance(path[-1], int):
        name = f"entry {path[-1] + 1} of {name}"
    message = _MESSAGES.get(kind, "{name}: {msg}").format(
        **ctx,
        key=path[-1] if path else "",
        name=name,
        kind=kind_of(detail["input"]),
        value=detail["input"],
        msg=detail["msg"],
        allowed=_allowed(model, loc[:-1]) if kind == "unexpected_keyword_argument" else "",
    )
    if ctx.get("ref"):
        start = _path(data, loc[: len(loc) - len(ctx["at"])])
        message = message.replace("{line}", str(lines((*start, *ctx["ref"][0]))))
    return Problem(lines(path), message)


def _path(data: Any, loc: tuple[Any, ...]) -> YamlPath:
    """The document path of an error location: drops the union tags pydantic adds."""
    path: list[str | int] = []
    for index, part in enumerate(loc):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        elif index < len(loc) - 1:
            continue  # a union member's tag (or a key the file lacks): not in the file
        path.append(part)
    return tuple(path)


def _allowed(model: Any, loc: tuple[Any, ...]) -> str:
    """The fields a file may write at ``loc``, walking the model's types along it."""
    kind = model
    for part in loc:
        kind = _bare(kind)
        fields = getattr(kind, "__pydantic_fields__", None)
        if isinstance(part, int):
            kind = get_args(kind)[0]
        elif fields is not None:
            kind = next(f.annotation for n, f in fields.items() if (f.alias or n) == part)
        else:  # the tag of a discriminated union picks its member
            kind = next(
                arm
                for arm in get_args(kind)
                if any(part in get_args(f.annotation) for f in arm.__pydantic_fields__.values())
            )
    fields = _bare(kind).__pydantic_fields__
    return ", ".join(f.alias or n for n, f in fields.items() if f.init is not False)


def _bare(kind: Any) -> Any:
    """``kind`` without ``Annotated`` and ``| None``."""
    while True:
        origin = get_origin(kind)
        args = [a for a in get_args(kind) if a is not NoneType]
        if origin is Annotated or (origin in (Union, UnionType) and len(args) == 1):
            kind = args[0]
        else:
            return kind
