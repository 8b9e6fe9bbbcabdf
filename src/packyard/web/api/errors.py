"""Errors as JSON `{"detail": ...}`: packyard's with the status codes used everywhere else,
request validation's as a 422 that names the fields but never echoes what was sent (it
may be a password, or text that cannot even be encoded)."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from packyard.domain import errors
from packyard.web.errors import REALM, status_for


async def packyard_error_as_json(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.PackyardError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": REALM} if status == 401 else {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


async def validation_error_as_json(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(error["loc"]), "msg": _printable(error["msg"]), "type": error["type"]}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
