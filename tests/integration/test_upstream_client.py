"""UpstreamClient against real HTTP servers on loopback (stdlib http.server in threads)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest

from packyard.adapters.upstream import (
    Fetched,
    Missing,
    NotModified,
    UpstreamClient,
    UpstreamError,
    UpstreamNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
    fetch_project_sync,
    redact,
)

pytestmark = pytest.mark.integration

SHA = "ab" * 32
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    wait: threading.Event | None = None  # hold the answer until set (a slow upstream)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class Upstream:
    """A scripted HTTP server: `routes[path]` answers GET path; every request is recorded."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[Seen], Reply]] = {}
        self.seen: list[Seen] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path: str, reply: Reply | Callable[[Seen], Reply]) -> None:
        self.routes[path] = reply if callable(reply) else (lambda _seen: reply)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
                upstream.seen.append(seen)
                route = upstream.routes.get(self.path)
                reply = route(seen) if route else Reply(404, b"no such page")
                if reply.wait is not None:
                    reply.wait.wait(timeout=10)
                with contextlib.suppress(ConnectionError):  # the client gave up (timeouts)
                    self._answer(reply)

            def _answer(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


def _start() -> Iterator[Upstream]:
    upstream = Upstream()
    upstream.thread.start()
    try:
        yield upstream
    finally:
        upstream.server.shutdown()
        upstream.server.server_close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    yield from _start()


@pytest.fixture
def elsewhere() -> Iterator[Upstream]:
    """A second server: another origin (same host, another port)."""
    yield from _start()


T = TypeVar("T")


def run(make: Callable[[UpstreamClient], Awaitable[T]], base: str, timeout: float = 5) -> T:
    async def main() -> T:
        async with UpstreamClient(base, timeout=timeout) as client:
            return await make(client)

    return asyncio.run(main())


def fetch(base: str, name: str = "demo", **kwargs: Any) -> Any:
    return run(lambda client: client.fetch_project(name, **kwargs), base)


async def download(client: UpstreamClient, url: str) -> bytes:
    async with client.stream_file(url) as chunks:
        return b"".join([chunk async for chunk in chunks])


def json_page(filename: str = "demo-1.0.tar.gz") -> bytes:
    files = [{"filename": filename, "url": f"../../files/{filename}", "hashes": {"sha256": SHA}}]
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "Demo", "files": files}).encode()


def test_json_page_is_fetched_with_accept_and_user_agent(upstream: Upstream) -> None:
    upstream.route("/simple/demo/", Reply(200, json_page(), {"Content-Type": JSON_TYPE}))

    result = fetch(f"{upstream.origin}/simple/", "Demo")

    assert isinstance(result, Fetched)
    assert result.project.name == "Demo"
    (file,) = result.project.files
    assert file.url == f"{upstream.origin}/files/demo-1.0.tar.gz"
    assert file.sha256 == SHA
    (seen,) = upstream.seen
    assert seen.headers["accept"].startswith("application/vnd.pypi.simple.v1+json,")
    assert seen.headers["user-agent"].startswith("packyard/")


def test_project_name_is_normalised_in_the_url(upstream: Upstream) -> None:
    upstream.route("/simple/zope-interface/", Reply(200, json_page(), {"Content-Type": JSON_TYPE}))
    assert isinstance(fetch(f"{upstream.origin}/simple", "Zope.Interface"), Fetched)


def test_html_page_is_the_fallback(upstream: Upstream) -> None:
    html = f'<html><body><a href="/f/demo-1.0.tar.gz#sha256={SHA}">demo</a></body></html>'
    upstream.route("/simple/demo/", Reply(200, html.encode(), {"Content-Type": "text/html"}))

    result = fetch(f"{upstream.origin}/simple/")

    assert isinstance(result, Fetched)
    assert [(f.url, f.sha256) for f in result.project.files] == [
        (f"{upstream.origin}/f/demo-1.0.tar.gz", SHA)
    ]


def test_redirects_are_followed_and_urls_resolve_against_the_final_page(
    upstream: Upstream,
) -> None:
    upstream.route("/simple/demo/", Reply(301, headers={"Location": "/other/demo/"}))
    upstream.route("/other/demo/", Reply(200, json_page(), {"Content-Type": JSON_TYPE}))

    result = fetch(f"{upstream.origin}/simple/")

    assert isinstance(result, Fetched)
    assert result.project.files[0].url == f"{upstream.origin}/files/demo-1.0.tar.gz"


