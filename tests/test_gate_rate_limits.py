"""The gate answers before the ack, inside Slack's 3 seconds, even when Slack rate-limits the
lookups it needs (usergroups.users.list is Tier 2, 20 a minute; conversations.members Tier 4).

Each test makes Slack answer the gate's one lookup with a 429 asking for a wait far past the
deadline (600 Slack seconds, 12 real ones at the tests' scale). A gate that waited it out would
ack late, which the sandbox records as a violation and fails the test; this one answers at once
and asks the person to try again, and the next try, with Slack answering, goes through."""

from __future__ import annotations

from handlers.i18n import t
from tests.harness import Slack
from tests.test_declare import declare

GENERAL = "C0GENERAL1"
ADMINS = "S0ADMINS01"
LONG_WAIT = 600  # Slack seconds


async def test_an_admin_outside_the_channel_is_answered_in_time_while_the_group_lookup_is_rate_limited(
    slack: Slack,
) -> None:
    await declare(slack)
    incident = await slack.incident()
    ivan = slack.ivan  # in the admin group; taken out of the channel, only the group lets him in
    await slack.sb.webapi.remove_from_channel(incident.channel_id, ivan.id)
    # An admin edits the group (nobody leaves it): the bot forgets what it knew of its members.
    await slack.sb.webapi.set_group_members(ADMINS, list(slack.sb.workspace.usergroups[ADMINS].users))
    await slack.settle()
    asked = len(slack.sb.calls("usergroups.users.list"))
    slack.sb.faults.add(method="usergroups.users.list", kind="ratelimited", times=1, retry_after=LONG_WAIT)

    await ivan.command(f"status {incident.key}", channel=GENERAL)
    await slack.settle()

    locale = slack.rt.deps.locale
    assert ivan.ephemerals[-1].all_text == t("error.generic", locale)
    assert [c.status for c in slack.sb.calls("usergroups.users.list")[asked:]] == [429]
    assert slack.violations() == []  # acked within the deadline, no retry slept on the ack path

    await ivan.command(f"status {incident.key}", channel=GENERAL)
    await slack.settle()
    assert incident.key in ivan.ephemerals[-1].all_text
    assert ivan.ephemerals[-1].all_text != t("error.generic", locale)
    assert slack.violations() == []


async def test_a_member_is_asked_to_try_again_not_refused_while_the_member_lookup_is_rate_limited(
    slack: Slack,
) -> None:
    await declare(slack)
    incident = await slack.incident()
    grace = slack.grace
    # Someone else leaves: the bot forgets who is in the channel and must ask Slack again.
    await slack.sb.webapi.remove_from_channel(incident.channel_id, slack.judy.id)
    await slack.settle()
    slack.sb.faults.add(method="conversations.members", kind="ratelimited", times=1, retry_after=LONG_WAIT)

    await grace.command(f"status {incident.key}", channel=GENERAL)
    await slack.settle()

    locale = slack.rt.deps.locale
    answer = grace.ephemerals[-1].all_text
    assert answer == t("error.generic", locale)
    assert answer != t("error.incident_not_found", locale, key=incident.key)
    assert slack.violations() == []

    await grace.command(f"status {incident.key}", channel=GENERAL)
    await slack.settle()
    assert incident.key in grace.ephemerals[-1].all_text
    assert grace.ephemerals[-1].all_text != t("error.generic", locale)
    assert slack.violations() == []
