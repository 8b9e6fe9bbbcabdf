"""`uv pip install` through a packyard mirror (cold and warm) versus straight from upstream.

    .venv/bin/python bench/mirror.py [--repeat 3] [--workers 2] [--timeout 300]
                                     [--floor] [--profile [--timeline]] [--src DIR]

The upstream is the index pip uses on this machine (`pip_default_index()`). Each run
installs the same pinned set of ~30 packages (popular pure-Python and binary wheels with
their dependencies) into a fresh `uv venv` with `uv pip install --no-cache`, UV_NO_CONFIG=1:

- upstream: `--index-url` is the upstream itself;
- cold: a packyard server on a fresh data directory (fresh store each repetition), so
  every page, metadata sidecar and file is fetched upstream during the install;
- warm: one packyard server whose store already holds everything from an untimed run.

- lean proxy cold (`--floor`): bench/lean_proxy.py, fresh each repetition: the least work
  a Python pull-through proxy can do (one pass rewriting a page's URLs, files fetched once,
  sidecars from the wheel), as the floor any Python mirror could reach on that run.

Repetitions are interleaved (upstream, cold, warm, upstream, ...) so network drift hits
every scenario alike; the table shows the median wall time of the install alone (venv
creation and server start are not timed) and its ratio to upstream. `--profile` adds one
cold and two warm installs on one server with the access log on and summarises packyard's
requests: counts and latency by kind and method, requests in flight over time, the
slowest requests, and how many pages the mirror fetched upstream (read from its store).

Servers listen on free loopback ports, logs go to temporary files (never a pipe), every
subprocess is bounded by a timeout and servers are stopped by PID. Not a test: these
machines are shared and the upstream is on the internet, so figures vary between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
UV = BIN / "uv"

# Pinned, dependencies included, so every run resolves and downloads the same files.
REQUIREMENTS = """\
annotated-types==0.7.0
anyio==4.8.0
attrs==24.3.0
certifi==2024.12.14
charset-normalizer==3.4.1
click==8.1.8
greenlet==3.1.1
h11==0.14.0
httpcore==1.0.7
httpx==0.28.1
idna==3.10
iniconfig==2.0.0
jinja2==3.1.5
markdown-it-py==3.0.0
markupsafe==3.0.2
mdurl==0.1.2
packaging==24.2
pluggy==1.5.0
pydantic==2.10.4
pydantic-core==2.27.2
pygments==2.19.1
pytest==8.3.4
python-dateutil==2.9.0.post0
pyyaml==6.0.2
requests==2.32.3
rich==13.9.4
six==1.17.0
sniffio==1.3.1
sqlalchemy==2.0.36
tomli==2.2.1
typing-extensions==4.12.2
urllib3==2.3.0
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], log: IO[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.1)
    log.seek(0)
    tail = log.read().decode(errors="replace")[-3000:]
    state = "exited" if process.poll() is not None else f"not ready in {timeout} s"
    raise RuntimeError(f"{url}: server {state}; its log ends:\n{tail}")


