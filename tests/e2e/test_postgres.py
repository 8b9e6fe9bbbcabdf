"""The main flow against a server on PostgreSQL (PACKYARD_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import pytest

from e2e.clients import (
    Clients,
    expect_ok,
    installable_dists,
    name_and_version,
    sha256_of,
    upload,
)
from e2e.conftest import UPLOADER, UPLOADER_PASSWORD
from e2e.races import TAGS, assert_one_winner, race, same_filename_variants
from e2e.server import ServerProcess, base_env, run_cli, start_server
from e2e.simple import IndexClient
from helpers.dists import make_wheel, module_name
from helpers.postgres import (
    PostgresUnavailableError,
    postgres_test_database,
    skip_or_fail_unavailable,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on a fresh PostgreSQL database, migrated with `packyard db upgrade` first."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_test_database())
        except PostgresUnavailableError as error:
            skip_or_fail_unavailable(error)
            raise
        workdir = tmp_path_factory.mktemp("pg-server")
        home = workdir / "cli-home"
        home.mkdir()
        settings = {"PACKYARD_DATABASE_URL": url}
        migrate = run_cli(
            "db",
            "upgrade",
            env={**base_env(home), **settings, "PACKYARD_DATA_DIR": str(workdir / "data")},
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        server = start_server(workdir, settings=settings)
        stack.callback(server.stop)  # runs before the database is dropped
        server.add_user(UPLOADER, UPLOADER_PASSWORD)
        yield server


@pytest.fixture
def pg_index(pg_server: ServerProcess) -> Iterator[IndexClient]:
    with IndexClient(pg_server) as client:
        yield client


def test_twine_upload_then_pip_and_uv_install_on_postgres(
    pg_server: ServerProcess, pg_index: IndexClient, clients: Clients, dists: Path, project: str
) -> None:
    wheel, sdist = installable_dists(dists, project, "1.0")

    expect_ok(
        clients.twine_upload(
            pg_server.upload_url, wheel, sdist, user=pg_server.user, password=pg_server.password
        )
    )

    page = pg_index.project_html(project)
    assert sorted(page.filenames) == sorted([wheel.name, sdist.name])
    assert page.anchor(wheel.name).sha256 == sha256_of(wheel.read_bytes())
    result, target = clients.pip_install(pg_server.simple_url, f"{project}==1.0")
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "1.0"
    result, venv = clients.uv_install(pg_server.simple_url, project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == "1.0"


def test_uv_publish_and_cli_yank_on_postgres(
    pg_server: ServerProcess, pg_index: IndexClient, clients: Clients, dists: Path, project: str
) -> None:
    for version in ("1.0", "2.0"):
        expect_ok(
            clients.uv_publish(
                pg_server.upload_url,
                *installable_dists(dists, project, version),
                user=pg_server.user,
                password=pg_server.password,
            )
        )

    yanked = pg_server.cli("yank", project, "2.0", "--reason", "pg")

    assert yanked.returncode == 0, yanked.stdout + yanked.stderr
    files = pg_index.project_json(project)["files"]
    yanked_by_version = {name_and_version(Path(f["filename"]))[1]: f["yanked"] for f in files}
    assert yanked_by_version == {"1.0": False, "2.0": "pg"}
    result, target = clients.pip_install(pg_server.simple_url, project)
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "1.0"


def test_concurrent_uploads_of_one_filename_have_one_winner_on_postgres(
    pg_server: ServerProcess, pg_index: IndexClient, dists: Path, project: str
) -> None:
    wheels = same_filename_variants(dists, project)

    assert_one_winner(pg_server, pg_index, project, wheels)


def test_unknown_project_is_404_and_store_is_ready_on_postgres(
    pg_index: IndexClient, project: str
) -> None:
    assert pg_index.http.get("/readyz").status_code == 200
    assert pg_index.http.get(f"/simple/{project}/").status_code == 404


def test_concurrent_uploads_of_different_files_all_succeed_on_postgres(
    pg_server: ServerProcess, pg_index: IndexClient, dists: Path, project: str
) -> None:
    wheels = [make_wheel(dists, project, "1.0", tag=tag) for tag in TAGS]

    responses = race([partial(upload, pg_server, w) for w in wheels])

    assert [r.status_code for r in responses] == [200] * len(TAGS), [r.text for r in responses]
    assert sorted(pg_index.project_html(project).filenames) == sorted(w.name for w in wheels)
