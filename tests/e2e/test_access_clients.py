"""Real pip, uv and twine against a private index (issue 4): credentials in the URL, in a
netrc file, from uv's per-index variables, and `__token__`; anonymous installs fail on the
401 and never get a later index's files.

One server for the module, set up with the CLI: users `reader` and `publisher`; `priv`
(readers reader and publisher, uploaders publisher) holding `secret-lib` 1.0; `pub` (open)
holding an impostor `secret-lib` 9.0; `virt`, virtual over priv, pub. Tokens from
`packyard token create`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from e2e.access import (
    PRIVATE,
    PUBLIC,
    TOKEN_USER,
    VIRTUAL,
    AccessServer,
    Token,
    auth_of,
    describe,
    password_of,
    run_client,
    start_access_server,
    with_credentials,
    write_netrc,
)
from e2e.clients import (
    UV,
    Clients,
    expect_failure,
    expect_ok,
    installable_dists,
    output,
)
from e2e.simple import JSON_TYPE
from helpers.dists import make_wheel, module_name

pytestmark = pytest.mark.e2e

READER = "reader"
PUBLISHER = "publisher"
PROJECT = "secret-lib"
MODULE = module_name(PROJECT)
VERSION = "1.0"
IMPOSTOR_VERSION = "9.0"


@dataclass
class Site:
    srv: AccessServer
    read_token: Token  # reader's: read, index priv only
    upload_token: Token  # publisher's: upload, project secret-lib only
    dists: Path

    @property
    def host(self) -> str:
        host = urlsplit(self.srv.url).hostname
        assert host is not None
        return host

    def index_url(self, index: str = PRIVATE) -> str:
        return self.srv.simple_url(index)

    def url_for(self, user: str, secret: str, index: str = PRIVATE) -> str:
        return with_credentials(self.index_url(index), user, secret)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("access-clients")
    srv = start_access_server(workdir / "server")
    try:
        for user in (READER, PUBLISHER):
            srv.add_user(user)
        srv.cli("index", "create", PRIVATE, "--kind", "hosted")
        srv.cli("index", "create", PUBLIC, "--kind", "hosted")
        srv.cli("index", "create", VIRTUAL, "--kind", "virtual", "--members", f"{PRIVATE},{PUBLIC}")
        srv.cli(
            "index",
            "set",
            PRIVATE,
            "--readers",
            f"{READER},{PUBLISHER}",
            "--uploaders",
            PUBLISHER,
        )
        dists = workdir / "dists"
        dists.mkdir()
        wheel, _ = installable_dists(dists, PROJECT, VERSION)
        response = srv.upload(
            PRIVATE, wheel, name=PROJECT, version=VERSION, auth=auth_of(PUBLISHER)
        )
        assert response.status_code == 200, describe(response)
        impostor_dir = workdir / "impostor"
        impostor_dir.mkdir()
        impostor, _ = installable_dists(impostor_dir, PROJECT, IMPOSTOR_VERSION)
        response = srv.upload(
            PUBLIC, impostor, name=PROJECT, version=IMPOSTOR_VERSION, auth=auth_of(READER)
        )
        assert response.status_code == 200, describe(response)
        read_token = srv.create_token(
            READER, indexes=[PRIVATE], scopes=["read"], description="pip and uv", find_id=False
        )
        upload_token = srv.create_token(
            PUBLISHER, projects=[PROJECT], scopes=["upload"], description="twine", find_id=False
        )
        yield Site(srv=srv, read_token=read_token, upload_token=upload_token, dists=dists)
    finally:
        srv.close()


CREDENTIALS = [
    pytest.param("password", id="user-password"),
    pytest.param("token", id="token"),
]


def credentials(site: Site, kind: str) -> tuple[str, str]:
    if kind == "token":
        return (TOKEN_USER, site.read_token.secret)
    return (READER, password_of(READER))


def pip_install(
    clients: Clients, index_url: str, *requirements: str, verbose: bool = False
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """pip install; verbose shows why an index page was skipped (pip logs a 401 at -vv)."""
    args = ["--only-binary", ":all:", *(["-vv"] if verbose else [])]
    return clients.pip_install(index_url, *requirements, args=args)


def uv_install(
    clients: Clients, args: list[str], *requirements: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`uv pip install --target <fresh dir>`, no venv needed."""
    target = clients.fresh_dir("uv-target")
    command: list[str | Path] = [
        UV,
        "pip",
        "install",
        "--no-config",
        "--python",
        clients.pip_python,
        "--target",
        target,
        *args,
        *requirements,
    ]
    return run_client(clients, command, env=env), target


def assert_installed(
    clients: Clients, result: subprocess.CompletedProcess[str], target: Path
) -> None:
    expect_ok(result)
    installed = clients.installed_in_target(target, MODULE)
    assert installed.version == VERSION, output(result)


def assert_not_installed(target: Path) -> None:
    assert not (target / MODULE).exists(), f"{MODULE} was installed in {target}"


