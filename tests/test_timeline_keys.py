"""The timeline's key ring from the environment: derived on day one, dedicated and rotated later."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NEW_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
KEY = "2026-12:" + "k" * 40


def test_day_one_derives_a_key_from_the_signing_secret_and_says_so() -> None:
    settings = load_settings(slack_signing_secret=SECRET)
    keys = settings.timeline_keys()
    assert settings.timeline_key_derived
    assert keys.current_id.startswith("derived-")
    # The key is neither the secret nor anything a reader of the database could see.
    assert SECRET.encode() not in keys.current and keys.current_id.removeprefix("derived-") not in SECRET


def test_a_dedicated_key_signs_and_the_derived_one_still_verifies() -> None:
    settings = load_settings(slack_signing_secret=SECRET, timeline_key=KEY)
    keys = settings.timeline_keys()
    derived = load_settings(slack_signing_secret=SECRET).timeline_keys()
    assert not settings.timeline_key_derived
    assert keys.current_id == "2026-12" and keys.current == b"k" * 40
    assert keys.keys[derived.current_id] == derived.current


def test_rotating_the_signing_secret_keeps_old_events_verifiable_through_old_keys() -> None:
    before = load_settings(slack_signing_secret=SECRET).timeline_keys()
    after = load_settings(
        slack_signing_secret=NEW_SECRET, timeline_old_keys=f"derived:{SECRET}, 2025-01:{'o' * 32}"
    ).timeline_keys()
    assert after.current_id != before.current_id
    assert after.keys[before.current_id] == before.current
    assert after.keys["2025-01"] == b"o" * 32
    without = load_settings(slack_signing_secret=NEW_SECRET).timeline_keys()
    assert before.current_id not in without.keys


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("timeline_key", "no-id-here", "BREACHROOM_TIMELINE_KEY: each key must be <id>:<secret>"),
        ("timeline_key", "k1:short-secret-shown-nowhere", "BREACHROOM_TIMELINE_KEY: each key's secret"),
        ("timeline_key", "derived-1:" + "s" * 40, "BREACHROOM_TIMELINE_KEY: ids starting 'derived'"),
        ("timeline_old_keys", "k1:" + "s" * 40 + ",bad", "BREACHROOM_TIMELINE_OLD_KEYS: each key must"),
        ("metrics_token", "short-shown-nowhere", "BREACHROOM_METRICS_TOKEN: must be at least"),
    ],
)
def test_bad_keys_are_refused_without_echoing_them(field: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(slack_signing_secret=SECRET, **{field: value})
    assert str(err.value).startswith(says)
    assert "shown-nowhere" not in str(err.value) and "s" * 40 not in str(err.value)


def test_without_a_signing_secret_or_a_key_there_is_nothing_to_sign_with() -> None:
    with pytest.raises(SettingsError, match="BREACHROOM_TIMELINE_KEY: required"):
        load_settings(slack_signing_secret=None).timeline_keys()
    assert load_settings(slack_signing_secret=None, timeline_key=KEY).timeline_keys().current_id == "2026-12"
