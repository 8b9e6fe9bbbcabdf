"""Prometheus metrics, and a pure-ASGI middleware that counts and times every request."""

from __future__ import annotations

import functools
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("packyard_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "packyard_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
# Set by the page fast path, which answers without the router setting scope["route"].
ROUTE_KEY = "packyard.route"

UPLOADS = Counter("packyard_uploads_total", "Upload attempts", ["index", "result"])
BYTES_SERVED = Counter("packyard_file_bytes_served_total", "Distribution bytes sent")


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            label = scope.get(ROUTE_KEY) or getattr(scope.get("route"), "path", "unmatched")
            _children(label, scope["method"], status)[0].inc()
            _children(label, scope["method"], status)[1].observe(time.perf_counter() - start)


@functools.lru_cache(maxsize=1024)
def _children(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    # labels() takes a lock and builds a key on every call; the hot path reuses children.
    return REQUESTS.labels(route, method, str(status)), LATENCY.labels(route)


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
