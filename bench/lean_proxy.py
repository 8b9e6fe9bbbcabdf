"""The floor for a cold mirror: the least work a Python pull-through proxy can do.

Served by uvicorn for `bench/mirror.py --floor`; not packyard, and not fit to serve anyone:
it checks nothing, keeps everything in one process's memory and a temporary folder, and
has no policies, no store of listings and no stale path. What it does do is what any
mirror must: fetch each JSON project page once and rewrite every file URL to point at
itself (one pass over the upstream's entries, as orjson decoded them), list a PEP 658
sidecar for every wheel, fetch a file once on first request (concurrent requests share
the fetch), and answer a `.metadata` request with the wheel's own METADATA. Its cold
install time against the upstream's is how close any Python mirror could get to the
issue's "cold adds under 20 %" on the machine and network of that run.

    LEAN_UPSTREAM=<index url> .venv/bin/python -m uvicorn lean_proxy:app --app-dir bench
"""

from __future__ import annotations

import asyncio
import gzip
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

JSON_V1 = "application/vnd.pypi.simple.v1+json"
BIG = 256 * 1024  # as packyard: bigger bodies are handled off the event loop, gzip level 1

UPSTREAM = os.environ.get("LEAN_UPSTREAM", "").rstrip("/") + "/"
STORE = Path(tempfile.mkdtemp(prefix="lean-proxy-"))
# As packyard's defaults: 8 pooled connections for pages and 8 for files (LEAN_CONNECTIONS).
CONNECTIONS = int(os.environ.get("LEAN_CONNECTIONS", "8"))
LIMITS = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
pages = httpx.AsyncClient(limits=LIMITS, timeout=30, follow_redirects=True)
files = httpx.AsyncClient(limits=LIMITS, timeout=30, follow_redirects=True)
upstream_urls: dict[str, str] = {}  # filename -> where the upstream serves it
fetching: dict[str, asyncio.Future[Path]] = {}


def rewrite(raw: bytes) -> bytes:
    document: dict[str, Any] = orjson.loads(raw)
    for entry in document["files"]:
        filename = entry["filename"]
        upstream_urls[filename] = entry["url"]
        entry["url"] = f"/files/{filename}"
        if filename.endswith(".whl") and not entry.get("core-metadata"):
            entry["core-metadata"] = True
    return orjson.dumps(document)


async def off_loop_if_big(work: Any, data: bytes, *args: Any) -> bytes:
    if len(data) > BIG:
        result: bytes = await asyncio.to_thread(work, data, *args)
        return result
    small: bytes = work(data, *args)
    return small


async def project_page(request: Request) -> Response:
    name = request.path_params["name"]
    upstream = await pages.get(f"{UPSTREAM}{name}/", headers={"Accept": JSON_V1})
    if upstream.status_code != 200:
        return Response(status_code=upstream.status_code)
    body = await off_loop_if_big(rewrite, upstream.content)
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(body, media_type=JSON_V1)
    level = 1 if len(body) > BIG else 6
    packed = await off_loop_if_big(gzip.compress, body, level)
    return Response(packed, media_type=JSON_V1, headers={"Content-Encoding": "gzip"})


async def fetched(filename: str) -> Path:
    path = STORE / filename
    if path.exists():
        return path
    if filename not in fetching:
        fetching[filename] = asyncio.ensure_future(download(filename, path))
        fetching[filename].add_done_callback(lambda _: fetching.pop(filename, None))
    return await asyncio.shield(fetching[filename])


async def download(filename: str, path: Path) -> Path:
    partial = path.with_name(path.name + ".part")
    request = files.build_request(
        "GET", upstream_urls[filename], headers={"Accept-Encoding": "identity"}
    )
    response = await files.send(request, stream=True)
    try:
        with partial.open("wb", buffering=1024 * 1024) as out:
            async for chunk in response.aiter_raw():
                out.write(chunk)
    finally:
        await response.aclose()
    partial.replace(path)
    return path


def wheel_metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as wheel:
        for name in wheel.namelist():
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA"):
                return wheel.read(name)
    raise LookupError(f"{path.name} has no METADATA")


async def file(request: Request) -> Response:
    filename = request.path_params["filename"]
    if filename.endswith(".metadata"):
        wheel = await fetched(filename.removesuffix(".metadata"))
        return Response(await asyncio.to_thread(wheel_metadata, wheel))
    return FileResponse(await fetched(filename))


async def ready(request: Request) -> Response:
    return Response("ready")


app = Starlette(
    routes=[
        Route("/simple/{name}/", project_page),
        Route("/files/{filename}", file),
        Route("/readyz", ready),
    ]
)
