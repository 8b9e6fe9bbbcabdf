"""warehouse's legacy upload API (`POST /legacy/`), as twine, uv, flit and poetry use it."""

from __future__ import annotations

from anyio import from_thread
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from packyard.adapters.spool import limit_stream, spool_file, too_large
from packyard.domain.access import Principal
from packyard.domain.errors import Forbidden, InvalidInput, NotFound
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Index
from packyard.domain.names import NormalizedName
from packyard.domain.upload import DOC_UPLOAD, UploadForm
from packyard.services.confusion import check_new_project
from packyard.services.indexes import resolve_index, upload_target
from packyard.services.publish import PublishResult, publish
from packyard.web.auth import client_address, require_user
from packyard.web.docs import upload_docs_form
from packyard.web.metrics import UPLOADS
from packyard.web.state import WebState, state

# Room for the form fields (a long description, say) around the file itself.
FORM_OVERHEAD = 16 * 1024 * 1024


async def upload(request: Request) -> Response:
    web = state(request)
    named = request.path_params.get("index")
    resolved = web.container.serials.resolve(named)
    if resolved is None:
        raise NotFound(f"There is no index named {named!r} to upload to")
    target = await run_in_threadpool(_upload_target, web, resolved[0])
    index = target.name
    user = await require_user(request)
    # Before the body is read: someone who may not upload here sends it for nothing.
    if not IndexSettings.of(target).uploaders.admits(user):
        raise Forbidden(f"{user.name} may not upload to index {index!r}")
    limit = web.container.settings.max_upload_size
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("Uploads must be sent as multipart/form-data")
    form = await _parse_form(request, limit)
    if form.get(":action") == DOC_UPLOAD:
        return await upload_docs_form(request, form, index=index, uploader=user)
    try:
        result = await _publish_form(
            web, form, index=index, uploader=user, address=client_address(request)
        )
    except Exception:
        UPLOADS.labels(index, "refused").inc()
        raise
    finally:
        await form.close()
    UPLOADS.labels(index, "created" if result.created else "unchanged").inc()
    if result.created:
        return PlainTextResponse(f"Uploaded {result.file.filename}\n")
    return PlainTextResponse(
        f"{result.file.filename} already exists with identical contents; nothing changed\n"
    )


def _upload_target(web: WebState, name: str) -> Index:
    with web.container.uow(readonly=True) as uow:
        return upload_target(uow, resolve_index(uow, name))


async def _parse_form(request: Request, limit: int) -> FormData:
    parser = MultiPartParser(
        request.headers,
        limit_stream(request.stream(), limit + FORM_OVERHEAD),
        max_files=4,
        max_fields=1000,
        max_part_size=FORM_OVERHEAD,
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(f"The upload form could not be read: {exc}") from exc


async def _publish_form(
    web: WebState, form: FormData, *, index: str, uploader: Principal, address: str | None
) -> PublishResult:
    fields = {key: value for key, value in reversed(form.multi_items()) if isinstance(value, str)}
    upload_form = UploadForm.from_fields(fields)
    content = form.get("content")
    if not isinstance(content, UploadFile) or not content.filename:
        raise InvalidInput("The upload has no file: send it in the 'content' form part")
    container = web.container
    spooled = await run_in_threadpool(
        spool_file,
        content.file,
        container.files.staging_dir(),
        max_size=container.settings.max_upload_size,
    )

    def guard(name: NormalizedName) -> None:
        # publish runs in a worker thread; the upstream check is async.
        from_thread.run(
            lambda: check_new_project(
                uow_factory=container.uow, mirror=container.mirror, hosted=index, name=name
            )
        )

    try:
        return await run_in_threadpool(
            lambda: publish(
                uow_factory=container.uow,
                files=container.files,
                index=index,
                received=spooled,
                filename=content.filename or "",
                actor=uploader.audit_name,
                now=container.clock.now(),
                form=upload_form,
                new_project_guard=guard,
                uploader=uploader,
                address=address,
            )
        )
    finally:
        spooled.path.unlink(missing_ok=True)
