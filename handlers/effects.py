"""What each outbox effect (storage/outbox.py) does in Slack: run by the delivery engine, in the
process that wrote it or in a separate `breachroom worker`.

Every performer converges: it renders from the database as it is now and skips what is already
done (a message's rendered hash, a set-up step, a ts recorded in the effect's ``result``), so a
retry after a crash or a Slack outage finishes the work without doing any of it twice where
Slack gives a handle to tell.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.anchors import anchor_if_due
from handlers.deps import Deps
from handlers.errors import tell
from handlers.publish import ensure_setup
from handlers.views import load, refresh_topic, refresh_views, slack_error
from incident import lifecycle, reminders
from incident.reminders import SendFailed
from storage import outbox
from storage.models import Effect, Incident, TimelineEvent

log = logging.getLogger(__name__)

Performer = Callable[[AsyncWebClient, Deps, Effect], Awaitable[None]]
# Renders the channel's line about one timeline event: (text, blocks or None), or None for no line.
Line = tuple[str, list[dict[str, Any]] | None]
Announcer = Callable[[Deps, Incident, TimelineEvent], Awaitable[Line | None]]

# Who to tell instead, and what, when the channel takes no more messages: (user, text) or None.
WhenGone = Callable[[Incident, TimelineEvent], tuple[str, str] | None]
# A direct message whose words are rendered at delivery (they depend on the incident's locale and
# state): an outbox DM whose payload names ``say`` is sent by the function registered under it.
Sender = Callable[[AsyncWebClient, Deps, Effect], Awaitable[None]]

# The thread the line belongs in (a message's ts), or None for the channel's main flow.
InThread = Callable[[TimelineEvent], str | None]

ANNOUNCERS: dict[str, Announcer] = {}
WHEN_GONE: dict[str, WhenGone] = {}
IN_THREAD: dict[str, InThread] = {}
SENDERS: dict[str, Sender] = {}

# The channel is gone or closed to the bot: nothing more to show there, and retrying won't help.
GONE = frozenset({"is_archived", "channel_not_found", "not_in_channel", "channel_is_archived"})
# Slack will not archive this channel, whoever asks again: the closer is told and it stops there.
ARCHIVE_REFUSED = frozenset(
    {"channel_not_found", "not_in_channel", "cant_archive_general", "restricted_action", "not_authorized"}
)
# Errors no retry will mend (a revoked token, a missing scope): the effect goes dead and says so.
PERMANENT = frozenset({"invalid_auth", "account_inactive", "token_revoked", "missing_scope", "not_authed"})


def announcer(
    kind: str, *, when_gone: WhenGone | None = None, in_thread: InThread | None = None
) -> Callable[[Announcer], Announcer]:
    """Register how the channel hears about a timeline event of `kind` (``append(announce=True)``);
    ``when_gone`` names whom to tell instead when the channel is gone or takes no more messages,
    ``in_thread`` which thread the line is a reply in."""

    def register(func: Announcer) -> Announcer:
        ANNOUNCERS[kind] = func
        if when_gone is not None:
            WHEN_GONE[kind] = when_gone
        if in_thread is not None:
            IN_THREAD[kind] = in_thread
        return func

    return register


def dm_sender(name: str) -> Callable[[Sender], Sender]:
    """Register how a direct message named ``name`` (an outbox DM's ``say``) is rendered and sent."""

    def register(func: Sender) -> Sender:
        SENDERS[name] = func
        return func

    return register


def retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


async def perform(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """Deliver one effect; a failure that may pass raises SendFailed (put back with a backoff)."""
    run = PERFORMERS.get(effect.kind)
    if run is None:
        raise SendFailed(f"unknown_effect:{effect.kind}", permanent=True)
    try:
        await run(client, deps, effect)
    except SlackApiError as exc:
        code = slack_error(exc)
        raise SendFailed(code, retry_after(exc), permanent=code in PERMANENT) from exc
    except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
        raise SendFailed(type(exc).__name__) from exc


async def _views(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """The incident changed: its reminder rows, then its card, checklists and topic."""
    assert effect.incident_id is not None
    now = deps.clock.now()
    await reminders.sync_incident(deps.db, effect.incident_id, deps.config, now, deps.cadences)
    incident = await load(deps, effect.incident_id)
    if not incident.channel_id:
        return
    lease = incident.setup_lease_until
    if lease is not None and lease > now:
        # Set-up is posting the first card and checklists right now; render after it.
        raise SendFailed("setup_running", retry_after=min(1.0, (lease - now).total_seconds()), waiting=True)
    try:
        await refresh_views(client, deps, effect.incident_id)
        await refresh_topic(client, deps, incident)
        await anchor_if_due(client, deps, effect.incident_id)  # a milestone posts the chain's head
    except SlackApiError as exc:
        if slack_error(exc) not in GONE:
            raise
        log.info("views of %s not rendered: channel %s", incident.key, slack_error(exc))


async def _setup(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """Build the channel (each step once), then tell the declarer where it is or what is missing."""
    assert effect.incident_id is not None and effect.id is not None
    pending = await ensure_setup(client, deps, effect.incident_id)
    if pending is None:
        # Another worker holds the set-up's lease (or held it and died): try again when it ends.
        raise SendFailed("setup_running", retry_after=1.0, waiting=True)
    declarer = effect.payload.get("declarer")
    if declarer and not effect.result.get("told"):
        from handlers.declare import tell_declarer  # declare registers listeners that enqueue this

        incident = await load(deps, effect.incident_id)
        await tell_declarer(
            client,
            deps,
            incident,
            declarer,
            effect.payload.get("origin") or "",
            pending,
            took_command=bool(effect.payload.get("took_command")),
        )
        await outbox.remember(deps.db, effect.id, effect.claimed_by or "", told=True)


async def _announce(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """Post the channel's line about one timeline event, once (its ts is remembered)."""
    assert effect.incident_id is not None and effect.id is not None
    if effect.result.get("ts"):
        return
    async with deps.db.session() as db:
        event = await db.get(TimelineEvent, int(effect.payload["event_id"]))
        incident = await db.get(Incident, effect.incident_id)
    if event is None or incident is None:
        return
    if not incident.channel_id:
        await _tell_instead(client, incident, event)
        return
    render = ANNOUNCERS.get(event.kind)
    if render is None:
        raise SendFailed(f"no_announcer:{event.kind}", permanent=True)
    line = await render(deps, incident, event)
    if line is None:
        return
    text, blocks = line
    thread = IN_THREAD[event.kind](event) if event.kind in IN_THREAD else None
    try:
        response = await client.chat_postMessage(
            channel=incident.channel_id, text=text, blocks=blocks, thread_ts=thread
        )
    except SlackApiError as exc:
        if slack_error(exc) in GONE:
            log.info("line about %s #%s not posted: channel %s", incident.key, event.seq, slack_error(exc))
            await _tell_instead(client, incident, event)
            return
        raise
    await outbox.remember(deps.db, effect.id, effect.claimed_by or "", ts=response.get("ts"))


async def _tell_instead(client: AsyncWebClient, incident: Incident, event: TimelineEvent) -> None:
    """The channel can't show the line: tell the person its announcer names, if it names one."""
    instead = WHEN_GONE.get(event.kind)
    told = instead(incident, event) if instead is not None else None
    if told is not None:
        person, text = told
        await tell(client, {"user_id": person}, text)


async def _dm(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """One message to one person (privately, or ephemeral in `channel` when given); with ``say``,
    rendered and sent by the sender registered under that name."""
    assert effect.id is not None
    if effect.result.get("sent"):
        return
    payload = effect.payload
    if payload.get("say"):
        send = SENDERS.get(payload["say"])
        if send is None:
            raise SendFailed(f"no_sender:{payload['say']}", permanent=True)
        await send(client, deps, effect)
    else:
        await tell(
            client,
            {"user_id": payload["user"], "channel_id": payload.get("channel") or ""},
            payload["text"],
            payload.get("blocks"),
        )
    await outbox.remember(deps.db, effect.id, effect.claimed_by or "", sent=True)


async def _close(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """After a close: the post-mortem, the closed card, then (if asked) the archive. Last, because
    an archived channel takes no more messages."""
    from handlers.postmortem import BOT_ACTOR, publish  # postmortem imports the renderers

    assert effect.incident_id is not None and effect.id is not None
    worker = effect.claimed_by or ""
    done = dict(effect.result)
    if not done.get("published"):
        # A worker killed after the timeline recorded the publication, before this effect did:
        # the record says it happened, so it is not published (and recorded) a second time.
        if not await lifecycle.happened_since_close(
            deps.db, effect.incident_id, "postmortem_generated", actor=BOT_ACTOR
        ):
            await publish(client, deps, effect.incident_id, actor=BOT_ACTOR, must_upload=True)
        await outbox.remember(deps.db, effect.id, worker, published=True)
    incident = await load(deps, effect.incident_id)
    if not done.get("rendered") and incident.channel_id:
        await _views(client, deps, effect)
        await outbox.remember(deps.db, effect.id, worker, rendered=True)
    if effect.payload.get("archive") and incident.channel_id and not done.get("archived"):
        try:
            await client.conversations_archive(channel=incident.channel_id)
        except SlackApiError as exc:
            code = slack_error(exc)
            if code != "already_archived":
                if code not in ARCHIVE_REFUSED | PERMANENT:
                    raise  # rate-limited, Slack down: tried again with a backoff
                await _archive_failed(client, deps, incident, effect, code)
                raise SendFailed(code, retry_after(exc), permanent=True) from exc
        # Recorded on the timeline before the effect remembers it: a worker killed in between
        # leaves a retry that finds it recorded (and Slack says already_archived), so the event
        # is never lost and never written twice.
        if not await lifecycle.happened_since_close(deps.db, effect.incident_id, "channel_archived"):
            actor = effect.payload.get("actor") or BOT_ACTOR
            await lifecycle.record_archived(deps.db, effect.incident_id, actor=actor, now=deps.clock.now())
        await outbox.remember(deps.db, effect.id, worker, archived=True)


async def _archive_failed(
    client: AsyncWebClient, deps: Deps, incident: Incident, effect: Effect, error: str
) -> None:
    from handlers.i18n import t

    actor = effect.payload.get("actor")
    if actor:
        text = t("lifecycle.close.archive_failed", deps.locale, key=incident.key, error=error)
        await tell(client, {"user_id": actor, "channel_id": incident.channel_id or ""}, text)


PERFORMERS: dict[str, Performer] = {
    outbox.VIEWS: _views,
    outbox.SETUP: _setup,
    outbox.ANNOUNCE: _announce,
    outbox.DM: _dm,
    outbox.CLOSE: _close,
}
