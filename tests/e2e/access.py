"""Access control end to end (issue 4): a server set up with the `packyard` CLI, its users,
tokens and indexes, and the management API as its OpenAPI document describes it.

- `start_access_server`: `packyard serve` on 127.0.0.1 (stopped by PID by the caller);
  `AccessServer` runs admin commands on its store (`user add`, `token create`, ...).
- `Api`: requests by `operationId`, with the method and path read from
  `/api/v1/openapi.json`, so tests never guess a path.
- Credentials: `password_of(user)`, `token_auth(secret)`, and index URLs with credentials
  in them as pip and uv take them.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urljoin

import httpx

from e2e.clients import Clients, upload_file
from e2e.server import ServerProcess, start_server
from e2e.simple import JSON_TYPE

T = TypeVar("T")
Auth = tuple[str, str] | None

TOKEN_USER = "__token__"
TOKEN_PREFIX = "pky_"
API = "/api/v1"
POLL_INTERVAL = 0.1

# Principals of the permission matrix. Each user's password is `password_of(name)`.
ANONYMOUS = "anonymous"
READER = "reader"  # reads the private index through team @devs
UPLOADER = "uploader"  # may upload new projects to the private index; no project role
OWNER = "owner"  # first uploader of the matrix projects
MAINTAINER = "maintainer"  # maintainer of the matrix projects
OTHER = "other"  # a known user with no rights on the private index
ADMIN = "admin"
PRINCIPALS = (ANONYMOUS, READER, UPLOADER, OWNER, MAINTAINER, OTHER, ADMIN)
TEAM = "devs"

PUBLIC = "pub"  # hosted, default permissions (readers anonymous, uploaders authenticated)
PRIVATE = "priv"  # hosted, readers @devs and the project people
VIRTUAL = "virt"  # virtual over priv, pub: stands for priv when uploading


def password_of(user: str) -> str:
    """Passwords without characters that need quoting, at least 8 characters (API rule)."""
    return f"{user}-Secret-0042"


def auth_of(principal: str) -> Auth:
    return None if principal == ANONYMOUS else (principal, password_of(principal))


def token_auth(secret: str) -> tuple[str, str]:
    return (TOKEN_USER, secret)


def with_credentials(url: str, user: str, password: str) -> str:
    """`http://user:password@host:port/...`, both parts percent-encoded."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{rest}"


def poll_until(
    probe: Callable[[], T], done: Callable[[T], bool], *, timeout: float, what: str
) -> T:
    """Call `probe` until `done(result)`, at most `timeout` seconds; fail with the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not so after {timeout:.0f} s; last: {result!r}")
        time.sleep(POLL_INTERVAL)


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code}: {response.text[:300]}"


def assert_challenge(response: httpx.Response) -> None:
    """A 401 that pip's keyring and netrc flows understand: `WWW-Authenticate: Basic`."""
    assert response.status_code == 401, describe(response)
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.lower().startswith("basic"), f"WWW-Authenticate {challenge!r}; " + describe(
        response
    )


@dataclass(frozen=True)
class Token:
    secret: str
    id: str
    user: str

    @property
    def auth(self) -> tuple[str, str]:
        return token_auth(self.secret)


