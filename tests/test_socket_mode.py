"""`breachroom serve --socket`: the same bot, reached over Socket Mode instead of signed HTTP."""

from __future__ import annotations

from bot.embedded import SANDBOX_ROLES
from bot.runtime import Runtime
from bot.settings import load_settings
from incident.clock import FollowClock
from sandbox.server import DEFAULT_APP_TOKEN, DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, Sandbox


async def test_help_and_a_declaration_over_socket_mode(db_url: str) -> None:
    sb = await Sandbox.start()
    settings = load_settings(
        slack_bot_token=DEFAULT_BOT_TOKEN,
        slack_signing_secret=DEFAULT_SIGNING_SECRET,
        slack_app_token=DEFAULT_APP_TOKEN,
        slack_api_url=sb.api_url,
        database_url=db_url,
        roles_file=SANDBOX_ROLES,  # the sandbox's people as default holders
    )
    rt = Runtime(settings, clock=FollowClock(sb.clock.now))
    await rt.start()
    handler = rt.socket_handler()
    try:
        await handler.connect_async()
        sb.transport = "socket"

        async def idle() -> None:
            await rt.idle(timeout=15.0)

        sb.idle_probe = idle
        alice = sb.person("alice")
        delivery = await alice.command("help")
        await sb.settle()
        assert delivery.status == 200
        assert "/breach declare" in alice.ephemerals[-1].all_text
        await alice.command("declare Laptop left on a train")
        await sb.settle()
        delivery = await alice.submit({"Severity": "SEV3"})
        assert not delivery.errors
        await sb.settle()
        [channel] = [c for c in sb.workspace.channels.values() if c.name.startswith("br-")]
        assert channel.is_private and "UHEIDI001" in channel.members
        assert sb.calls("apps.connections.open") and not sb.violations
    finally:
        await handler.close_async()
        await rt.stop()
        await sb.stop()
