"""The sandbox workspace in a real browser: a firm sees Breachroom work before installing anything.

Headless Chromium (Debian's package) driven by Playwright opens the page the sandbox serves,
and a declaration goes end to end through it: the composer's slash command, the modal the
bot opens (with the bot's field error shown under its field), the private incident channel
with its pinned card, a checklist button, and a person outside the incident who must not
even see that the channel exists. Screenshots of each step land in test-artifacts/browser/.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.embedded import Embedded, embedded
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
