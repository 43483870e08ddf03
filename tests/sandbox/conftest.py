from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.scopes import every_scope
from sandbox.server import Sandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    # These tests exercise Slack's behaviour method by method, so the token may call anything;
    # test_scopes.py checks the manifest's own grant.
    box = await Sandbox.start(scopes=every_scope())
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
def client(sandbox: Sandbox) -> AsyncWebClient:
    return AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