# pip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_pip_installs_with_credentials_in_the_url(site: Site, clients: Clients, kind: str) -> None:
    user, secret = credentials(site, kind)

    result, target = pip_install(clients, site.url_for(user, secret), PROJECT)

    assert_installed(clients, result, target)
    assert secret not in result.stdout + result.stderr, "pip printed the secret"


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_pip_installs_with_credentials_from_a_netrc_file(
    site: Site, clients: Clients, kind: str
) -> None:
    write_netrc(clients.home, site.host, *credentials(site, kind))

    result, target = pip_install(clients, site.index_url(), PROJECT)

    assert_installed(clients, result, target)


def test_pip_without_credentials_fails_on_the_401_and_installs_nothing(
    site: Site, clients: Clients
) -> None:
    result, target = pip_install(clients, site.index_url(), PROJECT, verbose=True)

    expect_failure(result)
    assert "401" in result.stdout + result.stderr, output(result)
    assert_not_installed(target)


def test_pip_without_credentials_never_gets_a_later_members_files_through_a_virtual_index(
    site: Site, clients: Clients
) -> None:
    """priv has secret-lib, so virt answers 401 and never pub's impostor 9.0."""
    page = site.srv.get(site.srv.page_url(VIRTUAL, PROJECT), None, accept=JSON_TYPE)
    assert page.status_code == 401, describe(page)

    result, target = pip_install(clients, site.index_url(VIRTUAL), PROJECT, verbose=True)

    expect_failure(result)
    assert "401" in result.stdout + result.stderr, output(result)
    assert_not_installed(target)
    assert IMPOSTOR_VERSION not in result.stdout + result.stderr, output(result)


def test_pip_with_credentials_installs_the_private_project_through_the_virtual_index(
    site: Site, clients: Clients
) -> None:
    result, target = pip_install(
        clients, site.url_for(READER, password_of(READER), VIRTUAL), PROJECT
    )

    assert_installed(clients, result, target)


# uv -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_uv_installs_with_credentials_in_the_url(site: Site, clients: Clients, kind: str) -> None:
    user, secret = credentials(site, kind)

    result, target = uv_install(clients, ["--index-url", site.url_for(user, secret)], PROJECT)

    assert_installed(clients, result, target)
    assert secret not in result.stdout + result.stderr, "uv printed the secret"


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_uv_installs_with_per_index_credentials_from_the_environment(
    site: Site, clients: Clients, kind: str
) -> None:
    user, secret = credentials(site, kind)
    env = {
        "UV_DEFAULT_INDEX": f"private={site.index_url()}",
        "UV_INDEX_PRIVATE_USERNAME": user,
        "UV_INDEX_PRIVATE_PASSWORD": secret,
    }

    result, target = uv_install(clients, [], PROJECT, env=env)

    assert_installed(clients, result, target)


def test_uv_installs_with_credentials_from_a_netrc_file(site: Site, clients: Clients) -> None:
    write_netrc(clients.home, site.host, *credentials(site, "token"))

    result, target = uv_install(clients, ["--index-url", site.index_url()], PROJECT)

    assert_installed(clients, result, target)


@pytest.mark.parametrize("index", [PRIVATE, VIRTUAL])
def test_uv_without_credentials_fails_and_never_falls_back(
    site: Site, clients: Clients, index: str
) -> None:
    result, target = uv_install(clients, ["--index-url", site.index_url(index)], PROJECT)

    expect_failure(result)
    assert "401" in result.stdout + result.stderr, output(result)
    assert_not_installed(target)


# twine ----------------------------------------------------------------------------------


def test_twine_uploads_with_a_token(site: Site, clients: Clients) -> None:
    wheel = make_wheel(site.dists, PROJECT, "1.1")

    result = clients.twine_upload(
        site.srv.upload_url(PRIVATE), wheel, user=TOKEN_USER, password=site.upload_token.secret
    )

    expect_ok(result)
    assert site.upload_token.secret not in result.stdout + result.stderr
    assert wheel.name in listed(site)


def test_twine_uploads_with_a_user_name_and_password(site: Site, clients: Clients) -> None:
    wheel = make_wheel(site.dists, PROJECT, "1.2")

    result = clients.twine_upload(
        site.srv.upload_url(PRIVATE), wheel, user=PUBLISHER, password=password_of(PUBLISHER)
    )

    expect_ok(result)
    assert wheel.name in listed(site)


def test_twine_with_a_read_only_token_is_refused_with_403(site: Site, clients: Clients) -> None:
    wheel = make_wheel(site.dists, PROJECT, "1.3")

    result = clients.twine_upload(
        site.srv.upload_url(PRIVATE), wheel, user=TOKEN_USER, password=site.read_token.secret
    )

    expect_failure(result)
    assert "403" in result.stdout + result.stderr, output(result)
    assert wheel.name not in listed(site)


def listed(site: Site) -> list[str]:
    page = site.srv.read_page(PRIVATE, PROJECT, auth_of(PUBLISHER))
    assert page.status_code == 200, describe(page)
    return [f["filename"] for f in page.json()["files"]]
