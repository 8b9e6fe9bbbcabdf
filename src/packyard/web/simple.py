"""The simple repository API: the hot path. A page is one serial read and a dict lookup."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from packyard.domain.names import normalize
from packyard.services.simple_pages import Page, PageFormat, render_index, render_project
from packyard.web.errors import text_error
from packyard.web.negotiation import NotAcceptable, choose_format
from packyard.web.state import WebState, state

CACHE_CONTROL = b"max-age=60, public"


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
        entry = await run_in_threadpool(_load_project, web, index, name, fmt, serial)
        web.pages.put(key, entry)
    if isinstance(entry, int):
        return text_error(404, f"There is no project named {name!r} in index {index!r}")
    return page_response(request, entry)


def _load_project(web: WebState, index: str, name: str, fmt: PageFormat, serial: int) -> Page | int:
    with web.container.uow(readonly=True) as uow:
        project = uow.projects.get(index, normalize(name))
        if project is None:
            return serial
        files = uow.files.for_project(index, project.name)
    return render_project(project, files, web.urls.file, fmt, serial)


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
        entry = await run_in_threadpool(_load_index, web, index, via, fmt, serial)
        web.pages.put(key, entry)
    return page_response(request, entry)


def _load_index(web: WebState, index: str, via: str | None, fmt: PageFormat, serial: int) -> Page:
    with web.container.uow(readonly=True) as uow:
        projects = sorted(uow.projects.list(index), key=lambda p: p.name)
    return render_index(projects, lambda p: web.urls.simple(via, p.name), fmt, serial)


def cached_reply(
    page: Page, *, accept_encoding: str, if_none_match: str | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body for a rendered page; shared by the router and the fast path."""
    gzipped = "gzip" in accept_encoding
    # Each representation has its own strong ETag; either one revalidates.
    etag = page.etag[:-1] + '-gzip"' if gzipped else page.etag
    headers = [
        (b"etag", etag.encode()),
        (b"vary", b"Accept, Accept-Encoding"),
        (b"cache-control", CACHE_CONTROL),
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
