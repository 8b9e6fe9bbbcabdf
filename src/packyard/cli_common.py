"""Helpers shared by the `packyard` command's modules."""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from packyard.bootstrap import Container, bootstrap
from packyard.config import ConfigFileError, Settings, load_settings
from packyard.domain.durations import parse_duration
from packyard.domain.errors import PackyardError

F = TypeVar("F", bound=Callable[..., Any])


def actor() -> str:
    """Admin commands act as the operating-system user who ran them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


def store_options(command: F) -> F:
    """--data-dir and --config, so every command finds the store the same way."""
    command = click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML settings file [env: PACKYARD_CONFIG].",
    )(command)
    command = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Data directory [env: PACKYARD_DATA_DIR; default: ./packyard-data].",
    )(command)
    return command


def settings_from(**flags: Any) -> Settings:
    try:
        return load_settings(**flags)
    except (ConfigFileError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc


def open_store(data_dir: Path | None, config: Path | None) -> Container:
    return bootstrap(settings_from(data_dir=data_dir, config=config))


def reports_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PackyardError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def duration_option(value: str | None) -> Any:
    """Parse a `<n>[smhdw]` flag value, or None when not given."""
    return parse_duration(value) if value is not None else None
