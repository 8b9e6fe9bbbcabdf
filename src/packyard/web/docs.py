"""Hosted documentation: `/docs/<project>/<version>/...` (and `/<index>/docs/...`), and its
upload through the legacy form (`:action=doc_upload`).

Uploaded HTML is untrusted: every docs response carries `Content-Security-Policy: sandbox`,
so a page runs in an opaque origin and cannot act with a visitor's credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from packyard.adapters.spool import spool_file
from packyard.config import Settings
from packyard.domain.access import Principal
from packyard.domain.docs import (
    LATEST,
    AddSlash,
    DocMember,
    DocSet,
    latest_documented,
    match_version,
    resolve_path,
)
from packyard.domain.errors import InvalidInput, NotFound, PackyardError
from packyard.domain.models import DistFile
from packyard.domain.names import normalize
from packyard.domain.upload import DocUploadForm
from packyard.services.docs import find_docs, upload_docs
from packyard.web.auth import client_address, principal_of
from packyard.web.errors import packyard_error_handler, text_error
from packyard.web.state import Urls, WebState, state

SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Docs of a version can be replaced: revalidate (cheaply, by ETag) every time.
CACHE_CONTROL = "private, no-cache"


def docs_path(prefix: str, via: str | None, project: str, version: str) -> str:
    return f"{prefix}{f'/{via}' if via else ''}/docs/{project}/{version}/"


def docs_link(
    settings: Settings, request: Request, via: str | None, project: str, version: str
) -> str:
    """An absolute link to docs: on PACKYARD_DOCS_URL's origin when set, else this one."""
    if settings.docs_url:
        return settings.docs_url + docs_path("", via, project, version)
    urls = Urls(prefix=settings.url_prefix, base_url=settings.base_url)
    return urls.absolute(request, docs_path(urls.prefix, via, project, version))


async def docs_page(request: Request) -> Response:
    try:
        response = await _docs_page(request)
    except PackyardError as error:
        response = await packyard_error_handler(request, error)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _docs_page(request: Request) -> Response:
    web = state(request)
    via = request.path_params.get("index")
    raw = request.path_params["project"]
    version = request.path_params["version"]
    path: str | None = request.path_params.get("path")
    resolved = web.container.serials.resolve(via)
    if resolved is None:
        return text_error(404, f"There is no index named {via!r}" if via else "No default index")
    name = normalize(raw)
    base = docs_path(web.urls.prefix, via, name, version)
    if raw != name or path is None:
        return RedirectResponse(base + (path or ""), 301)
    index = await web.container.catalog.index(resolved[0])
    if index is None:
        raise NotFound(f"There is no index named {resolved[0]!r}")
    docset = await find_docs(
        catalog=web.container.catalog,
        uow_factory=web.container.uow,
        serving=index,
        project=name,
        version=version,
        reader=await principal_of(request),
    )
    found = resolve_path(docset.members, path)
    if isinstance(found, AddSlash):
        return RedirectResponse(f"{base}{path}/", 301)
    if found is None:
        raise NotFound(f"There is no page {path!r} in the documentation of {name} {version}")
    return _member_response(request, web, found.member)


def _member_response(request: Request, web: WebState, member: DocMember) -> Response:
    etag = f'"{member.sha256}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
    if request.headers.get("if-none-match") in {etag, "*"}:
        return Response(status_code=304, headers=headers)
    path = web.container.files.local_path(member.sha256)
    if path is None or not path.exists():
        return text_error(500, "The blob store cannot serve this file from local disk")
    return FileResponse(path, media_type=member.content_type, headers=headers)


async def upload_docs_form(
    request: Request, form: FormData, *, index: str, uploader: Principal
) -> Response:
    """`:action=doc_upload` on the legacy upload URL: `name`, optional `version`, and the
    zipped site in `content`."""
    try:
        fields = {k: v for k, v in reversed(form.multi_items()) if isinstance(v, str)}
        docs = DocUploadForm.from_fields(fields)
        content = form.get("content")
        if not isinstance(content, UploadFile):
            raise InvalidInput("The upload has no zip: send it in the 'content' form part")
        docset = await receive_docs(
            request, content, index=index, project=docs.name, version=docs.version, who=uploader
        )
    finally:
        await form.close()
    return PlainTextResponse(_uploaded(request, docset))


async def receive_docs(
    request: Request,
    content: UploadFile,
    *,
    index: str,
    project: str,
    version: str | None,
    who: Principal,
) -> DocSet:
    container = state(request).container
    spooled = await run_in_threadpool(
        spool_file,
        content.file,
        container.files.staging_dir(),
        max_size=container.settings.max_upload_size,
    )
    try:
        return await store_docs(
            request, spooled.path, index=index, project=project, version=version, who=who
        )
    finally:
        spooled.path.unlink(missing_ok=True)


async def store_docs(
    request: Request,
    archive: Path,
    *,
    index: str,
    project: str,
    version: str | None,
    who: Principal,
) -> DocSet:
    """Store the zip at `archive` as the release's docs (the form and the API share it)."""
    container = state(request).container
    return await run_in_threadpool(
        lambda: upload_docs(
            uow_factory=container.uow,
            files=container.files,
            index=index,
            project=project,
            version=version,
            archive=archive,
            who=who,
            actor=who.audit_name,
            now=container.clock.now(),
            address=client_address(request),
        )
    )


def _uploaded(request: Request, docset: DocSet) -> str:
    settings = state(request).container.settings
    link = docs_link(settings, request, docset.index, docset.project, docset.version)
    return (
        f"Uploaded documentation for {docset.project} {docset.version} "
        f"({len(docset.members)} files): {link}\n"
    )


def docs_url_for(
    web: WebState,
    request: Request,
    via: str | None,
    project: str,
    version: str | None,
    documented: Sequence[str],
    files: Sequence[DistFile],
) -> str | None:
    """`info.docs_url` of the JSON API: the release's docs when it has some, else latest."""
    chosen = match_version(documented, version) if version else None
    if chosen is None:
        latest = latest_documented(documented, [(f.version, f.yanked) for f in files])
        chosen = LATEST if latest else None
    return docs_link(web.container.settings, request, via, project, chosen) if chosen else None
