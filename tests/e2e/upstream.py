"""Two packyards in a row: an *upstream* that plays the public index and a *downstream*
that mirrors it.

- The upstream is a plain store (`PACKYARD_UPSTREAM_URL=none`: indexes `hosted` and
  `root`) whose `hosted` index holds what a test uploads; its simple URL,
  `<upstream>/hosted/simple/`, is the downstream's upstream.
- The downstream store is created with `PACKYARD_UPSTREAM_URL=<that URL>`, so it has the
  three standard indexes: `hosted`, `upstream` (mirror) and `root` (virtual over both,
  the default). Its `PACKYARD_UPSTREAM_TIMEOUT` is short, so failures are quick.

Test modules start a pair per module (`running_pair`) and stay apart by project names
unique to the test; tests that stop the upstream start a pair of their own. Nothing here
reaches anything but 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from e2e.clients import expect_ok, module_source, publish
from e2e.conftest import UPLOADER, UPLOADER_PASSWORD
from e2e.server import (
    HOST,
    PACKYARD,
    ServerProcess,
    free_port,
    start_server,
    wait_until_ready,
)
from e2e.simple import JSON_TYPE, IndexClient, normalize
from helpers.dists import dist_name, dist_version, make_sdist, make_wheel, module_name

UPSTREAM_INDEX = "hosted"  # where the upstream packyard keeps the "public" projects
MIRROR = "upstream"  # the downstream's standard mirror index
VIRTUAL = "root"  # the downstream's default virtual index (hosted, upstream)
HOSTED = "hosted"
UPSTREAM_TIMEOUT_SECONDS = "3"
POLL_INTERVAL = 0.1

T = TypeVar("T")


@dataclass
class Pair:
    upstream: ServerProcess
    downstream: ServerProcess

    @property
    def upstream_simple_url(self) -> str:
        """The URL the downstream mirrors."""
        return f"{self.upstream.url}/{UPSTREAM_INDEX}/simple/"

    def index_url(self, index: str) -> str:
        """A downstream index's simple URL, as pip and uv take it."""
        return f"{self.downstream.url}/{index}/simple/"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`packyard ARGS` on the downstream's store (its settings, its data dir)."""
        return self.downstream.cli(*args)

    def stop(self) -> None:
        try:
            self.downstream.stop()
        finally:
            self.upstream.stop()


def start_pair(
    workdir: Path,
    *,
    timeout: str = UPSTREAM_TIMEOUT_SECONDS,
    downstream_settings: Mapping[str, str] | None = None,
) -> Pair:
    """Start the upstream, then (while its user is added) the downstream over it."""
    upstream = start_server(workdir / "upstream")
    settings = {
        "PACKYARD_UPSTREAM_URL": f"{upstream.url}/{UPSTREAM_INDEX}/simple/",
        "PACKYARD_UPSTREAM_TIMEOUT": timeout,
        **(downstream_settings or {}),
    }

    def start_downstream() -> ServerProcess:
        downstream = start_server(workdir / "downstream", settings=settings)
        try:
            downstream.add_user(UPLOADER, UPLOADER_PASSWORD)
        except BaseException:
            downstream.stop()
            raise
        return downstream

    with ThreadPoolExecutor(max_workers=2) as pool:  # leaving the block waits for both
        user_added = pool.submit(upstream.add_user, UPLOADER, UPLOADER_PASSWORD)
        started = pool.submit(start_downstream)
    try:
        user_added.result()
    except BaseException:
        if started.exception() is None:
            started.result().stop()
        upstream.stop()
        raise
    try:
        downstream = started.result()
    except BaseException:
        upstream.stop()
        raise
    return Pair(upstream=upstream, downstream=downstream)


@contextmanager
def running_pair(workdir: Path, **options: Any) -> Iterator[Pair]:
    pair = start_pair(workdir, **options)
    try:
        yield pair
    finally:
        pair.stop()


# Distributions ---------------------------------------------------------------------------


def dists_for(
    directory: Path,
    project: str,
    version: str,
    *,
    requires_python: str | None = None,
    dependencies: Sequence[str] = (),
    sdist: bool = True,
) -> list[Path]:
    """A wheel (and an sdist) that pip and uv install offline; the module's `__version__`
    tells which release was installed. Dependencies are declared in the wheel only."""
    directory.mkdir(parents=True, exist_ok=True)
    module = module_name(project)
    files = [
        make_wheel(
            directory,
            project,
            version,
            requires_python=requires_python,
            dependencies=dependencies,
            extra_files={f"{module}/__init__.py": module_source(version, "wheel")},
        )
    ]
    if sdist:
        root = f"{dist_name(project)}-{dist_version(version)}"
        files.append(
            make_sdist(
                directory,
                project,
                version,
                requires_python=requires_python,
                extra_members={f"{root}/{module}/__init__.py": module_source(version, "sdist")},
            )
        )
    return files


