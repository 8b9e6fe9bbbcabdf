"""Settings: flags > PACKYARD_* environment > TOML file > defaults."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from packyard.config import ConfigFileError, Settings, describe_settings, load_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PACKYARD_* variable of the developer's shell, and no stray file in the cwd."""
    for name in list(os.environ):
        if name.upper().startswith("PACKYARD_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, text: str, name: str = "packyard.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_apply_when_nothing_is_given() -> None:
    settings = load_settings()

    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.data_dir == Path("packyard-data")
    assert settings.database_url is None
    assert settings.trusted_proxies == []
    assert settings.access_log is True


SOURCES = ("flag", "env", "file")


@pytest.mark.parametrize(
    "present",
    [combo for size in range(len(SOURCES) + 1) for combo in itertools.combinations(SOURCES, size)],
    ids=lambda combo: "+".join(combo) or "default",
)
def test_the_highest_source_given_wins(
    present: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ports = {"flag": 3333, "env": 2222, "file": 1111}
    flags: dict[str, object] = {}
    if "flag" in present:
        flags["port"] = ports["flag"]
    if "env" in present:
        monkeypatch.setenv("PACKYARD_PORT", str(ports["env"]))
    if "file" in present:
        flags["config"] = write_config(tmp_path, f"port = {ports['file']}\n")

    settings = load_settings(**flags)

    expected = next((ports[source] for source in SOURCES if source in present), 8080)
    assert settings.port == expected


def test_flags_given_as_none_count_as_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKYARD_HOST", "0.0.0.0")

    assert load_settings(host=None, port=None).host == "0.0.0.0"


def test_packyard_config_variable_names_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write_config(tmp_path, 'host = "10.1.2.3"\nlog_level = "debug"\n')
    monkeypatch.setenv("PACKYARD_CONFIG", str(path))

    settings = load_settings()

    assert settings.host == "10.1.2.3"
    assert settings.log_level == "debug"


def test_config_flag_overrides_the_config_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PACKYARD_CONFIG", str(write_config(tmp_path, "port = 1\n", "env.toml")))
    chosen = write_config(tmp_path, "port = 2\n", "flag.toml")

    assert load_settings(config=chosen).port == 2


def test_environment_beats_a_file_named_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PACKYARD_CONFIG", str(write_config(tmp_path, "workers = 3\n")))
    monkeypatch.setenv("PACKYARD_WORKERS", "5")

    assert load_settings().workers == 5


@pytest.mark.parametrize("via", ["flag", "env"])
def test_missing_config_file_is_an_error(
    via: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.toml"
    if via == "env":
        monkeypatch.setenv("PACKYARD_CONFIG", str(missing))

    with pytest.raises(ConfigFileError, match=r"nope\.toml"):
        load_settings(config=missing if via == "flag" else None)


def test_directory_as_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError):
        load_settings(config=tmp_path)


@pytest.mark.parametrize(
    "text",
    ["port = \n", "prot = 8081\n", 'port = "not a number"\n', "port = 70000\n"],
    ids=["malformed", "unknown-key", "wrong-type", "out-of-range"],
)
def test_unusable_config_file_is_a_value_error(tmp_path: Path, text: str) -> None:
    # The CLI reports ValueErrors (ConfigFileError among them) as a usage error.
    with pytest.raises(ValueError):
        load_settings(config=write_config(tmp_path, text))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1", ["10.0.0.1"]),
        ("10.0.0.1,10.0.0.2", ["10.0.0.1", "10.0.0.2"]),
        (" 10.0.0.1 , 192.168.0.0/16 ,, ", ["10.0.0.1", "192.168.0.0/16"]),
        ("", []),
    ],
)
def test_trusted_proxies_variable_is_a_comma_list(
    value: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACKYARD_TRUSTED_PROXIES", value)

    assert load_settings().trusted_proxies == expected


def test_trusted_proxies_in_the_file_is_a_toml_list(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'trusted_proxies = ["10.0.0.1", "10.0.0.2"]\n')

    assert load_settings(config=path).trusted_proxies == ["10.0.0.1", "10.0.0.2"]


def test_database_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")

    expected = f"sqlite:///{(tmp_path / 'data' / 'packyard.db').resolve()}"
    assert settings.effective_database_url == expected
    assert settings.blob_dir == tmp_path / "data" / "files"


def test_default_data_dir_database_is_an_absolute_path(tmp_path: Path) -> None:
    url = load_settings().effective_database_url

    assert url.startswith("sqlite:///")
    assert (
        Path(url.removeprefix("sqlite:///")) == (tmp_path / "packyard-data/packyard.db").resolve()
    )


def test_database_url_given_is_used_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKYARD_DATABASE_URL", "postgresql://db.internal/packyard")

    assert load_settings().effective_database_url == "postgresql://db.internal/packyard"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("https://host/pypi/", "https://host/pypi"), ("https://host", "https://host"), ("", None)],
)
def test_base_url_loses_its_trailing_slash(value: str, expected: str | None) -> None:
    assert load_settings(base_url=value).base_url == expected


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("true", True)])
def test_access_log_variable_is_a_boolean(
    value: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACKYARD_ACCESS_LOG", value)

    assert load_settings().access_log is expected


def test_describe_settings_lists_every_variable() -> None:
    text = describe_settings()

    for name in Settings.model_fields:
        assert f"PACKYARD_{name.upper()} " in text


def test_upstream_connections_default_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().upstream_connections == 8
    monkeypatch.setenv("PACKYARD_UPSTREAM_CONNECTIONS", "3")
    assert load_settings().upstream_connections == 3
    for bad in ("0", "65", "many"):
        monkeypatch.setenv("PACKYARD_UPSTREAM_CONNECTIONS", bad)
        with pytest.raises(ValueError, match="upstream_connections"):
            load_settings()
