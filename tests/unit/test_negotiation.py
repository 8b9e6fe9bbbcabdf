"""choose_format(): PEP 691 content negotiation as real installers and browsers send it (J5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.services.simple_pages import PageFormat
from packyard.web.negotiation import NotAcceptable, choose_format

pytestmark = pytest.mark.unit

JSON = PageFormat.JSON_V1
HTML = PageFormat.HTML
HTML_V1 = PageFormat.HTML_V1

PIP = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
UV = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
POETRY = "application/vnd.pypi.simple.v1+json, */*;q=0.1"
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(PIP, JSON, id="pip"),
        pytest.param(UV, JSON, id="uv"),
        pytest.param(POETRY, JSON, id="poetry"),
        pytest.param(FIREFOX, HTML, id="firefox"),
        pytest.param(CHROME, HTML, id="chrome"),
        pytest.param("*/*", HTML, id="anything"),
        pytest.param(None, HTML, id="no-header"),
        pytest.param("", HTML, id="empty-header"),
        pytest.param("  ", HTML, id="blank-header"),
        pytest.param("text/html", HTML, id="text-html"),
        pytest.param("text/*", HTML, id="text-wildcard"),
        pytest.param("application/vnd.pypi.simple.v1+html", HTML_V1, id="v1-html"),
        pytest.param("application/vnd.pypi.simple.v1+json", JSON, id="v1-json"),
        pytest.param("application/vnd.pypi.simple.latest+json", JSON, id="latest-json"),
        pytest.param("application/vnd.pypi.simple.latest+html", HTML_V1, id="latest-html"),
        pytest.param("APPLICATION/VND.PYPI.SIMPLE.V1+JSON", JSON, id="case-insensitive"),
        pytest.param(
            "text/html;q=0.9, application/vnd.pypi.simple.v1+json;q=0.5", HTML, id="q-ordering"
        ),
        pytest.param(
            "application/vnd.pypi.simple.v1+json;q=0.5, text/html;q=0.5", JSON, id="tie-json"
        ),
        pytest.param("application/vnd.pypi.simple.v1+json;q=0, text/html", HTML, id="q0-skipped"),
        pytest.param("application/vnd.pypi.simple.v1+json;level=1;q=0.8", JSON, id="params"),
    ],
)
def test_accept_header_selects_the_format(accept: str | None, expected: PageFormat) -> None:
    assert choose_format(accept) is expected


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.pypi.simple.v1+json;q=0",
        "text/html;q=0",
        "image/png",
        "application/xml, image/webp",
        "application/vnd.pypi.simple.v2+json",
        "text/html;q=0, application/vnd.pypi.simple.v1+json;q=0.0",
        "text/html;q=nonsense",
    ],
)
def test_nothing_acceptable_is_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        choose_format(accept)


@pytest.mark.parametrize(
    ("accept", "refused"),
    [
        ("text/html;q=0, */*", HTML),
        ("application/vnd.pypi.simple.v1+json;q=0, application/*", JSON),
        ("application/vnd.pypi.simple.v1+json;q=0, */*;q=0.5", JSON),
    ],
)
def test_type_refused_with_q0_is_not_served_through_a_wildcard(
    accept: str, refused: PageFormat
) -> None:
    # RFC 9110 12.5.1: the most specific media range takes precedence, so an explicit
    # q=0 excludes the type even when a wildcard in the same header would admit it.
    try:
        chosen = choose_format(accept)
    except NotAcceptable:
        return
    assert chosen is not refused


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("application/vnd.pypi.simple.v1+json", JSON),
        ("application/vnd.pypi.simple.v1+html", HTML_V1),
        ("text/html", HTML),
    ],
)
@pytest.mark.parametrize("accept", [None, FIREFOX, PIP, "image/png"])
def test_format_query_parameter_overrides_the_accept_header(
    accept: str | None, override: str, expected: PageFormat
) -> None:
    assert choose_format(accept, override) is expected


@pytest.mark.parametrize("override", ["json", "application/json", "text/plain"])
def test_unknown_format_query_parameter_is_not_acceptable(override: str) -> None:
    with pytest.raises(NotAcceptable, match="Unknown format"):
        choose_format(PIP, override)


def test_empty_format_query_parameter_is_ignored() -> None:
    assert choose_format(PIP, "") is JSON


def _q(thousandths: int) -> str:
    return "1" if thousandths == 1000 else f"0.{thousandths:03d}"


@given(json_q=st.integers(1, 1000), html_q=st.integers(1, 1000), json_first=st.booleans())
def test_higher_quality_wins_and_json_wins_ties(json_q: int, html_q: int, json_first: bool) -> None:
    items = [
        f"application/vnd.pypi.simple.v1+json;q={_q(json_q)}",
        f"text/html;q={_q(html_q)}",
    ]
    accept = ", ".join(items if json_first else reversed(items))

    assert choose_format(accept) is (JSON if json_q >= html_q else HTML)


@given(st.text(max_size=200))
def test_any_header_gives_a_format_or_not_acceptable(accept: str) -> None:
    try:
        chosen = choose_format(accept)
    except NotAcceptable:
        return
    assert chosen in set(PageFormat)
