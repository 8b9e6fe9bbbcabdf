"""HTTP Basic credentials (what pip, uv, twine and poetry send) to a principal.

A request without credentials is anonymous; wrong credentials are a 401 with a Basic
challenge, so pip's keyring and netrc flows ask again (a 403 would stop them).
"""

from __future__ import annotations

import base64
import binascii

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from packyard.domain.access import ANONYMOUS_PRINCIPAL, Principal
from packyard.domain.errors import Unauthorized
from packyard.web.state import state

_PRINCIPAL = "packyard.principal"


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


async def principal_of(request: Request) -> Principal:
    """Who is calling; computed once per request."""
    cached: Principal | None = request.scope.get(_PRINCIPAL)
    if cached is not None:
        return cached
    credentials = basic_credentials(request)
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthorized("Malformed Authorization header: use HTTP Basic credentials")
        principal = ANONYMOUS_PRINCIPAL
    else:
        name, secret = credentials
        address = client_address(request)
        authenticator = state(request).container.auth
        principal = await run_in_threadpool(authenticator.principal, name, secret, address=address)
    request.scope[_PRINCIPAL] = principal
    return principal


async def require_user(request: Request) -> Principal:
    principal = await principal_of(request)
    if not principal.authenticated:
        raise Unauthorized(
            "Authentication required: log in with a user name and password or a token"
        )
    return principal


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None
