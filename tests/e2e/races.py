"""Racing uploads: release N requests together and check what the server made of them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx

from e2e.clients import sha256_of, upload
from e2e.server import ServerProcess
from e2e.simple import IndexClient
from helpers.dists import make_wheel

RACERS = 8
TAGS = [
    "py3-none-any",
    "py2-none-any",
    "cp311-cp311-manylinux_2_17_x86_64",
    "cp311-cp311-win_amd64",
    "cp311-cp311-macosx_11_0_arm64",
    "cp312-cp312-manylinux_2_17_x86_64",
    "cp312-abi3-linux_x86_64",
    "cp310-cp310-musllinux_1_1_x86_64",
]


def race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls at once (released together by a barrier); answers in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def same_filename_variants(dists: Path, project: str) -> list[Path]:
    """RACERS wheels with one filename and different bytes."""
    wheels = []
    for i in range(RACERS):
        directory = dists / f"variant-{i}"
        directory.mkdir()
        wheels.append(make_wheel(directory, project, "1.0", summary=f"variant {i}"))
    assert len({sha256_of(w.read_bytes()) for w in wheels}) == RACERS
    return wheels


def assert_one_winner(
    server: ServerProcess, index: IndexClient, project: str, wheels: list[Path]
) -> None:
    responses = race([partial(upload, server, w) for w in wheels])

    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, [(r.status_code, r.text) for r in responses]
    for response in responses:
        if response.status_code != 200:
            assert response.status_code in (400, 409), (response.status_code, response.text)
            assert "File already exists" in response.text
    winner = wheels[statuses.index(200)]
    page = index.project_html(project)
    assert page.filenames == [winner.name]
    assert page.anchor(winner.name).sha256 == sha256_of(winner.read_bytes())
    assert index.download(project, winner.name) == winner.read_bytes()
