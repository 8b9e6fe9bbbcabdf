"""A `packyard serve` subprocess on a free port, and the `packyard` admin CLI next to it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

VENV_BIN = Path(sys.executable).parent
PACKYARD = VENV_BIN / "packyard"
HOST = "127.0.0.1"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def base_env(home: Path) -> dict[str, str]:
    """The environment every packyard process gets: nothing inherited but PATH's essentials."""
    return {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        # A fresh store would otherwise mirror the public index: no test may reach it.
        "PACKYARD_UPSTREAM_URL": "none",
    }


@dataclass
class ServerProcess:
    """A running `packyard serve`; `settings` are the PACKYARD_* variables it and its CLI share."""

    url: str
    data_dir: Path
    home: Path
    settings: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    user: str = ""
    password: str = ""

    @property
    def upload_url(self) -> str:
        return f"{self.url}/legacy/"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple/"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    def env(self) -> dict[str, str]:
        return {**base_env(self.home), **self.settings, "PACKYARD_DATA_DIR": str(self.data_dir)}

    def cli(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run `packyard ARGS` against this server's store (same data dir and settings)."""
        return run_cli(*args, env=self.env(), input=input, check=check)

    def add_user(self, name: str, password: str, *, admin: bool = False) -> None:
        args = ["user", "add", name, *(["--admin"] if admin else [])]
        self.cli(*args, input=f"{password}\n", check=True)
        self.user, self.password = name, password

    def logs(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate by PID, kill after a timeout; always reap the process and close the log."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_TIMEOUT)
        finally:
            self.log.close()


def run_cli(
    *args: str,
    env: Mapping[str, str],
    input: str | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(PACKYARD), *args],
        env=dict(env),
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"packyard {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def start_server(
    workdir: Path,
    *,
    settings: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> ServerProcess:
    """Start `packyard serve` on 127.0.0.1 and a free port, and wait until /readyz says 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    port = free_port()
    log_path = workdir / "server.log"
    log = log_path.open("wb")
    env = {**base_env(home), **(settings or {})}
    command = [
        str(PACKYARD),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *extra_args,
    ]
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    server = ServerProcess(
        url=f"http://{HOST}:{port}",
        data_dir=data_dir,
        home=home,
        settings=dict(settings or {}),
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


def wait_until_ready(server: ServerProcess, timeout: float = READY_TIMEOUT) -> None:
    """Poll GET /readyz until 200; fail with the server's output if it exits or times out."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                raise AssertionError(
                    f"packyard serve exited with {code} before it was ready:\n{server.logs()}"
                )
            try:
                response = client.get(f"{server.url}/readyz")
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:500]}"
            # A poll interval, bounded by the deadline above; not a blind sleep.
            time.sleep(0.05)
    raise AssertionError(
        f"packyard serve was not ready after {timeout:.0f} s (last: {last}):\n{server.logs()}"
    )