def test_etag_revalidation_answers_not_modified(upstream: Upstream) -> None:
    def page(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(304, headers={"ETag": '"v1"'})
        return Reply(200, json_page(), {"Content-Type": JSON_TYPE, "ETag": '"v1"'})

    upstream.route("/simple/demo/", page)
    base = f"{upstream.origin}/simple/"

    first = fetch(base)
    assert isinstance(first, Fetched)
    assert first.etag == '"v1"'
    assert isinstance(fetch(base, etag=first.etag), NotModified)
    assert "if-none-match" not in upstream.seen[0].headers


@pytest.mark.parametrize("status", [404, 410])
def test_unknown_project_is_missing(upstream: Upstream, status: int) -> None:
    upstream.route("/simple/demo/", Reply(status, b"gone"))
    assert isinstance(fetch(f"{upstream.origin}/simple/"), Missing)


@pytest.mark.parametrize("status", [500, 503, 401, 403])
def test_failing_upstream_is_unavailable(upstream: Upstream, status: int) -> None:
    upstream.route("/simple/demo/", Reply(status, b"oops"))
    with pytest.raises(UpstreamUnavailable, match=str(status)):
        fetch(f"{upstream.origin}/simple/")


def test_unsolicited_304_is_unavailable(upstream: Upstream) -> None:
    upstream.route("/simple/demo/", Reply(304))
    with pytest.raises(UpstreamUnavailable):
        fetch(f"{upstream.origin}/simple/")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", JSON_TYPE), (b"<html></html>", "text/plain"), (b"<html></html>", "")],
)
def test_unusable_page_is_unavailable(upstream: Upstream, body: bytes, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    upstream.route("/simple/demo/", Reply(200, body, headers))
    with pytest.raises(UpstreamUnavailable, match="unusable page"):
        fetch(f"{upstream.origin}/simple/")


def test_slow_upstream_times_out(upstream: Upstream) -> None:
    release = threading.Event()
    upstream.route("/simple/demo/", Reply(200, json_page(), wait=release))
    try:
        with pytest.raises(UpstreamTimeout, match="did not answer in time"):
            run(lambda client: client.fetch_project("demo"), f"{upstream.origin}/simple/", 0.5)
    finally:
        release.set()


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(UpstreamUnavailable, match="unreachable"):
        fetch(f"http://127.0.0.1:{port}/simple/")


def test_credentials_go_to_the_same_origin_only(upstream: Upstream, elsewhere: Upstream) -> None:
    base = f"http://alice:s3cret@127.0.0.1:{upstream.server.server_address[1]}/simple/"
    upstream.route("/simple/demo/", Reply(200, json_page(), {"Content-Type": JSON_TYPE}))
    upstream.route("/files/a.tar.gz", Reply(200, b"a"))
    upstream.route("/files/b.tar.gz", Reply(302, headers={"Location": f"{elsewhere.origin}/b"}))
    elsewhere.route("/c.tar.gz", Reply(200, b"c"))
    elsewhere.route("/b", Reply(200, b"b"))

    async def scenario(client: UpstreamClient) -> list[bytes]:
        await client.fetch_project("demo")
        files = ["/files/a.tar.gz", "/files/b.tar.gz"]
        own = [await download(client, f"{upstream.origin}{path}") for path in files]
        return [*own, await download(client, f"{elsewhere.origin}/c.tar.gz")]

    assert run(scenario, base) == [b"a", b"b", b"c"]
    basic = "Basic YWxpY2U6czNjcmV0"  # alice:s3cret
    assert [s.headers.get("authorization") for s in upstream.seen] == [basic] * 3
    assert [s.headers.get("authorization") for s in elsewhere.seen] == [None, None]


def test_credentials_never_appear_in_errors(upstream: Upstream) -> None:
    base = f"http://alice:s3cret@127.0.0.1:{upstream.server.server_address[1]}/simple/"
    upstream.route("/simple/demo/", Reply(500))
    with pytest.raises(UpstreamUnavailable) as caught:
        fetch(base)
    assert "s3cret" not in str(caught.value)

    async def base_url(client: UpstreamClient) -> str:
        return client.base_url

    assert run(base_url, base) == f"{upstream.origin}/simple/"


def test_file_is_streamed_as_stored(upstream: Upstream) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB, several chunks
    upstream.route(
        "/files/demo-1.0.tar.gz",
        Reply(200, payload, {"Content-Type": "application/x-tar", "Content-Encoding": "gzip"}),
    )

    async def scenario(client: UpstreamClient) -> tuple[int, bytes]:
        async with client.stream_file(f"{upstream.origin}/files/demo-1.0.tar.gz") as chunks:
            parts = [chunk async for chunk in chunks]
        return len(parts), b"".join(parts)

    count, body = run(scenario, f"{upstream.origin}/simple/")
    assert body == payload  # never decoded, even when mislabelled as gzip-encoded
    assert count > 1
    assert upstream.seen[0].headers["accept-encoding"] == "identity"


def test_missing_file_raises_not_found(upstream: Upstream) -> None:
    with pytest.raises(UpstreamNotFound):
        run(lambda c: download(c, f"{upstream.origin}/files/x.whl"), upstream.origin)


def test_failing_file_download_is_unavailable(upstream: Upstream) -> None:
    upstream.route("/files/x.whl", Reply(502, b"bad gateway"))
    with pytest.raises(UpstreamUnavailable, match="502"):
        run(lambda c: download(c, f"{upstream.origin}/files/x.whl"), upstream.origin)


def test_slow_file_download_times_out(upstream: Upstream) -> None:
    release = threading.Event()
    upstream.route("/files/x.whl", Reply(200, b"x", wait=release))
    try:
        with pytest.raises(UpstreamTimeout):
            run(lambda c: download(c, f"{upstream.origin}/files/x.whl"), upstream.origin, 0.5)
    finally:
        release.set()


def test_sync_fetch_for_the_cli(upstream: Upstream) -> None:
    upstream.route("/simple/demo/", Reply(200, json_page(), {"Content-Type": JSON_TYPE}))
    result = fetch_project_sync(f"{upstream.origin}/simple/", "demo", timeout=5)
    assert isinstance(result, Fetched)


def test_proxy_from_the_environment_is_used(
    upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", upstream.origin)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    page = Reply(200, json_page(), {"Content-Type": JSON_TYPE})
    upstream.route("http://index.invalid/simple/demo/", page)  # proxies see absolute URLs

    assert isinstance(fetch("http://index.invalid/simple/"), Fetched)


def test_non_http_upstream_is_refused() -> None:
    with pytest.raises(UpstreamError):
        UpstreamClient("file:///srv/simple/")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://u:p@host.test/simple/", "https://u:***@host.test/simple/"),
        ("https://token@host.test:8443/simple/", "https://***@host.test:8443/simple/"),
        ("https://host.test/simple/", "https://host.test/simple/"),
        ("http://u:p%40ss@host.test/a@b/", "http://u:***@host.test/a@b/"),
    ],
)
def test_redact_hides_secrets(url: str, expected: str) -> None:
    assert redact(url) == expected


