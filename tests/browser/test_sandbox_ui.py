"""The sandbox workspace in a real browser: a firm sees Breachroom work before installing anything.

Headless Chromium (Debian's package) driven by Playwright opens the page the sandbox serves,
and a declaration goes end to end through it: the composer's slash command, the modal the
bot opens (with the bot's field error shown under its field), the private incident channel
with its pinned card, a checklist button, and a person outside the incident who must not
even see that the channel exists. Screenshots of each step land in test-artifacts/browser/.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.embedded import Embedded, embedded
from sandbox.server import Sandbox
from sandbox.workspace import Channel

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
TITLE = "Payroll export leaked"


def _missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return (
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; `make test` does it as root)"
        )
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    problem = _missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run under CI: {problem}")
        pytest.skip(problem)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def workspace(db_url: str) -> AsyncIterator[Embedded]:
    async with embedded(db_url) as env:
        yield env


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


async def act_as(page: Any, name: str) -> None:
    await page.select_option("#person", name)
    await page.wait_for_selector(f'body[data-as="{name}"] .me-name[data-me="{name}"]')


def incident_channel(env: Embedded) -> Channel:
    found = [c for c in env.sb.workspace.channels.values() if c.is_private and c.name.startswith("br-")]
    assert len(found) == 1, [c.name for c in found]
    return found[0]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_declare_and_work_an_incident_in_the_browser(browser: Any, workspace: Embedded) -> None:
    env = workspace
    context = await browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(msg: Any) -> None:
        # A 404 is how the sandbox refuses an outsider a private channel; anything else is a bug.
        if msg.type == "error" and "status of 404" not in msg.text:
            problems.append(f"console {msg.type}: {msg.text}")

    page.on("console", on_console)
    external: list[str] = []
    page.on(
        "request",
        lambda req: (
            None
            if req.url.startswith(env.sb.url) or req.url.startswith("data:")
            else external.append(req.url)
        ),
    )

    # The address `breachroom sandbox` prints is a workspace, not a 404.
    await page.goto(f"{env.sb.url}/?as=alice")
    await page.wait_for_selector('body[data-ready="true"][data-live="on"]')
    assert await page.locator(".me-name").inner_text() == "Alice Chen"
    assert "Accounting" in await page.locator(".me-dept").inner_text()
    await page.wait_for_selector('.nav-item.active[data-channel-name="general"]')
    await shot(page, "01-alice-general")

    # Alice declares from the composer; the bot's modal opens with her title filled in.
    await page.fill("#composer-input", f"/breach declare {TITLE}")
    await page.press("#composer-input", "Enter")
    modal = page.locator('.modal[data-callback-id="declare"]')
    await modal.wait_for()
    title = modal.locator('[data-block-id="title"][data-action-id="value"]')
    assert await title.input_value() == TITLE
    await modal.locator('select[data-block-id="severity"]').select_option("SEV2")
    await modal.locator('[data-block-id="people_affected"][data-action-id="value"]').fill("-5")
    await modal.locator('[data-block-id="data_categories"] [data-option-value="payroll"] input').check()
    await shot(page, "02-declare-modal")

    # The bot refuses a negative count: its error shows under that field and the modal stays.
    await page.click("[data-modal-submit]")
    error = modal.locator('[data-error-for="people_affected"]')
    await error.wait_for()
    assert (await error.inner_text()).strip()
    assert await title.input_value() == TITLE  # what she typed is still there
    await shot(page, "03-declare-field-error")
    assert not [c for c in env.sb.workspace.channels.values() if c.name.startswith("br-")]

    await modal.locator('[data-block-id="people_affected"][data-action-id="value"]').fill("1200")
    await page.click("[data-modal-submit]")
    await page.wait_for_selector("#modal-root .modal", state="detached")
    await env.sb.settle(timeout=20)

    channel = incident_channel(env)
    assert "UALICE001" in channel.members and "UHEIDI001" in channel.members
    assert "UMALLORY1" not in channel.members
    # The new private channel appears in Alice's sidebar without a reload.
    await page.wait_for_selector(f'.nav-item[data-channel-id="{channel.id}"][data-private="true"]')
    await shot(page, "04-alice-after-declare")

    # Heidi, the incident commander, opens the channel and finds the pinned card.
    await act_as(page, "heidi")
    await page.click(f'.nav-item[data-channel-id="{channel.id}"]')
    await page.wait_for_selector(f'[data-channel-title="{channel.name}"]')
    card = page.locator('.msg[data-pinned="true"]').first
    await card.wait_for()
    card_text = await card.inner_text()
    assert TITLE in card_text and "SEV2" in card_text
    assert "Heidi Sun" in card_text  # <@UHEIDI001> rendered as her name
    await card.locator("[data-pinned-marker]").wait_for()
    await card.scroll_into_view_if_needed()
    await page.click("[data-pins-toggle]")
    assert await page.locator(".pin-item").count() == len(channel.pins) >= 1
    await shot(page, "05-heidi-incident-channel")

    # Refresh on the card reaches the bot as a signed click, which it acks (the card is current).
    async with page.expect_response("**/ui/api/click") as clicked:
        await card.locator('button[data-action-id="card_refresh"]').click()
    answer = await (await clicked.value).json()
    assert answer["ok"] and answer["status"] == 200, answer
    await env.sb.settle(timeout=20)

    # "Done" next to a checklist item: the item changes for everyone, live.
    done = page.locator('button[data-action-id="item_done"]').first
    await done.scroll_into_view_if_needed()
    block_id = await done.get_attribute("data-block-id")
    message_ts = await done.evaluate("(b) => b.closest('.msg').dataset.ts")
    await shot(page, "06-checklist-before")
    await done.click()
    reopened = page.locator(
        f'.msg[data-ts="{message_ts}"] [data-block-id="{block_id}"] [data-action-id="item_reopen"]'
    )
    await reopened.wait_for()
    await env.sb.settle(timeout=20)
    item_block = page.locator(f'.msg[data-ts="{message_ts}"] .b-actions[data-block-id="{block_id}"]')
    section = item_block.locator("xpath=preceding-sibling::*[1]")
    assert "Heidi Sun" in await section.inner_text()
    # The card counts it too: re-rendered in place, marked edited.
    await card.locator("[data-edited]").wait_for()
    await reopened.scroll_into_view_if_needed()
    await shot(page, "07-checklist-item-done")

    # A reaction goes through as reaction_added and shows on the message.
    await card.hover()
    await card.locator("[data-add-reaction]").click()
    await card.locator('[data-emoji="eyes"]').click()
    await card.locator('.reaction.mine[data-reaction="eyes"]').wait_for()
    assert "UHEIDI001" in next(
        r["users"] for r in channel.message(await card.get_attribute("data-ts"))["reactions"]
    )

    # Mallory is outside the incident: the channel is not in her sidebar and cannot be opened.
    await act_as(page, "mallory")
    await page.wait_for_selector('.nav-item[data-channel-name="general"]')
    assert await page.locator(f'.nav-item[data-channel-id="{channel.id}"]').count() == 0
    assert await page.locator(".nav-item[data-private=true]").count() == 0
    assert channel.name not in await page.locator("#nav").inner_text()
    status = await page.evaluate(
        "async (id) => (await fetch(`/ui/api/state?as=mallory&channel=${id}`)).status", channel.id
    )
    assert status == 404
    await page.goto(f"{env.sb.url}/?as=mallory&c={channel.id}")
    await page.wait_for_selector('body[data-ready="true"]')
    assert await page.locator(f'[data-channel-title="{channel.name}"]').count() == 0
    assert TITLE not in await page.locator("body").inner_text()
    await shot(page, "08-mallory-sees-nothing")

    assert not problems, problems
    assert not external, f"the page loaded outside assets: {external}"
    assert not env.sb.violations, env.sb.violations
    await context.close()


MRKDWN_CASES = [
    # (mrkdwn, what the reader sees, HTML that must be there)
    (
        "*Payroll* _leaked_ ~maybe~ `BR-1`",
        "Payroll leaked maybe BR-1",
        ["<b>Payroll</b>", "<i>leaked</i>", "<s>maybe</s>"],
    ),
    ("<@UALICE001> and <@UHEIDI001>", "@Alice Chen and @Heidi Sun", ['data-user-id="UALICE001"']),
    ("see <#C0GENERAL1> and <!subteam^S0LEGAL001>", "see #general and @legal", []),
    (
        "<https://example.org/a?b=1&amp;c=2|the register>",
        "the register",
        ['href="https://example.org/a?b=1&amp;c=2"'],
    ),
    ("<!date^1700000000^{date_num} {time}|2023-11-14 22:13 UTC>", "2023-11-15 6:13 AM", ["<time"]),
    ("<!date^1700000000^{date_short_pretty}|fallback>", "Nov 15, 2023", []),
    (
        "&lt;script&gt;alert(1)&lt;/script&gt; snake_case_name",
        "<script>alert(1)</script> snake_case_name",
        [],
    ),
    ("<javascript:alert(1)|click>", "click", []),
    (":pushpin: pinned\n> quoted", "📌 pinned\nquoted", ["<blockquote>"]),
    ("工资单 *泄露*", "工资单 泄露", ["<b>泄露</b>"]),
    # Out of an attribute, into a tag: it stays the text it is.
    (
        '<!date^1700000000^{date_num}|x" onmouseover="alert(1)> <@UALICE001|" onclick="alert(2)>',
        "2023-11-15 @Alice Chen",
        ['title="x&quot; onmouseover=&quot;alert(1)"'],
    ),
    ("&lt;img src=x onerror=alert(3)&gt;", "<img src=x onerror=alert(3)>", ["&lt;img"]),
]


async def test_mrkdwn_reads_as_slack_shows_it(browser: Any) -> None:
    sb = await Sandbox.start()
    try:
        page = await browser.new_page()
        await page.goto(f"{sb.url}/?as=alice")
        await page.wait_for_selector('body[data-ready="true"]')
        for source, seen, fragments in MRKDWN_CASES:
            html = await page.evaluate(
                """(src) => {
                    const ctx = {
                      users: {UALICE001: {real_name: "Alice Chen"}, UHEIDI001: {real_name: "Heidi Sun"}},
                      channels: {C0GENERAL1: {name: "general"}},
                      usergroups: {S0LEGAL001: "legal"},
                      tz: "Asia/Shanghai", locale: "en-US", now: 1800000000,
                    };
                    // Serialised only to compare: the page itself never reads or writes HTML.
                    const box = document.createElement("div");
                    box.append(BR.mrkdwn(src, ctx));
                    return box.innerHTML;
                }""",
                source,
            )
            text = await page.evaluate(
                "(html) => { const d = document.createElement('div'); d.innerHTML = html;"
                " document.body.append(d); const t = d.innerText; d.remove(); return t; }",
                html,
            )
            assert text.replace("\u202f", " ") == seen, (source, html)
            for fragment in fragments:
                assert fragment in html, (source, html)
            # What the markup would make of it: no element a message could smuggle in, no event
            # handler attribute (an attacker's quote stays inside the attribute's value, escaped).
            smuggled = await page.evaluate(
                "(html) => { const d = document.createElement('template'); d.innerHTML = html;"
                " const els = [...d.content.querySelectorAll('*')];"
                " return els.filter(e => ['SCRIPT', 'IMG', 'IFRAME', 'SVG', 'svg'].includes(e.tagName)"
                " || [...e.attributes].some(a => a.name.startsWith('on')"
                " || /^\\s*javascript:/i.test(a.value))).map(e => e.outerHTML); }",
                html,
            )
            assert smuggled == [], (source, html)
        await page.close()
    finally:
        await sb.stop()


GALLERY = [
    {"type": "header", "text": {"type": "plain_text", "text": ":rotating_light: BR-2026-0009 · SEV1"}},
    {
        "type": "section",
        "block_id": "facts",
        "fields": [
            {"type": "mrkdwn", "text": "*Status*\nOpen"},
            {"type": "mrkdwn", "text": "*Commander*\n<@UHEIDI001>"},
        ],
        "accessory": {
            "type": "overflow",
            "action_id": "more",
            "options": [
                {"text": {"type": "plain_text", "text": "Snooze 1 h"}, "value": "snooze:1h"},
                {"text": {"type": "plain_text", "text": "Snooze 1 day"}, "value": "snooze:1d"},
            ],
        },
    },
    {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Confidential · <!date^1700000000^{date}|x>"}],
    },
    {"type": "divider"},
    {
        "type": "actions",
        "block_id": "acts",
        "elements": [
            {
                "type": "button",
                "action_id": "go",
                "text": {"type": "plain_text", "text": "Go"},
                "style": "primary",
                "value": "7",
            },
            {
                "type": "button",
                "action_id": "close",
                "text": {"type": "plain_text", "text": "Close incident"},
                "style": "danger",
                "value": "7",
                "confirm": {
                    "title": {"type": "plain_text", "text": "Close it?"},
                    "text": {"type": "mrkdwn", "text": "This *cannot* be undone."},
                    "confirm": {"type": "plain_text", "text": "Close"},
                    "deny": {"type": "plain_text", "text": "Keep open"},
                },
            },
            {
                "type": "static_select",
                "action_id": "sev",
                "placeholder": {"type": "plain_text", "text": "Severity"},
                "options": [
                    {"text": {"type": "plain_text", "text": s}, "value": f"7:{s}"}
                    for s in ("SEV1", "SEV2", "SEV3")
                ],
            },
            {
                "type": "users_select",
                "action_id": "who",
                "placeholder": {"type": "plain_text", "text": "Assign"},
            },
        ],
    },
]


async def test_block_kit_elements_act_through_signed_requests(browser: Any) -> None:
    """A message using most of Block Kit: each control sends Slack's block_actions, and a
    confirm dialog's "no" sends nothing at all."""
    from aiohttp import web

    from sandbox.signing import signature

    received: list[dict[str, Any]] = []
    sb = await Sandbox.start()

    async def bot(request: web.Request) -> web.Response:
        body = await request.text()
        stamp = request.headers["X-Slack-Request-Timestamp"]
        assert request.headers["X-Slack-Signature"] == signature(sb.signing_secret, stamp, body)
        form = await request.post()
        received.append(json.loads(str(form["payload"])))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", bot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sb.bot_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        general = sb.workspace.require_channel("C0GENERAL1")
        msg = sb.workspace.bot_message(general, {"text": "gallery", "blocks": GALLERY})
        sb.workspace.changed()
        page = await browser.new_page(viewport={"width": 1200, "height": 700})
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(f"{sb.url}/?as=heidi&c=C0GENERAL1")
        node = page.locator(f'.msg[data-ts="{msg["ts"]}"]')
        await node.wait_for()
        text = await node.inner_text()
        assert (
            "🚨 BR-2026-0009 · SEV1" in text and "Heidi Sun" in text and "November 14th, 2023" in text
        )  # in Berlin, where Heidi is
        assert await node.locator('button.primary[data-action-id="go"]').count() == 1
        assert await node.locator('button.danger[data-action-id="close"]').count() == 1
        await shot(page, "09-block-kit-gallery")

        async def one_more(count: int) -> dict[str, Any]:
            await page.wait_for_function("() => Number(document.body.dataset.busy || 0) === 0")
            assert len(received) == count, received
            return received[-1]["actions"][0] if received else {}

        await node.locator('[data-action-id="close"]').click()
        await page.locator("[data-confirm-dialog]").wait_for()
        assert "cannot" in await page.locator("[data-confirm-dialog]").inner_text()
        await shot(page, "10-confirm-dialog")
        await page.click("[data-confirm-no]")
        await one_more(0)  # "Keep open": nothing reached the bot

        await node.locator('[data-action-id="close"]').click()
        await page.click("[data-confirm-yes]")
        action = await one_more(1)
        assert (action["action_id"], action["value"], action["block_id"]) == ("close", "7", "acts")
        assert received[-1]["container"]["message_ts"] == msg["ts"]
        assert received[-1]["user"]["id"] == "UHEIDI001"

        await node.locator('select[data-action-id="sev"]').select_option("7:SEV2")
        action = await one_more(2)
        assert action["selected_option"]["value"] == "7:SEV2"

        await node.locator('select[data-action-id="who"]').select_option("UDAVE0001")
        assert (await one_more(3))["selected_user"] == "UDAVE0001"

        await node.locator('[data-action-id="more"]').click()
        await node.locator('[data-option-value="snooze:1d"]').click()
        action = await one_more(4)
        assert (action["type"], action["selected_option"]["value"]) == ("overflow", "snooze:1d")
        await page.close()
    finally:
        await runner.cleanup()
        await sb.stop()
