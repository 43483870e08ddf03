"""The roles configuration's default holders as Slack knows them today.

A default holder who left the firm, a user group someone deleted: the configuration can be wrong
on any day, and the worst day to find out is the first real breach. Resolving never raises; what
cannot be used comes back as a `Skip` with Slack's reason, for the card and the timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from incident.skips import Skip

log = logging.getLogger(__name__)

DEACTIVATED = "deactivated"
UNREACHABLE = "unreachable"


def error_code(exc: Exception) -> str:
    """Slack's error code, or `unreachable` when Slack did not answer at all."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or UNREACHABLE)
    return UNREACHABLE


@dataclass
class Resolved:
    holders: dict[str, str] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)


class _Accounts:
    """`users.info` once per person per resolution: why an account can't hold a role, if it can't."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.seen: dict[str, str | None] = {}

    async def problem(self, user: str) -> str | None:
        if user not in self.seen:
            self.seen[user] = await self._ask(user)
        return self.seen[user]

    async def _ask(self, user: str) -> str | None:
        try:
            info = (await self.client.users_info(user=user)).get("user") or {}
        except SlackApiError as exc:
            code = error_code(exc)
            if code in ("user_not_found", "user_not_visible", "account_inactive"):
                return code
            # Slack had trouble answering, which says nothing about the person: the invite will tell.
            log.warning("users.info failed (%s); keeping default holder %s", code, user)
            return None
        except Exception as exc:
            log.warning("users.info failed (%s); keeping default holder %s", type(exc).__name__, user)
            return None
        if info.get("deleted"):
            return DEACTIVATED
        return None


async def group_members(client: AsyncWebClient, deps: Deps, group: str) -> tuple[list[str], str | None]:
    """The user group's members, or no one and why the group can't be read (deleted, no access)."""
    try:
        return await deps.directory.usergroup_members(client, group), None
    except Exception as exc:
        code = error_code(exc)
        log.warning("default user group %s could not be read: %s", group, code)
        return [], code


async def resolve_defaults(client: AsyncWebClient, deps: Deps) -> Resolved:
    """Each role's first usable default holder (a user group gives its first usable member).

    Read through `deps.config.roles` every time: the defaults may change while the bot runs.
    """
    accounts = _Accounts(client)
    out = Resolved()
    for role in deps.config.roles:
        for ident in role.defaults:
            if ident.startswith("S"):
                members, problem = await group_members(client, deps, ident)
                if problem:
                    out.skipped.append(Skip("usergroup", ident, problem, role.key))
                    continue
                for member in members:
                    if await accounts.problem(member) is None:
                        out.holders[role.key] = member
                        break
            else:
                problem = await accounts.problem(ident)
                if problem:
                    out.skipped.append(Skip("holder", ident, problem, role.key))
                    continue
                out.holders[role.key] = ident
            if role.key in out.holders:
                break
    return out


async def default_group_members(client: AsyncWebClient, deps: Deps) -> tuple[list[str], list[Skip]]:
    """Everyone in the roles' default user groups (they join the channel); groups that can't be read."""
    people: list[str] = []
    skipped: list[Skip] = []
    for role in deps.config.roles:
        for group in role.default_usergroups:
            members, problem = await group_members(client, deps, group)
            if problem:
                skipped.append(Skip("usergroup", group, problem, role.key))
            people.extend(members)
    return list(dict.fromkeys(people)), skipped
