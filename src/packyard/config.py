"""Settings: command-line flags > PACKYARD_* environment > TOML file > defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

GIB = 1024**3


class Settings(BaseSettings):
    """Every setting has a safe default; `packyard serve --help` lists them all."""

    model_config = SettingsConfigDict(env_prefix="PACKYARD_", extra="forbid")

    data_dir: Path = Field(Path("packyard-data"), description="SQLite file and blobs live here.")
    database_url: str | None = Field(
        None, description="postgresql://... or sqlite:///...; default: SQLite in the data dir."
    )
    config: Path | None = Field(None, description="TOML file with any of these settings.")
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="Port to listen on.")
    workers: int = Field(1, ge=1, description="Server processes.")
    max_upload_size: int = Field(GIB, ge=1, description="Largest accepted upload, in bytes.")
    base_url: str | None = Field(
        None, description="Public URL when behind a reverse proxy, e.g. https://host/pypi."
    )
    docs_url: str | None = Field(
        None,
        description="Origin serving /docs/ links (a separate host name), e.g. https://docs.host.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated proxy addresses whose X-Forwarded-* headers are believed.",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: JSON when stderr is not a terminal."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Least severe level logged."
    )
    access_log: bool = Field(True, description="Log one line per request.")
    upstream_url: str | None = Field(
        None,
        description="Upstream of new mirror indexes (and of a fresh store's 'upstream'); "
        "'none' makes a fresh store without a mirror. Default: the index pip uses here.",
    )
    upstream_timeout: float = Field(10.0, gt=0, description="Seconds to wait for the upstream.")
    upstream_connections: int = Field(
        8,
        ge=1,
        le=64,
        description="Connections per upstream for pages, and as many again for files.",
    )
    login_failure_limit: int = Field(
        10, ge=1, description="Failed logins per user name and per address before 429."
    )
    login_failure_window: float = Field(
        300.0, gt=0, description="Seconds over which failed logins are counted."
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("base_url", "docs_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'packyard.db').resolve()}"

    @property
    def url_prefix(self) -> str:
        """The path part of the base URL, which every generated link starts with."""
        return urlsplit(self.base_url).path.rstrip("/") if self.base_url else ""

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "files"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


class ConfigFileError(ValueError):
    """The configuration file named by --config or PACKYARD_CONFIG cannot be used."""


def load_settings(**flags: Any) -> Settings:
    """Build settings from flags (None means "not given"), the environment and the file."""
    given = {key: value for key, value in flags.items() if value is not None}
    path = given.get("config") or os.environ.get("PACKYARD_CONFIG")
    if not path:
        return Settings(**given)
    if not Path(path).is_file():
        raise ConfigFileError(f"configuration file {path} does not exist")
    with_file = type(
        "FileSettings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}}
    )
    settings: Settings = with_file(**given)
    return settings


def describe_settings() -> str:
    """One line per setting: environment variable, default and meaning (for --help)."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "none" if default in (None, []) else str(default)
        lines.append(f"PACKYARD_{name.upper()} (default: {shown}) {field.description or ''}")
    return "\n".join(lines)
