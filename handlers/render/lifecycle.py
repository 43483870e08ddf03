"""Roles and lifecycle surfaces: assign-role, resolve and close forms, the roster, access decisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.render.common import actions, button, context, header, modal, option, section, user, when
from handlers.render.common import input_block as _input
from handlers.render.common import input_value as _value
from incident.errors import NotFound
from incident.lifecycle import STAGES, Resolution
from incident.limits import Field, limit
from incident.roles_config import RolesConfig
from storage.models import AccessRequest, Incident, RoleAssignment


def _modal(callback: CallbackId, incident: Incident, messages: str, locale: str) -> dict[str, Any]:
    """An empty form about `incident`; `messages` is the prefix of its title and submit texts."""
    return modal(
        callback,
        title=t(f"{messages}.modal.title", locale),
        submit=t(f"{messages}.modal.submit", locale),
        close=t("lifecycle.modal.cancel", locale),
        metadata={"incident": incident.id},
        blocks=[],
    )


def incident_of(view: dict[str, Any]) -> int:
    """The incident a submitted form is about, from its private metadata; NotFound if it names none."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        return int(meta["incident"])
    except (ValueError, TypeError, KeyError) as exc:
        raise NotFound("error.not_found") from exc


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return view.get("state", {}).get("values", {})


def _picked_time(values: dict[str, Any], block_id: str) -> datetime | None:
    stamp = _value(values, block_id).get("selected_date_time")
    try:
        return datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None
    except (ValueError, TypeError, OverflowError, OSError):
        return None  # not a time Slack would send: as if left blank


# Roles ------------------------------------------------------------------------------------------


def assign_role_modal(incident: Incident, roles: RolesConfig, locale: str) -> dict[str, Any]:
    view = _modal(CallbackId.ASSIGN_ROLE, incident, "roles", locale)
    view["blocks"] = [
        section(t("roles.modal.intro", locale, key=incident.key)),
        _input(
            "role",
            t("roles.modal.role", locale),
            {"type": "static_select", "options": [option(r.name.get(locale), r.key) for r in roles]},
            optional=False,
        ),
        _input("user", t("roles.modal.user", locale), {"type": "users_select"}, optional=False),
    ]
    return view


def parse_assign_role(view: dict[str, Any]) -> tuple[str, str]:
    """(role key, user id) from the submitted assign-role form."""
    values = _values(view)
    role = (_value(values, "role").get("selected_option") or {}).get("value") or ""
    return role, _value(values, "user").get("selected_user") or ""


def roster(
    incident: Incident, roles: RolesConfig, history: list[RoleAssignment], locale: str
) -> list[dict[str, Any]]:
    """Each role with its holder since when, and everyone who held it before, from when to when."""
    blocks: list[dict[str, Any]] = [header(t("roles.roster.title", locale, key=incident.key))]
    for role in roles:
        held = [a for a in history if a.role == role.key]
        current = next((a for a in held if a.relieved_at is None), None)
        if current is not None:
            head = t(
                "roles.roster.current",
                locale,
                role=role.name.get(locale),
                holder=user(current.user_id),
                since=when(current.assumed_at),
            )
        else:
            head = t("roles.roster.unfilled", locale, role=role.name.get(locale))
        past = [
            t(
                "roles.roster.past",
                locale,
                holder=user(a.user_id),
                since=when(a.assumed_at),
                until=when(a.relieved_at),
                by=user(a.relieved_by),
            )
            for a in held
            if a.relieved_at is not None
        ]
        blocks.append(section("\n".join([head, *past])))
    blocks.append(context(t("roles.roster.hint", locale)))
    return blocks


# Resolve ----------------------------------------------------------------------------------------


