"""People and user groups as Slack knows them, cached briefly to spare rate limits.

A group's entry is dropped as soon as Slack reports a change to it (handlers/events.py)."""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
GONE = frozenset({"no_such_subteam", "subteam_not_found"})


class Directory:
    def __init__(self) -> None:
        self._groups: dict[str, tuple[float, list[str]]] = {}

    async def usergroup_members(self, client: AsyncWebClient, usergroup: str) -> list[str]:
        hit = self._groups.get(usergroup)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        response = await client.usergroups_users_list(usergroup=usergroup)
        users = list(response.get("users") or [])
        self._groups[usergroup] = (time.monotonic(), users)
        return users

    def last_known(self, usergroup: str) -> list[str] | None:
        """What Slack last said about the group, however old (None once it said the group changed)."""
        hit = self._groups.get(usergroup)
        return hit[1] if hit else None

    def forget(self, usergroup: str) -> None:
        """Slack said the group changed (`subteam_members_changed`): ask again next time."""
        self._groups.pop(usergroup, None)

    async def expand(self, client: AsyncWebClient, ids: tuple[str, ...] | list[str]) -> list[str]:
        """User and user-group ids → user ids, in order, without duplicates."""
        out: list[str] = []
        for ident in ids:
            members = await self.usergroup_members(client, ident) if ident.startswith("S") else [ident]
            out.extend(m for m in members if m not in out)
        return out

    async def is_member(self, client: AsyncWebClient, usergroup: str | None, user: str) -> bool:
        if not usergroup:
            return False
        try:
            return user in await self.usergroup_members(client, usergroup)
        except SlackApiError as exc:
            # A deleted admin group makes nobody an admin; it must not break every manager's click.
            if exc.response.get("error") not in GONE:
                raise
            log.warning("user group %s no longer exists: nobody is a member", usergroup)
            return False
