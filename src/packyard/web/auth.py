"""HTTP Basic credentials (what pip, uv, twine and poetry send)."""

from __future__ import annotations

import base64
import binascii

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from packyard.domain.errors import Forbidden, Unauthorized
from packyard.domain.models import User
from packyard.web.state import state


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


async def require_user(request: Request) -> User:
    """The authenticated user, or Unauthorized (no credentials) / Forbidden (wrong ones)."""
    credentials = basic_credentials(request)
    if credentials is None:
        raise Unauthorized(
            "Authentication required: log in with your packyard user name and password"
        )
    name, password = credentials
    user = await run_in_threadpool(state(request).container.auth.authenticate, name, password)
    if user is None:
        raise Forbidden(f"Invalid or non-existent authentication information for user {name!r}")
    return user
