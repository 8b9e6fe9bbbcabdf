"""Packyard errors as JSON `{"detail": ...}` with the status codes used everywhere else."""

from __future__ import annotations

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
