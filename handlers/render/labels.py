"""Names a person reads instead of our keys: facts asked for, and Slack's reasons for a refusal.

Nothing shown to a person carries a raw key (``jurisdictions``, ``processor_role``,
``no_such_subteam``): every one is looked up here, in both languages.
"""

from __future__ import annotations

from collections.abc import Iterable

from handlers.i18n import catalog, t
from handlers.render.common import clip, when
from incident.regimes import Applicability, Regimes, obligation_title
from incident.text import Text

# Slack's error codes (and our own `deactivated` / `unreachable`) → the reason a person reads.
_REASONS = {
    "deactivated": "deactivated",
    "user_is_deactivated": "deactivated",
    "user_disabled": "deactivated",
    "account_inactive": "deactivated",
    "user_not_found": "user_not_found",
    "user_not_visible": "user_not_found",
    "no_such_subteam": "no_such_subteam",
    "subteam_not_found": "no_such_subteam",
    "cant_invite": "cant_invite",
    "user_is_restricted": "cant_invite",
    "user_is_ultra_restricted": "cant_invite",
    "ura_max_channels": "cant_invite",
    "channel_not_found": "channel_not_found",
    "not_in_channel": "not_in_channel",
    "is_archived": "is_archived",
    "restricted_action": "restricted",
    "restricted_action_read_only_channel": "restricted",
    "restricted_action_thread_only_channel": "restricted",
    "cannot_dm_bot": "bot",
    "unreachable": "unreachable",
}


def reason_label(code: str, locale: str) -> str:
    return t(f"dayone.reason.{_REASONS.get(code, 'other')}", locale)


def fact_label(name: str, locale: str) -> str:
    """A fact's name as a person reads it (``processor_role`` and ``role`` are the same fact)."""
    key = f"dayone.fact.{'role' if name == 'processor_role' else name}"
    return t(key if key in catalog() else "dayone.fact.other", locale)


def joined(items: Iterable[str], locale: str) -> str:
    return t("dayone.list_separator", locale).join(items)


def assumed_start(app: Applicability, locale: str, command: str) -> str:
    """ " (assumed start: …)": a clock running from the earliest known moment, not its legal start;
    or, for one that starts after another notice, from that notice's deadline until it is recorded."""
    if not app.start_assumed or app.clock_start is None:
        return ""
    if app.after is not None:
        recipient = app.after.recipient.get(locale)
        return t("clock.assumed_after", locale, start=when(app.clock_start), recipient=recipient)
    return t("clock.assumed_start", locale, start=when(app.clock_start), command=command)


def fact_labels(names: Iterable[str], locale: str) -> str:
    return joined(dict.fromkeys(fact_label(n, locale) for n in names), locale)


def obligation_named(regimes: Regimes, named: str, locale: str) -> str:
    """How an obligation id reads; a regime id (a record from before obligations) reads as the
    regime's name, and anything the file no longer has as itself."""
    if regimes.has_obligation(named):
        obligation = regimes.obligation(named)
        return obligation_title(regimes.get(obligation.regime_id), obligation).get(locale)
    return regimes.get(named).name.get(locale) if named in regimes else named


def obligation_option(regime: Text, recipient: Text, locale: str, limit: int = 75) -> str:
    """An obligation as a select option (Slack cuts option text at 75). The recipient keeps up to
    30 characters; a longer regime name loses its middle, keeping the citation at its end."""
    name, who = regime.get(locale), recipient.get(locale)
    room = limit - 3
    who = clip(who, max(30, room - len(name)))
    keep = room - len(who)
    if len(name) > keep:
        head = keep // 2
        name = name[: head - 1].rstrip() + "…" + name[len(name) - (keep - head) :].lstrip()
    return f"{name} → {who}"
