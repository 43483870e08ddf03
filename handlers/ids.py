"""Every id Slack sees (action ids, callback ids, block ids) lives here."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CARD_RETRY_SETUP = "card_retry_setup"
    CARD_REFRESH = "card_refresh"
    REQUEST_ACCESS = "request_access"
    ACCESS_APPROVE = "access_approve"
    ACCESS_DENY = "access_deny"


class CallbackId(StrEnum):
    DECLARE = "declare"
