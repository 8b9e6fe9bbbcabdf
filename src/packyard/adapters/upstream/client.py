"""HTTP client for an upstream simple index: project pages, files and metadata sidecars.

Credentials in the base URL become basic auth for that origin only; they never appear in
a message (see `redact`). Proxies come from the environment (`HTTPS_PROXY` & co) and
certificates from the system store.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import ssl
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import httpx

from packyard.adapters.upstream.parse import UpstreamError, UpstreamProject, parse_project_page
from packyard.domain.names import validate_project_name

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)


# Seconds a request may wait for one of the pool's connections to be free.
POOL_WAIT = 30.0


class UpstreamUnavailable(UpstreamError):
    """The upstream could not be reached, failed (5xx) or answered nonsense (HTTP 502)."""


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time (HTTP 504)."""


class UpstreamNotFound(UpstreamError):
    """The upstream has no such file (404 or 410)."""


@dataclass(frozen=True)
class Fetched:
    project: UpstreamProject
    etag: str | None


@dataclass(frozen=True)
class NotModified:
    pass


@dataclass(frozen=True)
class Missing:
    pass


PageResult = Fetched | NotModified | Missing


class UpstreamClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        connections: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https"):
            raise UpstreamError(f"upstream URL {redact(base_url)!r} is not an http(s) URL")
        auth = _OriginBasicAuth(url) if url.username or url.password else None
        bare = url.copy_with(username=None, password=None)
        self._base = bare if bare.path.endswith("/") else bare.copy_with(path=bare.path + "/")
        # Few connections, reused: an install asks for dozens of projects at once, and a
        # burst of that many TLS handshakes took 5 s where 8 connections took 0.3 s for the
        # same 32 pages. Pages and files have pools of their own, so a page never waits
        # behind big downloads; a request waits for a free connection at most POOL_WAIT.
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        options: dict[str, Any] = {
            "auth": auth,
            "headers": {"User-Agent": user_agent()},
            "timeout": httpx.Timeout(timeout, pool=max(timeout, POOL_WAIT)),
            "limits": limits,
            "follow_redirects": True,
            "trust_env": True,
            "verify": ssl.create_default_context(),
            "transport": transport,
        }
        self._client = httpx.AsyncClient(**options)
        self._files = httpx.AsyncClient(**options)

    @property
    def base_url(self) -> str:
        """The index root without credentials."""
        return str(self._base)

    async def fetch_project(self, name: str, *, etag: str | None = None) -> PageResult:
        """GET the project page, JSON preferred; revalidate with `etag` when given."""
        url = self._base.join(f"{validate_project_name(name)}/")
        headers = {"Accept": ACCEPT} | ({"If-None-Match": etag} if etag else {})
        with _translated_errors(str(url)):
            response = await self._client.get(url, headers=headers)
        # A big project's page is megabytes of JSON: parse it off the event loop.
        return await asyncio.to_thread(_page_result, response, name, revalidating=etag is not None)

    @asynccontextmanager
    async def stream_file(self, url: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream a file or sidecar exactly as stored upstream (no content decoding)."""
        # As pip: ask for the bytes as they are, so a .tar.gz is never gunzipped in transit.
        request = self._files.build_request("GET", url, headers={"Accept-Encoding": "identity"})
        with _translated_errors(url):
            response = await self._files.send(request, stream=True)
        try:
            _check_file_status(response, url)
            yield _raw_chunks(response, url)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._files.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def fetch_project_sync(
    base_url: str, name: str, *, etag: str | None = None, timeout: float = 10.0
) -> PageResult:
    """One page fetch for the CLI; not for use inside a running event loop."""

    async def fetch() -> PageResult:
        async with UpstreamClient(base_url, timeout=timeout) as client:
            return await client.fetch_project(name, etag=etag)

    return asyncio.run(fetch())


def redact(url: str) -> str:
    """The URL with its password (or a lone user name, often a token) replaced by ***."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    safe = f"{user}:***" if colon else "***"
    return urlunsplit(parts._replace(netloc=f"{safe}@{hostport}"))


def user_agent() -> str:
    try:
        version = importlib.metadata.version("packyard")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"packyard/{version}"


class _OriginBasicAuth(httpx.Auth):
    """Basic auth sent only to the base URL's origin (scheme, host and port)."""

    def __init__(self, base: httpx.URL) -> None:
        self._origin = _origin(base)
        self._basic = httpx.BasicAuth(base.username, base.password)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            yield from self._basic.auth_flow(request)
        else:
            yield request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default_port


@contextmanager
def _translated_errors(url: str) -> Iterator[None]:
    """Turn httpx's request errors into upstream errors that name the (redacted) URL."""
    try:
        yield
    except httpx.TimeoutException as e:
        raise UpstreamTimeout(f"upstream {redact(url)} did not answer in time") from e
    except httpx.RequestError as e:
        reason = str(e) or type(e).__name__
        raise UpstreamUnavailable(f"upstream {redact(url)} is unreachable: {reason}") from e


def _page_result(response: httpx.Response, requested: str, *, revalidating: bool) -> PageResult:
    url = redact(str(response.url))
    status = response.status_code
    if status == httpx.codes.NOT_MODIFIED and revalidating:
        return NotModified()
    if status in (httpx.codes.NOT_FOUND, httpx.codes.GONE):
        return Missing()
    if status != httpx.codes.OK:
        raise UpstreamUnavailable(f"upstream {url} answered HTTP {status}")
    content_type = response.headers.get("Content-Type", "")
    try:
        project = parse_project_page(response.content, content_type, str(response.url), requested)
    except UpstreamError as e:
        raise UpstreamUnavailable(f"upstream {url} sent an unusable page: {e}") from e
    return Fetched(project=project, etag=response.headers.get("ETag"))


def _check_file_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status in (httpx.codes.NOT_FOUND, httpx.codes.GONE):
        raise UpstreamNotFound(f"upstream has no file at {redact(url)} (HTTP {status})")
    if not response.is_success:
        raise UpstreamUnavailable(f"upstream {redact(url)} answered HTTP {status}")


async def _raw_chunks(response: httpx.Response, url: str) -> AsyncIterator[bytes]:
    with _translated_errors(url):
        async for chunk in response.aiter_raw():
            yield chunk
