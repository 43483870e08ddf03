"""Settings from environment variables (documented in README.md and .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/breachroom.db"
SLACK_API_URL = "https://slack.com/api/"
SECRET_FIELDS = frozenset({"slack_bot_token", "slack_signing_secret", "slack_app_token", "database_url"})


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

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
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
