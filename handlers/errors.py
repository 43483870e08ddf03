"""The one place that turns failures into a kind, private answer (DESIGN.md principle 5)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.i18n import t
from handlers.render.common import user
from incident.errors import DomainError, Person
from incident.text import Locale
from storage.db import committed_while_watched

log = logging.getLogger(__name__)


def shown(value: Any) -> Any:
    """A DomainError parameter as the reader sees it: a person as a mention."""
    return user(value.user_id) if isinstance(value, Person) else value


# Set on an exception that left a request after the request had committed something
# (handlers/gate.py), for Bolt's error path, which runs outside the request's watch.
AFTER_COMMIT = "breachroom_after_commit"


def message_for(exc: BaseException, locale: Locale | str) -> str:
    """What the person is told about `exc`: a domain refusal's own message; otherwise a generic
    one, which says nothing was changed only when nothing was committed (storage/db.py)."""
    if isinstance(exc, DomainError):
        try:
            return t(exc.key, locale, **{name: shown(value) for name, value in exc.params.items()})
        except KeyError:
            log.error("missing message key %s", exc.key)
    if getattr(exc, AFTER_COMMIT, False) or committed_while_watched():
        return t("error.after_commit", locale)
    return t("error.generic", locale)


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    if not channel:
        channel = (body.get("container") or {}).get("channel_id")
    return channel


def _user_of(body: dict[str, Any]) -> str | None:
    return body.get("user_id") or (body.get("user") or {}).get("id")


NOT_THERE = {"channel_not_found", "not_in_channel", "user_not_in_channel"}


async def tell(
    client: AsyncWebClient, body: dict[str, Any], text: str, blocks: list[dict[str, Any]] | None = None
) -> None:
    """Say something to the person behind a payload, privately, wherever they are."""
    user, channel = _user_of(body), _channel_of(body)
    if not user:
        return
    try:
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
        else:
            await client.chat_postMessage(channel=user, text=text, blocks=blocks)
    except SlackApiError as exc:
        # Not a member of that channel (or a DM we cannot post in): fall back to a direct message.
        if channel and exc.response.get("error") in NOT_THERE:
            await client.chat_postMessage(channel=user, text=text, blocks=blocks)
        else:
            raise


async def answer_privately(
    respond: Any,
    client: AsyncWebClient,
    body: dict[str, Any],
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    *,
    replace_original: bool = False,
) -> None:
    """Answer the person behind a slash command or a click, privately: through the request's
    response URL, or, when that fails (unreachable, expired after 30 minutes, used up after 5
    answers), as an ephemeral message where they are. Either way the answer reaches them and
    nothing is raised after the ack, which Bolt would take back (handlers/gate.py
    `answered_after_ack`) before saying something went wrong, untrue after a write."""
    try:
        sent = await respond(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=replace_original
        )
        if sent.status_code == 200:
            return
        log.warning("the response URL refused an answer (HTTP %s): posting it instead", sent.status_code)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("the response URL failed (%s): posting the answer instead", type(exc).__name__)
    await tell(client, body, text, blocks)


async def refuse_fields(ack: Any, errors: Mapping[str, str], locale: Locale | str, **params: Any) -> None:
    """Keep a modal open with each field's message (block id → message key) shown under it."""
    await ack(
        response_action="errors", errors={block: t(key, locale, **params) for block, key in errors.items()}
    )


async def reply_error(
    client: AsyncWebClient, body: dict[str, Any], exc: BaseException, locale: Locale
) -> None:
    if not isinstance(exc, DomainError):
        log.exception("unhandled error in a listener", exc_info=exc)
    try:
        await tell(client, body, message_for(exc, locale))
    except Exception:
        log.exception("could not tell the user about an error")


# Set in the request's context by the gate's middleware (handlers/gate.py), which Bolt runs only
# after its own signature check has passed.
VERIFIED = "breachroom_verified"


def install(app: Any, locale: Callable[[], Locale]) -> None:
    """One error path for every listener: a domain refusal is a private, translated answer;
    anything else is logged with its trace and answered with a kind, generic message.

    A request that never passed Bolt's signature check (its verification itself raised, e.g. on a
    non-numeric timestamp) is answered 401 and nothing else: its body names whoever the sender
    liked, so nobody is told anything and no Web API call is made."""

    async def on_error(
        error: Exception, body: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> BoltResponse | None:
        if not (context or {}).get(VERIFIED):
            log.warning("refused an unverified request: %s", type(error).__name__)
            return BoltResponse(status=401, body="")
        await reply_error(client, body or {}, error, locale())  # the language may change in Settings
        return None

    app.error(on_error)
