"""The HTML pages the bot serves or writes (the post-mortem behind /r/<token>, the security report,
the refused-link page): whatever people typed reaches them as text, never as markup."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp

from incident.postmortem.access import make_token
from incident.postmortem.document import Document, Pairs, Paragraph, Section, Table
from incident.postmortem.html import render_html
from incident.postmortem.model import PhaseSpan
from incident.report import html as report_html
from incident.report.model import Period, build
from incident.text import Text
from tests.harness import Slack
from tests.test_records import declare

HOSTILE = '<script>alert("x")</script> & <b>Payroll</b>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Payroll&lt;/b&gt;"
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def assert_text_only(page: str) -> None:
    assert "<script" not in page.lower() and "<b>" not in page, page
    assert ESCAPED in page


def test_every_slot_of_the_post_mortem_page_escapes_its_words() -> None:
    doc = Document(
        locale="en",
        title=HOSTILE,
        subtitle=HOSTILE,
        banner=HOSTILE,
        sections=[
            Section(
                "phases",
                HOSTILE,
                [
                    Pairs([(HOSTILE, HOSTILE)]),
                    Table([HOSTILE], [[HOSTILE]]),
                    Paragraph(f"{HOSTILE}\nnext line"),
                ],
            )
        ],
    )
    phases = [PhaseSpan("triage", Text(HOSTILE, HOSTILE), False, T0, T0 + timedelta(hours=3))]
    page = render_html(doc, phases, T0 + timedelta(hours=4))
    assert_text_only(page)
    # Every slot, the chart's bar label and tooltip included, and a line break still breaks.
    assert page.count(ESCAPED) == 12
    assert f"{ESCAPED}<br>next line" in page
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1


async def test_a_script_in_a_title_stays_text_on_the_link_page_and_the_report(slack: Slack) -> None:
    incident = await declare(slack, "Payroll leak", **{"Title": HOSTILE, "What happened": HOSTILE})
    assert incident.title == HOSTILE
    await slack.heidi.command("postmortem", channel=incident.channel_id)
    await slack.settle()
    answer = slack.heidi.ephemerals[-1].all_text
    link = re.search(r"http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_.-]+", answer)
    assert link, answer
    async with aiohttp.ClientSession() as http, http.get(link.group(0)) as response:
        assert response.status == 200
        page = await response.text()
    assert_text_only(page)
    assert incident.key in page

    now = slack.rt.clock.now()
    async with slack.db.session() as s:
        report = await build(s, slack.rt.deps.config, Period.containing(now, "quarterly"), now)
    internal = report_html.render(report, "en", "internal")
    assert_text_only(internal)
    assert incident.key in internal and "<svg" in internal
    # The client version leaves the title out altogether.
    client = report_html.render(report, "en", "client")
    assert HOSTILE not in client and ESCAPED not in client and incident.key in client
    assert not slack.violations()


async def test_a_refused_link_is_a_page_that_names_nothing(slack: Slack) -> None:
    incident = await declare(slack, "Acme Trading payroll leaked")
    base = slack.bot_url.removesuffix("/slack/events")
    secret = slack.rt.deps.link_secret
    now = slack.rt.clock.now()
    expired = make_token(incident.id, now - timedelta(seconds=1), secret, user=slack.heidi.id)  # type: ignore[arg-type]
    forged = make_token(incident.id, now + timedelta(hours=1), b"guessed" * 5, user=slack.heidi.id)  # type: ignore[arg-type]
    async with aiohttp.ClientSession() as http:
        for token, status, says in ((expired, 410, "has expired"), (forged, 403, "not valid")):
            async with http.get(f"{base}/r/{token}") as response:
                body = await response.text()
                assert response.status == status and response.content_type == "text/html"
            assert says in body and body.startswith("<!DOCTYPE html>")
            assert incident.key not in body and "Acme" not in body
