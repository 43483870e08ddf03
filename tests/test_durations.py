"""The one duration formatter: every card, reminder, document and outline says a length of time alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.durations import duration

M, H, D = 60, 3600, 86400


@pytest.mark.parametrize(
    ("seconds", "en", "zh"),
    [
        (0, "0m", "0分钟"),
        (59, "0m", "0分钟"),
        (45 * M, "45m", "45分钟"),
        (3 * H, "3h", "3小时"),
        (3 * H + 5 * M, "3h 5m", "3小时5分钟"),
        (2 * D + 23 * H + 59 * M, "2d 23h", "2天23小时"),
        (D + 5 * M, "1d", "1天"),
        (-(4 * H + 30 * M), "-4h 30m", "-4小时30分钟"),
    ],
)
def test_a_glance_shows_the_two_largest_units(seconds: int, en: str, zh: str) -> None:
    assert duration(seconds, "en") == en
    assert duration(seconds, "zh-CN") == zh


def test_the_record_keeps_every_minute() -> None:
    assert duration(D + 5 * M, "en", units=3) == "1d 5m"
    assert duration(3 * D + 10 * H + 1 * M, "zh-CN", units=3) == "3天10小时1分钟"


def test_a_timedelta_reads_like_its_seconds_and_nothing_reads_as_a_dash() -> None:
    assert duration(timedelta(hours=6), "en") == duration(6 * H, "en") == "6h"
    assert duration(None, "en") == duration(None, "zh-CN") == "—"


def test_any_spelling_of_chinese_is_chinese() -> None:
    assert duration(90 * M, "zh_CN") == "1小时30分钟"
