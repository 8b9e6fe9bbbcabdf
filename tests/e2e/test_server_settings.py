"""Servers of their own: upload size limit, settings precedence, operations endpoints."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from e2e.clients import Clients, assert_rejected, expect_failure, upload
from e2e.conftest import ServerFactory
from e2e.server import ServerProcess
from e2e.simple import IndexClient
from helpers.dists import make_wheel

pytestmark = pytest.mark.e2e

SMALL_LIMIT = 3000


def incompressible_wheel(directory: Path, project: str, version: str, size: int) -> Path:
    noise = random.Random(size).randbytes(size)
    return make_wheel(directory, project, version, extra_files={"noise/data.bin": noise})


# Upload size --------------------------------------------------------------------------------


def test_upload_larger_than_the_configured_maximum_is_413(
    server_factory: ServerFactory, clients: Clients, dists: Path, project: str
) -> None:
    own = server_factory(settings={"PACKYARD_MAX_UPLOAD_SIZE": str(SMALL_LIMIT)})
    small = make_wheel(dists, project, "1.0")
    large = incompressible_wheel(dists, project, "2.0", 4 * SMALL_LIMIT)
    assert small.stat().st_size < SMALL_LIMIT < large.stat().st_size

    accepted = upload(own, small)
    refused = upload(own, large)
    twine = expect_failure(
        clients.twine_upload(own.upload_url, large, user=own.user, password=own.password)
    )

    assert accepted.status_code == 200, accepted.text
    assert_rejected(refused, 413)
    assert "413" in twine.stdout + twine.stderr
    with IndexClient(own) as reader:
        assert reader.project_html(project).filenames == [small.name]


def test_upload_declaring_a_size_far_beyond_the_maximum_is_413(
    server_factory: ServerFactory, dists: Path, project: str
) -> None:
    own = server_factory(settings={"PACKYARD_MAX_UPLOAD_SIZE": str(SMALL_LIMIT)})
    huge = incompressible_wheel(dists, project, "1.0", 24 * 1024 * 1024)

    response = upload(own, huge)

    assert_rejected(response, 413)


# Precedence: flag > environment > file > default ---------------------------------------------


def test_settings_file_overrides_the_default(
    server_factory: ServerFactory, tmp_path: Path, dists: Path, project: str
) -> None:
    config = tmp_path / "packyard.toml"
    config.write_text(f"max_upload_size = {SMALL_LIMIT}\n")
    own = server_factory(settings={"PACKYARD_CONFIG": str(config)})

    response = upload(own, incompressible_wheel(dists, project, "1.0", 4 * SMALL_LIMIT))

    assert_rejected(response, 413)


def test_environment_overrides_the_file_and_the_flag_overrides_the_environment(
    server_factory: ServerFactory, tmp_path: Path, dists: Path, project: str
) -> None:
    from_file, from_env = tmp_path / "dir-from-file", tmp_path / "dir-from-env"
    config = tmp_path / "packyard.toml"
    config.write_text(f'max_upload_size = {SMALL_LIMIT}\ndata_dir = "{from_file}"\n')
    own = server_factory(
        settings={
            "PACKYARD_CONFIG": str(config),
            "PACKYARD_MAX_UPLOAD_SIZE": str(64 * SMALL_LIMIT),
            "PACKYARD_DATA_DIR": str(from_env),
        }
    )

    response = upload(own, incompressible_wheel(dists, project, "1.0", 4 * SMALL_LIMIT))

    assert response.status_code == 200, response.text
    assert own.data_dir.is_dir() and any(own.data_dir.iterdir())
    assert not from_file.exists()
    assert not from_env.exists()


# Operations endpoints -------------------------------------------------------------------------


def test_health_and_readiness_answer_200(index: IndexClient) -> None:
    assert index.http.get("/healthz").status_code == 200
    assert index.http.get("/readyz").status_code == 200
    assert index.http.head("/readyz").status_code == 200


def test_metrics_are_prometheus_text(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    assert upload(server, make_wheel(dists, project, "1.0")).status_code == 200

    response = index.http.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE " in response.text
    assert "# HELP " in response.text
    samples = [line for line in response.text.splitlines() if line and not line.startswith("#")]
    assert samples
    assert all(len(line.rsplit(" ", 1)) == 2 for line in samples)
