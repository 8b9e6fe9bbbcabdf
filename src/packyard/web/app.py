"""The ASGI application: routes, error mapping and middleware, built from settings."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from packyard.bootstrap import Container, bootstrap
from packyard.config import Settings, load_settings
from packyard.domain.errors import PackyardError
from packyard.logs import configure_logging, get_logger
from packyard.web import docs, files, json_api, ops, simple
from packyard.web.access_log import AccessLogMiddleware
from packyard.web.api import create_api
from packyard.web.errors import packyard_error_handler, text_error
from packyard.web.explain import explain
from packyard.web.fastpath import PageFastPath
from packyard.web.metrics import MetricsMiddleware, metrics
from packyard.web.state import Urls, WebState
from packyard.web.upload import upload

READ = ["GET", "HEAD"]
log = get_logger("packyard.app")


async def no_trusted_publishing(request: Request) -> Response:
    # pdm probes this before publishing; 404 tells it trusted publishing is not offered.
    return text_error(404, "Trusted publishing is not configured on this index")


async def upload_elsewhere(request: Request) -> Response:
    return text_error(405, "Uploads go to /legacy/ or /<index>/legacy/", {"Allow": "GET, HEAD"})


def routes() -> list[Route]:
    return [
        Route("/healthz", ops.healthz, methods=READ),
        Route("/readyz", ops.readyz, methods=READ),
        Route("/metrics", metrics, methods=READ),
        Route("/_/oidc/audience", no_trusted_publishing, methods=READ),
        Route("/simple", simple.index_page, methods=READ),
        Route("/simple/", simple.index_page, methods=READ),
        Route("/simple/{project}", simple.project_page, methods=READ),
        Route("/simple/{project}/", simple.project_page, methods=READ),
        Route("/legacy", upload, methods=["POST"]),
        Route("/legacy/", upload, methods=["POST"]),
        Route("/pypi/{project}/json", json_api.project_document, methods=READ),
        Route("/pypi/{project}/{version}/json", json_api.project_document, methods=READ),
        Route("/docs/{project}/{version}", docs.docs_page, methods=READ),
        Route("/docs/{project}/{version}/{path:path}", docs.docs_page, methods=READ),
        Route("/{index}/docs/{project}/{version}", docs.docs_page, methods=READ),
        Route("/{index}/docs/{project}/{version}/{path:path}", docs.docs_page, methods=READ),
        Route("/{index}/simple", simple.index_page, methods=READ),
        Route("/{index}/simple/", simple.index_page, methods=READ),
        Route("/{index}/simple/{project}", simple.project_page, methods=READ),
        Route("/{index}/simple/{project}/", simple.project_page, methods=READ),
        Route("/{index}/legacy", upload, methods=["POST"]),
        Route("/{index}/legacy/", upload, methods=["POST"]),
        Route("/{index}/pypi/{project}/json", json_api.project_document, methods=READ),
        Route("/{index}/pypi/{project}/{version}/json", json_api.project_document, methods=READ),
        Route("/{index}/+f/{sha256}/{filename}", files.file_download, methods=READ),
        Route("/{index}/+explain/{project}", explain, methods=READ),
        Route("/{index}/+as-of/{when}/simple/{project}", simple.as_of_project_page, methods=READ),
        Route("/{index}/+as-of/{when}/simple/{project}/", simple.as_of_project_page, methods=READ),
    ]


GC_YOUNG_THRESHOLD = 50_000


def create_app(settings: Settings | None = None, container: Container | None = None) -> Starlette:
    settings = settings or load_settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    built = container or bootstrap(settings)
    prefix = settings.url_prefix

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        flusher = asyncio.create_task(_flush_periodically(built))
        await run_in_threadpool(built.mirror.prepare)
        # Everything made at start-up lives as long as the process: moved out of the
        # collector's reach, a full collection no longer walks it. Big mirror pages build
        # tens of thousands of objects, and the collections they set off took a third of
        # their time.
        gc.freeze()
        # A big mirrored page allocates hundreds of thousands of short-lived objects; at
        # the default threshold (700) the collector ran so often that it cost a sixth of a
        # cold install's page work (bench: 32 cold pages, 2.1 s -> 1.8 s of CPU).
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        yield
        flusher.cancel()
        await run_in_threadpool(_flush, built)
        await built.mirror.aclose()
        if container is None:
            built.close()

    web = WebState(container=built, urls=Urls(prefix=prefix, base_url=settings.base_url))
    app = Starlette(
        routes=[Mount("/api/v1", app=create_api(built)), *routes()],
        middleware=[
            *([Middleware(AccessLogMiddleware)] if settings.access_log else []),
            Middleware(MetricsMiddleware),
            Middleware(PageFastPath, web=web),
        ],
        exception_handlers={PackyardError: packyard_error_handler},
        lifespan=lifespan,
    )
    app.state.web = web
    return app


FLUSH_SECONDS = 5.0


async def _flush_periodically(container: Container) -> None:
    """Download counters and token last-use times reach the database in batches."""
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        try:
            await run_in_threadpool(_flush, container)
        except Exception:  # a failed flush is retried with the next batch; keep serving
            log.exception("flushing download counters failed")


def _flush(container: Container) -> None:
    container.downloads.flush()
    container.auth.flush()


def create_app_from_environment() -> Starlette:
    """Entry point for server workers: settings come from PACKYARD_* (set by `serve`)."""
    return create_app(load_settings())
