"""How long something took or has left, in the reader's language: the one duration formatter.

Cards, reminders, the post-mortem, the security report and the playbook outline all say a length
of time the same way: `2d 3h` / `2天3小时`, largest unit first, whole minutes. The unit words are
`duration.*` messages in the text catalogue.
"""

from __future__ import annotations

from datetime import timedelta

from incident.i18n import t

_UNITS = (("days", 86400), ("hours", 3600), ("minutes", 60))


def duration(span: float | timedelta | None, locale: str, *, units: int = 2) -> str:
    """`span` (seconds or a timedelta) as people read it; a negative span keeps its minus sign.

    At most `units` adjacent units are shown, counted from the largest one that is not zero,
    and zero ones are left out: with the default two, 1d 4h 5m reads `1d 4h` (a deadline's
    glance) and 3h 0m reads `3h`; `units=3` keeps every minute (the post-mortem's record).
    Less than a minute reads `0m`; no span at all reads `—`.
    """
    if span is None:
        return t("duration.unknown", locale)
    seconds = span.total_seconds() if isinstance(span, timedelta) else span
    rest = abs(int(seconds))
    amounts = []
    for name, size in _UNITS:
        amount, rest = divmod(rest, size)
        amounts.append((name, amount))
    first = next((i for i, (_, amount) in enumerate(amounts) if amount), len(amounts) - 1)
    shown = [t(f"duration.{name}", locale, n=n) for name, n in amounts[first : first + units] if n]
    text = t("duration.separator", locale).join(shown) or t("duration.minutes", locale, n=0)
    return f"-{text}" if seconds < 0 else text
