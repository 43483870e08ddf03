"""External selects: the sandbox asks the app for options the way Slack does (block_suggestion)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.blocks import check_options_answer
from sandbox.driver import Person
from sandbox.server import Sandbox
from tests.sandbox import test_driver
from tests.sandbox.test_driver import FakeBot, option

bot = test_driver.bot  # the fake app that records what the sandbox sends it


GROUPS = {
    "option_groups": [
        {"label": {"type": "plain_text", "text": "Europe"}, "options": [option("EU / EEA", "EU")]},
        {"label": {"type": "plain_text", "text": "United States"}, "options": [option("Florida", "US-FL")]},
    ]
}


def _external(min_query: int | None = 1) -> dict[str, Any]:
    """A menu whose options the app serves, asked for from `min_query` characters typed (None:
    Slack's default)."""
    element: dict[str, Any] = {"type": "multi_external_select", "action_id": "pick"}
    if min_query is not None:
        element["min_query_length"] = min_query
    return element


async def _open(
    sandbox: Sandbox, client: AsyncWebClient, person: str, element: dict[str, Any], **input_fields: Any
) -> Person:
    """The app opens its "Where" modal for `person`, whose one input (block `places`) holds
    `element`: the person, with the modal open."""
    view = {
        "type": "modal",
        "callback_id": "where",
        "title": {"type": "plain_text", "text": "Where"},
        "submit": {"type": "plain_text", "text": "Save"},
        "private_metadata": '{"incident_id": 7}',
        "blocks": [
            {
                "type": "input",
                "block_id": "places",
                "label": {"type": "plain_text", "text": "Jurisdictions"},
                "element": element,
                **input_fields,
            }
        ],
    }
    who = sandbox.person(person)
    await client.views_open(trigger_id=sandbox.workspace.issue_trigger(who.id), view=view)
    return who


async def test_typing_in_an_external_select_asks_the_app_and_lists_its_groups(
    sandbox: Sandbox,
    bot: FakeBot,
    client: AsyncWebClient,
) -> None:
    carol = await _open(sandbox, client, "carol", _external())
    bot.acks.append(web.json_response(GROUPS))
    options = await carol.suggest(carol.modal(), "places", "flo")
    assert [o["value"] for o in options] == ["EU", "US-FL"]
    payload = bot.payload()
    assert bot.requests[-1]["valid"]
    assert payload["type"] == "block_suggestion"
    assert (payload["action_id"], payload["block_id"], payload["value"]) == ("pick", "places", "flo")
    assert payload["container"] == {"type": "view", "view_id": carol.modal().id}
    assert payload["view"]["private_metadata"] == '{"incident_id": 7}'
    assert payload["user"]["id"] == "UCAROL001"
    assert not sandbox.violations


async def test_submitting_an_external_choice_sends_the_option_the_app_served(
    sandbox: Sandbox,
    bot: FakeBot,
    client: AsyncWebClient,
) -> None:
    carol = await _open(sandbox, client, "carol", _external())
    bot.acks += [web.json_response(GROUPS), web.Response(status=200)]
    await carol.submit({"Jurisdictions": ["Florida"]})
    suggestion, submission = bot.payload(-2), bot.payload(-1)
    assert suggestion["type"] == "block_suggestion" and suggestion["value"] == "Florida"
    assert submission["view"]["state"]["values"]["places"]["pick"] == {
        "type": "multi_external_select",
        "selected_options": [option("Florida", "US-FL")],
    }


async def test_slack_does_not_ask_before_the_minimum_query_length(
    sandbox: Sandbox,
    bot: FakeBot,
    client: AsyncWebClient,
) -> None:
    carol = await _open(sandbox, client, "carol", _external(min_query=None))  # Slack's default: 3 characters
    assert await carol.suggest(carol.modal(), "places", "EU") == []
    assert bot.requests == []
    with pytest.raises(LookupError):
        await carol.submit({"Jurisdictions": ["EU"]})  # nothing listed, nothing to pick
    assert bot.requests == []


async def test_an_answer_breaking_slacks_rules_is_a_violation_and_lists_nothing(
    sandbox: Sandbox,
    bot: FakeBot,
    client: AsyncWebClient,
) -> None:
    carol = await _open(sandbox, client, "carol", _external())
    bot.acks.append(web.json_response({"options": [option("x" * 76, "EU")]}))
    assert await carol.suggest(carol.modal(), "places", "e") == []
    assert [(v.method, v.error) for v in sandbox.violations] == [("ack:block_suggestion", "invalid_options")]
    assert "must be less than 76 characters" in sandbox.violations[0].detail[0]


async def test_a_bare_ack_is_an_empty_menu(
    sandbox: Sandbox,
    bot: FakeBot,
    client: AsyncWebClient,
) -> None:
    carol = await _open(sandbox, client, "carol", _external())
    bot.acks.append(web.Response(status=200))
    assert await carol.suggest(carol.modal(), "places", "e") == []
    assert not sandbox.violations


def test_the_options_answer_rules() -> None:
    assert check_options_answer(GROUPS) == []
    assert check_options_answer({"options": []}) == []
    assert check_options_answer([]) != []
    assert check_options_answer({}) != []
    assert check_options_answer({**GROUPS, "options": []}) != []
    assert check_options_answer({"options": [option("a", str(i)) for i in range(101)]}) != []
    assert check_options_answer({"options": [option("a", "v" * 151)]}) != []
    assert check_options_answer({"options": [{"text": {"type": "plain_text", "text": "a"}}]}) != []
    too_many_groups = {"option_groups": [GROUPS["option_groups"][0]] * 101}
    assert check_options_answer(too_many_groups) != []
    long_label = {"option_groups": [{"label": {"type": "plain_text", "text": "g" * 76}, "options": []}]}
    assert check_options_answer(long_label) != []


async def test_choosing_in_a_dispatching_input_keeps_the_choice_in_the_views_state(
    sandbox: Sandbox,
    bot: FakeBot,
    client: AsyncWebClient,
) -> None:
    places = {
        "type": "multi_static_select",
        "action_id": "pick",
        "options": [option("EU / EEA", "EU"), option("China", "CN")],
    }
    carol = await _open(sandbox, client, "carol", places, dispatch_action=True)
    await carol.select(carol.modal(), "places", "EU / EEA")
    action = bot.payload()
    assert action["type"] == "block_actions"
    assert action["actions"][0]["selected_options"] == [option("EU / EEA", "EU")]
    assert action["view"]["state"]["values"]["places"]["pick"]["selected_options"] == [
        option("EU / EEA", "EU")
    ]
    await carol.submit({})  # not named again: what was picked is what is submitted
    assert bot.payload()["view"]["state"]["values"]["places"]["pick"]["selected_options"] == [
        option("EU / EEA", "EU")
    ]
