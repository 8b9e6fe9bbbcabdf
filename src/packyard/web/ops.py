"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

import tempfile

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from packyard.web.state import WebState, state


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    problems = await run_in_threadpool(_problems, state(request))
    if problems:
        return PlainTextResponse("\n".join(problems) + "\n", status_code=503)
    return PlainTextResponse("ready\n")


def _problems(web: WebState) -> list[str]:
    problems = []
    try:
        with web.container.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the text says which
        problems.append(f"database unreachable: {type(exc).__name__}: {exc}")
    staging = web.container.files.staging_dir()
    try:
        staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=staging) as probe:
            probe.write(b"ok")
    except OSError as exc:
        problems.append(f"blob store not writable at {staging}: {exc}")
    return problems
