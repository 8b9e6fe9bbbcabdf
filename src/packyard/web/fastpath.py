"""Serve current, already rendered simple pages without entering the router.

Installing resolves dozens of project pages per run and CI runs install all day, so the
common case (a page that is cached and still current) skips routing and request objects:
parse the path, read the index serial, look up the cache, send bytes. Anything else — a
miss, a redirect, a query string, an unknown index — falls through to the full app.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from packyard.services.simple_pages import Page
from packyard.web.metrics import ROUTE_KEY
from packyard.web.negotiation import NotAcceptable, choose_format
from packyard.web.simple import cached_reply
from packyard.web.state import WebState

_DEFAULT_ROUTE = "/simple/{project}/"
_INDEX_ROUTE = "/{index}/simple/{project}/"


class PageFastPath:
    def __init__(self, app: ASGIApp, web: WebState) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in {"GET", "HEAD"}:
            reply = self._reply(scope)
            if reply is not None:
                status, headers, body = reply
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _reply(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        if scope["query_string"]:
            return None
        parts = scope["path"].split("/")
        if len(parts) == 4 and parts[1] == "simple" and parts[3] == "":
            index_name, project, route = None, parts[2], _DEFAULT_ROUTE
        elif len(parts) == 5 and parts[2] == "simple" and parts[4] == "":
            index_name, project, route = parts[1], parts[3], _INDEX_ROUTE
        else:
            return None
        headers = dict(scope["headers"])
        try:
            fmt = choose_format(_text(headers.get(b"accept")))
        except NotAcceptable:
            return None
        resolved = self.web.container.serials.resolve(index_name)
        if resolved is None:
            return None
        index, serial = resolved
        entry = self.web.pages.get((index, project, fmt.value), serial)
        if not isinstance(entry, Page):
            return None
        scope[ROUTE_KEY] = route
        return cached_reply(
            entry,
            accept_encoding=_text(headers.get(b"accept-encoding")) or "",
            if_none_match=_text(headers.get(b"if-none-match")),
        )


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None
