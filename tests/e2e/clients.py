"""Real clients (pip, uv, twine) run hermetically, and a raw legacy-upload client.

Every client subprocess gets an environment built from scratch: a temporary HOME, no
configuration files, no find-links or extra indexes, and a proxy that refuses everything
but 127.0.0.1, so no test can reach a public index even by mistake.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from packaging.utils import parse_sdist_filename, parse_wheel_filename

from e2e.server import ServerProcess
from helpers.dists import dist_name, dist_version, make_sdist, make_wheel, module_name

VENV_BIN = Path(sys.executable).parent
TWINE = VENV_BIN / "twine"
UV = VENV_BIN / "uv"
CLIENT_TIMEOUT = 120.0
# Any non-local request goes to a closed port on the loopback interface and fails at once.
DEAD_PROXY = "http://127.0.0.1:9"
PIP_NETWORK_OPTIONS = ("--no-cache-dir", "--retries", "0", "--timeout", "5")


def hermetic_env(home: Path, *, path_prefix: Sequence[Path] = ()) -> dict[str, str]:
    """The whole environment of a client process; nothing is inherited."""
    cache = home / ".cache"
    return {
        "PATH": ":".join([*map(str, path_prefix), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # Wide and plain, so messages (twine's rich output) are neither wrapped nor coloured.
        "COLUMNS": "1000",
        "NO_COLOR": "1",
        "XDG_CACHE_HOME": str(cache),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PIP_CONFIG_FILE": "/dev/null",
        "PIP_FIND_LINKS": "",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_CONSTRAINT": "",
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(cache / "uv"),
        "UV_NO_PROGRESS": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_HTTP_RETRIES": "0",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "ALL_PROXY": DEAD_PROXY,
        "http_proxy": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def output(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(map(str, result.args))
    return f"$ {command}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def expect_ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\n{output(result)}"
    return result


def expect_failure(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode != 0, f"expected a failure\n{output(result)}"
    return result


@dataclass(frozen=True)
class Installed:
    version: str
    file: Path
    built_from: str


@dataclass
class Clients:
    """pip, uv and twine for one test: own HOME and caches, shared pip interpreter."""

    home: Path
    pip_python: Path

    def env(self) -> dict[str, str]:
        return hermetic_env(self.home, path_prefix=[self.pip_python.parent])

    def run(self, args: Sequence[str | Path]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(arg) for arg in args],
            env=self.env(),
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )

    def fresh_dir(self, prefix: str) -> Path:
        path = self.home / f"{prefix}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return path

    # pip -----------------------------------------------------------------------------

    def pip_install(
        self,
        index_url: str,
        *requirements: str,
        target: Path | None = None,
        args: Sequence[str] = (),
    ) -> tuple[subprocess.CompletedProcess[str], Path]:
        """`pip install --target <fresh dir>` from index_url only."""
        target = target or self.fresh_dir("pip-target")
        result = self.run(
            [
                self.pip_python,
                "-m",
                "pip",
                "install",
                *PIP_NETWORK_OPTIONS,
                "--index-url",
                index_url,
                "--target",
                target,
                *args,
                *requirements,
            ]
        )
        return result, target

    def pip_download(
        self, index_url: str, *requirements: str, args: Sequence[str] = ()
    ) -> tuple[subprocess.CompletedProcess[str], Path]:
        dest = self.fresh_dir("pip-download")
        result = self.run(
            [
                self.pip_python,
                "-m",
                "pip",
                "download",
                *PIP_NETWORK_OPTIONS,
                "--index-url",
                index_url,
                "--dest",
                dest,
                *args,
                *requirements,
            ]
        )
        return result, dest

    def installed_in_target(self, target: Path, module: str) -> Installed:
        return self._inspect(self.pip_python, module, target)

    # uv ------------------------------------------------------------------------------

    def uv_venv(self) -> Path:
        venv = self.fresh_dir("uv-venv")
        expect_ok(self.run([UV, "venv", "--no-config", "--python", sys.executable, venv]))
        return venv

    def uv_install(
        self, index_url: str, *requirements: str, venv: Path | None = None, args: Sequence[str] = ()
    ) -> tuple[subprocess.CompletedProcess[str], Path]:
        """`uv pip install` into a fresh `uv venv` from index_url only."""
        venv = venv or self.uv_venv()
        result = self.run(
            [
                UV,
                "pip",
                "install",
                "--no-config",
                "--python",
                venv / "bin" / "python",
                "--index-url",
                index_url,
                *args,
                *requirements,
            ]
        )
        return result, venv

    def installed_in_venv(self, venv: Path, module: str) -> Installed:
        return self._inspect(venv / "bin" / "python", module, None)

    def uv_publish(
        self,
        publish_url: str,
        *files: Path,
        user: str,
        password: str,
        args: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            [
                UV,
                "publish",
                "--no-config",
                "--publish-url",
                publish_url,
                "--username",
                user,
                "--password",
                password,
                "--trusted-publishing",
                "never",
                *args,
                *files,
            ]
        )

    # twine ---------------------------------------------------------------------------

    def twine_upload(
        self,
        repository_url: str,
        *files: Path,
        user: str,
        password: str,
        args: Sequence[str] = ("--verbose",),
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            [
                TWINE,
                "upload",
                "--non-interactive",
                "--disable-progress-bar",
                "--repository-url",
                repository_url,
                "--username",
                user,
                "--password",
                password,
                *args,
                *files,
            ]
        )

    # ---------------------------------------------------------------------------------

    def _inspect(self, python: Path, module: str, path: Path | None) -> Installed:
        lines = ["import json, sys"]
        if path is not None:
            lines.append(f"sys.path.insert(0, {str(path)!r})")
        lines += [
            f"import {module} as m",
            "print(json.dumps({'version': m.__version__, 'file': m.__file__,"
            " 'built_from': getattr(m, 'BUILT_FROM', '')}))",
        ]
        script = "\n".join(lines)
        result = expect_ok(self.run([python, "-I", "-c", script]))
        data = json.loads(result.stdout)
        return Installed(data["version"], Path(data["file"]), data["built_from"])


# The legacy upload API, spoken by hand ---------------------------------------------------


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests_of(data: bytes) -> dict[str, str]:
    return {
        "md5_digest": hashlib.md5(data).hexdigest(),
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(data, digest_size=32).hexdigest(),
    }


def filetype_of(filename: str) -> tuple[str, str]:
    """(filetype, pyversion) as twine sends them."""
    if filename.endswith(".whl"):
        parts = filename.removesuffix(".whl").split("-")
        return "bdist_wheel", parts[-3] if len(parts) >= 5 else "py3"
    return "sdist", "source"


def upload_fields(
    filename: str,
    data: bytes,
    *,
    name: str,
    version: str,
    metadata_version: str = "2.1",
    overrides: dict[str, str | None] | None = None,
    extra: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """The form twine sends; an override of None drops the field."""
    filetype, pyversion = filetype_of(filename)
    fields: dict[str, str | None] = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "filetype": filetype,
        "pyversion": pyversion,
        "metadata_version": metadata_version,
        **digests_of(data),
    }
    fields.update(overrides or {})
    return [(k, v) for k, v in fields.items() if v is not None] + list(extra)


def encode_multipart(
    fields: Sequence[tuple[str, str]],
    file: tuple[str, bytes, str | None] | None,
) -> tuple[bytes, str]:
    """multipart/form-data by hand, so tests control every part header (U5)."""
    boundary = f"e2e-{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for key, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if file is not None:
        filename, data, content_type = file
        quoted = filename.replace('"', "%22")
        disposition = f'form-data; name="content"; filename="{quoted}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def post_upload(
    url: str,
    *,
    auth: tuple[str, str] | None,
    fields: Sequence[tuple[str, str]],
    file: tuple[str, bytes, str | None] | None,
    timeout: float = 30.0,
) -> httpx.Response:
    body, content_type = encode_multipart(fields, file)
    with httpx.Client(
        timeout=timeout, trust_env=False, follow_redirects=False, auth=auth
    ) as client:
        return client.post(url, content=body, headers={"Content-Type": content_type})


def upload_file(
    url: str,
    path: Path,
    *,
    auth: tuple[str, str] | None,
    name: str,
    version: str,
    filename: str | None = None,
    metadata_version: str = "2.1",
    overrides: dict[str, str | None] | None = None,
    extra: Iterable[tuple[str, str]] = (),
    content_type: str | None = "application/octet-stream",
) -> httpx.Response:
    """POST one file to a legacy upload URL as twine would (overridable field by field)."""
    data = path.read_bytes()
    filename = filename or path.name
    fields = upload_fields(
        filename,
        data,
        name=name,
        version=version,
        metadata_version=metadata_version,
        overrides=overrides,
        extra=extra,
    )
    return post_upload(url, auth=auth, fields=fields, file=(filename, data, content_type))


def name_and_version(path: Path) -> tuple[str, str]:
    if path.name.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(path.name)
        return str(name), str(version)
    name, parsed = parse_sdist_filename(path.name)
    return str(name), str(parsed)


def upload(
    server: ServerProcess,
    path: Path,
    *,
    index: str | None = None,
    name: str | None = None,
    version: str | None = None,
    filename: str | None = None,
    metadata_version: str = "2.1",
    overrides: dict[str, str | None] | None = None,
    extra: Iterable[tuple[str, str]] = (),
    content_type: str | None = "application/octet-stream",
    auth: tuple[str, str] | bool | None = True,
) -> httpx.Response:
    """POST a file to the server's (or an index's) upload URL as twine would.

    name and version default to the filename's; auth=True means the server's uploader.
    """
    if name is None or version is None:
        parsed_name, parsed_version = name_and_version(path)
        name, version = name or parsed_name, version or parsed_version
    url = f"{server.url}/{index}/legacy/" if index else server.upload_url
    credentials = server.auth if auth is True else (auth or None)
    return upload_file(
        url,
        path,
        auth=credentials,
        name=name,
        version=version,
        filename=filename,
        metadata_version=metadata_version,
        overrides=overrides,
        extra=extra,
        content_type=content_type,
    )


def publish(server: ServerProcess, *paths: Path, index: str | None = None) -> None:
    """Upload files that must be accepted."""
    for path in paths:
        response = upload(server, path, index=index)
        assert response.status_code == 200, f"{path.name}: {response.status_code} {response.text}"


def installable_dists(
    directory: Path, project: str, version: str, *, requires_python: str | None = None
) -> tuple[Path, Path]:
    """A wheel and an sdist of `project` that pip and uv install offline.

    Module `module_name(project)` has `__version__` and BUILT_FROM ("wheel" or "sdist"),
    so a test can tell which file an installer picked.
    """
    module = module_name(project)
    wheel = make_wheel(
        directory,
        project,
        version,
        requires_python=requires_python,
        extra_files={f"{module}/__init__.py": module_source(version, "wheel")},
    )
    root = f"{dist_name(project)}-{dist_version(version)}"
    sdist = make_sdist(
        directory,
        project,
        version,
        requires_python=requires_python,
        extra_members={f"{root}/{module}/__init__.py": module_source(version, "sdist")},
    )
    return wheel, sdist


def module_source(version: str, built_from: str) -> bytes:
    return f'__version__ = "{version}"\nBUILT_FROM = "{built_from}"\n'.encode()


def assert_rejected(response: httpx.Response, *statuses: int, says: Sequence[str] = ()) -> None:
    """An upload refusal as clients need it (U6, U9, U10): status, text/plain, message."""
    described = f"{response.status_code} {response.headers.get('content-type')}: {response.text}"
    assert response.status_code in statuses, described
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == "text/plain", described
    assert response.text.strip(), "the refusal has no message"
    for phrase in says:
        assert phrase.lower() in response.text.lower(), described
    assert "was ever registered" not in response.text, described
