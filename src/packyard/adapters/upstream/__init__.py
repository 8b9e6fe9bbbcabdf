"""The upstream simple index a mirror pulls from: page parsing, HTTP client, pip's default."""

from __future__ import annotations

from packyard.adapters.upstream.client import (
    Fetched,
    Missing,
    NotModified,
    PageResult,
    UpstreamClient,
    UpstreamNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
    fetch_project_sync,
    redact,
)
from packyard.adapters.upstream.parse import (
    InvalidPage,
    UpstreamError,
    UpstreamFile,
    UpstreamProject,
    parse_project_html,
    parse_project_json,
    parse_project_page,
)
from packyard.adapters.upstream.pip_index import pip_default_index

__all__ = [
    "Fetched",
    "InvalidPage",
    "Missing",
    "NotModified",
    "PageResult",
    "UpstreamClient",
    "UpstreamError",
    "UpstreamFile",
    "UpstreamNotFound",
    "UpstreamProject",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "fetch_project_sync",
    "parse_project_html",
    "parse_project_json",
    "parse_project_page",
    "pip_default_index",
    "redact",
]
