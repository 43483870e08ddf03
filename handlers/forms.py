"""A submitted form about an incident, taken the one way: read it (a stale or forged one is "not
found"), refuse what it lacks under the field, and record what it says once the person is known to
be a member of the incident."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import incident_by_id
from handlers.deps import Deps
from handlers.errors import refuse_fields, reply_error
from incident.errors import DomainError, NotFound
from incident.limits import Field, limit, too_long
from incident.text import Locale

T = TypeVar("T")

# What reading a stale or forged form raises: no incident id, or a value Slack would not send.
UNREADABLE = (DomainError, KeyError, TypeError, ValueError, OverflowError)


async def read_form(
    ack: AsyncAck, client: AsyncWebClient, user_id: str, locale: Locale, read: Callable[[], T]
) -> T | None:
    """What `read` takes from a submitted form; None when the form cannot be read, which closes it
    and tells the person privately that it was not found."""
    try:
        return read()
    except UNREADABLE:
        await ack()
        await reply_error(client, {"user_id": user_id}, NotFound("error.not_found"), locale)
        return None


async def record_for_member(
    client: AsyncWebClient,
    deps: Deps,
    user_id: str,
    incident_id: int,
    record: Callable[..., Awaitable[T]],
    inp: Any,
    now: datetime,
    **options: Any,
) -> T | None:
    """`record(db, config, incident_id, inp, actor=, now=, cadence_of=, **options)`, the domain's
    way to record what a form says, once `user_id` is known to be a member of the incident (the
    form is already closed). A refusal is told privately and gives None."""
    try:
        await incident_by_id(client, deps, incident_id, user_id)
        return await record(
            deps.db,
            deps.config,
            incident_id,
            inp,
            actor=user_id,
            now=now,
            cadence_of=deps.cadences,
            **options,
        )
    except DomainError as exc:
        await reply_error(client, {"user_id": user_id}, exc, deps.locale)
        return None


async def text_refused(
    ack: AsyncAck, block: str, text: str, field: Field, blank_key: str, locale: Locale
) -> bool:
    """Refuse a required free-text answer that is blank (`blank_key`) or longer than its field's
    limit, under its block: True when refused, the form kept open."""
    if not text.strip():
        await refuse_fields(ack, {block: blank_key}, locale)
        return True
    if too_long(field, text):
        await refuse_fields(ack, {block: "redact.error.too_long"}, locale, limit=limit(field))
        return True
    return False
