"""Distribution files and their metadata sidecars: immutable, ranged, strongly tagged.

Every index serves files under /<index>/+f/<sha256>/<filename>; a virtual index's link
leads to the member that holds the file, through the same policy checks as its page.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from packyard.domain.access import Principal
from packyard.domain.errors import NotFound
from packyard.domain.models import Index
from packyard.logs import get_logger
from packyard.services.catalog import Located
from packyard.web.auth import principal_of
from packyard.web.errors import text_error
from packyard.web.metrics import BYTES_SERVED
from packyard.web.state import WebState, state

IMMUTABLE = "max-age=31536000, public, immutable"
log = get_logger("packyard.files")
METADATA_SUFFIX = ".metadata"
WHEEL_OR_SDIST = "application/octet-stream"


async def file_download(request: Request) -> Response:
    web = state(request)
    index_name = request.path_params["index"]
    sha256 = request.path_params["sha256"]
    filename = request.path_params["filename"]
    sidecar = filename.endswith(METADATA_SUFFIX)
    stored_name = filename[: -len(METADATA_SUFFIX)] if sidecar else filename
    resolved = web.container.serials.resolve(index_name)
    if resolved is None:
        return text_error(404, f"There is no index named {index_name!r}")
    reader = await principal_of(request)
    located = web.located.get((index_name, stored_name), resolved[1])
    if located is None:
        located = await _locate(web, index_name, stored_name, reader, resolved[1])
    if located.listed.sha256 not in {None, sha256} and sha256 != "_":
        return text_error(404, f"There is no file {stored_name} with sha256 {sha256}")
    if sidecar:
        return await _sidecar(request, web, located)
    if request.method == "GET" and "range" not in request.headers:
        web.container.downloads.record(
            who=reader,
            index=index_name,
            project=_project_of(located),
            version=located.listed.version,
            filename=stored_name,
        )
    if located.hosted is not None:
        return _blob_response(request, web, located.hosted.digests.sha256, WHEEL_OR_SDIST, filename)
    return await _mirrored(request, web, located)


async def _locate(
    web: WebState, index_name: str, filename: str, reader: Principal, serial: int
) -> Located:
    catalog = web.container.catalog
    index = await catalog.index(index_name, serial=serial)
    if index is None:
        raise NotFound(f"There is no index named {index_name!r}")
    located = await catalog.locate(index, filename, reader=reader)
    # Remembered only when nothing about it can differ by caller or change without a
    # serial: public, and its bytes here (an uncached mirror file changes when fetched).
    if located.public and (located.hosted is not None or _cached(located)):
        web.located.put((index_name, filename), serial, located)
    return located


def _cached(located: Located) -> bool:
    return located.mirrored is not None and located.mirrored.cached


def _project_of(located: Located) -> str:
    if located.hosted is not None:
        return located.hosted.project
    assert located.mirrored is not None
    return located.mirrored.project


async def _sidecar(request: Request, web: WebState, located: Located) -> Response:
    media_type = "text/plain; charset=utf-8"
    if located.hosted is not None:
        if located.hosted.metadata_sha256 is None:
            return text_error(404, f"{located.listed.filename} has no core metadata file")
        return _blob_response(request, web, located.hosted.metadata_sha256, media_type)
    assert located.mirrored is not None
    # NotFound (404) when the mirror has no sidecar to serve for the file.
    key = await web.container.mirror.ensure_metadata(located.source, located.mirrored)
    return _blob_response(request, web, key, media_type)


async def _mirrored(request: Request, web: WebState, located: Located) -> Response:
    file = located.mirrored
    assert file is not None
    mirror = web.container.mirror
    source: Index = located.source
    if request.method == "HEAD" and not file.cached and file.size is not None:
        # Installers send HEAD before ranged reads: answer from the listing at once and
        # let the fetch run meanwhile; the ranged reads that follow wait for it.
        task = asyncio.ensure_future(mirror.ensure_file(source, file))
        task.add_done_callback(_consume)
        headers = {"Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
        headers["Content-Length"] = str(file.size)
        if file.sha256:
            headers["ETag"] = f'"{file.sha256}"'
        return Response(status_code=200, headers=headers, media_type=WHEEL_OR_SDIST)
    ranged = request.method == "HEAD" or "range" in request.headers
    if file.cached or ranged:
        # HEAD and Range need the whole file here first: fetch, then answer from disk.
        key = await mirror.ensure_file(source, file)
        return _blob_response(request, web, key, WHEEL_OR_SDIST, file.filename)
    headers = {"Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
    if file.sha256:
        headers["ETag"] = f'"{file.sha256}"'
    if file.size is not None:
        headers["Content-Length"] = str(file.size)
        BYTES_SERVED.inc(file.size)
    return StreamingResponse(
        mirror.stream_file(source, file), media_type=WHEEL_OR_SDIST, headers=headers
    )


def _consume(task: asyncio.Future[str]) -> None:
    """A background fetch that fails is retried by the next request; note it and move on."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("background fetch failed", error=str(task.exception()))


class _BlobFile(FileResponse):
    # Each chunk is a trip to a worker thread: 1 MiB instead of 64 KiB makes a wheel a
    # handful of trips, which showed in installs that download thirty wheels at once.
    chunk_size = 1024 * 1024


def _blob_response(
    request: Request, web: WebState, key: str, media_type: str, filename: str | None = None
) -> Response:
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
    if request.headers.get("if-none-match") in {etag, "*"}:
        return Response(status_code=304, headers=headers)
    path = web.container.files.local_path(key)
    if path is None or not path.exists():
        return text_error(500, "The blob store cannot serve this file from local disk")
    if request.method != "HEAD" and "range" not in request.headers:
        BYTES_SERVED.inc(path.stat().st_size)
    # No Content-Encoding is ever set here: clients must get the archive's own bytes.
    return _BlobFile(
        path,
        media_type=media_type,
        headers=headers,
        filename=filename,
        content_disposition_type="attachment",
    )
