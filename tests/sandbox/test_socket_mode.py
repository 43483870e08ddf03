import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.server import Sandbox


async def test_socket_mode_delivers_envelopes_and_reads_acks(sandbox: Sandbox) -> None:
    seen: list[SocketModeRequest] = []

    async def listener(client: SocketModeClient, req: SocketModeRequest) -> None:
        seen.append(req)
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "Got it"})
        )

    client = SocketModeClient(
        app_token=sandbox.app_token,
        web_client=AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url),
    )
    client.socket_mode_request_listeners.append(listener)
    await client.connect()
    try:
        for _ in range(100):
            if sandbox.socket.connected:
                break
            await asyncio.sleep(0.02)
        sandbox.transport = "socket"
        result = await sandbox.person("erin").command("status")
        assert result.status == 200 and result.json == {"text": "Got it"}
        assert seen[0].type == "slash_commands" and seen[0].payload["user_id"] == "UERIN0001"
        assert [e.text for e in sandbox.person("erin").ephemerals] == ["Got it"]
    finally:
        await client.close()


async def test_connections_open_needs_the_app_token(sandbox: Sandbox) -> None:
    web = AsyncWebClient(base_url=sandbox.api_url)
    opened = await web.apps_connections_open(app_token=sandbox.app_token)
    assert opened["url"].startswith("ws://127.0.0.1")
    with pytest.raises(SlackApiError) as err:
        await web.apps_connections_open(app_token=sandbox.bot_token)
    assert err.value.response["error"] == "not_allowed_token_type"