def resolve_modal(incident: Incident, now: datetime, locale: str) -> dict[str, Any]:
    view = _modal(CallbackId.RESOLVE, incident, "lifecycle.resolve", locale)
    stages = [option(t(f"lifecycle.resolve.stage.{s}", locale), s) for s in STAGES]
    initial = stages[0] if incident.status == "open" else stages[1]
    view["blocks"] = [
        section(t("lifecycle.resolve.modal.intro", locale, key=incident.key)),
        _input(
            "stage",
            t("lifecycle.resolve.field.stage", locale),
            {"type": "radio_buttons", "options": stages, "initial_option": initial},
            optional=False,
        ),
        _input(
            "contained_at",
            t("lifecycle.resolve.field.contained_at", locale),
            {
                "type": "datetimepicker",
                "initial_date_time": int((incident.contained_at or now).timestamp()),
            },
            hint=t("lifecycle.resolve.field.contained_hint", locale),
        ),
        _input(
            "resolved_at",
            t("lifecycle.resolve.field.resolved_at", locale),
            {"type": "datetimepicker", "initial_date_time": int(now.timestamp())},
            hint=t("lifecycle.resolve.field.resolved_hint", locale),
        ),
    ]
    return view


def parse_resolve(view: dict[str, Any]) -> Resolution:
    values = _values(view)
    stage = (_value(values, "stage").get("selected_option") or {}).get("value") or ""
    return Resolution(
        stage=stage,  # type: ignore[arg-type]  # checked by incident.lifecycle.check_resolution
        contained_at=_picked_time(values, "contained_at"),
        resolved_at=_picked_time(values, "resolved_at"),
    )


# Close ------------------------------------------------------------------------------------------


def close_modal(incident: Incident, open_required: int, locale: str) -> dict[str, Any]:
    view = _modal(CallbackId.CLOSE, incident, "lifecycle.close", locale)
    archive = option(t("lifecycle.close.option.archive", locale), "archive")
    blocks: list[dict[str, Any]] = [section(t("lifecycle.close.modal.intro", locale, key=incident.key))]
    if open_required:
        blocks.append(section(t("lifecycle.close.modal.open_items", locale, count=open_required)))
    blocks += [
        _input(
            "lessons",
            t("lifecycle.close.field.lessons", locale),
            {"type": "plain_text_input", "multiline": True, "max_length": limit(Field.LESSONS)},
            optional=False,
            hint=t("lifecycle.close.field.lessons_hint", locale),
        ),
        _input(
            "archive",
            t("lifecycle.close.field.archive", locale),
            {"type": "checkboxes", "options": [archive]},
        ),
    ]
    view["blocks"] = blocks
    return view


def parse_close(view: dict[str, Any]) -> tuple[str, bool]:
    """(lessons learned, archive the channel?) from the submitted close form."""
    values = _values(view)
    lessons = _value(values, "lessons").get("value") or ""
    return lessons, bool(_value(values, "archive").get("selected_options"))


# Access requests --------------------------------------------------------------------------------


def access_request(incident: Incident, request: AccessRequest, locale: str) -> list[dict[str, Any]]:
    """The decision message the commander gets: buttons while pending, who decided afterwards.

    Only the key, the requester and the channel: nothing about the incident that a DM could leak.
    """
    blocks: list[dict[str, Any]] = [
        section(
            t(
                "access.ask.text",
                locale,
                user=user(request.user_id),
                key=incident.key,
                channel=incident.channel_id or "",
                at=when(request.requested_at),
            )
        )
    ]
    if request.status == "pending":
        value = str(request.id)
        blocks.append(
            actions(
                button(t("access.ask.approve", locale), ActionId.ACCESS_APPROVE, value, "primary"),
                button(t("access.ask.deny", locale), ActionId.ACCESS_DENY, value, "danger"),
                block_id=f"access_{request.id}",
            )
        )
    else:
        blocks.append(
            context(
                t(
                    f"access.ask.{request.status}",
                    locale,
                    by=user(request.decided_by),
                    at=when(request.decided_at),
                )
            )
        )
    return blocks


def access_request_text(incident: Incident, request: AccessRequest, locale: str) -> str:
    return t(
        "access.ask.fallback", locale, key=incident.key, status=t(f"access.status.{request.status}", locale)
    )
