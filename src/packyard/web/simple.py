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

CACHE_CONTROL = "max-age=60, public"


def _resolve(web: WebState, request: Request) -> tuple[str, int] | Response:
    name = request.path_params.get("index") or web.container.serials.default_index()
    serial = web.container.serials.index_serial(name) if name else None
    if name is None or serial is None:
        return text_error(404, f"There is no index named {name!r}")
    return name, serial


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


def page_response(request: Request, page: Page) -> Response:
    gzipped = "gzip" in request.headers.get("accept-encoding", "")
    # Each representation has its own strong ETag; either one revalidates.
    etag = page.etag[:-1] + '-gzip"' if gzipped else page.etag
    headers = {
        "ETag": etag,
        "Vary": "Accept, Accept-Encoding",
        "Cache-Control": CACHE_CONTROL,
        "X-PyPI-Last-Serial": str(page.last_serial),
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        if "*" in tags or etag in tags or page.etag in tags:
            return Response(status_code=304, headers=headers)
    body = page.body
    if gzipped:
        body = page.gzipped
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = page.content_type
    return Response(body, headers=headers)
