"""Posting the scheduled security report to its channel (the scheduler calls `post` for a due row)."""

from __future__ import annotations

from typing import Any, cast

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from handlers.i18n import t
from handlers.postmortem import names_for
from incident.reminders import Delivered, SendFailed
from incident.report import markdown
from incident.report.model import Period, build
from incident.report.schedule import ensure_scheduled
from storage.models import Reminder


async def _post(client: AsyncWebClient, channel: str, text: str) -> dict[str, Any]:
    try:
        response = await client.chat_postMessage(channel=channel, text=text)
    except SlackApiError as exc:
        if exc.response.get("error") != "not_in_channel":
            raise
        await client.conversations_join(channel=channel)  # a public channel the bot was not in yet
        response = await client.chat_postMessage(channel=channel, text=text)
    return cast("dict[str, Any]", response.data)


async def post(client: AsyncWebClient, deps: Deps, row: Reminder) -> Delivered:
    """Build the report for the row's period, post its summary and both languages' Markdown, and
    schedule the next period's report."""
    period = Period.parse(row.ref)
    audience = deps.report_audience
    now = deps.clock.now()
    async with deps.db.session() as db:
        report = await build(db, deps.config, period, now)
    locale = deps.locale
    cur = report.current
    text = t(
        "report.posted",
        locale,
        period=period.label,
        audience=t(f"report.audience.{audience}", locale),
        incidents=cur.incidents,
        met=cur.clocks_met,
        clocks=cur.clocks,
        open=len(report.open_actions),
        overdue=len(report.overdue_actions),
        drills=len(report.drills),
    )
    try:
        # Names, not mentions: Slack renders no mention inside an uploaded file.
        names = await names_for(client, markdown.people_in(report)) if audience == "internal" else {}
        posted = await _post(client, row.target, text)
        await client.files_upload_v2(
            channel=row.target,
            thread_ts=posted.get("ts"),
            file_uploads=[
                {
                    "content": markdown.render(report, lang, audience, names),
                    "filename": f"security-report-{period.label}.{audience}.{lang}.md",
                    "title": f"{period.label} ({lang})",
                }
                for lang in ("zh-CN", "en")
            ],
        )
    except SlackApiError as exc:
        raise SendFailed(str(exc.response.get("error") or "slack_error")) from exc
    except Exception as exc:
        raise SendFailed(type(exc).__name__) from exc
    await ensure_scheduled(deps.db, row.target, row.payload.get("cadence", "quarterly"), period.end)
    return Delivered(
        channel_id=posted.get("channel", row.target),
        message_ts=posted.get("ts"),
        summary=f"security report {period.label} → {row.target}",
    )
