"""`breachroom serve --socket`: the same bot, reached over Socket Mode instead of signed HTTP."""

from __future__ import annotations

from tests.harness import over_socket_mode


async def test_help_and_a_declaration_over_socket_mode(db_url: str) -> None:
    async with over_socket_mode(db_url) as sb:
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
