"""The management REST API, mounted at /api/v1 (OpenAPI document at /api/v1/openapi.json).

Routes parse the request, call the same services as the CLI, and render a response
model; the services and the domain decide who may do what.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError

from packyard.bootstrap import Container
from packyard.domain.errors import PackyardError
from packyard.web.api import audit, docs, indexes, projects, teams, tokens, users
from packyard.web.api.errors import packyard_error_as_json, validation_error_as_json
from packyard.web.api.schemas import COMMON_RESPONSES
from packyard.web.api.security import same_site, storable_parameters
from packyard.web.state import Urls, WebState

ROUTERS = tuple(module.router for module in (indexes, projects, docs, users, teams, tokens, audit))


def create_api(container: Container) -> FastAPI:
    api = FastAPI(
        title="packyard management API",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(same_site), Depends(storable_parameters)],
        responses=COMMON_RESPONSES,
        exception_handlers={
            PackyardError: packyard_error_as_json,
            RequestValidationError: validation_error_as_json,
        },
    )
    for router in ROUTERS:
        api.include_router(router)
    # principal_of finds the container through the (mounted) app's state.
    api.state.web = WebState(container=container, urls=Urls())
    return api