def publish_upstream(pair: Pair, *paths: Path) -> None:
    """Upload to the upstream's hosted index (the "public" index)."""
    publish(pair.upstream, *paths, index=UPSTREAM_INDEX)


def publish_hosted(pair: Pair, *paths: Path) -> None:
    """Upload to the downstream's own hosted index (an internal project)."""
    publish(pair.downstream, *paths, index=HOSTED)


# Reading both sides ---------------------------------------------------------------------


def json_page(client: IndexClient, project: str, index: str) -> dict[str, Any]:
    return client.project_json(project, index)


def files_by_name(page: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["filename"]: entry for entry in page["files"]}


def listed(client: IndexClient, project: str, index: str) -> list[str]:
    """Filenames the index lists for the project ([] for a 404)."""
    response = client.get(client.project_path(project, index), accept=JSON_TYPE)
    if response.status_code == 404:
        return []
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    return sorted(entry["filename"] for entry in response.json()["files"])


def file_href(client: IndexClient, project: str, filename: str, index: str) -> str:
    """The absolute URL a page gives for a file (JSON page, as pip and uv read it)."""
    entry = files_by_name(json_page(client, project, index))[filename]
    path = client.project_path(project, index)
    return client.resolve(path, entry["url"]).split("#", 1)[0]


def via_index(url: str, server: ServerProcess, index: str) -> str:
    """The same file link with its first path segment (the index) replaced: how a test asks
    another index for a file that index does not list."""
    prefix = f"{server.url}/"
    assert url.startswith(prefix), url
    _, rest = url[len(prefix) :].split("/", 1)
    return f"{prefix}{index}/{rest}"


def explain(client: IndexClient, project: str, index: str) -> dict[str, Any]:
    response = client.get(f"/{index}/+explain/{normalize(project)}")
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    data: dict[str, Any] = response.json()
    return data


# Metrics ----------------------------------------------------------------------------------

# Label values may hold braces (route="/{index}/simple/"), so a value is read as a string.
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metric(server: ServerProcess, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels` (0 when absent)."""
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        response = http.get(f"{server.url}/metrics")
    assert response.status_code == 200, response.text
    total = 0.0
    for line in response.text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match.group(1) != name:
            continue
        found = dict(_LABEL.findall(match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(3))
    return total


def fetches(pair: Pair, index: str, kind: str) -> float:
    """How many requests the downstream sent upstream for `index` ("page" or "file")."""
    return metric(pair.downstream, "packyard_mirror_upstream_fetches_total", index=index, kind=kind)


# Waiting and stopping ---------------------------------------------------------------------


def wait_for(
    check: Callable[[], T | None], *, timeout: float, what: str, interval: float = POLL_INTERVAL
) -> T:
    """Poll `check` until it returns something other than None (or False); a bounded poll,
    never a blind sleep."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = check()
        if last is not None and last is not False:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not so after {timeout:.0f} s (last: {last!r})")
        time.sleep(interval)


def stop_upstream(pair: Pair) -> None:
    """Stop the upstream by its PID and make sure its port refuses connections."""
    pair.upstream.stop()
    assert pair.upstream.process.poll() is not None
    host, port = pair.upstream.url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex((host, int(port))) != 0, "the upstream port still answers"


@contextmanager
def silent_upstream() -> Iterator[str]:
    """A simple-index URL on a loopback port that accepts connections and never answers:
    an upstream that hangs, for the timeout path."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((HOST, 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        yield f"http://{HOST}:{port}/simple/"


# A server with an environment of the test's choosing -----------------------------------------


def start_server_with_environment(workdir: Path, env: Mapping[str, str]) -> ServerProcess:
    """`packyard serve` with exactly `env` (start_server always adds the base settings,
    including PACKYARD_UPSTREAM_URL=none); for the opt-in public-index test."""
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    port = free_port()
    log_path = workdir / "server.log"
    log = log_path.open("wb")
    command = [str(PACKYARD), "serve", "--host", HOST, "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    process = subprocess.Popen(
        command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    server = ServerProcess(
        url=f"http://{HOST}:{port}",
        data_dir=data_dir,
        home=home,
        settings={},
        process=process,
        log_path=log_path,
        log=log,
    )
    try:
        wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def cli_ok(pair: Pair, *args: str) -> str:
    """Run a downstream admin command that must succeed; its stdout and stderr."""
    result = expect_ok(pair.cli(*args))
    return result.stdout + result.stderr
