"""Who is calling (HTTP Basic through `principal_of`), and refusing cross-site requests."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPBasic

from packyard.bootstrap import Container
from packyard.domain.access import Principal, check_admin
from packyard.domain.errors import Forbidden, InvalidInput
from packyard.web.auth import client_address, principal_of
from packyard.web.state import state

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BasicScheme(HTTPBasic):
    """Declares HTTP Basic in the OpenAPI document; `principal_of` reads the header."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


_basic = BasicScheme(
    scheme_name="basic",
    description="A user name and password, or `__token__` and an API token.",
    auto_error=False,
)


def store(request: Request) -> Container:
    return state(request).container


async def caller(request: Request, _: Annotated[None, Depends(_basic)]) -> Principal:
    return await principal_of(request)


async def admin(who: Annotated[Principal, Depends(caller)]) -> Principal:
    check_admin(who)
    return who


def address(request: Request) -> str | None:
    return client_address(request)


Store = Annotated[Container, Depends(store)]
Caller = Annotated[Principal, Depends(caller)]
Admin = Annotated[Principal, Depends(admin)]
Address = Annotated[str | None, Depends(address)]


async def same_site(request: Request) -> None:
    """Refuse unsafe methods sent by another site's page (CSRF): browsers attach Basic
    credentials they remember to such requests."""
    if request.method not in UNSAFE:
        return
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise Forbidden("Cross-site requests are refused")
    origin = request.headers.get("origin")
    if origin is not None and not _same_host(origin, request.headers.get("host", "")):
        raise Forbidden(f"Requests from origin {origin!r} are refused")


def _same_host(origin: str, host: str) -> bool:
    """Whether Origin names the Host the request was sent to; a Host without a port is at
    the origin scheme's default port (as behind a TLS-terminating proxy)."""
    try:
        parts = urlsplit(origin)
        theirs = (parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme))
        ours = urlsplit(f"{parts.scheme}://{host}")
        mine = (ours.hostname, ours.port or _DEFAULT_PORTS.get(parts.scheme))
    except ValueError:
        return False
    return theirs[0] is not None and theirs == mine


async def storable_parameters(request: Request) -> None:
    """NUL cannot be stored or looked up in PostgreSQL text; refuse it in the URL (bodies
    are screened by their models)."""
    values = [*request.path_params.values(), *request.query_params.values()]
    if any("\x00" in value for value in values):
        raise InvalidInput("NUL characters are not allowed in the URL")
