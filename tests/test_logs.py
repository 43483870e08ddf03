"""Log hygiene: a whole incident, a forged request and a database error, logged at DEBUG by every
logger, leave no title, note, identity number, token or signing secret in the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import text

from tests.harness import BOT_TOKEN, SIGNING_SECRET, Slack
from tests.test_checklist import checklist
from tests.test_records import declare

TITLE = "Zanzibar ledger leak QX7"
NOTE = "Vendor Okonkwo confirmed tapes 4471 are gone"
UPDATE = "Portal revoked; Ferreira imaging server 9Z"
CN_ID = "11010519491231002X"
SSN = "078-05-1120"
ITEM_NOTE = f"Client ID {CN_ID} and SSN {SSN} were in the export"
FAILED_NOTE = "Quokka memo 5521 must never reach a log"
FORGED = f"forged note with {CN_ID}"


@pytest.fixture
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger that exists, and the root, at DEBUG; restored afterwards."""
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)] + [logging.root]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled


@asynccontextmanager
async def notes_forbidden(slack: Slack) -> AsyncIterator[None]:
    """A real database error on every note: the row with the note's text is refused. Lifted after,
    as PostgreSQL's test database (unlike SQLite's file) is shared by the whole session."""
    await forbid_notes(slack)
    try:
        yield
    finally:
        async with slack.db.transaction() as s:
            if slack.db.is_postgres:
                await s.execute(text("ALTER TABLE timeline_event DROP CONSTRAINT no_more_notes"))
            else:
                await s.execute(text("DROP TRIGGER no_more_notes"))


async def forbid_notes(slack: Slack) -> None:
    async with slack.db.transaction() as s:
        if slack.db.is_postgres:
            await s.execute(
                text(
                    "ALTER TABLE timeline_event ADD CONSTRAINT no_more_notes "
                    "CHECK (kind <> 'note' OR seq < 0) NOT VALID"
                )
            )
        else:
            await s.execute(
                text(
                    "CREATE TRIGGER no_more_notes BEFORE INSERT ON timeline_event "
                    "WHEN NEW.kind = 'note' BEGIN SELECT RAISE(ABORT, 'notes refused'); END"
                )
            )


async def forged_request(slack: Slack) -> int:
    body = urlencode(
        {
            "command": "/breach",
            "text": f"note {FORGED}",
            "user_id": "UALICE001",
            "channel_id": "C0GENERAL1",
            "token": "forged",
        }
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    async with aiohttp.ClientSession() as http, http.post(slack.bot_url, data=body, headers=headers) as resp:
        return resp.status


async def test_a_full_incident_leaves_nothing_confidential_in_the_logs(
    slack: Slack, everything_at_debug: pytest.LogCaptureFixture
) -> None:
    caplog = everything_at_debug
    incident = await declare(slack, TITLE)
    await slack.judy.command(f"note {NOTE}", channel=incident.channel_id)
    await slack.settle()
    await slack.heidi.click(slack.channel(incident.channel_id).pins[0], "Post update")
    await slack.settle()
    assert not (await slack.heidi.submit({"Update": UPDATE})).errors
    await slack.settle()
    respond = checklist(slack, incident, "Respond")
    await slack.carol.click(respond, "Note", near="Isolate affected systems")
    await slack.settle()
    assert not (await slack.carol.submit({"note": ITEM_NOTE})).errors
    await slack.settle()
    assert await forged_request(slack) == 401

    async with notes_forbidden(slack):
        await slack.judy.command(f"note {FAILED_NOTE}", channel=incident.channel_id)
        await slack.settle()

    kinds = await slack.kinds(incident)
    assert {"status_update", "item_note", "note"} <= set(kinds)
    assert kinds.count("note") == 1, "the forged request and the refused note recorded nothing"
    logged = caplog.text
    secrets = (TITLE, NOTE, UPDATE, CN_ID, SSN, FAILED_NOTE, FORGED, BOT_TOKEN, SIGNING_SECRET)
    words = ("Zanzibar", "Okonkwo", "Ferreira", "Quokka", "1949123")
    leaked = {
        (r.name, w) for r in caplog.records for w in (*secrets, *words) if w in caplog.handler.format(r)
    }
    assert not leaked, f"reached the logs (logger, text): {sorted(leaked)}"
    assert not any(w in logged for w in (*secrets, *words))
