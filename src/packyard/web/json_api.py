"""`/pypi/<project>/json` and `/pypi/<project>/<version>/json`, like warehouse."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from packyard.domain.models import DistFile
from packyard.domain.names import normalize
from packyard.services.json_api import project_json
from packyard.web.errors import text_error
from packyard.web.state import WebState, state


async def project_document(request: Request) -> Response:
    web = state(request)
    via = request.path_params.get("index")
    resolved = web.container.serials.resolve(via)
    if resolved is None:
        return text_error(404, f"There is no index named {via!r}" if via else "No default index")
    index = resolved[0]
    raw = request.path_params["project"]
    version = request.path_params.get("version")
    name = normalize(raw)
    if raw != name:
        prefix = f"{web.urls.prefix}/{via}" if via else web.urls.prefix
        tail = f"{version}/json" if version else "json"
        return RedirectResponse(f"{prefix}/pypi/{name}/{tail}", 301)
    document = await run_in_threadpool(_load, web, request, index, via, name, version)
    if document is None:
        what = f"{name} {version}" if version else name
        return text_error(404, f"There is no project or release {what!r} in index {index!r}")
    return JSONResponse(document, headers={"Cache-Control": "max-age=60, public"})


def _load(
    web: WebState, request: Request, index: str, via: str | None, name: str, version: str | None
) -> dict[str, Any] | None:
    with web.container.uow(readonly=True) as uow:
        project = uow.projects.get(index, normalize(name))
        files = uow.files.for_project(index, project.name) if project else []
    if project is None or not files:
        return None

    def file_url(f: DistFile) -> str:
        return web.urls.absolute(request, web.urls.file(f))

    project_url = web.urls.absolute(request, web.urls.simple(via, name))
    json_root = web.urls.absolute(request, f"{web.urls.prefix}{f'/{via}' if via else ''}/pypi/")
    return project_json(
        project,
        files,
        version=version,
        file_url=file_url,
        project_url=project_url,
        release_url=lambda v: f"{json_root}{name}/{v}/json",
    )
