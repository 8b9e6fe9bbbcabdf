from __future__ import annotations

import importlib
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from packyard.adapters.upstream import UpstreamError, pip_default_index
from packyard.adapters.upstream.pip_index import index_url_from_config_list

pytestmark = pytest.mark.unit


@pytest.fixture
def isolated_pip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No PIP_INDEX_URL; pip's user and XDG config read from an empty temp dir."""
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    return tmp_path


def use_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(text)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))


def test_pip_index_url_variable_wins(isolated_pip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_config(monkeypatch, isolated_pip, "[global]\nindex-url = http://config.test/simple/\n")
    monkeypatch.setenv("PIP_INDEX_URL", "http://env.test/simple/")
    assert pip_default_index() == "http://env.test/simple/"


def test_configured_global_index_url_is_used(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_config(monkeypatch, isolated_pip, "[global]\nindex-url = http://config.test/simple/\n")
    assert pip_default_index() == "http://config.test/simple/"


def test_install_section_overrides_global(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_config(
        monkeypatch,
        isolated_pip,
        "[global]\nindex-url = http://global.test/simple/\n"
        "[install]\nindex-url = http://install.test/simple/\n",
    )
    assert pip_default_index() == "http://install.test/simple/"


def test_builtin_default_when_nothing_is_configured(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # pip then reads no config file
    url = urlsplit(pip_default_index())
    assert url.scheme in ("http", "https")
    assert url.netloc
    assert url.path.rstrip("/").endswith("/simple")


def test_missing_pip_asks_for_packyard_upstream_url(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)

    def no_pip(name: str, *args: Any) -> Any:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(importlib, "import_module", no_pip)
    with pytest.raises(UpstreamError, match="PACKYARD_UPSTREAM_URL"):
        pip_default_index()


@pytest.mark.parametrize(
    "failure", [subprocess.TimeoutExpired("pip", 20), FileNotFoundError("python")]
)
def test_a_failing_pip_config_falls_back_to_the_builtin_default(
    isolated_pip: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(subprocess, "run", broken)
    expected = importlib.import_module("pip._internal.models.index").PyPI.simple_url
    assert pip_default_index() == expected


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("", None),
        ("global.cert='/etc/ca.pem'\n", None),
        ("global.index-url='http://g.test/simple/'\n", "http://g.test/simple/"),
        (
            "global.index-url='http://g.test/simple/'\ninstall.index-url='http://i.test/simple/'",
            "http://i.test/simple/",
        ),
        (
            ":env:.index-url='http://e.test/simple/'\ninstall.index-url='http://i.test/simple/'",
            "http://e.test/simple/",
        ),
        ("download.index-url='http://d.test/simple/'\n", "http://d.test/simple/"),
        ("global.index-url='  '\n", None),
        ("global.index-url=not a literal\n", None),
        ("user.index-url='http://x.test/'\nnoise without equals\n", None),
    ],
)
def test_index_url_from_config_list(output: str, expected: str | None) -> None:
    assert index_url_from_config_list(output) == expected
