import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.server import Sandbox


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert (
        resp["user_id"] == "UBREACHBOT" and resp["team_id"] == "T0SANDBOX1" and resp["bot_id"] == "B0BREACHRM"
    )


async def test_wrong_or_missing_token_is_rejected(sandbox: Sandbox) -> None:
    with pytest.raises(SlackApiError) as bad:
        await AsyncWebClient(token="xoxb-wrong", base_url=sandbox.api_url).auth_test()
    assert bad.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=sandbox.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"


async def test_private_channel_holds_its_members(sandbox: Sandbox, client: AsyncWebClient) -> None:
    created = await client.conversations_create(name="br-2026-0001-payroll", is_private=True)
    channel_id = created["channel"]["id"]
    assert created["channel"]["is_private"] is True
    await client.conversations_invite(channel=channel_id, users=["UALICE001", "UBOB00001"])
    members = await client.conversations_members(channel=channel_id, limit=2)
    rest = await client.conversations_members(
        channel=channel_id, cursor=members["response_metadata"]["next_cursor"]
    )
    assert set(members["members"] + rest["members"]) == {"UBREACHBOT", "UALICE001", "UBOB00001"}
    view = sandbox.channel("br-2026-0001-payroll")
    assert view.is_private and set(view.members) == {"UBREACHBOT", "UALICE001", "UBOB00001"}
    assert sandbox.violations == []