@dataclass
class AccessServer:
    """A running server and the admin CLI on its store."""

    server: ServerProcess
    admin_auth: Auth = None  # set once an administrator exists
    http: httpx.Client = field(init=False)
    _api: Api | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=30.0, trust_env=False, follow_redirects=False)

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        try:
            self.http.close()
        finally:
            self.server.stop()

    # CLI -------------------------------------------------------------------------------

    def cli(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.server.cli(*args, input=input, check=check)

    def add_user(self, name: str, *, admin: bool = False) -> None:
        self.cli("user", "add", name, *(["--admin"] if admin else []), input=password_of(name))

    def create_token(
        self,
        user: str,
        *,
        indexes: Sequence[str] = (),
        projects: Sequence[str] = (),
        scopes: Sequence[str] = (),
        expires: str | None = None,
        description: str = "",
        find_id: bool = True,
    ) -> Token:
        """`packyard token create`; the secret is stdout alone, the id comes from `token list`
        (skipped with find_id=False: one CLI run less)."""
        args = ["token", "create", "--user", user]
        for option, values in (("--index", indexes), ("--project", projects), ("--scope", scopes)):
            for value in values:
                args += [option, value]
        if expires is not None:
            args += ["--expires", expires]
        if description:
            args += ["--description", description]
        secret = self.cli(*args).stdout.strip()
        assert secret.startswith(TOKEN_PREFIX) and "\n" not in secret, repr(secret)
        token_id = self.token_id(user, secret) if find_id else ""
        return Token(secret=secret, id=token_id, user=user)

    def api_token(
        self,
        user: str,
        *,
        indexes: Sequence[str] = (),
        projects: Sequence[str] = (),
        scopes: Sequence[str] = (),
        description: str = "",
    ) -> Token:
        """A token made through the management API by the admin `admin_auth` (fast: no CLI)."""
        body: dict[str, Any] = {
            "user": user,
            "indexes": list(indexes),
            "projects": list(projects),
            "description": description,
        }
        if scopes:
            body["scopes"] = list(scopes)
        response = self.api.call("createToken", self.admin_auth, json=body)
        assert response.status_code == 201, describe(response)
        created = response.json()
        assert created["secret"].startswith(TOKEN_PREFIX), created
        return Token(secret=created["secret"], id=created["id"], user=user)

    def token_lines(self, user: str) -> list[list[str]]:
        listing = self.cli("token", "list", "--user", user).stdout
        return [line.split("\t") for line in listing.splitlines() if line.strip()]

    def token_id(self, user: str, secret: str) -> str:
        """The id `token list` shows for the token whose non-secret prefix `secret` has."""
        found = [
            fields[0]
            for fields in self.token_lines(user)
            if len(fields) > 1 and secret.startswith(fields[1].removesuffix("..."))
        ]
        assert len(found) == 1, f"token list matches {found} for {secret[:10]}..."
        assert found[0] not in secret, "the token id is part of the secret"
        return found[0]

    # HTTP ------------------------------------------------------------------------------

    def simple_url(self, index: str) -> str:
        return f"{self.url}/{index}/simple/"

    def page_url(self, index: str, project: str) -> str:
        return f"{self.url}/{index}/simple/{project}/"

    def upload_url(self, index: str) -> str:
        return f"{self.url}/{index}/legacy/"

    def get(self, url: str, auth: Auth, **headers: str) -> httpx.Response:
        return self.http.get(url, auth=auth, headers=headers)

    def read_page(self, index: str, project: str, auth: Auth) -> httpx.Response:
        return self.get(self.page_url(index, project), auth, accept=JSON_TYPE)

    def file_url(self, index: str, project: str, filename: str, auth: Auth) -> str:
        """The absolute URL the index's JSON page gives for a file (read with `auth`)."""
        page = self.read_page(index, project, auth)
        assert page.status_code == 200, describe(page)
        urls = [str(f["url"]) for f in page.json()["files"] if f["filename"] == filename]
        assert len(urls) == 1, f"{filename} listed {len(urls)} times: {page.text}"
        return urljoin(str(page.url), urls[0])

    def upload(
        self, index: str, path: Path, *, name: str, version: str, auth: Auth
    ) -> httpx.Response:
        return upload_file(self.upload_url(index), path, auth=auth, name=name, version=version)

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api.load(self)
        return self._api


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # with {placeholders}, relative to the API's server URL

    def url(self, base: str, **params: str) -> str:
        path = self.path
        for key, value in params.items():
            path = path.replace("{" + key + "}", quote(value, safe=""))
        assert "{" not in path, f"unfilled parameter in {path}"
        return base + path


@dataclass
class Api:
    """The management API, by operationId, as `/api/v1/openapi.json` describes it."""

    owner: AccessServer
    document: dict[str, Any]
    operations: dict[str, Operation]

    @classmethod
    def load(cls, owner: AccessServer) -> Api:
        response = owner.http.get(f"{owner.url}{API}/openapi.json")
        assert response.status_code == 200, describe(response)
        document = response.json()
        operations: dict[str, Operation] = {}
        for path, methods in document["paths"].items():
            for method, spec in methods.items():
                if isinstance(spec, dict) and "operationId" in spec:
                    operations[spec["operationId"]] = Operation(method.upper(), path)
        return cls(owner=owner, document=document, operations=operations)

    @property
    def base(self) -> str:
        servers = self.document.get("servers") or [{"url": API}]
        return urljoin(self.owner.url + "/", str(servers[0]["url"]).lstrip("/"))

    def operation(self, operation_id: str) -> Operation:
        assert operation_id in self.operations, (
            f"{operation_id} is not in the OpenAPI document: {sorted(self.operations)}"
        )
        return self.operations[operation_id]

    def request_body_schema(self, operation_id: str) -> dict[str, Any]:
        """The JSON schema of an operation's request body, `$ref` resolved one level."""
        op = self.operation(operation_id)
        spec = self.document["paths"][op.path][op.method.lower()]
        schema: dict[str, Any] = spec["requestBody"]["content"]["application/json"]["schema"]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            resolved: dict[str, Any] = self.document["components"]["schemas"][ref.rsplit("/")[-1]]
            return resolved
        return schema

    def call(
        self,
        operation_id: str,
        auth: Auth,
        *,
        json: Any = None,
        query: Mapping[str, str] | None = None,
        **path: str,
    ) -> httpx.Response:
        op = self.operation(operation_id)
        return self.owner.http.request(
            op.method,
            op.url(self.base, **path),
            auth=auth,
            json=json,
            params=dict(query or {}),
        )


def start_access_server(
    workdir: Path, *, settings: Mapping[str, str] | None = None
) -> AccessServer:
    return AccessServer(start_server(workdir, settings=settings))


@contextmanager
def running_access_server(
    workdir: Path, *, settings: Mapping[str, str] | None = None
) -> Iterator[AccessServer]:
    server = start_access_server(workdir, settings=settings)
    try:
        yield server
    finally:
        server.close()


# Real clients with extra environment ------------------------------------------------------


def run_client(
    clients: Clients, args: Sequence[str | Path], *, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Like `Clients.run`, with variables added to its hermetic environment."""
    return subprocess.run(
        [str(arg) for arg in args],
        env={**clients.env(), **(env or {})},
        cwd=clients.home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_netrc(home: Path, host: str, user: str, password: str) -> Path:
    path = home / ".netrc"
    path.write_text(f"machine {host}\nlogin {user}\npassword {password}\n")
    path.chmod(0o600)
    return path
