"""The sandbox workspace's state: people, groups, channels, messages, views, files.

Everything is in memory and shaped the way Slack returns it, so the Web API layer can
hand out dicts without translating and tests can compare with what Slack would send.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox.clock import Clock

# libyaml's parser when PyYAML has it: every sandbox (every test) reads the seed.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SEED = Path(__file__).resolve().parent / "data" / "workspace.yaml"
EMAIL_DOMAIN = "sandbox-accounting.example"


@dataclass
class User:
    id: str
    name: str
    real_name: str
    department: str = ""
    email: str = ""
    tz: str = "UTC"
    locale: str = "en-US"
    is_bot: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    # A deactivated account: users.info says deleted: true and invites are refused.
    deleted: bool = False
    is_admin: bool = False  # workspace admins may set the bot up before an admin group exists
    is_owner: bool = False

    def to_slack(self, team_id: str, include_locale: bool = True) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "title": self.department,
            "fields": {},
            "team": team_id,
        }
        if not self.is_bot:
            profile["email"] = self.email
        else:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = self.app_id
        data: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin or self.is_owner,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }
        if include_locale:
            data["locale"] = self.locale
        return data


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    users: list[str]

    def to_slack(self, team_id: str, include_users: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "handle": self.handle,
            "description": "",
            "date_delete": 0,
            "user_count": len(self.users),
        }
        if include_users:
            data["users"] = list(self.users)
        return data


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    members: list[str] = field(default_factory=list)
    topic: str = ""
    purpose: str = ""
    archived: bool = False
    created: int = 0
    creator: str = ""
    im_user: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def to_slack(self, include_num_members: bool = False) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.archived,
            "is_general": self.id == "C0GENERAL1",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": True,
            "created": self.created,
            "creator": self.creator,
            "unlinked": 0,
            "topic": {"value": self.topic, "creator": self.creator, "last_set": 0},
            "purpose": {"value": self.purpose, "creator": self.creator, "last_set": 0},
            "previous_names": [],
        }
        if include_num_members:
            data["num_members"] = len(self.members)
        return data

    def message(self, ts: str) -> dict[str, Any] | None:
        for msg in self.messages:
            if msg["ts"] == ts:
                return msg
        return None


@dataclass
class Ephemeral:
    """A message only one person sees; Slack never lets the bot read it back."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"

    def as_message(self) -> dict[str, Any]:
        return {"type": "message", "text": self.text, "blocks": self.blocks, "ts": self.ts}


@dataclass
class OpenView:
    """A modal or home tab as Slack holds it: the latest view dict plus its place in a stack."""

    id: str
    user: str
    data: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    closed: bool = False

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def external_id(self) -> str:
        return str(self.data.get("external_id", ""))


@dataclass
class StoredFile:
    id: str
    name: str
    length: int
    user: str
    created: int
    title: str = ""
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)
    alt_txt: str | None = None

    def to_slack(self, sandbox_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": "text/plain",
            "filetype": self.name.rsplit(".", 1)[-1] if "." in self.name else "text",
            "user": self.user,
            "size": len(self.content) if self.content is not None else self.length,
            "is_public": False,
            "url_private": f"{sandbox_url}/files/{self.id}/{self.name}",
            "url_private_download": f"{sandbox_url}/files/{self.id}/download/{self.name}",
            "channels": [c for c in self.channels if c.startswith("C")],
            "groups": [],
            "ims": [c for c in self.channels if c.startswith("D")],
            "shares": {},
        }


@dataclass
class Trigger:
    id: str
    user: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """Where a slash command or click may answer: five uses within 30 minutes."""

    id: str
    channel: str
    user: str
    issued_at: float
    message_ts: str | None = None
    is_ephemeral: bool = False
    uses: int = 0


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool
    error: str | None
    at: float
    status: int = 200


@dataclass
class Violation:
    """A call Slack would have rejected because the bot got something wrong."""

    method: str
    params: dict[str, Any]
    error: str
    detail: list[str]
    at: float