async def test_channel_names_follow_slack_rules(sandbox: Sandbox, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caps:
        await client.conversations_create(name="Breach-Room")
    assert caps.value.response["error"] == "invalid_name_specials"
    with pytest.raises(SlackApiError) as long:
        await client.conversations_create(name="x" * 81)
    assert long.value.response["error"] == "invalid_name_maxlength"
    await client.conversations_create(name="breach-room")
    with pytest.raises(SlackApiError) as taken:
        await client.conversations_create(name="breach-room")
    assert taken.value.response["error"] == "name_taken"
    assert [v.error for v in sandbox.violations] == ["invalid_name_specials", "invalid_name_maxlength"]


async def test_invite_errors(client: AsyncWebClient) -> None:
    channel_id = (await client.conversations_create(name="inv"))["channel"]["id"]
    for users, error in [("UNOBODY00", "user_not_found"), ("UBREACHBOT", "cant_invite_self")]:
        with pytest.raises(SlackApiError) as err:
            await client.conversations_invite(channel=channel_id, users=users)
        assert err.value.response["error"] == error
    await client.conversations_invite(channel=channel_id, users="UALICE001")
    with pytest.raises(SlackApiError) as again:
        await client.conversations_invite(channel=channel_id, users="UALICE001")
    assert again.value.response["error"] == "already_in_channel"
    with pytest.raises(SlackApiError) as outside:
        await client.conversations_invite(channel="C0ACCOUNT1", users="UBOB00001")
    assert outside.value.response["error"] == "not_in_channel"


async def test_section_over_3000_chars_is_invalid_blocks(sandbox: Sandbox, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0GENERAL1", text="x", blocks=[_section("a" * 3001)])
    assert err.value.response["error"] == "invalid_blocks"
    assert err.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert [v.error for v in sandbox.violations] == ["invalid_blocks"]
    assert sandbox.channel("general").messages == []


async def test_51_blocks_are_rejected_50_accepted(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0GENERAL1", text="x", blocks=[_section("a")] * 51)
    assert err.value.response["error"] == "invalid_blocks"
    ok = await client.chat_postMessage(channel="C0GENERAL1", text="x", blocks=[_section("a")] * 50)
    assert ok["message"]["bot_id"] == "B0BREACHRM"


async def test_post_update_and_read_back(sandbox: Sandbox, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(
        channel="C0GENERAL1", text="hi", blocks=[_section("Isolate systems")]
    )
    await client.chat_update(
        channel="C0GENERAL1", ts=posted["ts"], text="hi", blocks=[_section("✅ Isolate systems")]
    )
    msg = sandbox.channel("general").message_with_text("Isolate")
    assert msg.text_of("Isolate") == "✅ Isolate systems" and msg.is_edited
    with pytest.raises(SlackApiError) as long:
        await client.chat_update(channel="C0GENERAL1", ts=posted["ts"], text="y" * 4001)
    assert long.value.response["error"] == "msg_too_long"
    history = await client.conversations_history(channel="C0GENERAL1")
    assert history["messages"][0]["ts"] == posted["ts"]


async def test_bot_outside_channel_gets_not_in_channel(sandbox: Sandbox, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0ACCOUNT1", text="hello")
    assert err.value.response["error"] == "not_in_channel"
    await client.conversations_join(channel="C0ACCOUNT1")
    await client.chat_postMessage(channel="C0ACCOUNT1", text="hello")
    with pytest.raises(SlackApiError) as unknown:
        await client.chat_postMessage(channel="C0NOPE0001", text="hello")
    assert unknown.value.response["error"] == "channel_not_found"


async def test_unknown_parameter_is_a_violation(sandbox: Sandbox, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.api_call(
            "chat.postMessage", json={"channel": "C0GENERAL1", "text": "x", "colour": "red"}
        )
    assert err.value.response["error"] == "invalid_arguments"
    assert sandbox.violations[0].detail == ["[ERROR] unknown parameter: colour"]
    with pytest.raises(SlackApiError) as method:
        await client.api_call("chat.shout")
    assert method.value.response["error"] == "unknown_method"


async def test_post_to_user_id_lands_in_the_dm(sandbox: Sandbox, client: AsyncWebClient) -> None:
    resp = await client.chat_postMessage(channel="UALICE001", text="Your task is due")
    dm = (await client.conversations_open(users="UALICE001"))["channel"]["id"]
    assert resp["channel"] == dm
    assert [m.text for m in sandbox.person("alice").dms] == ["Your task is due"]


async def test_trigger_id_expires_after_three_seconds(sandbox: Sandbox, client: AsyncWebClient) -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Declare"},
        "blocks": [_section("hello")],
    }
    fresh = sandbox.workspace.issue_trigger("UALICE001")
    opened = await client.views_open(trigger_id=fresh, view=view)
    assert sandbox.person("alice").modal().id == opened["view"]["id"]
    with pytest.raises(SlackApiError) as reused:
        await client.views_open(trigger_id=fresh, view=view)
    assert reused.value.response["error"] == "exchanged_trigger_id"
    stale = sandbox.workspace.issue_trigger("UALICE001")
    sandbox.clock.advance(4)
    with pytest.raises(SlackApiError) as expired:
        await client.views_open(trigger_id=stale, view=view)
    assert expired.value.response["error"] == "expired_trigger_id"
    with pytest.raises(SlackApiError) as invalid:
        await client.views_open(trigger_id="123.456.bogus", view=view)
    assert invalid.value.response["error"] == "invalid_trigger_id"


async def test_modal_limits_answer_invalid_arguments(client: AsyncWebClient, sandbox: Sandbox) -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "A title longer than 24 chars"},
        "blocks": [_section("hello")],
    }
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=sandbox.workspace.issue_trigger("UALICE001"), view=view)
    assert err.value.response["error"] == "invalid_arguments"
    assert "[json-pointer:/view/title/text]" in err.value.response["response_metadata"]["messages"][0]


async def test_views_update_hash_conflict(client: AsyncWebClient, sandbox: Sandbox) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "One"}, "blocks": [_section("a")]}
    opened = (await client.views_open(trigger_id=sandbox.workspace.issue_trigger("UBOB00001"), view=view))[
        "view"
    ]
    updated = await client.views_update(
        view_id=opened["id"], hash=opened["hash"], view={**view, "blocks": [_section("b")]}
    )
    with pytest.raises(SlackApiError) as err:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    assert err.value.response["error"] == "hash_conflict"
    assert updated["view"]["blocks"][0]["text"]["text"] == "b"


async def test_rate_limit_answers_429_with_retry_after(sandbox: Sandbox, client: AsyncWebClient) -> None:
    sandbox.rate_limits_enabled = True
    for _ in range(3):
        await client.chat_postMessage(channel="C0GENERAL1", text="burst")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0GENERAL1", text="one too many")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.response["error"] == "ratelimited"
    sandbox.clock.advance(1)
    await client.chat_postMessage(channel="C0GENERAL1", text="after waiting")
    assert sandbox.violations == []


async def test_faults_fail_the_next_calls_then_stop(sandbox: Sandbox, client: AsyncWebClient) -> None:
    sandbox.faults.add(method="conversations.invite", kind="error:fatal_error", times=1)
    sandbox.faults.add(method="users.info", kind="server_error", times=1)
    channel_id = (await client.conversations_create(name="faulty"))["channel"]["id"]
    with pytest.raises(SlackApiError) as err:
        await client.conversations_invite(channel=channel_id, users="UALICE001")
    assert err.value.response["error"] == "fatal_error"
    await client.conversations_invite(channel=channel_id, users="UALICE001")
    with pytest.raises(SlackApiError) as server:
        await client.users_info(user="UALICE001")
    assert server.value.response.status_code == 500
    assert (await client.users_info(user="UALICE001"))["user"]["profile"][
        "email"
    ] == "alice@sandbox-accounting.example"


