"""Schemathesis against /api/v1/openapi.json: no 5xx, every status and body as documented.

Runs against the whole ASGI app (the API is mounted at /api/v1, as served) over a fresh
SQLite store, authenticated as an administrator so operations get past the checks.
About 25 generated examples per operation (positive and negative), derandomised so a run
repeats. One test per operation: schemathesis' own pytest loader (`from_fixture`) does not
work with pytest 9 (it sets `Function._nodeid`), so each test asks for its operation's
strategy and runs it with Hypothesis.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from packyard.bootstrap import bootstrap
from packyard.config import load_settings
from packyard.services.users import add_user
from packyard.web.api import ROUTERS
from packyard.web.app import create_app

pytestmark = pytest.mark.integration

ADMIN = ("admin", "schemathesis-password")
CREDENTIALS = base64.b64encode(":".join(ADMIN).encode()).decode()
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
OPERATIONS = [
    pytest.param(route.path, method, id=route.operation_id)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods or ()
]
BUDGET_SECONDS = 150.0  # for the whole run: under ~3 minutes on 2 cores
REQUEST_TIMEOUT_SECONDS = 10.0


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    """A fresh store per run, with one administrator."""
    data_dir: Path = tmp_path_factory.mktemp("schemathesis") / "data"
    container = bootstrap(load_settings(data_dir=data_dir, upstream_url="none"))
    add_user(
        uow_factory=container.uow,
        clock=container.clock,
        name=ADMIN[0],
        password=ADMIN[1],
        admin=True,
        actor="test",
    )
    app = create_app(container=container)
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    container.close()


@pytest.fixture(scope="module")
def deadline() -> float:
    return time.monotonic() + BUDGET_SECONDS


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_operation_conforms_to_the_openapi_document(
    api_schema: schemathesis.BaseSchema, deadline: float, path: str, method: str
) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=25,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: schemathesis.Case[Any]) -> None:
        if time.monotonic() > deadline:
            pytest.fail(f"the schemathesis run took longer than its {BUDGET_SECONDS:.0f} s")
        case.call_and_validate(
            headers={"Authorization": f"Basic {CREDENTIALS}"},
            checks=CHECKS,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    check()
