"""Requests per second on simple project pages: packyard versus a bare Starlette route.

    .venv/bin/python bench/pages.py [--seconds 10] [--workers 2] [--connections 64]

Starts each server on a free loopback port, warms it, runs `wrk` (Debian package `wrk`)
for a bounded time, stops the server by PID and prints the figures side by side with
their ratio. Not a test: these machines are shared, so numbers vary from run to run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT / "tests"))

from helpers.dists import make_wheel  # noqa: E402

JSON_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready in {timeout} s")


@contextlib.contextmanager
def running(command: list[str], ready_url: str, env: dict[str, str]) -> Iterator[None]:
    # Logs go to a real file: a pipe nobody reads would fill and stall the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_ready(ready_url)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def seed(data_dir: Path, projects: int) -> None:
    from packyard.adapters.spool import digests_of_path
    from packyard.bootstrap import bootstrap
    from packyard.config import load_settings
    from packyard.services.publish import publish

    container = bootstrap(load_settings(data_dir=data_dir))
    dist_dir = data_dir / "dists"
    dist_dir.mkdir()
    for number in range(projects):
        for minor in range(5):
            wheel = make_wheel(dist_dir, f"bench-project-{number}", f"1.{minor}")
            copy = container.files.staging_dir() / wheel.name
            copy.write_bytes(wheel.read_bytes())
            publish(
                uow_factory=container.uow,
                files=container.files,
                index="hosted",
                received=digests_of_path(copy),
                filename=wheel.name,
                actor="bench",
                now=datetime.now(UTC),
            )
    container.close()


def wrk(url: str, seconds: int, connections: int, accept: str | None = None) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url]
    if accept:
        command[1:1] = ["-H", f"Accept: {accept}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        seed(data_dir, projects=20)
        for access_log in ("false", "true"):
            port = free_port()
            env = {
                **os.environ,
                "PACKYARD_DATA_DIR": str(data_dir),
                "PACKYARD_ACCESS_LOG": access_log,
                "PACKYARD_LOG_FORMAT": "json",
            }
            base = f"http://127.0.0.1:{port}"
            command = [
                str(BIN / "packyard"),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ]
            with running(command, f"{base}/readyz", env):
                page = f"{base}/simple/bench-project-7/"
                wrk(page, 1, 4)  # warm every worker's page cache
                wrk(page, 1, 4, JSON_ACCEPT)
                label = "access log on" if access_log == "true" else "access log off"
                results[f"packyard HTML, {label}"] = wrk(page, args.seconds, args.connections)
                results[f"packyard JSON, {label}"] = wrk(
                    page, args.seconds, args.connections, JSON_ACCEPT
                )
        port = free_port()
        bare = [
            str(BIN / "uvicorn"),
            "bare_app:app",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        bench_env = {**os.environ, "PYTHONPATH": str(ROOT / "bench")}
        with running(bare, f"http://127.0.0.1:{port}/simple/x/", bench_env):
            reference = wrk(f"http://127.0.0.1:{port}/simple/x/", args.seconds, args.connections)
    print(f"{'server':40} {'req/s':>10} {'ratio':>7}")
    print(f"{'bare Starlette, cached bytes':40} {reference:>10.0f} {1:>7.2f}")
    for name, rate in results.items():
        print(f"{name:40} {rate:>10.0f} {rate / reference:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
