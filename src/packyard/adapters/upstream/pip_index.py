"""The index pip itself would install from on this machine, the mirror's default upstream."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys

from packyard.adapters.upstream.parse import UpstreamError

CONFIG_TIMEOUT_SECONDS = 20.0
# `pip install` reads its options from the environment, then the `install` section, then
# `global`; `download` is the nearest other command that takes an index.
_CONFIG_KEYS = (":env:.index-url", "install.index-url", "global.index-url", "download.index-url")


class NoDefaultIndex(UpstreamError):
    """Neither pip's configuration nor pip itself names an index."""


def pip_default_index() -> str:
    """PIP_INDEX_URL, else pip's configured `index-url`, else pip's built-in default."""
    from_env = os.environ.get("PIP_INDEX_URL", "").strip()
    return from_env or _configured_index_url() or _builtin_index_url()


def index_url_from_config_list(output: str) -> str | None:
    """The `index-url` pip would use, from the output of `pip config list`.

    Lines read `global.index-url='https://host/simple/'`: a key, '=', a Python repr."""
    values = dict(_config_line(line) for line in output.splitlines() if "=" in line)
    return next((values[key] for key in _CONFIG_KEYS if values.get(key)), None)


def _config_line(line: str) -> tuple[str, str]:
    key, _, literal = line.partition("=")
    try:
        value = ast.literal_eval(literal.strip())
    except (ValueError, SyntaxError):
        return key.strip(), ""
    return key.strip(), value.strip() if isinstance(value, str) else ""


def _configured_index_url() -> str | None:
    command = [sys.executable, "-m", "pip", "config", "list"]
    env = os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=CONFIG_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return index_url_from_config_list(done.stdout) if done.returncode == 0 else None


def _builtin_index_url() -> str:
    try:
        # Imported at call time and by name: pip is optional and has no type information.
        module = importlib.import_module("pip._internal.models.index")
        url = module.PyPI.simple_url
    except (ImportError, AttributeError) as e:
        raise NoDefaultIndex(
            "cannot tell which index pip would use: pip is not importable and no index-url "
            "is configured; set PACKYARD_UPSTREAM_URL to the upstream simple index URL"
        ) from e
    if not isinstance(url, str):
        raise NoDefaultIndex("pip's built-in index URL is not a string; set PACKYARD_UPSTREAM_URL")
    return url
