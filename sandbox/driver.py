"""A person in the sandbox workspace: types commands, clicks, fills modals, reacts.

Each action becomes the request Slack itself would send the bot (signed HTTP, or a
Socket Mode envelope), built from what the person can actually see.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.observe import MessageView, block_texts
from sandbox.workspace import OpenView, User

if TYPE_CHECKING:
    from sandbox.server import Delivery, Sandbox

SELECT_TYPES = (
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "overflow",
    "radio_buttons",
    "checkboxes",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "datepicker",
    "timepicker",
)
# Menus whose options the app serves when someone types in them (a `block_suggestion`).
EXTERNAL_TYPES = ("external_select", "multi_external_select")
# Characters typed before Slack asks for options, unless the element says otherwise.
DEFAULT_MIN_QUERY_LENGTH = 3


def _text(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


@dataclass(frozen=True)
class _Menu:
    """A select a person types in or picks from: its element, the block holding it, and where it
    is shown (a message, or a modal)."""

    msg: MessageView | None
    view: OpenView | None
    block: dict[str, Any]
    element: dict[str, Any]


class Person:
    def __init__(self, sandbox: Sandbox, user: User) -> None:
        self.sandbox = sandbox
        self.user = user
        self.ws = sandbox.workspace

    def __repr__(self) -> str:
        return f"Person({self.user.name})"

    @property
    def id(self) -> str:
        return self.user.id

    # -- what this person sees ------------------------------------------------------------

    @property
    def ephemerals(self) -> list[MessageView]:
        """Ephemeral messages shown to this person, oldest first, newest last."""
        return [
            MessageView(self.ws, e.channel, e.as_message(), ephemeral=True)
            for e in self.ws.ephemerals
            if e.user == self.id
        ]

    @property
    def dms(self) -> list[MessageView]:
        """Messages in this person's DM with the bot, oldest first."""
        channel = self.ws.dm(self.id)
        return [MessageView(self.ws, channel.id, m) for m in channel.messages]

    @property
    def home(self) -> dict[str, Any] | None:
        """The App Home view the bot published for this person, as Slack stores it."""
        view_id = self.ws.home_views.get(self.id)
        return self.ws.views[view_id].data if view_id else None

    def modal(self) -> OpenView:
        """The modal on top of this person's stack; raises if none is open."""
        top = self.ws.top_modal(self.id)
        if top is None:
            raise LookupError(f"{self.user.name} has no modal open")
        return top

    # -- common payload pieces -----------------------------------------------------------

    def _user_obj(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.user.name, "name": self.user.name, "team_id": self.ws.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.ws.team_id, "domain": self.ws.team_domain}

    def _channel_obj(self, channel_id: str) -> dict[str, Any]:
        channel = self.ws.require_channel(channel_id)
        return {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}

    # -- slash commands ---------------------------------------------------------------------

    async def command(
        self, text: str = "", channel: str = "C0GENERAL1", command: str = "/breach"
    ) -> Delivery:
        """Type `command text` in `channel`; an ack with text/blocks shows as an ephemeral."""
        form = self.command_form(text, channel, command)
        result = await self.sandbox.deliver("command", form)
        self._show_ack(result, form["channel_id"])
        return result

    def command_form(
        self, text: str = "", channel: str = "C0GENERAL1", command: str = "/breach"
    ) -> dict[str, str]:
        """The form Slack posts when this person types `command text` in `channel`."""
        target = self.ws.require_channel(channel)
        response = self.ws.issue_response_url(target.id, self.id)
        return {
            "token": self.sandbox_token,
            "team_id": self.ws.team_id,
            "team_domain": self.ws.team_domain,
            "channel_id": target.id,
            "channel_name": "directmessage" if target.is_im else target.name,
            "user_id": self.id,
            "user_name": self.user.name,
            "command": command,
            "text": text,
            "api_app_id": self.ws.app_id,
            "is_enterprise_install": "false",
            "response_url": f"{self.sandbox.url}/response/{response.id}",
            "trigger_id": self.ws.issue_trigger(self.id),
        }

    @property
    def sandbox_token(self) -> str:
        from sandbox.server import VERIFICATION_TOKEN

        return VERIFICATION_TOKEN

    def _show_ack(self, result: Delivery, channel_id: str) -> None:
        body = result.json
        if result.status != 200:
            return
        if body is None and result.body.strip():
            body = {"text": result.body}
        if not body or not (body.get("text") or body.get("blocks")):
            return
        channel = self.ws.require_channel(channel_id)
        if body.get("response_type") == "in_channel":
            self.ws.bot_message(channel, body)
        else:
            self.sandbox.add_ephemeral(channel_id, self.id, body, self.ws.next_ts(), "ack")

    # -- finding things to click -------------------------------------------------------------

    def _source(
        self, target: Any, refresh: bool = True
    ) -> tuple[list[dict[str, Any]], MessageView | None, OpenView | None]:
        if isinstance(target, OpenView):
            return list(target.data.get("blocks") or []), None, target
        if isinstance(target, MessageView):
            latest = target if target.ephemeral or not refresh else target.refreshed()
            return latest.blocks, latest, None
        raise TypeError("click a MessageView (from sandbox.channel(...)) or an OpenView (person.modal())")

    def _find(self, blocks: list[dict[str, Any]], want: Any, near: str | None) -> tuple[dict, dict]:
        """The (block, element) whose label matches `want`, preferring an exact match."""
        candidates: list[tuple[dict, dict, str]] = []
        context = ""
        for block in blocks:
            if block.get("type") in ("section", "context", "header"):
                context = "\n".join(block_texts(block))
            elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
            if block.get("accessory"):
                elements.append(block["accessory"])
            if block.get("type") == "input" and block.get("dispatch_action"):
                elements.append(block.get("element") or {})
            for element in elements:
                if isinstance(element, dict):
                    candidates.append((block, element, context))
        if near is not None:
            candidates = [c for c in candidates if near in c[2]]
        matches = [c for c in candidates if want(c[1]) == "exact"] or [c for c in candidates if want(c[1])]
        if not matches:
            raise LookupError("no matching element found" + (f" near {near!r}" if near else ""))
        return matches[0][0], matches[0][1]

    def _container(self, msg: MessageView | None, view: OpenView | None) -> dict[str, Any]:
        if view is not None:
            return {"type": "view", "view_id": view.id}
        assert msg is not None
        return {
            "type": "message",
            "message_ts": msg.ts,
            "channel_id": msg.channel,
            "is_ephemeral": msg.ephemeral,
        }

    def _interaction(
        self, kind: str, msg: MessageView | None, view: OpenView | None, **fields: Any
    ) -> dict[str, Any]:
        """What every payload about an element in a message or a modal carries: who acted, in
        which app and team, where (the view as it is, or the channel and message), and `fields`."""
        payload: dict[str, Any] = {
            "type": kind,
            "user": self._user_obj(),
            "api_app_id": self.ws.app_id,
            "token": self.sandbox_token,
            "container": self._container(msg, view),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            **fields,
        }
        if view is not None:
            payload["view"] = view.data
        else:
            assert msg is not None
            payload["channel"] = self._channel_obj(msg.channel)
            if not msg.ephemeral:
                payload["message"] = msg.data
        return payload

    def _block_actions(self, msg: MessageView | None, view: OpenView | None, action: dict[str, Any]) -> dict:
        payload = self._interaction(
            "block_actions", msg, view, trigger_id=self.ws.issue_trigger(self.id), actions=[action]
        )
        if view is None:
            assert msg is not None
            payload["state"] = {"values": {}}
            response = self.ws.issue_response_url(msg.channel, self.id, msg.ts, msg.ephemeral)
            payload["response_url"] = f"{self.sandbox.url}/response/{response.id}"
        return payload

    # -- forged payloads ----------------------------------------------------------------------

    def block_actions(self, target: MessageView | OpenView, action: dict[str, Any]) -> dict[str, Any]:
        """The block_actions payload Slack would send for `action` taken on `target` as given
        (a message copy is not refreshed), for a test to send with `sandbox.deliver` what no
        element on screen offers: a forged action id, a value someone typed, a stale copy."""
        if isinstance(target, OpenView):
            return self._block_actions(None, target, action)
        return self._block_actions(target, None, action)

    def view_submission(self, view: dict[str, Any]) -> dict[str, Any]:
        """The view_submission payload Slack would send for this person submitting `view` (its
        `state` as the view holds it): for forged or replayed submissions; `submit` fills and
        submits a modal this person really has open."""
        return {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user_obj(),
            "api_app_id": self.ws.app_id,
            "token": self.sandbox_token,
            "trigger_id": self.ws.issue_trigger(self.id),
            "view": {**view, "state": view.get("state") or {"values": {}}},
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    async def _load_options(self, menu: _Menu, query: str) -> list[dict[str, Any]]:
        """What the menu lists after typing `query`: nothing before `min_query_length` characters
        (Slack does not ask), else the options the app answers with."""
        if len(query) < int(menu.element.get("min_query_length", DEFAULT_MIN_QUERY_LENGTH)):
            return []
        suggestion = self._interaction(
            "block_suggestion",
            menu.msg,
            menu.view,
            action_id=menu.element.get("action_id", ""),
            block_id=menu.block.get("block_id", ""),
            value=query,
        )
        return await self.sandbox.suggest(suggestion)

    async def suggest(self, target: Any, placeholder_or_block: str, query: str = "") -> list[dict[str, Any]]:
        """Type `query` into the external select found by placeholder, action_id or block_id: the
        options the bot offers (flattened out of their groups)."""
        blocks, msg, view = self._source(target)
        block, element = self._select_element(blocks, placeholder_or_block, any_input=True)
        if element.get("type") not in EXTERNAL_TYPES:
            raise LookupError(f"{placeholder_or_block!r} is a {element.get('type')}, not an external select")
        return await self._load_options(_Menu(msg, view, block, element), query)

    async def _served(self, menu: _Menu, choice: Any) -> dict[str, Any]:
        """An external select's element with the options a person would see while picking
        `choice` (typing each choice's text), so `_selection` can pick among them."""
        element = menu.element
        if element.get("type") not in EXTERNAL_TYPES:
            return element
        picks = choice if isinstance(choice, list | tuple) else [choice]
        seen: dict[str, dict[str, Any]] = {
            o["value"]: o for o in element.get("initial_options") or [] if isinstance(o, dict)
        }
        for pick in picks:
            for option in await self._load_options(menu, str(pick)):
                seen.setdefault(str(option.get("value")), option)
        return {**element, "options": list(seen.values())}

    def _remember(self, menu: _Menu, chosen: dict) -> None:
        """An input used in a modal keeps its value in the view's state, as Slack's does: the next
        payload from the view (an action, the submission) carries it."""
        if menu.view is None or menu.block.get("type") != "input":
            return
        state = menu.view.data.setdefault("state", {"values": {}}).setdefault("values", {})
        state.setdefault(menu.block.get("block_id", ""), {})[menu.element.get("action_id", "")] = {
            "type": menu.element.get("type"),
            **chosen,
        }

    def _action(self, block: dict[str, Any], element: dict[str, Any]) -> dict[str, Any]:
        """The action Slack reports for using `element`: which one and when; for a button, also
        its text, value and style."""
        action: dict[str, Any] = {
            "action_id": element.get("action_id", ""),
            "block_id": block.get("block_id", ""),
            "type": element["type"],
            "action_ts": f"{self.ws.clock.now():.6f}",
        }
        if element["type"] == "button":
            action["text"] = element.get("text")
            for key in ("value", "style"):
                if key in element:
                    action[key] = element[key]
        return action

    async def _pick(self, menu: _Menu, choice: Any) -> dict[str, Any]:
        """What picking `choice` in `menu` adds to the action (a modal's input also keeps it)."""
        chosen = self._selection(await self._served(menu, choice), choice)
        self._remember(menu, chosen)
        if menu.element["type"] != "overflow" and "placeholder" in menu.element:
            return {**chosen, "placeholder": menu.element["placeholder"]}
        return chosen

    # -- interactions -----------------------------------------------------------------------

    async def click(
        self,
        target: Any,
        button_text: str,
        near: str | None = None,
        action_id: str | None = None,
        *,
        refresh: bool = True,
    ) -> Delivery:
        """Click the button labelled `button_text` (exact label preferred, else contains).

        `near` narrows to buttons in, or in the actions block right after, the section
        whose text contains it; `action_id` narrows further. A message is clicked as it is in
        the channel now; with `refresh=False`, as the copy given (a screen that went stale:
        the payload carries that copy's message and button values).
        """
        blocks, msg, view = self._source(target, refresh)

        def want(element: dict[str, Any]) -> str | bool:
            if element.get("type") != "button" or (action_id and element.get("action_id") != action_id):
                return False
            label = _text(element.get("text"))
            return "exact" if label == button_text else button_text in label

        block, element = self._find(blocks, want, near)
        action = self._action(block, element)
        return await self.sandbox.deliver("interactive", self._block_actions(msg, view, action))

    async def select(self, target: Any, placeholder_or_block: str, option_text: str | list[str]) -> Delivery:
        """Pick `option_text` in the select/overflow found by placeholder, block_id or action_id.

        For users_select, `option_text` is a user name or id; for conversations/channels
        selects, a channel name or id; for a multi-select, the list of everything now chosen.
        """
        blocks, msg, view = self._source(target)
        block, element = self._select_element(blocks, placeholder_or_block)
        action = self._action(block, element)
        action.update(await self._pick(_Menu(msg, view, block, element), option_text))
        return await self.sandbox.deliver("interactive", self._block_actions(msg, view, action))

    def _select_element(
        self, blocks: list[dict[str, Any]], placeholder_or_block: str, *, any_input: bool = False
    ) -> tuple[dict, dict]:
        """The (block, select) named by its placeholder or action_id, else by its block_id (an
        input's element when it dispatches actions, or `any_input`; a section's accessory or one
        in an actions block)."""

        def want(element: dict[str, Any]) -> str | bool:
            if element.get("type") not in SELECT_TYPES:
                return False
            keys = {_text(element.get("placeholder")), element.get("action_id", "")}
            return "exact" if placeholder_or_block in keys else False

        try:
            return self._find(blocks, want, None)
        except LookupError:
            block = next((b for b in blocks if b.get("block_id") == placeholder_or_block), {})
            element: dict[str, Any] | None = (
                block.get("accessory")
                or (
                    block.get("element")
                    if block.get("type") == "input" and (any_input or block.get("dispatch_action"))
                    else None
                )
                or next((e for e in block.get("elements") or [] if e.get("type") in SELECT_TYPES), None)
            )
            if not element:
                raise
            return block, element

    async def act(
        self, target: Any, block_index: int, element_index: int | None = None, choice: Any = None
    ) -> Delivery:
        """Use the element at a known place, as a pointer would: the browser UI's clicks and picks.

        `element_index` is its position in an actions/context block; None means the section's
        accessory (or a dispatching input's element). `choice` is what was picked, as for
        `select` (None for a button).
        """
        blocks, msg, view = self._source(target)
        if not 0 <= block_index < len(blocks):
            raise LookupError(f"no block {block_index}")
        block = blocks[block_index]
        if element_index is None:
            element = block.get("accessory") or (
                block.get("element") if block.get("type") == "input" else None
            )
        else:
            elements = block.get("elements") or []
            element = elements[element_index] if 0 <= element_index < len(elements) else None
        if not isinstance(element, dict) or not element.get("type"):
            raise LookupError(f"no element {element_index} in block {block_index}")
        action = self._action(block, element)
        if element["type"] != "button":
            action.update(await self._pick(_Menu(msg, view, block, element), choice))
        return await self.sandbox.deliver("interactive", self._block_actions(msg, view, action))

    def _option(self, element: dict[str, Any], option_text: str) -> dict[str, Any]:
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            options.extend(group.get("options") or [])
        for option in options:
            if _text(option.get("text")) == option_text or option.get("value") == option_text:
                return option
        for option in options:
            if option_text in _text(option.get("text")):
                return option
        raise LookupError(f"no option {option_text!r} in {element.get('action_id')}")

    def _selection(self, element: dict[str, Any], choice: Any) -> dict[str, Any]:
        kind = element["type"]
        if kind in ("static_select", "external_select", "overflow", "radio_buttons"):
            return {"selected_option": self._option(element, str(choice))}
        if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
            picks = choice if isinstance(choice, list | tuple) else [choice]
            return {"selected_options": [self._option(element, str(c)) for c in picks]}
        if kind == "users_select":
            return {"selected_user": self.ws.require_user(str(choice)).id}
        if kind == "multi_users_select":
            picks = choice if isinstance(choice, list | tuple) else [choice]
            return {"selected_users": [self.ws.require_user(str(c)).id for c in picks]}
        if kind in ("conversations_select", "channels_select"):
            key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
            return {key: self.ws.require_channel(str(choice)).id}
        if kind == "multi_conversations_select":
            picks = choice if isinstance(choice, list | tuple) else [choice]
            return {"selected_conversations": [self.ws.require_channel(str(c)).id for c in picks]}
        if kind == "datepicker":
            return {"selected_date": str(choice)}
        if kind == "timepicker":
            return {"selected_time": str(choice)}
        if kind == "datetimepicker":
            return {"selected_date_time": int(choice)}
        if kind == "number_input":
            return {"value": str(choice)}
        return {"value": "" if choice is None else str(choice)}

    # -- modals -----------------------------------------------------------------------------

    def _state_values(
        self, view: OpenView, values: dict[str, Any], served: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Slack's view.state.values for the inputs named by label or block_id; an input not named
        keeps what was picked in it before (an action in the modal), else its initial value.

        `served`: block_id → an external select with the options its choice was picked from."""
        state: dict[str, dict[str, Any]] = {}
        before = (view.data.get("state") or {}).get("values") or {}
        remaining = dict(values)
        for block in view.data.get("blocks") or []:
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            block_id = block.get("block_id", "")
            label = _text(block.get("label"))
            key = next((k for k in (block_id, label) if k and k in remaining), None)
            if key is None:
                key = next((k for k in remaining if k and k in label), None)
            action_id = element.get("action_id", "")
            if key is None:
                value: dict[str, Any] = {"type": element.get("type")}
                value.update((before.get(block_id) or {}).get(action_id) or self._empty(element))
            else:
                element = (served or {}).get(block_id, element)
                value = {"type": element.get("type"), **self._selection(element, remaining.pop(key))}
            state.setdefault(block_id, {})[action_id] = value
        if remaining:
            raise LookupError(f"no input labelled {sorted(remaining)} in view {view.id}")
        return state

    @staticmethod
    def _empty(element: dict[str, Any]) -> dict[str, Any]:
        kind = element.get("type")
        if kind in ("static_select", "external_select", "radio_buttons"):
            return {"selected_option": element.get("initial_option")}
        if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
            return {"selected_options": element.get("initial_options") or []}
        if kind == "users_select":
            return {"selected_user": element.get("initial_user")}
        if kind == "multi_users_select":
            return {"selected_users": element.get("initial_users") or []}
        if kind == "conversations_select":
            return {"selected_conversation": element.get("initial_conversation")}
        if kind == "datepicker":
            return {"selected_date": element.get("initial_date")}
        if kind == "timepicker":
            return {"selected_time": element.get("initial_time")}
        if kind == "datetimepicker":
            return {"selected_date_time": element.get("initial_date_time")}
        return {"value": element.get("initial_value")}

    async def submit(self, values: dict[str, Any] | None = None, view: OpenView | None = None) -> Delivery:
        """Fill inputs (by label text or block_id) and press Submit.

        The bot's ack decides what happens: nothing/"clear" closes the stack,
        "update"/"push" replace/push the view, "errors" keeps it open (see `.errors`).
        """
        view = view or self.modal()
        state = {
            "values": self._state_values(view, values or {}, await self._served_inputs(view, values or {}))
        }
        view.data["state"] = state
        payload = self.view_submission({**view.data, "state": state})
        result = await self.sandbox.deliver("interactive", payload)
        if result.status != 200:
            return result
        action = result.response_action
        body = result.json or {}
        if action == "errors":
            return result
        if action == "update" and isinstance(body.get("view"), dict):
            self.sandbox.webapi.replace_view(view, body["view"])
        elif action == "push" and isinstance(body.get("view"), dict):
            self.sandbox.webapi.open_modal(self.id, body["view"], push=True)
        elif action == "clear":
            self.ws.close_modals(self.id)
        else:
            self._pop(view)
        return result

    async def _served_inputs(self, view: OpenView, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """For each external select among the inputs being filled: the options typing its choice
        brings up (block_id → the element with them)."""
        served: dict[str, dict[str, Any]] = {}
        for block in view.data.get("blocks") or []:
            element = block.get("element") or {}
            if block.get("type") != "input" or element.get("type") not in EXTERNAL_TYPES:
                continue
            block_id, label = block.get("block_id", ""), _text(block.get("label"))
            key = next((k for k in (block_id, label) if k and k in values), None)
            if key is None:
                key = next((k for k in values if k and k in label), None)
            if key is not None:
                served[block_id] = await self._served(_Menu(None, view, block, element), values[key])
        return served

    def _pop(self, view: OpenView) -> None:
        stack = self.ws.modal_stacks.get(self.id) or []
        if view.id in stack:
            index = stack.index(view.id)
            for view_id in stack[index:]:
                self.ws.views[view_id].closed = True
            del stack[index:]
        view.closed = True

    async def close_modal(self, view: OpenView | None = None) -> Delivery | None:
        """Press Cancel; the bot hears view_closed only if the view asked (notify_on_close)."""
        view = view or self.modal()
        self._pop(view)
        if not view.data.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user_obj(),
            "api_app_id": self.ws.app_id,
            "token": self.sandbox_token,
            "view": view.data,
            "is_cleared": False,
            "is_enterprise_install": False,
        }
        return await self.sandbox.deliver("interactive", payload)

    async def shortcut(self, message: MessageView, callback_id: str) -> Delivery:
        """Run a message shortcut on `message`."""
        response = self.ws.issue_response_url(message.channel, self.id, message.ts)
        payload = {
            "type": "message_action",
            "token": self.sandbox_token,
            "action_ts": f"{self.ws.clock.now():.6f}",
            "team": self._team(),
            "user": self._user_obj(),
            "channel": self._channel_obj(message.channel),
            "is_enterprise_install": False,
            "callback_id": callback_id,
            "trigger_id": self.ws.issue_trigger(self.id),
            "response_url": f"{self.sandbox.url}/response/{response.id}",
            "message_ts": message.ts,
            "message": message.refreshed().data,
        }
        return await self.sandbox.deliver("interactive", payload)

    # -- events -----------------------------------------------------------------------------

    def event_envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        now = int(self.ws.clock.now())
        return {
            "token": self.sandbox_token,
            "team_id": self.ws.team_id,
            "api_app_id": self.ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.ws.team_id,
                    "user_id": self.ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(12)}",
            "authed_users": [self.ws.bot_user_id],
        }

    async def react(self, channel: str, ts: str, name: str) -> Delivery | None:
        """Add reaction `name`; the bot hears reaction_added (None if already there)."""
        return await self._reaction(channel, ts, name, added=True)

    async def unreact(self, channel: str, ts: str, name: str) -> Delivery | None:
        return await self._reaction(channel, ts, name, added=False)

    async def _reaction(self, channel: str, ts: str, name: str, added: bool) -> Delivery | None:
        target = self.ws.require_channel(channel)
        msg = target.message(ts)
        if msg is None:
            raise LookupError(f"no message {ts} in {channel}")
        changed = (self.ws.add_reaction if added else self.ws.remove_reaction)(msg, name, self.id)
        if not changed:
            return None
        event = {
            "type": "reaction_added" if added else "reaction_removed",
            "user": self.id,
            "reaction": name,
            "item_user": msg.get("user"),
            "item": {"type": "message", "channel": target.id, "ts": ts},
            "event_ts": f"{self.ws.clock.now():.6f}",
        }
        return await self.sandbox.deliver("event", self.event_envelope(event))

    async def open_home(self) -> Delivery:
        home_id = self.ws.home_views.get(self.id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": self.id,
            "channel": self.ws.dm(self.id).id,
            "tab": "home",
            "event_ts": f"{self.ws.clock.now():.6f}",
        }
        if home_id:
            event["view"] = self.ws.views[home_id].data
        return await self.sandbox.deliver("event", self.event_envelope(event))

    async def say(self, channel: str, text: str, thread_ts: str | None = None) -> Delivery:
        """Post a message as this person; the bot hears a `message` event."""
        target = self.ws.require_channel(channel)
        if self.id not in target.members:
            raise PermissionError(f"{self.user.name} is not in #{target.name}")
        msg = self.ws.user_message(target, self.id, text, thread_ts)
        event = {
            **msg,
            "channel": target.id,
            "event_ts": msg["ts"],
            "channel_type": "im" if target.is_im else "group" if target.is_private else "channel",
        }
        return await self.sandbox.deliver("event", self.event_envelope(event))

    async def redeliver(
        self, delivery: Delivery, retry_num: int = 1, reason: str = "http_timeout"
    ) -> Delivery:
        """Send the same request again as Slack's retry, with X-Slack-Retry-Num/-Reason."""
        kind = delivery.kind
        return await self.sandbox.deliver(kind, delivery.payload, retry_num, reason)
