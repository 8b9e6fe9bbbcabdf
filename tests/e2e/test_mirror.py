"""Mirror indexes: a downstream packyard caching an upstream packyard's hosted index.

Installs through the mirror and through `root` with pip and uv; the upstream's hashes,
upload times and core metadata kept; single fetches under concurrency; the stale path
with the upstream stopped; warm, refresh, offline; bad inputs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest

from e2e.clients import Clients, expect_failure, expect_ok
from e2e.conftest import Unique
from e2e.races import RACERS, race
from e2e.server import free_port
from e2e.simple import JSON_TYPE, IndexClient, normalize
from e2e.upstream import (
    MIRROR,
    UPSTREAM_INDEX,
    VIRTUAL,
    Pair,
    cli_ok,
    dists_for,
    explain,
    fetches,
    file_href,
    files_by_name,
    listed,
    metric,
    publish_upstream,
    running_pair,
    silent_upstream,
    stop_upstream,
    wait_for,
)
from helpers.dists import make_sdist, make_wheel, metadata_of, module_name

pytestmark = pytest.mark.e2e

FILE_ROUTE = "/{index}/+f/{sha256}/{filename}"
IMPORTED_MTIME = 1_600_000_000  # 2020-09-13T12:26:40Z


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with running_pair(tmp_path_factory.mktemp("mirror-pair")) as running:
        yield running


@pytest.fixture(scope="module")
def up(pair: Pair) -> Iterator[IndexClient]:
    with IndexClient(pair.upstream) as client:
        yield client


@pytest.fixture(scope="module")
def down(pair: Pair) -> Iterator[IndexClient]:
    with IndexClient(pair.downstream) as client:
        yield client


def get(url: str, **headers: str) -> httpx.Response:
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        return http.get(url, headers=headers)


# Installing through the mirror and through root ---------------------------------------------


@pytest.mark.parametrize("index", [MIRROR, VIRTUAL])
@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_installs_an_upstream_project_through_the_mirror_and_the_virtual_index(
    pair: Pair,
    clients: Clients,
    tmp_path: Path,
    project: str,
    installer: str,
    index: str,
    down: IndexClient,
) -> None:
    publish_upstream(pair, *dists_for(tmp_path / "d1", project, "1.0"))
    publish_upstream(pair, *dists_for(tmp_path / "d2", project, "2.0"))

    if installer == "pip":
        result, target = clients.pip_install(pair.index_url(index), project)
        expect_ok(result)
        installed = clients.installed_in_target(target, module_name(project))
    else:
        result, venv = clients.uv_install(pair.index_url(index), project)
        expect_ok(result)
        installed = clients.installed_in_venv(venv, module_name(project))

    assert (installed.version, installed.built_from) == ("2.0", "wheel")
    # The installer downloaded the wheel through the downstream, which now has it cached.
    assert normalize(project) in [normalize(a.text) for a in down.root_html(MIRROR).anchors]


def test_mirror_keeps_the_upstreams_hashes_upload_times_requires_python_yanks_and_metadata(
    pair: Pair, tmp_path: Path, project: str, up: IndexClient, down: IndexClient
) -> None:
    """PEP 691/700 fields of every file are the upstream's, not the mirror's own: an old
    imported file keeps its 2020 upload-time, not the time the mirror cached it."""
    publish_upstream(pair, *dists_for(tmp_path / "d1", project, "1.0", requires_python=">=3.8"))
    old = dists_for(tmp_path / "old", project, "0.9", sdist=False)[0]
    os.utime(old, (IMPORTED_MTIME, IMPORTED_MTIME))
    expect_ok(pair.upstream.cli("import", str(old.parent), "--index", UPSTREAM_INDEX))
    sdist = f"{module_name(project)}-1.0.tar.gz"
    expect_ok(
        pair.upstream.cli(
            "yank", project, "1.0", "--file", sdist, "--reason", "broken sdist", "--index", "hosted"
        )
    )
    original = files_by_name(up.project_json(project, UPSTREAM_INDEX))
    assert len(original) == 3

    for index in (MIRROR, VIRTUAL):
        mirrored = files_by_name(down.project_json(project, index))
        assert sorted(mirrored) == sorted(original), index
        for filename, entry in original.items():
            copy = mirrored[filename]
            for key in ("hashes", "upload-time", "core-metadata", "requires-python", "size"):
                assert copy.get(key) == entry.get(key), f"{index} {filename} {key}"
            assert copy["yanked"] == entry["yanked"], f"{index} {filename}"
        assert mirrored[old.name]["upload-time"].startswith("2020-09-13T12:26:40")
        assert mirrored[sdist]["yanked"] == "broken sdist"

    html = down.project_html(project, MIRROR)
    for filename, entry in original.items():
        anchor = html.anchor(filename)
        assert anchor.sha256 == entry["hashes"]["sha256"]
        assert (
            anchor.attrs.get("data-core-metadata") == f"sha256={entry['core-metadata']['sha256']}"
        )
    assert html.anchor(sdist).attrs.get("data-yanked") == "broken sdist"
    assert html.anchor(sdist).attrs.get("data-requires-python") == ">=3.8"

    for filename, entry in original.items():
        body = get(file_href(down, project, filename, MIRROR)).content
        assert hashlib.sha256(body).hexdigest() == entry["hashes"]["sha256"], filename


def test_metadata_sidecar_through_the_mirror_equals_the_upstreams(
    pair: Pair, tmp_path: Path, project: str, up: IndexClient, down: IndexClient
) -> None:
    wheel, sdist = dists_for(tmp_path, project, "1.0")
    publish_upstream(pair, wheel, sdist)

    for path in (wheel, sdist):
        upstream_sidecar = get(file_href(up, project, path.name, UPSTREAM_INDEX) + ".metadata")
        assert upstream_sidecar.status_code == 200
        listed_hash = files_by_name(down.project_json(project, MIRROR))[path.name]["core-metadata"]
        for index in (MIRROR, VIRTUAL):
            # First request for the sidecar: the downstream fetches it from upstream.
            response = get(file_href(down, project, path.name, index) + ".metadata")
            assert response.status_code == 200, f"{index} {path.name}: {response.text}"
            assert response.content == upstream_sidecar.content
            assert hashlib.sha256(response.content).hexdigest() == listed_hash["sha256"]
            assert "content-encoding" not in response.headers


@contextmanager
def static_index(root: Path, project: str, *dists: Path) -> Iterator[str]:
    """A plain PEP 503 tree served by `python -m http.server` (no sidecars, no JSON); yields
    its simple URL. Its request log is `root / "requests.log"`."""
    (root / "files").mkdir(parents=True)
    page = root / "simple" / normalize(project) / "index.html"
    page.parent.mkdir(parents=True)
    anchors = []
    for dist in dists:
        shutil.copy(dist, root / "files" / dist.name)
        digest = hashlib.sha256(dist.read_bytes()).hexdigest()
        anchors.append(f'<a href="../../files/{dist.name}#sha256={digest}">{dist.name}</a>')
    page.write_text("\n".join(anchors) + "\n")
    port = free_port()
    with (root / "requests.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=root,
            stdout=log,
            stderr=log,
        )
        try:
            url = f"http://127.0.0.1:{port}/simple/"
            wait_for(lambda: _answers(url), timeout=30, what=f"{url} answering")
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return get(url).status_code in (200, 404)
    except httpx.TransportError:
        return False


def test_a_wheel_from_an_upstream_without_sidecars_gets_its_own_metadata_and_installs(
    pair: Pair,
    clients: Clients,
    tmp_path: Path,
    project: str,
    unique: Unique,
    down: IndexClient,
) -> None:
    """PEP 658 for every mirrored wheel: installers read a sidecar instead of sending HEAD
    and ranged reads, even when the upstream is a plain PEP 503 tree without sidecars."""
    (tmp_path / "dist").mkdir()
    wheel = make_wheel(tmp_path / "dist", project, "1.0")
    sdist = make_sdist(tmp_path / "dist", project, "1.0")
    with static_index(tmp_path / "static", project, wheel, sdist) as upstream_url:
        index = unique("plain")
        cli_ok(pair, "index", "create", index, "--kind", "mirror", "--upstream", upstream_url)

        entries = files_by_name(down.project_json(project, index))
        assert (entries[wheel.name]["core-metadata"], entries[sdist.name]["core-metadata"]) == (
            True,
            False,
        )
        sidecar = get(file_href(down, project, wheel.name, index) + ".metadata")
        assert sidecar.status_code == 200, sidecar.text
        assert sidecar.content == metadata_of(wheel)
        # An sdist's metadata may be dynamic: without the upstream's word there is none.
        missing = get(file_href(down, project, sdist.name, index) + ".metadata")
        assert missing.status_code == 404
        assert "has no core metadata file" in missing.text

        pip_result, target = clients.pip_install(pair.index_url(index), project)
        expect_ok(pip_result)
        uv_result, venv = clients.uv_install(pair.index_url(index), project)
        expect_ok(uv_result)

    assert clients.installed_in_target(target, module_name(project)).version == "1.0"
    assert clients.installed_in_venv(venv, module_name(project)).version == "1.0"
    requests = (tmp_path / "static" / "requests.log").read_text()
    # The wheel came from the upstream once; nobody asked it for a sidecar.
    assert requests.count(f"GET /files/{wheel.name} ") == 1, requests
    assert ".metadata" not in requests


def test_a_mirrors_simple_index_lists_what_it_has_cached_not_the_whole_upstream(
    pair: Pair, tmp_path: Path, unique: Unique, down: IndexClient
) -> None:
    fetched, untouched = unique("fetched"), unique("untouched")
    publish_upstream(pair, *dists_for(tmp_path / "a", fetched, "1.0", sdist=False))
    publish_upstream(pair, *dists_for(tmp_path / "b", untouched, "1.0", sdist=False))

    assert listed(down, fetched, MIRROR)

    names = {normalize(a.text) for a in down.root_html(MIRROR).anchors}
    assert normalize(fetched) in names
    assert normalize(untouched) not in names


def test_head_and_range_requests_on_an_uncached_file_fetch_it_first(
    pair: Pair, tmp_path: Path, project: str, down: IndexClient
) -> None:
    wheel, sdist = dists_for(tmp_path, project, "1.0")
    publish_upstream(pair, wheel, sdist)
    wheel_url = file_href(down, project, wheel.name, MIRROR)
    sdist_url = file_href(down, project, sdist.name, MIRROR)
    before = fetches(pair, MIRROR, "file")

    head = down.http.head(wheel_url)
    ranged = down.http.get(sdist_url, headers={"Range": "bytes=0-99"})

    assert head.status_code == 200, head.text
    assert int(head.headers["content-length"]) == wheel.stat().st_size
    assert head.headers["etag"] == f'"{hashlib.sha256(wheel.read_bytes()).hexdigest()}"'
    assert ranged.status_code == 206, ranged.text
    assert ranged.content == sdist.read_bytes()[:100]
    assert fetches(pair, MIRROR, "file") - before == 2
    assert down.http.get(wheel_url).content == wheel.read_bytes()
    assert fetches(pair, MIRROR, "file") - before == 2  # served from the cache now


def test_an_upstream_404_is_cached_for_the_ttl(
    pair: Pair, tmp_path: Path, project: str, down: IndexClient
) -> None:
    assert down.get(down.project_path(project, MIRROR)).status_code == 404
    before = fetches(pair, MIRROR, "page")
    publish_upstream(pair, *dists_for(tmp_path, project, "1.0", sdist=False))

    assert down.get(down.project_path(project, MIRROR)).status_code == 404
    assert down.get(down.project_path(project, VIRTUAL)).status_code == 404
    assert fetches(pair, MIRROR, "page") == before


# Fetching once --------------------------------------------------------------------------------


def test_concurrent_first_requests_for_one_file_fetch_it_from_upstream_once(
    pair: Pair, tmp_path: Path, project: str, up: IndexClient, down: IndexClient
) -> None:
    wheel = dists_for(tmp_path, project, "1.0", sdist=False)[0]
    publish_upstream(pair, wheel)
    url = file_href(down, project, wheel.name, MIRROR)  # the page is cached, the file not
    file_fetches = fetches(pair, MIRROR, "file")
    upstream_gets = metric(
        pair.upstream, "packyard_http_requests_total", route=FILE_ROUTE, method="GET"
    )

    responses = race([partial(get, url) for _ in range(RACERS)])

    assert [r.status_code for r in responses] == [200] * RACERS, [r.text for r in responses]
    assert {r.content for r in responses} == {wheel.read_bytes()}
    assert fetches(pair, MIRROR, "file") - file_fetches == 1
    upstream_after = metric(
        pair.upstream, "packyard_http_requests_total", route=FILE_ROUTE, method="GET"
    )
    assert upstream_after - upstream_gets == 1


@pytest.mark.parametrize("index", [MIRROR, VIRTUAL])
def test_concurrent_first_requests_for_one_page_fetch_it_from_upstream_once(
    pair: Pair, tmp_path: Path, project: str, index: str
) -> None:
    publish_upstream(pair, *dists_for(tmp_path, project, "1.0"))
    page_fetches = fetches(pair, MIRROR, "page")
    url = f"{pair.index_url(index)}{normalize(project)}/"

    responses = race([partial(get, url, accept=JSON_TYPE) for _ in range(RACERS)])

    assert [r.status_code for r in responses] == [200] * RACERS, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert len(responses[0].json()["files"]) == 2
    assert fetches(pair, MIRROR, "page") - page_fetches == 1


# Admin commands ------------------------------------------------------------------------------


def test_index_show_prints_the_resolved_upstream_url(pair: Pair, unique: Unique) -> None:
    shown = cli_ok(pair, "index", "show", MIRROR)
    assert f"upstream\t{pair.upstream_simple_url}" in shown.splitlines()

    # A mirror created without --upstream resolves it (here from PACKYARD_UPSTREAM_URL).
    name = unique("implicit")
    cli_ok(pair, "index", "create", name, "--kind", "mirror", "--ttl", "5m")
    lines = cli_ok(pair, "index", "show", name).splitlines()
    assert f"upstream\t{pair.upstream_simple_url}" in lines
    assert "ttl\t5m" in lines


def test_mirror_refresh_revalidates_cached_pages_and_reports_counts(
    pair: Pair, tmp_path: Path, project: str, down: IndexClient
) -> None:
    first = dists_for(tmp_path / "d1", project, "1.0", sdist=False)
    publish_upstream(pair, *first)
    assert listed(down, project, MIRROR) == [first[0].name]
    newer = dists_for(tmp_path / "d2", project, "2.0", sdist=False)
    publish_upstream(pair, *newer)
    # The page is fresh for the default TTL (10 minutes): the new file is not seen yet.
    assert listed(down, project, MIRROR) == [first[0].name]

    expect_ok(
        pair.upstream.cli(
            "yank", project, "1.0", "--reason", "superseded", "--index", UPSTREAM_INDEX
        )
    )

    result = expect_ok(pair.cli("mirror", "refresh", "--index", MIRROR))

    output = result.stdout + result.stderr
    counts = re.search(r"refreshed (\d+) of (\d+)", output)
    assert counts is not None, output
    assert int(counts.group(1)) == int(counts.group(2)) >= 1
    assert listed(down, project, MIRROR) == sorted([first[0].name, newer[0].name])
    # A fresh fetch updates the yank state.
    entry = files_by_name(down.project_json(project, MIRROR))[first[0].name]
    assert entry["yanked"] == "superseded"


def test_mirror_refresh_of_an_unknown_index_fails(pair: Pair) -> None:
    result = expect_failure(pair.cli("mirror", "refresh", "--index", "no-such-mirror"))
    assert "no-such-mirror" in result.stderr


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--upstream", "ftp://x"], "ftp"),
        (["--ttl", "5x"], "duration"),
    ],
    ids=["ftp-upstream", "bad-ttl"],
)
def test_bad_mirror_options_are_refused(
    pair: Pair, unique: Unique, options: list[str], says: str
) -> None:
    name = unique("bad")
    result = expect_failure(pair.cli("index", "create", name, "--kind", "mirror", *options))

    assert says in (result.stdout + result.stderr).lower(), result.stderr


# The upstream failing --------------------------------------------------------------------------


def test_an_upstream_that_never_answers_gives_504_not_a_hang(
    pair: Pair, unique: Unique, project: str
) -> None:
    name = unique("silent")
    with silent_upstream() as url:
        cli_ok(pair, "index", "create", name, "--kind", "mirror", "--upstream", url)
        started = time.monotonic()
        response = get(f"{pair.index_url(name)}{normalize(project)}/")
        elapsed = time.monotonic() - started

    assert response.status_code == 504, response.text
    assert response.text.strip()
    assert elapsed < 15, f"took {elapsed:.1f} s with a 3 s upstream timeout"


@dataclass
class Outage:
    """A pair whose upstream was stopped after some projects were cached: through mirror
    `fast` (`--ttl 1s`) by an install, through `upstream` by `mirror warm`."""

    pair: Pair
    cached: str
    uncached: str
    warmed: tuple[str, str, str]  # app (depends on lib), lib, extra
    requirements: Path
    warm_output: str
    stale_before: float


FAST = "fast"
NAMES = ("cached", "uncached", "app", "lib", "extra", "other")


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory, pip_python: Path) -> Iterator[Outage]:
    root = tmp_path_factory.mktemp("outage")
    with running_pair(root / "pair", timeout="2") as pair:
        names = {n: f"e2e-outage-{n}-{root.name}".lower() for n in NAMES}
        for name in ("cached", "uncached", "lib", "extra", "other"):
            version = "2.0" if name == "extra" else "1.0"
            publish_upstream(pair, *dists_for(root / name, names[name], version))
        app = dists_for(root / "app", names["app"], "1.0", dependencies=[names["lib"]])
        publish_upstream(pair, *app)
        cli_ok(pair, "index", "create", FAST, "--kind", "mirror", "--ttl", "1s")
        home = root / "client-home"
        home.mkdir()
        clients = Clients(home=home, pip_python=pip_python)
        result, _ = clients.pip_install(pair.index_url(FAST), names["cached"])  # page, wheel
        expect_ok(result)
        requirements = root / "requirements.txt"
        requirements.write_text(f"{names['app']}\n{names['extra']}==2.0\n")
        warmed = expect_ok(pair.cli("mirror", "warm", "-r", str(requirements), "--index", MIRROR))
        stale_before = metric(pair.downstream, "packyard_mirror_stale_total", index=FAST)

        stop_upstream(pair)

        yield Outage(
            pair=pair,
            cached=names["cached"],
            uncached=names["uncached"],
            warmed=(names["app"], names["lib"], names["extra"]),
            requirements=requirements,
            warm_output=warmed.stdout + warmed.stderr,
            stale_before=stale_before,
        )


def test_a_cached_project_installs_from_the_stale_cache_with_the_upstream_stopped(
    outage: Outage, clients: Clients
) -> None:
    pair, cached = outage.pair, outage.cached
    with IndexClient(pair.downstream) as down:
        # Past the 1 s TTL the page is revalidated, the upstream fails, the page is served
        # stale: poll until it is (bounded), rather than sleeping.
        wait_for(
            lambda: explain(down, cached, FAST).get("stale"),
            timeout=15,
            what="the cached page is served stale",
        )
        assert listed(down, cached, FAST)
    stale = metric(pair.downstream, "packyard_mirror_stale_total", index=FAST)
    assert stale > outage.stale_before
    logged = [
        line
        for line in pair.downstream.logs().splitlines()
        if normalize(cached) in line and pair.upstream.url in line and "warning" in line.lower()
    ]
    assert logged, "no warning in the log names the project and the failing upstream"

    result, target = clients.pip_install(pair.index_url(FAST), cached)
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(cached)).version == "1.0"
    result, venv = clients.uv_install(pair.index_url(FAST), cached)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(cached)).version == "1.0"
    assert metric(pair.downstream, "packyard_mirror_stale_total", index=FAST) >= stale


def test_an_uncached_project_gets_502_with_a_clear_message_when_the_upstream_is_down(
    outage: Outage, clients: Clients
) -> None:
    pair = outage.pair
    with IndexClient(pair.downstream) as down:
        started = time.monotonic()
        response = down.get(down.project_path(outage.uncached, FAST))
        elapsed = time.monotonic() - started

    assert response.status_code == 502, f"{response.status_code} {response.text}"
    assert response.headers.get("content-type", "").startswith("text/plain")
    assert "upstream" in response.text.lower(), response.text
    assert elapsed < 10
    result, _ = clients.uv_install(pair.index_url(FAST), outage.uncached)
    expect_failure(result)


def test_warmed_requirements_install_offline_with_the_upstream_stopped(
    outage: Outage, clients: Clients
) -> None:
    pair = outage.pair
    app, lib, extra = outage.warmed
    counted = re.search(r"warmed (\d+) files", outage.warm_output)
    assert counted is not None and int(counted.group(1)) >= 3, outage.warm_output

    cli_ok(pair, "index", "set", MIRROR, "--offline")
    assert "offline\tyes" in cli_ok(pair, "index", "show", MIRROR).splitlines()

    result, target = clients.pip_install(pair.index_url(MIRROR), "-r", str(outage.requirements))
    expect_ok(result)
    for name, version in ((app, "1.0"), (lib, "1.0"), (extra, "2.0")):
        assert clients.installed_in_target(target, module_name(name)).version == version
    result, venv = clients.uv_install(pair.index_url(VIRTUAL), app)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(lib)).version == "1.0"
    # Offline serves only what is cached: a never-requested project is not there.
    with IndexClient(pair.downstream) as down:
        response = down.get(down.project_path(outage.uncached, MIRROR))
    assert response.status_code != 200, response.text


def test_mirror_warm_with_a_missing_requirements_file_fails(pair: Pair) -> None:
    result = expect_failure(pair.cli("mirror", "warm", "-r", "/nonexistent/req.txt"))
    assert "req.txt" in result.stdout + result.stderr
