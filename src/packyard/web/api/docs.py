"""/indexes/{index}/projects/{project}/docs: list a project's docs, upload a release's.

The upload's body is the zipped site itself (`curl -T site.zip`); owners, maintainers and
admins only, checked by the service. A virtual index stands for its hosted upload target.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from packyard.adapters.spool import limit_stream
from packyard.bootstrap import Container
from packyard.domain.access import Principal, check_read
from packyard.domain.index_config import IndexSettings
from packyard.services.docs import list_docs
from packyard.services.indexes import resolve_index, upload_target
from packyard.web.api.schemas import ErrorBody, errors
from packyard.web.api.security import Caller, Store
from packyard.web.docs import docs_link, store_docs

router = APIRouter(prefix="/indexes/{index}/projects/{project}/docs", tags=["docs"])

_ZIP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The built site, zipped, with index.html at its top",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "Larger than PACKYARD_MAX_UPLOAD_SIZE"}
}


class DocsOut(BaseModel):
    index: str
    project: str
    versions: list[str]
    latest: str | None
    url: str | None


class DocsUploadedOut(BaseModel):
    index: str
    project: str
    version: str
    files: int
    url: str


@router.get(
    "",
    operation_id="listDocs",
    summary="The versions of a project that have documentation, and which one is latest",
    responses=errors(404, 409),
)
def list_project_docs(
    index: str, project: str, who: Caller, container: Store, request: Request
) -> DocsOut:
    hosted = _hosted(container, index, who)
    found = list_docs(uow_factory=container.uow, index=hosted, project=project)
    url = docs_link(container.settings, request, hosted, found.project, "latest")
    return DocsOut(
        index=hosted,
        project=found.project,
        versions=list(found.versions),
        latest=found.latest,
        url=url if found.latest else None,
    )


@router.put(
    "/{version}",
    operation_id="uploadDocs",
    summary="Upload a release's documentation as a zip, replacing what it had (owners, "
    "maintainers, admins)",
    responses={**errors(404, 409), **_TOO_LARGE},
    openapi_extra=_ZIP_BODY,
)
async def upload_release_docs(
    index: str, project: str, version: str, who: Caller, container: Store, request: Request
) -> DocsUploadedOut:
    hosted = _hosted(container, index, who)
    spooled = await _spool_body(request, container)
    try:
        docset = await store_docs(
            request, spooled, index=hosted, project=project, version=version, who=who
        )
    finally:
        spooled.unlink(missing_ok=True)
    return DocsUploadedOut(
        index=hosted,
        project=docset.project,
        version=docset.version,
        files=len(docset.members),
        url=docs_link(container.settings, request, hosted, docset.project, docset.version),
    )


async def _spool_body(request: Request, container: Container) -> Path:
    staging = container.files.staging_dir()
    staging.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=staging, prefix="docs-upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in limit_stream(request.stream(), container.settings.max_upload_size):
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _hosted(container: Container, index: str, who: Principal) -> str:
    """The hosted index behind `index`, once the caller may read `index`."""
    with container.uow(readonly=True) as uow:
        named = resolve_index(uow, index)
        check_read(who, named.name, IndexSettings.of(named).readers)
        return upload_target(uow, named).name
