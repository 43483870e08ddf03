"""Settings from environment variables (documented in README.md and .env.example)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.timeline import TimelineKeys

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/breachroom.db"
SLACK_API_URL = "https://slack.com/api/"
SECRET_FIELDS = frozenset(
    {
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "database_url",
        "timeline_key",
        "timeline_old_keys",
        "metrics_token",
    }
)
# Keys derived from a signing secret are named `derived-<fingerprint>`: rotating the signing
# secret gives a new id, so events signed before stay attributable to the old one.
DERIVED_KEY_ID = "derived"
KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
MIN_KEY_CHARS = 32
MIN_METRICS_TOKEN_CHARS = 24


def derive_timeline_key(signing_secret: str) -> tuple[str, bytes]:
    """Day one: a key of its own derived from the signing secret (as the link secret is), with
    an id that fingerprints it (a hash of the key, which reveals neither the key nor the secret)."""
    key = hashlib.sha256(b"breachroom-timeline:" + signing_secret.encode()).digest()
    return f"{DERIVED_KEY_ID}-{hashlib.sha256(b'id:' + key).hexdigest()[:8]}", key


def _key_entry(entry: str) -> tuple[str, str]:
    """`<id>:<secret>`: the id names the key on every event it signs."""
    key_id, sep, secret = entry.strip().partition(":")
    if not sep or not KEY_ID.match(key_id):
        raise ValueError("each key must be <id>:<secret>, the id 1-32 letters, digits, . _ or -")
    if len(secret) < MIN_KEY_CHARS:
        raise ValueError(f"each key's secret must be at least {MIN_KEY_CHARS} characters")
    return key_id, secret


# Each Slack token setting: the prefix its kind of token starts with, and that kind in words.
TOKEN_KINDS = {
    "slack_bot_token": ("xoxb-", "a bot token"),
    "slack_app_token": ("xapp-", "an app-level token"),
}


class SettingsError(Exception):
    """One line naming the variable and what is wrong with it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=SLACK_API_URL, validation_alias="SLACK_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    locale: Literal["zh-CN", "en"] = Field(default="en", validation_alias="BREACHROOM_LOCALE")
    command: str = Field(default="/breach", validation_alias="BREACHROOM_COMMAND")
    public_base_url: str | None = Field(default=None, validation_alias="PUBLIC_BASE_URL")
    host: str = Field(default="0.0.0.0", validation_alias=AliasChoices("BREACHROOM_HOST", "HOST"))
    port: int = Field(default=3000, ge=0, le=65535, validation_alias=AliasChoices("BREACHROOM_PORT", "PORT"))
    roles_file: Path | None = Field(default=None, validation_alias="BREACHROOM_ROLES_FILE")
    playbook_dir: Path | None = Field(default=None, validation_alias="BREACHROOM_PLAYBOOK_DIR")
    regimes_file: Path | None = Field(default=None, validation_alias="BREACHROOM_REGIMES_FILE")
    redact_sensitive: bool = Field(default=True, validation_alias="BREACHROOM_REDACT_SENSITIVE")
    report_channel: str | None = Field(default=None, validation_alias="BREACHROOM_REPORT_CHANNEL")
    report_schedule: Literal["monthly", "quarterly", "off"] = Field(
        default="quarterly", validation_alias="BREACHROOM_REPORT_SCHEDULE"
    )
    report_audience: Literal["internal", "client"] = Field(
        default="internal", validation_alias="BREACHROOM_REPORT_AUDIENCE"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="BREACHROOM_LOG_LEVEL"
    )
    timeline_key: str | None = Field(default=None, validation_alias="BREACHROOM_TIMELINE_KEY")
    timeline_old_keys: str | None = Field(default=None, validation_alias="BREACHROOM_TIMELINE_OLD_KEYS")
    metrics_token: str | None = Field(default=None, validation_alias="BREACHROOM_METRICS_TOKEN")

    @field_validator("timeline_key")
    @classmethod
    def _timeline_key(cls, v: str | None) -> str | None:
        if v:
            if _key_entry(v)[0].startswith(DERIVED_KEY_ID):
                raise ValueError(f"ids starting {DERIVED_KEY_ID!r} are reserved for derived keys")
        return v or None

    @field_validator("timeline_old_keys")
    @classmethod
    def _timeline_old_keys(cls, v: str | None) -> str | None:
        for entry in (v or "").split(","):
            if entry.strip():
                _key_entry(entry)
        return v or None

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, v: str | None) -> str | None:
        if v and len(v) < MIN_METRICS_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_METRICS_TOKEN_CHARS} characters")
        return v or None

    @property
    def timeline_key_derived(self) -> bool:
        """True while new events are signed with the key derived from the signing secret."""
        return not self.timeline_key

    def timeline_keys(self) -> TimelineKeys:
        """The ring: the current key (dedicated, else derived), the derived key while the signing
        secret is set, and the old keys kept for verification. `derived:<old signing secret>` in the
        old keys keeps events signed before a signing-secret rotation verifiable."""
        keys: dict[str, bytes] = {}
        for entry in (self.timeline_old_keys or "").split(","):
            if entry.strip():
                key_id, secret = _key_entry(entry)
                if key_id == DERIVED_KEY_ID:
                    key_id, key = derive_timeline_key(secret)
                    keys[key_id] = key
                else:
                    keys[key_id] = secret.encode()
        derived = derive_timeline_key(self.slack_signing_secret) if self.slack_signing_secret else None
        if derived:
            keys[derived[0]] = derived[1]
        if self.timeline_key:
            current, secret = _key_entry(self.timeline_key)
            keys[current] = secret.encode()
        elif derived:
            current = derived[0]
        else:
            raise SettingsError("BREACHROOM_TIMELINE_KEY: required when SLACK_SIGNING_SECRET is not set")
        return TimelineKeys(current, keys)

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _token(cls, v: str | None, info: ValidationInfo) -> str | None:
        prefix, kind = TOKEN_KINDS[info.field_name or ""]
        if v is not None and not v.startswith(prefix):
            raise ValueError(f"must be {kind} starting with {prefix}")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return v if v.endswith("/") else v + "/"

    @field_validator("command")
    @classmethod
    def _command(cls, v: str) -> str:
        if not v.startswith("/") or len(v) < 2 or " " in v:
            raise ValueError("must be a slash command such as /breach")
        return v

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        if not v.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return v

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/") if v else v

    def require(self, *names: str) -> None:
        """Refuse to start without the settings a mode needs."""
        for name in names:
            field = type(self).model_fields[name]
            if getattr(self, name) in (None, ""):
                raise SettingsError(f"{field.validation_alias}: required but not set")


def load_settings(**overrides: object) -> Settings:
    """Read the environment; a bad value becomes a one-line SettingsError naming the variable."""
    try:
        # The overrides are the fields' own names; pydantic checks each value as it would the variable.
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = err["loc"][0] if err["loc"] else "?"
        info = Settings.model_fields.get(str(field))
        alias = info.validation_alias if info else field
        if isinstance(alias, AliasChoices):
            alias = alias.choices[0]
        msg = err["msg"].removeprefix("Value error, ")
        if str(field) in SECRET_FIELDS:  # never echo a secret, even a malformed one
            raise SettingsError(f"{alias}: {msg}") from None
        raise SettingsError(f"{alias}: {msg} (got {err.get('input')!r})") from None