@dataclass
class Server:
    base: str
    log: IO[bytes]

    @property
    def index_url(self) -> str:
        return f"{self.base}/simple/"


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    """A server process on 127.0.0.1:port, ready (/readyz answers) before it is yielded."""
    # Logs go to a real file: a pipe nobody reads would fill and stall the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/readyz", process, log, timeout=60)
            yield Server(base, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def packyard(
    data_dir: Path, upstream: str, *, access_log: bool = False, workers: int = 2
) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    env = {
        **os.environ,
        "PACKYARD_DATA_DIR": str(data_dir),
        "PACKYARD_UPSTREAM_URL": upstream,
        "PACKYARD_ACCESS_LOG": "true" if access_log else "false",
        "PACKYARD_LOG_FORMAT": "json",
    }
    command = [str(BIN / "packyard"), "serve", "--port", str(port), "--workers", str(workers)]
    return running(command, env, port)


def lean_proxy(upstream: str) -> contextlib.AbstractContextManager[Server]:
    """bench/lean_proxy.py under uvicorn, one process, as the floor for a cold mirror."""
    port = free_port()
    command = [str(BIN / "python"), "-m", "uvicorn", "lean_proxy:app"]
    command += ["--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    return running(command, {**os.environ, "LEAN_UPSTREAM": upstream}, port)


def uv_env() -> dict[str, str]:
    """The environment without any uv or pip settings that could add or change indexes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "PYTHON"))}
    return env | {"UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}


def install(index_url: str, work: Path, requirements: Path, timeout: float) -> float:
    """Seconds for `uv pip install` into a fresh venv (the venv creation is not timed)."""
    venv = Path(tempfile.mkdtemp(prefix="venv-", dir=work))
    env = uv_env()
    with tempfile.TemporaryFile(dir=work) as log:
        subprocess.run(
            [str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=True,
        )
        command = [
            str(UV),
            "pip",
            "install",
            "--no-cache",
            "--python",
            str(venv / "bin" / "python"),
            "--index-url",
            index_url,
            "-r",
            str(requirements),
        ]
        start = time.perf_counter()
        done = subprocess.run(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"uv pip install failed ({done.returncode}):\n{tail}")
    shutil.rmtree(venv, ignore_errors=True)
    return elapsed


def run_benchmark(
    upstream: str,
    repeat: int,
    timeout: float,
    work: Path,
    reqs: Path,
    *,
    workers: int = 2,
    floor: bool = False,
) -> None:
    times: dict[str, list[float]] = {"upstream": [], "packyard cold": [], "packyard warm": []}
    if floor:
        times["lean proxy cold"] = []
    with packyard(work / "warm-data", upstream, workers=workers) as warm:
        primed = install(warm.index_url, work, reqs, timeout)
        print(f"warm store primed in {primed:.2f} s (untimed)", flush=True)
        for rep in range(1, repeat + 1):
            times["upstream"].append(install(upstream, work, reqs, timeout))
            with packyard(work / f"cold-data-{rep}", upstream, workers=workers) as cold:
                times["packyard cold"].append(install(cold.index_url, work, reqs, timeout))
            shutil.rmtree(work / f"cold-data-{rep}", ignore_errors=True)
            times["packyard warm"].append(install(warm.index_url, work, reqs, timeout))
            if floor:
                with lean_proxy(upstream) as lean:
                    times["lean proxy cold"].append(install(lean.index_url, work, reqs, timeout))
            shown = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
            print(f"repetition {rep}: {shown}", flush=True)
    reference = statistics.median(times["upstream"])
    print()
    print(f"{'scenario':16} {'median s':>9} {'ratio':>6}  runs (s)")
    for name, runs in times.items():
        median = statistics.median(runs)
        shown = " ".join(f"{t:.2f}" for t in runs)
        print(f"{name:16} {median:>9.2f} {median / reference:>6.2f}  {shown}")


# Profiling: one cold and two warm installs with the access log on.


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int
    ms: float
    start: float
    end: float


def request_kind(path: str) -> str:
    if path.endswith(".metadata"):
        return "metadata"
    if "/simple/" in path:
        return "page"
    if path.endswith((".whl", ".tar.gz", ".zip")):
        return "file"
    return "other"


def store_counts(data_dir: Path, since: datetime) -> dict[str, int] | str:
    """What the mirror fetched: project pages stored since `since`, files cached in all.

    Read from the store, which both workers share (each keeps its own /metrics)."""
    try:
        uri = f"file:{data_dir / 'packyard.db'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
            stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            pages = db.execute(
                "SELECT count(*) FROM mirror_projects WHERE fetched_at >= ?", (stamp,)
            ).fetchone()[0]
            files = db.execute("SELECT count(*) FROM mirror_files WHERE cached").fetchone()[0]
    except sqlite3.Error as exc:
        return f"unavailable ({exc})"
    return {"pages fetched upstream": pages, "files cached in all": files}


def summarise(
    label: str,
    log: IO[bytes],
    offset: int,
    elapsed: float,
    fetched: dict[str, int] | str,
    *,
    timeline: bool = False,
) -> None:
    log.seek(offset)
    requests: list[Request] = []
    problems: Counter[str] = Counter()
    for line in log.read().decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError, KeyError):
            record = json.loads(line)
            if record.get("level") in ("warning", "error", "critical"):
                problems[f"{record['level']}: {str(record.get('event'))[:150]}"] += 1
            if record["event"] == "request" and record["path"] not in ("/readyz", "/metrics"):
                end = datetime.fromisoformat(record["timestamp"]).timestamp()
                ms = float(record["ms"])
                requests.append(
                    Request(
                        record["method"],
                        record["path"],
                        int(record["status"]),
                        ms,
                        end - ms / 1000,
                        end,
                    )
                )
    print(f"\n== {label}: install {elapsed:.2f} s, {len(requests)} requests to packyard")
    print(f"store: {fetched}")
    for problem, count in problems.most_common(5):
        print(f"log {count} x {problem}")
    if not requests:
        return
    by_kind: dict[str, list[float]] = defaultdict(list)
    for r in requests:
        by_kind[f"{request_kind(r.path)} {r.method} {r.status}"].append(r.ms)
    print(f"{'kind':18} {'count':>6} {'sum ms':>9} {'median':>8} {'p90':>8} {'max':>8}")
    for kind, values in sorted(by_kind.items()):
        values.sort()
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        print(
            f"{kind:18} {len(values):>6} {sum(values):>9.0f} {statistics.median(values):>8.1f}"
            f" {p90:>8.1f} {values[-1]:>8.1f}"
        )
    first = min(r.start for r in requests)
    last = max(r.end for r in requests)
    busy = sum(r.ms for r in requests) / 1000
    print(
        f"server-side window {last - first:.2f} s of the {elapsed:.2f} s install; "
        f"mean requests in flight {busy / max(last - first, 1e-9):.1f}"
    )
    # Requests in flight over time, in 0.5 s buckets from the first request.
    buckets = int((last - first) / 0.5) + 1
    inflight = [0] * buckets
    for r in requests:
        for b in range(int((r.start - first) / 0.5), int((r.end - first) / 0.5) + 1):
            inflight[min(b, buckets - 1)] += 1
    print("requests active per 0.5 s bucket: " + " ".join(str(n) for n in inflight))
    print("slowest requests:")
    for r in sorted(requests, key=lambda r: -r.ms)[:12]:
        print(f"  {r.ms:>8.1f} ms  +{r.start - first:6.2f} s  {r.method} {r.status}  {r.path}")
    if timeline:
        print("every request by start time:")
        for r in sorted(requests, key=lambda r: r.start):
            where = f"+{r.start - first:5.2f} .. +{r.end - first:5.2f} s"
            print(f"  {where}  {r.method:4} {r.status}  {r.path[-90:]}")


def run_profile(
    upstream: str,
    timeout: float,
    work: Path,
    reqs: Path,
    *,
    timeline: bool = False,
    workers: int = 2,
) -> None:
    """Cold, then warm twice: the first warm run re-renders pages (the cold run moved the
    index serial), the second finds them rendered in both workers."""
    data_dir = work / "profile-data"
    with packyard(data_dir, upstream, access_log=True, workers=workers) as server:
        offset = 0
        for label in ("packyard cold", "packyard warm, 1st", "packyard warm, 2nd"):
            since = datetime.now(UTC) - timedelta(seconds=1)
            elapsed = install(server.index_url, work, reqs, timeout)
            counts = store_counts(data_dir, since)
            summarise(label, server.log, offset, elapsed, counts, timeline=timeline)
            offset = server.log.seek(0, os.SEEK_END)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per scenario")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per install")
    parser.add_argument("--profile", action="store_true", help="also profile packyard")
    parser.add_argument("--profile-only", action="store_true", help="only profile")
    parser.add_argument(
        "--timeline", action="store_true", help="profile: list every request by start time"
    )
    parser.add_argument("--workers", type=int, default=2, help="packyard server processes")
    parser.add_argument(
        "--floor", action="store_true", help="also time bench/lean_proxy.py cold (the floor)"
    )
    parser.add_argument(
        "--src",
        type=Path,
        help="packyard source tree to serve from (e.g. a `git archive HEAD src` export, "
        "to measure a commit while the working tree is being edited)",
    )
    args = parser.parse_args()
    if args.src:  # the servers inherit it; uv_env drops it
        source = str(args.src.resolve())
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [source, os.getenv("PYTHONPATH")]))
        sys.path.insert(0, source)
    from packyard.adapters.upstream import pip_default_index

    upstream = pip_default_index()
    print(f"{len(REQUIREMENTS.split())} pinned requirements; upstream: the pip default index")
    with tempfile.TemporaryDirectory(prefix="packyard-bench-mirror-") as tmp:
        work = Path(tmp)
        reqs = work / "requirements.txt"
        reqs.write_text(REQUIREMENTS)
        if not args.profile_only:
            run_benchmark(
                upstream,
                args.repeat,
                args.timeout,
                work,
                reqs,
                workers=args.workers,
                floor=args.floor,
            )
        if args.profile or args.profile_only:
            run_profile(
                upstream, args.timeout, work, reqs, timeline=args.timeline, workers=args.workers
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
