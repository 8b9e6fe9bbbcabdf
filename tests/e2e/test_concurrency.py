"""Concurrent uploads: one winner per filename, no lost files in a new release."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from e2e.clients import upload
from e2e.races import RACERS, TAGS, assert_one_winner, race, same_filename_variants
from e2e.server import ServerProcess
from e2e.simple import IndexClient, normalize
from helpers.dists import make_wheel

pytestmark = pytest.mark.e2e


def test_concurrent_uploads_of_one_filename_with_different_bytes_have_one_winner(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    wheels = same_filename_variants(dists, project)

    assert_one_winner(server, index, project, wheels)


def test_concurrent_uploads_of_different_files_to_a_new_release_all_succeed(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    wheels = [make_wheel(dists, project, "1.0", tag=tag) for tag in TAGS]

    responses = race([partial(upload, server, w) for w in wheels])

    assert [r.status_code for r in responses] == [200] * RACERS, [r.text for r in responses]
    page = index.project_html(project)
    assert sorted(page.filenames) == sorted(w.name for w in wheels)
    document = index.project_json(project)
    assert document["versions"] == ["1.0"]
    root = [a for a in index.root_html().anchors if normalize(a.text) == normalize(project)]
    assert len(root) == 1


def test_concurrent_identical_uploads_all_succeed_and_store_one_file(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    wheel = make_wheel(dists, project, "1.0")

    responses = race([partial(upload, server, wheel) for _ in range(RACERS)])

    assert [r.status_code for r in responses] == [200] * RACERS, [r.text for r in responses]
    assert index.project_html(project).filenames == [wheel.name]
