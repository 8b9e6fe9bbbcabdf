"""The reference point for the page hot path: a bare Starlette route returning cached bytes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b"<!DOCTYPE html>" + b"x" * 1500


async def page(request: Request) -> Response:
    return Response(BODY, media_type="text/html")


app = Starlette(routes=[Route("/simple/{project}/", page)])