async def _ten_auth_tests(client: AsyncWebClient) -> list[bool]:
    """Whether each of ten `auth.test` calls in a row succeeded."""
    outcomes = []
    for _ in range(10):
        try:
            await client.auth_test()
            outcomes.append(True)
        except SlackApiError:
            outcomes.append(False)
    return outcomes


async def test_rate_fault_is_repeatable(sandbox: Sandbox, client: AsyncWebClient) -> None:
    sandbox.faults.add(method="auth.test", kind="ratelimited", rate=0.5)
    outcomes = await _ten_auth_tests(client)
    sandbox.faults.clear()
    sandbox.faults.add(method="auth.test", kind="ratelimited", rate=0.5)
    again = await _ten_auth_tests(client)
    assert outcomes == again and True in outcomes and False in outcomes


async def test_timeout_fault_outlasts_the_client(sandbox: Sandbox) -> None:
    sandbox.faults.add(method="auth.test", kind="timeout", delay=1.5)
    slow = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url, timeout=1)
    with pytest.raises(TimeoutError):
        await slow.auth_test()


async def test_files_upload_v2_end_to_end(sandbox: Sandbox, client: AsyncWebClient) -> None:
    resp = await client.files_upload_v2(
        channel="C0GENERAL1",
        content="# Post-mortem\n",
        filename="pm.md",
        title="Post-mortem",
        initial_comment="Here it is",
    )
    file_id = resp["file"]["id"]
    assert sandbox.workspace.files[file_id].content == b"# Post-mortem\n"
    msg = sandbox.channel("general").message_with_text("Here it is")
    assert msg.files[0]["id"] == file_id and msg.files[0]["title"] == "Post-mortem"
    assert sandbox.violations == []


async def test_pins_bookmarks_reactions(sandbox: Sandbox, client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel="C0GENERAL1", text="card"))["ts"]
    await client.pins_add(channel="C0GENERAL1", timestamp=ts)
    with pytest.raises(SlackApiError) as again:
        await client.pins_add(channel="C0GENERAL1", timestamp=ts)
    assert again.value.response["error"] == "already_pinned"
    assert [m.ts for m in sandbox.channel("general").pins] == [ts]
    assert (await client.pins_list(channel="C0GENERAL1"))["items"][0]["message"]["ts"] == ts
    await client.bookmarks_add(
        channel_id="C0GENERAL1", title="Runbook", type="link", link="https://example.com"
    )
    await client.reactions_add(channel="C0GENERAL1", timestamp=ts, name="eyes")
    assert sandbox.channel("general").bookmarks[0]["title"] == "Runbook"
    assert sandbox.channel("general").message_with_text("card").reactions == {"eyes": ["UBREACHBOT"]}


async def test_users_and_groups(client: AsyncWebClient) -> None:
    found = await client.users_lookupByEmail(email="dave@sandbox-accounting.example")
    assert found["user"]["real_name"] == "Dave Müller"
    with pytest.raises(SlackApiError) as err:
        await client.users_lookupByEmail(email="nobody@example.com")
    assert err.value.response["error"] == "users_not_found"
    assert (await client.usergroups_users_list(usergroup="S0ITSEC001"))["users"] == ["UBOB00001", "UIVAN0001"]
    handles = {g["handle"] for g in (await client.usergroups_list())["usergroups"]}
    assert handles == {"it-security", "legal", "breach-admins"}
    assert len((await client.users_list())["members"]) == 12


async def test_response_url_replies_ephemerally_and_in_channel(sandbox: Sandbox) -> None:
    import aiohttp

    entry = sandbox.workspace.issue_response_url("C0GENERAL1", "UALICE001")
    async with aiohttp.ClientSession() as session:
        await session.post(f"{sandbox.url}/response/{entry.id}", json={"text": "Only you see this"})
        await session.post(
            f"{sandbox.url}/response/{entry.id}", json={"text": "Everyone", "response_type": "in_channel"}
        )
    assert [e.text for e in sandbox.person("alice").ephemerals] == ["Only you see this"]
    assert sandbox.channel("general").messages[-1].text == "Everyone"
