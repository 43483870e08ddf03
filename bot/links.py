"""`/r/<token>`: the post-mortem's HTML page behind a signed link that expires after 24 hours.

An altered token is refused with 403 and an expired one with 410; neither answer names the
incident, so a guessed or forwarded-too-late link reveals nothing. A link names the person it was
issued to and passes the same gate as every listener (handlers/gate.py): it opens only while that
person may still see the incident, so someone removed from the channel loses their links too.
"""

from __future__ import annotations

import logging
from functools import cache

from aiohttp import web
from jinja2 import Environment
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from handlers.errors import message_for
from handlers.gate import SlackBusy, may_see
from handlers.i18n import t
from handlers.postmortem import build_postmortem, names_for, people_in
from incident.pages import templates
from incident.postmortem import render
from incident.postmortem.access import LinkExpired, LinkRefused, read_link
from storage.models import Incident

log = logging.getLogger(__name__)

DEPS = web.AppKey("breachroom_deps", Deps)
CLIENT = web.AppKey("breachroom_client", AsyncWebClient)

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
}


@cache
def _pages() -> Environment:
    return templates("bot")


def _refuse(status: int, reason: str, locale: str) -> web.Response:
    """A page that says why the link did not open, in the workspace's language, naming no incident."""
    page = _pages().get_template("link_refused.html")
    text = page.render(locale=locale, title=t("link.refused.title", locale), reason=reason)
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8", headers=HEADERS)


async def report_page(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    try:
        incident_id, user = read_link(request.match_info["token"], deps.link_secret, deps.clock.now())
    except LinkExpired:
        return _refuse(410, t("link.refused.expired", deps.locale), deps.locale)
    except LinkRefused:
        return _refuse(403, t("link.refused.invalid", deps.locale), deps.locale)
    async with deps.db.session() as db:
        incident = await db.get(Incident, incident_id)
    if incident is None or user is None or CLIENT not in request.app:
        return _refuse(403, t("link.refused.invalid", deps.locale), deps.locale)
    try:
        allowed = await may_see(request.app[CLIENT], deps, incident, user)
    except SlackBusy as exc:  # Slack is rate-limiting and never said: neither open nor refuse
        return _refuse(503, message_for(exc, deps.locale), deps.locale)
    if not allowed:
        return _refuse(403, t("link.refused.invalid", deps.locale), deps.locale)
    pm = await build_postmortem(deps, incident_id)
    names = await names_for(request.app[CLIENT], people_in(pm)) if CLIENT in request.app else {}
    page = render(pm, "html", names)
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=HEADERS)


def add_routes(app: web.Application, deps: Deps, client: AsyncWebClient) -> None:
    app[DEPS] = deps
    app[CLIENT] = client
    app.router.add_get("/r/{token}", report_page)
