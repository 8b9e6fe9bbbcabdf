"""Client matrix, pip (the lock file's pip, run by the test venv's python): install through
the default virtual index, an extra private index, hashes, download, index versions; and
each way pip finds credentials for a private index: the URL, netrc, keyring.

Everything pip installs goes to a `--target` directory of the test's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.clients import PIP_NETWORK_OPTIONS
from e2e.matrix import (
    INTERNAL,
    PRIVATE,
    PUBLIC,
    PYTHON,
    SECRET,
    TOKEN_USER,
    VENV_BIN,
    ClientHome,
    Matrix,
    client_home,
    imported_version,
    matrix,
    sha256_file,
)

__all__ = ["client_home", "matrix"]

pytestmark = pytest.mark.e2e

PLAINTEXT_KEYRING = "keyrings.alt.file.PlaintextKeyring"


def pip(*args: str | Path) -> list[str | Path]:
    return [PYTHON, "-m", "pip", *args]


def install(home: ClientHome, *args: str | Path, env: dict[str, str | None] | None = None) -> Path:
    """`pip install --target <new dir> ARGS`, which must succeed; the target."""
    target = home.home / f"target-{len(list(home.home.glob('target-*')))}"
    home.ok(*pip("install", *PIP_NETWORK_OPTIONS, "--target", target, *args), env=env)
    return target


def test_pip_index_url_installs_internal_and_mirrored_projects_through_root(
    matrix: Matrix, client_home: ClientHome
) -> None:
    target = install(client_home, "--index-url", matrix.simple(), INTERNAL)
    assert imported_version(client_home, PYTHON, INTERNAL, target) == "1.0"
    # The dependency is not in `hosted`: root found it through the mirror of the upstream.
    assert imported_version(client_home, PYTHON, PUBLIC, target) == "2.0"


def test_pip_extra_index_url_adds_a_private_index(matrix: Matrix, client_home: ClientHome) -> None:
    private = matrix.with_credentials(matrix.simple(PRIVATE), TOKEN_USER, matrix.read_token)
    target = install(
        client_home, "--index-url", matrix.simple(), "--extra-index-url", private, SECRET, INTERNAL
    )
    assert imported_version(client_home, PYTHON, SECRET, target) == "1.0"
    assert imported_version(client_home, PYTHON, INTERNAL, target) == "1.0"


def test_pip_require_hashes_accepts_the_served_files_and_refuses_others(
    matrix: Matrix, client_home: ClientHome
) -> None:
    wheel = matrix.file(f"{PUBLIC}==1.0")
    internal = matrix.file(f"{INTERNAL}==1.0")
    requirements = client_home.write(
        "requirements.txt",
        f"{INTERNAL}==1.0 --hash=sha256:{sha256_file(internal)}\n"
        f"{PUBLIC}==1.0 --hash=sha256:{sha256_file(wheel)}\n",
    )
    target = install(
        client_home, "--index-url", matrix.simple(), "--require-hashes", "-r", requirements
    )
    assert imported_version(client_home, PYTHON, PUBLIC, target) == "1.0"

    wrong = client_home.write("wrong.txt", f"{PUBLIC}==1.0 --hash=sha256:{sha256_file(internal)}\n")
    result = client_home.fails(
        *pip(
            "install",
            *PIP_NETWORK_OPTIONS,
            "--target",
            client_home.home / "no",
            "--index-url",
            matrix.simple(),
            "--require-hashes",
            "-r",
            wrong,
        )
    )
    assert "DO NOT MATCH THE HASHES" in result.stderr, result.stderr


def test_pip_download_saves_the_files_as_uploaded(matrix: Matrix, client_home: ClientHome) -> None:
    dest = client_home.directory("downloads")
    client_home.ok(
        *pip(
            "download",
            *PIP_NETWORK_OPTIONS,
            "--index-url",
            matrix.simple(),
            "--dest",
            dest,
            f"{INTERNAL}==1.0",
            f"{PUBLIC}==1.0",
        )
    )
    expected = [matrix.file(f"{INTERNAL}==1.0"), matrix.file(f"{PUBLIC}==1.0")]
    assert sorted(p.name for p in dest.iterdir()) == sorted(p.name for p in expected)
    for path in expected:
        assert (dest / path.name).read_bytes() == path.read_bytes(), path.name


def test_pip_index_versions_lists_every_version(matrix: Matrix, client_home: ClientHome) -> None:
    result = client_home.ok(
        *pip("index", "versions", *PIP_NETWORK_OPTIONS, "--index-url", matrix.simple(), PUBLIC)
    )
    assert f"{PUBLIC} (2.0)" in result.stdout, result.stdout
    assert "Available versions: 2.0, 1.0" in result.stdout, result.stdout


# Authentication -----------------------------------------------------------------------------


def test_pip_credentials_in_the_index_url(matrix: Matrix, client_home: ClientHome) -> None:
    # Without credentials the private index answers 401, which pip reports as no versions.
    refused = client_home.fails(
        *pip(
            "install",
            *PIP_NETWORK_OPTIONS,
            "--target",
            client_home.home / "no",
            "--index-url",
            matrix.simple(PRIVATE),
            SECRET,
        )
    )
    assert "No matching distribution found" in refused.stderr, refused.stderr

    url = matrix.with_credentials(matrix.simple(PRIVATE), TOKEN_USER, matrix.read_token)
    target = install(client_home, "--index-url", url, SECRET)
    assert imported_version(client_home, PYTHON, SECRET, target) == "1.0"


def test_pip_netrc(matrix: Matrix, client_home: ClientHome) -> None:
    client_home.netrc(matrix.host, TOKEN_USER, matrix.read_token)
    target = install(client_home, "--index-url", matrix.simple(PRIVATE), SECRET)
    assert imported_version(client_home, PYTHON, SECRET, target) == "1.0"


def configure_keyring(matrix: Matrix, home: ClientHome) -> dict[str, str | None]:
    """keyrings.alt's PlaintextKeyring chosen by keyringrc.cfg in the temp HOME, holding the
    token under the server's netloc; the environment that lets keyring read that file."""
    home.write(
        ".config/python_keyring/keyringrc.cfg", f"[backend]\ndefault-keyring={PLAINTEXT_KEYRING}\n"
    )
    env: dict[str, str | None] = {"PYTHON_KEYRING_BACKEND": None}
    home.ok(
        PYTHON,
        "-c",
        "import keyring, sys\n"
        f"assert type(keyring.get_keyring()).__module__ + '.PlaintextKeyring' == "
        f"{PLAINTEXT_KEYRING!r}, keyring.get_keyring()\n"
        "keyring.set_password(sys.argv[1], sys.argv[2], sys.argv[3])\n",
        matrix.netloc,
        TOKEN_USER,
        matrix.read_token,
        env=env,
    )
    return env


