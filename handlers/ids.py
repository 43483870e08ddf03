"""Every id Slack sees (action ids, callback ids, block ids) lives here."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    pass


class CallbackId(StrEnum):
    pass
