"""Distribution files and their metadata sidecars: immutable, ranged, strongly tagged."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from packyard.domain.models import DistFile
from packyard.web.errors import text_error
from packyard.web.metrics import BYTES_SERVED
from packyard.web.state import WebState, state

IMMUTABLE = "max-age=31536000, public, immutable"
METADATA_SUFFIX = ".metadata"


async def file_download(request: Request) -> Response:
    web = state(request)
    index = request.path_params["index"]
    sha256 = request.path_params["sha256"]
    filename = request.path_params["filename"]
    sidecar = filename.endswith(METADATA_SUFFIX)
    stored_name = filename[: -len(METADATA_SUFFIX)] if sidecar else filename
    dist = await run_in_threadpool(_lookup, web, index, stored_name)
    if dist is None or dist.digests.sha256 != sha256:
        return text_error(404, f"There is no file {stored_name} in index {index!r}")
    if sidecar:
        if dist.metadata_sha256 is None:
            return text_error(404, f"{stored_name} has no core metadata file")
        return _blob_response(request, web, dist.metadata_sha256, "text/plain; charset=utf-8")
    return _blob_response(request, web, sha256, "application/octet-stream", dist.filename)


def _lookup(web: WebState, index: str, filename: str) -> DistFile | None:
    with web.container.uow(readonly=True) as uow:
        return uow.files.get(index, filename)


def _blob_response(
    request: Request, web: WebState, key: str, media_type: str, filename: str | None = None
) -> Response:
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
    if request.headers.get("if-none-match") in {etag, "*"}:
        return Response(status_code=304, headers=headers)
    path = web.container.files.local_path(key)
    if path is None:
        return text_error(500, "The blob store cannot serve this file from local disk")
    if request.method != "HEAD" and "range" not in request.headers:
        BYTES_SERVED.inc(_size(web, key))
    # No Content-Encoding is ever set here: clients must get the archive's own bytes.
    return FileResponse(
        path,
        media_type=media_type,
        headers=headers,
        filename=filename,
        content_disposition_type="attachment",
    )


def _size(web: WebState, key: str) -> int:
    try:
        return web.container.files.size(key)
    except FileNotFoundError:
        return 0
