"""The simple repository API: the hot path. A page is one serial read and a dict lookup."""

from __future__ import annotations

import time
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from packyard.domain.durations import parse_point_in_time
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Index
from packyard.domain.names import NormalizedName, normalize
from packyard.services.simple_pages import Page, PageFormat, render_index, render_project
from packyard.web.auth import principal_of
from packyard.web.errors import text_error
from packyard.web.negotiation import NotAcceptable, choose_format
from packyard.web.state import Missing, WebState, state

CACHE_CONTROL = b"max-age=60, public"
CACHE_PRIVATE = b"max-age=0, private"
VARY_PUBLIC = b"Accept, Accept-Encoding"
# A page of a private index differs by caller (it may be a 401 for another).
VARY_PRIVATE = b"Accept, Accept-Encoding, Authorization"


def _resolve(web: WebState, request: Request) -> tuple[str, int] | Response:
    name = request.path_params.get("index")
    resolved = web.container.serials.resolve(name)
    if resolved is None:
        what = f"There is no index named {name!r}" if name else "No default index is set"
        return text_error(404, what)
    return resolved


def _format(request: Request) -> PageFormat | Response:
    try:
        return choose_format(request.headers.get("accept"), request.query_params.get("format"))
    except NotAcceptable as exc:
        return text_error(406, str(exc))


async def project_page(request: Request) -> Response:
    web = state(request)
    resolved = _resolve(web, request)
    if isinstance(resolved, Response):
        return resolved
    index, serial = resolved
    raw = request.path_params["project"]
    name = normalize(raw)
    if raw != name or not request.url.path.endswith("/"):
        return RedirectResponse(web.urls.simple(request.path_params.get("index"), name), 301)
    fmt = _format(request)
    if isinstance(fmt, Response):
        return fmt
    key = (index, name, fmt.value)
    entry = web.pages.get(key, serial)
    if entry is None:
        entry = await _render_project(web, request, index, name, fmt, serial)
        web.pages.put(key, entry)
    if isinstance(entry, Missing):
        return text_error(404, f"There is no project named {name!r} in index {index!r}")
    return page_response(request, entry)


async def _render_project(
    web: WebState,
    request: Request,
    index_name: str,
    name: NormalizedName,
    fmt: PageFormat,
    serial: int,
    as_of: datetime | None = None,
) -> Page | Missing:
    catalog = web.container.catalog
    index = await catalog.index(index_name, serial=serial)
    if index is None:
        return Missing(serial)
    reader = await principal_of(request)
    view = await catalog.project(index, name, as_of=as_of, reader=reader)
    if view is None:
        recheck = await catalog.recheck_after(index)
        expires = time.time() + recheck.total_seconds() if recheck else None
        return Missing(serial, expires, public=IndexSettings.of(index).readers.anonymous)
    return await run_in_threadpool(render_project, view, fmt, serial)


async def as_of_project_page(request: Request) -> Response:
    """`/<index>/+as-of/<time>/simple/<project>/`: only files uploaded by then."""
    web = state(request)
    resolved = _resolve(web, request)
    if isinstance(resolved, Response):
        return resolved
    index, serial = resolved
    when = request.path_params["when"]
    as_of = parse_point_in_time(when)
    raw = request.path_params["project"]
    name = normalize(raw)
    if raw != name or not request.url.path.endswith("/"):
        base = f"{web.urls.prefix}/{index}/+as-of/{when}/simple/{name}/"
        return RedirectResponse(base, 301)
    fmt = _format(request)
    if isinstance(fmt, Response):
        return fmt
    key = (index, f"{name}@{as_of.isoformat()}", fmt.value)
    entry = web.pages.get(key, serial)
    if entry is None:
        entry = await _render_project(web, request, index, name, fmt, serial, as_of=as_of)
        web.pages.put(key, entry)
    if isinstance(entry, Missing):
        return text_error(404, f"There is no project named {name!r} in index {index!r}")
    return page_response(request, entry)


async def index_page(request: Request) -> Response:
    web = state(request)
    resolved = _resolve(web, request)
    if isinstance(resolved, Response):
        return resolved
    index, serial = resolved
    if not request.url.path.endswith("/"):
        return RedirectResponse(web.urls.simple(request.path_params.get("index")), 301)
    fmt = _format(request)
    if isinstance(fmt, Response):
        return fmt
    via = request.path_params.get("index")
    key = (index, f"/{via or ''}", fmt.value)  # links differ by the route the client used
    entry = web.pages.get(key, serial)
    if not isinstance(entry, Page):
        catalog = web.container.catalog
        found = await catalog.index(index)
        reader = await principal_of(request)
        names = await catalog.project_names(found, reader=reader) if found else []
        public = found is None or _all_public(await catalog.reachable(found))
        entry = render_index(
            names, lambda name: web.urls.simple(via, name), fmt, serial, public=public
        )
        # Mirrors add projects as they first fetch them, without a serial change, so a
        # list that includes a mirror is made afresh (installers never ask for it).
        if found is None or await catalog.recheck_after(found) is None:
            web.pages.put(key, entry)
    return page_response(request, entry)


def _all_public(indexes: list[Index]) -> bool:
    return all(IndexSettings.of(i).readers.anonymous for i in indexes)


def cached_reply(
    page: Page, *, accept_encoding: str, if_none_match: str | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body for a rendered page; shared by the router and the fast path."""
    gzipped = "gzip" in accept_encoding
    # Each representation has its own strong ETag; either one revalidates.
    etag = page.etag[:-1] + '-gzip"' if gzipped else page.etag
    headers = [
        (b"etag", etag.encode()),
        (b"vary", VARY_PUBLIC if page.public else VARY_PRIVATE),
        (b"cache-control", CACHE_CONTROL if page.public else CACHE_PRIVATE),
        (b"x-pypi-last-serial", str(page.last_serial).encode()),
    ]
    if if_none_match:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        if "*" in tags or etag in tags or page.etag in tags:
            return 304, headers, b""
    body = page.gzipped if gzipped else page.body
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-type", page.content_type.encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    return 200, headers, body


class RawResponse(Response):
    """A response whose headers are already encoded."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = headers


def page_response(request: Request, page: Page) -> Response:
    status, headers, body = cached_reply(
        page,
        accept_encoding=request.headers.get("accept-encoding", ""),
        if_none_match=request.headers.get("if-none-match"),
    )
    return RawResponse(status, headers, body)