def test_pip_keyring_provider_import(matrix: Matrix, client_home: ClientHome) -> None:
    """`--keyring-provider import`: pip imports keyring from its own interpreter (the test
    venv has keyring and keyrings.alt). PlaintextKeyring looks credentials up by service
    and user name, so the URL names the user; pip then asks for its password."""
    env = configure_keyring(matrix, client_home)
    url = matrix.with_credentials(matrix.simple(PRIVATE), TOKEN_USER)
    target = install(
        client_home, "--keyring-provider", "import", "--index-url", url, SECRET, env=env
    )
    assert imported_version(client_home, PYTHON, SECRET, target) == "1.0"


def test_pip_keyring_provider_subprocess(matrix: Matrix, client_home: ClientHome) -> None:
    """`--keyring-provider subprocess`: pip runs the `keyring` command found on PATH outside
    its own environment (as a pipx-installed keyring would be)."""
    env = configure_keyring(matrix, client_home)
    client_home.link_tool("keyring", VENV_BIN / "keyring")
    url = matrix.with_credentials(matrix.simple(PRIVATE), TOKEN_USER)
    target = install(
        client_home, "--keyring-provider", "subprocess", "--index-url", url, SECRET, env=env
    )
    assert imported_version(client_home, PYTHON, SECRET, target) == "1.0"
