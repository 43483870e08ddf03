"""Domain errors carry a message key and parameters; handlers/ renders them in the reader's locale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Person:
    """A person a message names, as a parameter of a DomainError: the domain knows the user id
    (None: nobody holds the role) and handlers/ writes it for the reader."""

    user_id: str | None


class DomainError(Exception):
    key = "error.generic"

    # `key` is positional-only so that `key=...` can be a message parameter (an incident key).
    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class NotFound(DomainError):
    key = "error.not_found"


class NotAllowed(DomainError):
    key = "error.not_allowed"


class Invalid(DomainError):
    key = "error.invalid"


class Conflict(DomainError):
    key = "error.conflict"


def refuse_first(problems: Mapping[str, str], **params: Any) -> None:
    """A form's checks, run again in the domain (a forged submission skips the form): the first
    problem found (field → message key) is refused as ``Invalid``."""
    if problems:
        raise Invalid(next(iter(problems.values())), **params)
