"""The slash command: one entry point, subcommands registered by the feature modules."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.deps import Deps
from handlers.errors import answer_privately, message_for
from handlers.gate import Find
from handlers.i18n import t
from incident.errors import DomainError

log = logging.getLogger(__name__)


@dataclass
class CommandCtx:
    deps: Deps
    client: AsyncWebClient
    respond: AsyncRespond
    body: dict[str, Any]
    sub: str
    args: str
    # Set for a read-only subcommand: its first reply goes back in the ack's HTTP body (no second
    # round trip to Slack); any further reply uses the response URL.
    ack: Any = None

    @property
    def user_id(self) -> str:
        return self.body["user_id"]

    @property
    def channel_id(self) -> str:
        return self.body.get("channel_id", "")

    @property
    def trigger_id(self) -> str:
        return self.body.get("trigger_id", "")

    @property
    def locale(self) -> str:
        return self.deps.locale

    def words(self) -> list[str]:
        """The arguments split like a shell would, tolerating an unbalanced quote."""
        try:
            return shlex.split(self.args)
        except ValueError:
            return self.args.split()

    async def reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """An ephemeral answer to the person who typed the command."""
        if self.ack is not None:
            ack, self.ack = self.ack, None
            await ack(text=text, blocks=blocks, response_type="ephemeral")
            return
        await answer_privately(self.respond, self.client, self.body, text, blocks)


Subcommand = Callable[[CommandCtx], Awaitable[None]]
SUBCOMMANDS: dict[str, Subcommand] = {}
# How the gate (handlers/gate.py) finds each subcommand's incident before the subcommand runs.
FINDS: dict[str, Find] = {}
# Read-only subcommands answered in the ack itself: they read the database and write nothing.
IN_ACK: set[str] = set()


def subcommand(
    *names: str, find: Find = Find.HERE_OR_KEY, read_only: bool = False
) -> Callable[[Subcommand], Subcommand]:
    """Register a subcommand. By default it is about this channel's incident or the one named by a
    key, and the gate refuses anyone who may not see it; `find=Find.NONE` for one about no incident.
    `read_only`: it only reads the database and answers the person; the answer goes in the ack."""

    def register(func: Subcommand) -> Subcommand:
        for name in names:
            if name in SUBCOMMANDS and SUBCOMMANDS[name] is not func:
                raise RuntimeError(f"subcommand {name!r} registered twice")
            SUBCOMMANDS[name] = func
            FINDS[name] = find
            if read_only:
                IN_ACK.add(name)
        return func

    return register


def find_for(name: str) -> Find:
    """An unknown subcommand is answered with help alone: no incident is read."""
    return FINDS.get(name, Find.NONE)


def split(text: str) -> tuple[str, str]:
    text = (text or "").strip()
    if not text:
        return "help", ""
    head, _, rest = text.partition(" ")
    return head.lower(), rest.strip()


async def dispatch(
    deps: Deps, client: AsyncWebClient, respond: AsyncRespond, body: dict[str, Any], ack: Any = None
) -> CommandCtx:
    """Run the subcommand. With `ack`, its first reply is the ack (`ctx.ack` is None once used)."""
    sub, args = split(body.get("text", ""))
    ctx = CommandCtx(deps=deps, client=client, respond=respond, body=body, sub=sub, args=args, ack=ack)
    handler = SUBCOMMANDS.get(sub)
    try:
        if handler is None:
            await ctx.reply(t("help.unknown_subcommand", deps.locale, sub=sub[:40], command=deps.command))
        else:
            await handler(ctx)
    except DomainError as exc:
        await ctx.reply(message_for(exc, deps.locale))
    except Exception as exc:
        log.exception("%s %s failed", deps.command, sub)
        await ctx.reply(message_for(exc, deps.locale))
    return ctx


def register(app: Any, deps: Deps) -> None:
    @deps.tracker.wrap
    async def on_command(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        sub, _ = split(body.get("text", ""))
        if sub in IN_ACK or sub not in SUBCOMMANDS:
            ctx = await dispatch(deps, client, respond, body, ack=ack)
            if ctx.ack is not None:  # it answered nothing: Slack still needs its ack
                await ack()
            return
        await ack()
        await dispatch(deps, client, respond, body)

    gate.command(app, deps, deps.command)(on_command)


@subcommand("help", find=Find.NONE, read_only=True)
async def help_(ctx: CommandCtx) -> None:
    await ctx.reply(t("help.text", ctx.locale, command=ctx.deps.command))
