"""How long each free-text field may be: one table, read by the domain and by the forms.

The forms' ``max_length`` only shapes what an honest client sends; a signed request can carry
anything. The domain refuses a longer value before it stores, posts or hashes it, so the limit
holds whichever way the text arrived.
"""

from __future__ import annotations

from enum import StrEnum

from incident.errors import Invalid


class Field(StrEnum):
    """A class of free-text field; every field of one class has the same limit."""

    TITLE = "title"  # an incident's or a register entry's title
    SUMMARY = "summary"  # "what happened", a register entry's summary
    CLIENTS = "clients"  # the affected clients, one a line
    NOTE = "note"  # timeline notes, checklist notes
    REASON = "reason"  # N/A reasons, phase overrides
    STATUS_UPDATE = "status_update"
    DECISION = "decision"  # a decision, its rationale and alternatives, a not-notified rationale
    DESCRIPTION = "description"  # an evidence description
    LOCATION = "location"  # where evidence is kept
    ACTION = "action"  # a follow-up action
    LESSONS = "lessons"
    RECIPIENT = "recipient"  # who was notified
    REFERENCE = "reference"  # a notification's reference number
    CHANNEL = "channel"  # how a notification was sent
    CONTENT = "content"  # what a notification said
    MESSAGE = "message"  # a channel message captured onto the timeline
    NOTICE = "notice"  # a drafted notice as legal edits and approves it (one language)


LIMITS: dict[Field, int] = {
    Field.TITLE: 200,
    Field.SUMMARY: 3000,
    Field.CLIENTS: 2000,
    Field.NOTE: 3000,
    Field.REASON: 2000,
    Field.STATUS_UPDATE: 2500,
    Field.DECISION: 3000,
    Field.DESCRIPTION: 3000,
    Field.LOCATION: 500,
    Field.ACTION: 3000,
    Field.LESSONS: 3000,
    Field.RECIPIENT: 500,
    Field.REFERENCE: 255,
    Field.CHANNEL: 64,
    Field.CONTENT: 3000,
    # Slack caps a message at 40,000 characters; a captured one is kept whole up to that.
    Field.MESSAGE: 40000,
    # Slack's multiline input holds at most 3,000 characters: the draft is edited in one.
    Field.NOTICE: 3000,
}


def limit(field: Field) -> int:
    return LIMITS[field]


def too_long(field: Field, value: str | None) -> bool:
    return len(value or "") > LIMITS[field]


def require_within(field: Field, value: str | None) -> None:
    """Refuse a value longer than its field allows (a forged submission skips the form's limit)."""
    if too_long(field, value):
        raise Invalid("redact.error.too_long", limit=LIMITS[field])