class Workspace:
    """All sandbox state. Ids are stable within a run; ts values strictly increase."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.team_id = ""
        self.team_name = ""
        self.team_domain = ""
        self.bot_user_id = ""
        self.bot_id = ""
        self.app_id = ""
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.channels: dict[str, Channel] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, OpenView] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.files: dict[str, StoredFile] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self.version = 0
        self.watchers: set[Callable[[], None]] = set()

    def changed(self) -> None:
        """Note that something may have changed: bump `version` and wake every watcher.

        Called by the server around every Web API call and delivery, so a live view (the
        browser UI's event stream) can re-read the state instead of polling it.
        """
        self.version += 1
        for wake in list(self.watchers):
            wake()

    # -- seed -----------------------------------------------------------------------

    @classmethod
    def from_seed(cls, path: Path = SEED, clock: Clock | None = None) -> Workspace:
        ws = cls(clock)
        seed = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        team = seed["team"]
        ws.team_id, ws.team_name, ws.team_domain = team["id"], team["name"], team["domain"]
        bot = seed["bot"]
        ws.bot_user_id, ws.bot_id, ws.app_id = bot["user_id"], bot["bot_id"], bot["app_id"]
        ws.users[ws.bot_user_id] = User(
            id=ws.bot_user_id,
            name=bot["name"],
            real_name=bot["real_name"],
            is_bot=True,
            bot_id=ws.bot_id,
            app_id=ws.app_id,
        )
        for entry in seed["users"]:
            entry = dict(entry)
            entry.setdefault("email", f"{entry['name']}@{EMAIL_DOMAIN}")
            ws.users[entry["id"]] = User(**entry)
        people = [u.id for u in ws.users.values() if not u.is_bot]
        for entry in seed["usergroups"]:
            members = [ws.require_user(n).id for n in entry["users"]]
            ws.usergroups[entry["id"]] = Usergroup(entry["id"], entry["handle"], entry["name"], members)
        created = int(ws.clock.now())
        for entry in seed["channels"]:
            spec = entry["members"]
            members = (
                [*people, ws.bot_user_id] if spec == "everyone+bot" else [ws.require_user(n).id for n in spec]
            )
            ws.channels[entry["id"]] = Channel(
                id=entry["id"],
                name=entry["name"],
                is_private=bool(entry.get("is_private", False)),
                members=members,
                purpose=entry.get("purpose", ""),
                created=created,
                creator=people[0],
            )
        return ws

    # -- lookups --------------------------------------------------------------------

    def user(self, id_or_name: str) -> User | None:
        if id_or_name in self.users:
            return self.users[id_or_name]
        for user in self.users.values():
            if user.name == id_or_name:
                return user
        return None

    def require_user(self, id_or_name: str) -> User:
        user = self.user(id_or_name)
        if user is None:
            raise KeyError(f"no sandbox user {id_or_name!r}")
        return user

    def channel(self, id_or_name: str) -> Channel | None:
        key = id_or_name.lstrip("#")
        if key in self.channels:
            return self.channels[key]
        for channel in self.channels.values():
            if channel.name == key and not channel.is_im:
                return channel
        return None

    def require_channel(self, id_or_name: str) -> Channel:
        channel = self.channel(id_or_name)
        if channel is None:
            raise KeyError(f"no sandbox channel {id_or_name!r}")
        return channel

    def dm(self, user_id: str, other: str | None = None) -> Channel:
        """The DM between the bot (or `other`) and `user_id`, created on first use."""
        other = other or self.bot_user_id
        pair = sorted({user_id, other})
        for channel in self.channels.values():
            if channel.is_im and sorted(set(channel.members)) == pair:
                return channel
        channel = Channel(
            id=self.new_id("D"),
            name=user_id,
            is_private=True,
            members=pair,
            created=int(self.clock.now()),
            creator=other,
            im_user=user_id if other == self.bot_user_id else other,
        )
        self.channels[channel.id] = channel
        return channel

    # -- people leaving, groups removed ---------------------------------------------

    def deactivate(self, id_or_name: str) -> User:
        """An admin deactivates the account: it leaves every user group, as in Slack."""
        user = self.require_user(id_or_name)
        user.deleted = True
        for group in self.usergroups.values():
            if user.id in group.users:
                group.users.remove(user.id)
        return user

    def delete_usergroup(self, group_id: str) -> None:
        """The group is gone: usergroups.users.list answers no_such_subteam."""
        del self.usergroups[group_id]

    # -- id and ts minting ----------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08d}X"

    def next_ts(self) -> str:
        now = max(self.clock.now(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def issue_trigger(self, user_id: str) -> str:
        trigger_id = f"{int(self.clock.now())}.{next(self._ids)}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(trigger_id, user_id, self.clock.now())
        return trigger_id

    def issue_response_url(
        self, channel: str, user: str, message_ts: str | None = None, is_ephemeral: bool = False
    ) -> ResponseUrl:
        rid = secrets.token_hex(12)
        entry = ResponseUrl(rid, channel, user, self.clock.now(), message_ts, is_ephemeral)
        self.response_urls[rid] = entry
        return entry

    # -- messages -------------------------------------------------------------------

    def bot_message(self, channel: Channel, fields: dict[str, Any]) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": fields.get("text") or "",
            "ts": self.next_ts(),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata", "files"):
            if fields.get(key) not in (None, "", []):
                msg[key] = fields[key]
        msg["bot_profile"] = {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.users[self.bot_user_id].real_name,
            "team_id": self.team_id,
            "deleted": False,
        }
        channel.messages.append(msg)
        return msg

    def user_message(self, channel: Channel, user_id: str, text: str, thread_ts: str | None = None) -> dict:
        msg: dict[str, Any] = {
            "type": "message",
            "user": user_id,
            "team": self.team_id,
            "text": text,
            "ts": self.next_ts(),
        }
        if thread_ts:
            msg["thread_ts"] = thread_ts
        channel.messages.append(msg)
        return msg

    def add_reaction(self, msg: dict[str, Any], name: str, user_id: str) -> bool:
        """Add a reaction; False if this user already had it."""
        reactions: list[dict[str, Any]] = msg.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if user_id in reaction["users"]:
                    return False
                reaction["users"].append(user_id)
                reaction["count"] += 1
                return True
        reactions.append({"name": name, "users": [user_id], "count": 1})
        return True

    def remove_reaction(self, msg: dict[str, Any], name: str, user_id: str) -> bool:
        for reaction in msg.get("reactions", []):
            if reaction["name"] == name and user_id in reaction["users"]:
                reaction["users"].remove(user_id)
                reaction["count"] -= 1
                if not reaction["users"]:
                    msg["reactions"].remove(reaction)
                if not msg["reactions"]:
                    del msg["reactions"]
                return True
        return False

    # -- views ----------------------------------------------------------------------

    def top_modal(self, user_id: str) -> OpenView | None:
        stack = self.modal_stacks.get(user_id) or []
        return self.views[stack[-1]] if stack else None

    def close_modals(self, user_id: str) -> None:
        for view_id in self.modal_stacks.pop(user_id, []):
            self.views[view_id].closed = True
        self.changed()
