"""Property-based fuzzing of everything Slack can send: no 5xx, no unhandled error, no partial rows.

One bot serves every example of a property (the point is many inputs against a live server),
so hypothesis's function-scoped-fixture health check is deliberately silenced.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from handlers.ids import ActionId, CallbackId
from storage.models import Incident, TimelineEvent
from tests.harness import Slack

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

SUBCOMMANDS = [
    "help",
    "declare",
    "drill",
    "status",
    "list",
    "role",
    "roles",
    "severity",
    "resolve",
    "close",
    "note",
    "decision",
    "evidence",
    "action",
    "actions",
    "timeline",
    "verify",
    "postmortem",
    "phase",
    "notify",
    "obligations",
    "facts",
    "log",
    "frobnicate",
    "",
]
WEIRD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=300
)


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def machine_speed(request: pytest.FixtureRequest) -> None:
    """Hypothesis sends hundreds of requests a minute through one bot, far past Slack's rate
    limits, which these tests are not about: the sandbox's limits are off here. The payloads
    are forged, not sent by Slack, so Slack's 3-second ack deadline is not what is checked
    either (assert_clean checks the answer itself)."""
    if "slack" in request.fixturenames:
        sb = request.getfixturevalue("slack").sb
        sb.rate_limits_enabled = False
        sb.ack_deadline = sb.bot_timeout + 1.0


@pytest.fixture
def errors() -> Any:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


async def counts(slack: Slack) -> tuple[int, int]:
    async with slack.db.session() as s:
        incidents = (await s.execute(select(func.count()).select_from(Incident))).scalar_one()
        events = (await s.execute(select(func.count()).select_from(TimelineEvent))).scalar_one()
    return incidents, events


def assert_clean(slack: Slack, errors: ErrorLog, status: int) -> None:
    assert status != 0 and status < 500, f"bot answered {status}"
    assert not errors.records, [r.getMessage() for r in errors.records]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@FUZZ
@given(sub=st.sampled_from(SUBCOMMANDS), rest=WEIRD_TEXT, who=st.sampled_from(["alice", "mallory"]))
async def test_slash_command_text_never_breaks_the_bot(
    slack: Slack, errors: ErrorLog, sub: str, rest: str, who: str
) -> None:
    delivery = await slack.person(who).command(f"{sub} {rest}".strip(), channel="C0GENERAL1")
    await slack.settle()
    assert_clean(slack, errors, delivery.status)
    person = slack.person(who)
    for _ in range(5):  # close whatever modal the command opened, like a person pressing Cancel
        try:
            person.modal()
        except LookupError:
            break
        await person.close_modal()
    # Commands alone never create incidents (declaring needs the modal), so nothing was half-written.
    assert (await counts(slack))[0] == 0


def _block_action(user: str, action_id: str, value: str, channel: str = "C0GENERAL1") -> dict[str, Any]:
    now = f"{time.time():.6f}"
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "x", "name": "x", "team_id": "T0SANDBOX1"},
        "api_app_id": "A0BREACHRM",
        "token": "legacy",
        "container": {"type": "message", "message_ts": now, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": "1.2.3",
        "team": {"id": "T0SANDBOX1", "domain": "sandbox"},
        "channel": {"id": channel, "name": "general"},
        "message": {"ts": now, "text": "x", "blocks": []},
        "response_url": "http://127.0.0.1:9/nowhere",
        "actions": [
            {"action_id": action_id, "block_id": "b", "value": value, "type": "button", "action_ts": now}
        ],
    }


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@FUZZ
@given(
    action=st.sampled_from(list(ActionId)),
    value=st.one_of(WEIRD_TEXT, st.integers().map(str)),
    who=st.sampled_from(["UMALLORY1", "UALICE001"]),
)
async def test_forged_interactive_payloads_are_handled_kindly(
    slack: Slack, errors: ErrorLog, action: ActionId, value: str, who: str
) -> None:
    delivery = await slack.sb.deliver("interactive", _block_action(who, action.value, value))
    await slack.settle()
    assert_clean(slack, errors, delivery.status)
    assert await counts(slack) == (0, 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@FUZZ
@given(
    callback=st.sampled_from(list(CallbackId)),
    meta=WEIRD_TEXT,
    values=st.dictionaries(st.text(max_size=10), st.dictionaries(st.text(max_size=10), st.just({}))),
)
async def test_forged_view_submissions_are_handled_kindly(
    slack: Slack, errors: ErrorLog, callback: CallbackId, meta: str, values: dict[str, Any]
) -> None:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0SANDBOX1", "domain": "sandbox"},
        "user": {"id": "UMALLORY1", "username": "mallory", "name": "mallory", "team_id": "T0SANDBOX1"},
        "api_app_id": "A0BREACHRM",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "view": {
            "id": "VFUZZ",
            "type": "modal",
            "callback_id": callback.value,
            "private_metadata": meta,
            "state": {"values": values},
            "hash": "h",
            "blocks": [],
        },
    }
    delivery = await slack.sb.deliver("interactive", payload)
    await slack.settle()
    assert_clean(slack, errors, delivery.status)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@FUZZ
@given(
    kind=st.sampled_from(
        [
            "reaction_added",
            "reaction_removed",
            "app_home_opened",
            "message",
            "member_joined_channel",
            "unknown_event",
        ]
    ),
    reaction=st.text(max_size=20),
    ts=WEIRD_TEXT,
    channel=st.sampled_from(["C0GENERAL1", "CNOPE", ""]),
)
async def test_odd_event_bodies_are_handled_kindly(
    slack: Slack, errors: ErrorLog, kind: str, reaction: str, ts: str, channel: str
) -> None:
    event = {
        "type": kind,
        "user": "UMALLORY1",
        "reaction": reaction,
        "channel": channel,
        "tab": "home",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }
    body = {
        "token": "legacy",
        "team_id": "T0SANDBOX1",
        "api_app_id": "A0BREACHRM",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{abs(hash(json.dumps(event))) % 10**12}",
        "event_time": int(time.time()),
        "authed_users": ["UBREACHBOT"],
    }
    delivery = await slack.sb.deliver("event", body)
    await slack.settle()
    assert_clean(slack, errors, delivery.status)
    assert await counts(slack) == (0, 0)
