"""`GET /<index>/+explain/<project>`: which member answered, which were shadowed, and
which files a policy removed and why."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from packyard.domain.names import normalize
from packyard.services.catalog import ProjectView
from packyard.web.auth import principal_of
from packyard.web.errors import text_error
from packyard.web.state import state


async def explain(request: Request) -> Response:
    catalog = state(request).container.catalog
    index_name = request.path_params["index"]
    index = await catalog.index(index_name)
    if index is None:
        return text_error(404, f"There is no index named {index_name!r}")
    name = normalize(request.path_params["project"])
    view = await catalog.project(index, name, reader=await principal_of(request))
    return JSONResponse(explanation(index_name, name, view))


def explanation(index: str, name: str, view: ProjectView | None) -> dict[str, Any]:
    if view is None:
        return {"index": index, "project": name, "found": False}
    return {
        "index": index,
        "project": name,
        "found": True,
        "answered_by": list(view.answered_by),
        "shadowed": list(view.shadowed),
        "listed": [f.filename for f in view.files],
        "removed": [{"filename": f, "reason": why} for f, why in view.removed],
        "stale": view.stale,
    }