def test_concurrent_requests_share_a_bounded_pool_of_connections(upstream: Upstream) -> None:
    active, most = 0, 0
    lock = threading.Lock()

    def counted(_seen: Seen) -> Reply:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return Reply(200, json_page(), {"Content-Type": JSON_TYPE})

    for n in range(8):
        upstream.route(f"/simple/demo{n}/", counted)

    async def scenario() -> list[Any]:
        async with UpstreamClient(f"{upstream.origin}/simple/", connections=2) as client:
            return await asyncio.gather(*(client.fetch_project(f"demo{n}") for n in range(8)))

    results = asyncio.run(scenario())
    assert all(isinstance(r, Fetched) for r in results)
    assert most == 2


def test_a_page_never_waits_behind_file_downloads(upstream: Upstream) -> None:
    release = threading.Event()
    upstream.route("/files/big.whl", Reply(200, b"x" * 1000, wait=release))
    upstream.route("/simple/demo/", Reply(200, json_page(), {"Content-Type": JSON_TYPE}))

    async def scenario() -> Any:
        async with UpstreamClient(f"{upstream.origin}/simple/", connections=1) as client:
            held = asyncio.ensure_future(download(client, f"{upstream.origin}/files/big.whl"))
            await asyncio.sleep(0.1)  # the download holds the only file connection
            try:
                return await asyncio.wait_for(client.fetch_project("demo"), timeout=3)
            finally:
                release.set()
                await held

    assert isinstance(asyncio.run(scenario()), Fetched)
