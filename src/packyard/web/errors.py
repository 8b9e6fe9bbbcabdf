"""The one place where domain errors become HTTP responses (text/plain, for twine & co.)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from packyard.adapters.upstream import UpstreamError, UpstreamNotFound, UpstreamTimeout
from packyard.domain import errors

REALM = 'Basic realm="packyard", charset="UTF-8"'

_STATUS: tuple[tuple[type[errors.PackyardError], int], ...] = (
    (UpstreamTimeout, 504),
    (UpstreamNotFound, 404),
    (UpstreamError, 502),
    # FileExists first: it is a Conflict, but clients match "File already exists" on a 400.
    (errors.FileExists, 400),
    (errors.InvalidInput, 400),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Gone, 410),
    (errors.TooLarge, 413),
    (errors.RateLimited, 429),
)


def status_for(error: errors.PackyardError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    # ASGI servers cannot send a custom reason phrase, so the body carries the message.
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


async def packyard_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.PackyardError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": REALM} if status == 401 else {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return text_error(status, str(exc), headers)
