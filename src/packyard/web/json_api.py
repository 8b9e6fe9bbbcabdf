"""`/pypi/<project>/json` and `/pypi/<project>/<version>/json`, like warehouse.

Answered for projects whose files packyard holds (hosted), also through a virtual index
whose answering member is hosted; mirrored projects have their upstream's JSON API.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from packyard.domain.access import Principal
from packyard.domain.models import DistFile, IndexKind
from packyard.domain.names import NormalizedName, normalize
from packyard.services.json_api import project_json
from packyard.web.auth import principal_of
from packyard.web.docs import docs_url_for
from packyard.web.errors import text_error
from packyard.web.state import WebState, state


async def project_document(request: Request) -> Response:
    web = state(request)
    via = request.path_params.get("index")
    resolved = web.container.serials.resolve(via)
    if resolved is None:
        return text_error(404, f"There is no index named {via!r}" if via else "No default index")
    serving = resolved[0]
    raw = request.path_params["project"]
    version = request.path_params.get("version")
    name = normalize(raw)
    if raw != name:
        prefix = f"{web.urls.prefix}/{via}" if via else web.urls.prefix
        tail = f"{version}/json" if version else "json"
        return RedirectResponse(f"{prefix}/pypi/{name}/{tail}", 301)
    holder = await _hosted_holder(web, serving, name, await principal_of(request))
    document = None
    if holder is not None:
        document = await run_in_threadpool(_load, web, request, holder, serving, via, name, version)
    if document is None:
        what = f"{name} {version}" if version else name
        return text_error(404, f"There is no hosted project or release {what!r} in {serving!r}")
    return JSONResponse(document, headers={"Cache-Control": "max-age=60, public"})


async def _hosted_holder(
    web: WebState, serving: str, name: NormalizedName, reader: Principal
) -> str | None:
    """The hosted index whose files `serving` shows for the project, if any."""
    catalog = web.container.catalog
    index = await catalog.index(serving)
    if index is None:
        return None
    view = await catalog.project(index, name, reader=reader)
    if index.kind is IndexKind.HOSTED:
        return index.name
    if view is None or not view.answered_by:
        return None
    holder = await catalog.index(view.answered_by[0])
    return holder.name if holder is not None and holder.kind is IndexKind.HOSTED else None


def _load(
    web: WebState,
    request: Request,
    holder: str,
    serving: str,
    via: str | None,
    name: NormalizedName,
    version: str | None,
) -> dict[str, Any] | None:
    with web.container.uow(readonly=True) as uow:
        project = uow.projects.get(holder, name)
        files = uow.files.for_project(holder, project.name) if project else []
        documented = uow.docs.versions(holder, project.name) if project else []
    if project is None or not files:
        return None
    file_url = web.container.catalog.file_url

    def absolute_file_url(f: DistFile) -> str:
        return web.urls.absolute(request, file_url(serving, f.filename, f.digests.sha256))

    project_url = web.urls.absolute(request, web.urls.simple(via, name))
    json_root = web.urls.absolute(request, f"{web.urls.prefix}{f'/{via}' if via else ''}/pypi/")
    return project_json(
        project,
        files,
        version=version,
        file_url=absolute_file_url,
        project_url=project_url,
        release_url=lambda v: f"{json_root}{name}/{v}/json",
        docs_url=docs_url_for(web, request, via, name, version, documented, files),
    )
