from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.adapters.upstream.parse import (
    UpstreamError,
    UpstreamFile,
    _resolve,
    parse_project_html,
    parse_project_json,
    parse_project_page,
)

pytestmark = pytest.mark.unit

PAGE = "https://mirror.test/simple/demo/"
SHA = "ab" * 32
OTHER_SHA = "cd" * 32
WHEEL = "demo-1.0-py3-none-any.whl"


def json_page(*files: dict[str, Any], **top: Any) -> bytes:
    page = {"meta": {"api-version": "1.1"}, "name": "Demo", "files": list(files)} | top
    return json.dumps(page).encode()


def json_file(**fields: Any) -> dict[str, Any]:
    return {"filename": WHEEL, "url": WHEEL, "hashes": {"sha256": SHA}} | fields


def only_json(**fields: Any) -> UpstreamFile:
    (file,) = parse_project_json(json_page(json_file(**fields)), PAGE, "demo").files
    return file


def html_page(*anchors: str, head: str = "") -> bytes:
    links = "\n".join(anchors)
    return f"<!DOCTYPE html><html><head>{head}</head><body>{links}</body></html>".encode()


def only_html(anchor: str, head: str = "") -> UpstreamFile:
    (file,) = parse_project_html(html_page(anchor, head=head), PAGE, "demo").files
    return file


# --- JSON ----------------------------------------------------------------------------


def test_json_file_carries_every_pep_691_and_700_field() -> None:
    file = only_json(
        **{
            "requires-python": ">=3.9",
            "size": 1234,
            "upload-time": "2024-03-01T12:30:45.123456Z",
            "core-metadata": {"sha256": OTHER_SHA},
        }
    )
    assert file == UpstreamFile(
        filename=WHEEL,
        url=f"{PAGE}{WHEEL}",
        sha256=SHA,
        requires_python=">=3.9",
        size=1234,
        upload_time=datetime(2024, 3, 1, 12, 30, 45, 123456, tzinfo=UTC),
        yanked=False,
        yanked_reason="",
        metadata_sha256=OTHER_SHA,
        has_metadata=True,
    )


def test_json_project_name_is_the_upstream_spelling() -> None:
    assert parse_project_json(json_page(), PAGE, "demo").name == "Demo"


def test_json_without_name_uses_the_requested_name() -> None:
    body = json.dumps({"meta": {"api-version": "1.0"}, "files": []}).encode()
    assert parse_project_json(body, PAGE, "demo").name == "demo"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (WHEEL, f"{PAGE}{WHEEL}"),
        (f"../../files/{WHEEL}", f"https://mirror.test/files/{WHEEL}"),
        (f"/files/{WHEEL}", f"https://mirror.test/files/{WHEEL}"),
        (f"https://files.test/x/{WHEEL}", f"https://files.test/x/{WHEEL}"),
        (f"https://files.test/x/{WHEEL}#sha256={SHA}", f"https://files.test/x/{WHEEL}"),
    ],
)
def test_json_urls_are_absolute_without_fragment(href: str, expected: str) -> None:
    assert only_json(url=href).url == expected


def test_json_hash_is_lower_cased() -> None:
    assert only_json(hashes={"sha256": SHA.upper()}).sha256 == SHA


def test_json_hash_falls_back_to_the_url_fragment() -> None:
    assert only_json(hashes={}, url=f"{WHEEL}#sha256={SHA}").sha256 == SHA


@pytest.mark.parametrize(
    "hashes",
    [{}, {"md5": "0" * 32}, {"blake2b_256": OTHER_SHA}, {"sha256": "abc"}, {"sha256": 5}, None],
)
def test_json_without_a_usable_sha256_has_none(hashes: object) -> None:
    assert only_json(hashes=hashes).sha256 is None


@pytest.mark.parametrize(
    ("yanked", "expected"),
    [
        (False, (False, "")),
        (True, (True, "")),
        ("broken build", (True, "broken build")),
        ("", (False, "")),  # as pip: an empty reason is no yank
    ],
)
def test_json_yanked_with_and_without_reason(yanked: object, expected: tuple[bool, str]) -> None:
    file = only_json(yanked=yanked)
    assert (file.yanked, file.yanked_reason) == expected


def test_json_not_yanked_when_key_absent() -> None:
    assert only_json().yanked is False


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (False, None)),
        ({"core-metadata": False}, (False, None)),
        ({"core-metadata": True}, (True, None)),
        ({"core-metadata": {"sha256": SHA}}, (True, SHA)),
        ({"core-metadata": {"md5": "0" * 32}}, (True, None)),
        ({"dist-info-metadata": {"sha256": SHA}}, (True, SHA)),
        ({"data-dist-info-metadata": True}, (True, None)),
        ({"core-metadata": {"sha256": SHA}, "dist-info-metadata": False}, (True, SHA)),
    ],
)
def test_json_metadata_sidecar(fields: dict[str, Any], expected: tuple[bool, str | None]) -> None:
    file = only_json(**fields)
    assert (file.has_metadata, file.metadata_sha256) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T12:30:45Z", datetime(2024, 3, 1, 12, 30, 45, tzinfo=UTC)),
        ("2024-03-01T14:30:45+02:00", datetime(2024, 3, 1, 12, 30, 45, tzinfo=UTC)),
        ("2024-03-01T12:30:45", datetime(2024, 3, 1, 12, 30, 45, tzinfo=UTC)),
        ("yesterday", None),
        (1709296245, None),
    ],
)
def test_json_upload_time_is_aware_utc(value: object, expected: datetime | None) -> None:
    moment = only_json(**{"upload-time": value}).upload_time
    assert moment == expected
    assert moment is None or moment.tzinfo is UTC


@pytest.mark.parametrize(("size", "expected"), [(10, 10), (0, 0), (-1, None), (True, None)])
def test_json_size_must_be_a_count(size: object, expected: int | None) -> None:
    assert only_json(size=size).size == expected


@pytest.mark.parametrize("value", [None, "", "  ", 3])
def test_json_missing_requires_python_is_none(value: object) -> None:
    assert only_json(**{"requires-python": value}).requires_python is None


@pytest.mark.parametrize(
    ("filename", "kept"),
    [
        ("demo-1.0.tar.gz", True),
        ("demo-1.0.zip", True),
        ("demo-1.0.tar.bz2", True),
        ("Demo-1.0-py3-none-any.WHL", True),
        ("demo-1.0-py2.7.egg", False),
        ("demo-1.0.win32.exe", False),
        ("demo-1.0.msi", False),
        ("../demo-1.0.tar.gz", False),
        ("sub\\demo-1.0.tar.gz", False),
        (".demo-1.0.tar.gz", False),
        ("demo\n-1.0.tar.gz", False),
    ],
)
def test_only_distribution_files_with_safe_names_are_kept(filename: str, kept: bool) -> None:
    page = json_page(json_file(filename=filename, url="f"))
    assert len(parse_project_json(page, PAGE, "demo").files) == int(kept)


@pytest.mark.parametrize("url", ["file:///etc/demo-1.0.tar.gz", "ftp://h/demo-1.0.tar.gz"])
def test_files_outside_http_are_skipped(url: str) -> None:
    page = json_page(json_file(filename="demo-1.0.tar.gz", url=url))
    assert parse_project_json(page, PAGE, "demo").files == ()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"name": "demo"}',
        b'{"files": {}}',
        b'{"files": ["x"]}',
        b'{"files": [{"filename": "demo-1.0.tar.gz"}]}',
        b'{"meta": {"api-version": "2.0"}, "files": []}',
    ],
)
def test_junk_json_raises_upstream_error(body: bytes) -> None:
    with pytest.raises(UpstreamError):
        parse_project_json(body, PAGE, "demo")


# --- HTML ----------------------------------------------------------------------------


def test_html_anchor_gives_filename_url_and_hash() -> None:
    file = only_html(f'<a href="../../files/{WHEEL}#sha256={SHA}">{WHEEL}</a>')
    assert file == UpstreamFile(
        filename=WHEEL,
        url=f"https://mirror.test/files/{WHEEL}",
        sha256=SHA,
        requires_python=None,
        size=None,
        upload_time=None,
        yanked=False,
        yanked_reason="",
        metadata_sha256=None,
        has_metadata=False,
    )


def test_html_project_name_is_the_requested_name() -> None:
    assert parse_project_html(html_page(), PAGE, "Demo").name == "Demo"


def test_html_absolute_url_is_kept() -> None:
    assert only_html(f'<a href="https://files.test/{WHEEL}">x</a>').url == (
        f"https://files.test/{WHEEL}"
    )


def test_html_base_href_is_honoured() -> None:
    file = only_html(f'<a href="{WHEEL}">x</a>', head='<base href="https://files.test/p/">')
    assert file.url == f"https://files.test/p/{WHEEL}"


def test_html_relative_base_href_resolves_against_the_page() -> None:
    file = only_html(f'<a href="{WHEEL}">x</a>', head='<base href="/packages/">')
    assert file.url == f"https://mirror.test/packages/{WHEEL}"


def test_html_filename_is_unquoted_from_the_url() -> None:
    assert only_html('<a href="demo-1.0%2Blocal.tar.gz">x</a>').filename == "demo-1.0+local.tar.gz"


def test_html_requires_python_is_unescaped() -> None:
    file = only_html(f'<a href="{WHEEL}" data-requires-python="&gt;=3.9,&lt;4">x</a>')
    assert file.requires_python == ">=3.9,<4"


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("", (False, "")),
        ("data-yanked", (True, "")),
        ('data-yanked=""', (True, "")),
        ('data-yanked="broken &amp; wrong"', (True, "broken & wrong")),
    ],
)
def test_html_yanked_with_and_without_reason(attribute: str, expected: tuple[bool, str]) -> None:
    file = only_html(f'<a href="{WHEEL}" {attribute}>x</a>')
    assert (file.yanked, file.yanked_reason) == expected


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ("", (False, None)),
        (f'data-core-metadata="sha256={SHA}"', (True, SHA)),
        (f'data-dist-info-metadata="sha256={SHA}"', (True, SHA)),
        (
            f'data-core-metadata="sha256={SHA}" data-dist-info-metadata="sha256={OTHER_SHA}"',
            (True, SHA),
        ),
        ('data-core-metadata="true"', (True, None)),
        ("data-core-metadata", (True, None)),
        ('data-core-metadata="md5=0123"', (True, None)),
        ('data-core-metadata="false"', (False, None)),
    ],
)
def test_html_metadata_attributes(attributes: str, expected: tuple[bool, str | None]) -> None:
    file = only_html(f'<a href="{WHEEL}" {attributes}>x</a>')
    assert (file.has_metadata, file.metadata_sha256) == expected


@pytest.mark.parametrize(
    "fragment", ["", "#md5=0123456789abcdef0123456789abcdef", f"#sha512={SHA}{SHA}", "#sha256=zz"]
)
def test_html_without_a_sha256_fragment_has_no_hash(fragment: str) -> None:
    assert only_html(f'<a href="{WHEEL}{fragment}">x</a>').sha256 is None


def test_html_skips_non_distributions_and_anchors_without_href() -> None:
    page = html_page(
        '<a href="demo-1.0-py2.7.egg">egg</a>',
        '<a name="top">top</a>',
        '<a href="demo-1.0.tar.gz">sdist</a>',
        '<a href="javascript:alert(1)//demo-1.0.tar.gz">evil</a>',
    )
    assert [f.filename for f in parse_project_html(page, PAGE, "demo").files] == ["demo-1.0.tar.gz"]


def test_html_refuses_an_unknown_major_api_version() -> None:
    head = '<meta name="pypi:repository-version" content="2.0">'
    with pytest.raises(UpstreamError, match=r"2\.0"):
        parse_project_html(html_page(head=head), PAGE, "demo")


def test_html_accepts_a_newer_minor_api_version() -> None:
    head = '<meta name="pypi:repository-version" content="1.4">'
    assert parse_project_html(html_page(head=head), PAGE, "demo").files == ()


def test_html_that_is_not_utf8_raises_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        parse_project_html(b"<a href='\xff\xfe.tar.gz'>x</a>", PAGE, "demo")


# --- dispatch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.pypi.simple.v1+json",
        "Application/VND.pypi.simple.v1+json; charset=utf-8",
    ],
)
def test_page_dispatches_json(content_type: str) -> None:
    assert parse_project_page(json_page(), content_type, PAGE, "demo").name == "Demo"


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "text/html; charset=utf-8", "application/vnd.pypi.simple.v1+html"],
)
def test_page_dispatches_html(content_type: str) -> None:
    project = parse_project_page(html_page(f'<a href="{WHEEL}">x</a>'), content_type, PAGE, "demo")
    assert [f.filename for f in project.files] == [WHEEL]


def test_page_honours_the_html_charset() -> None:
    body = '<a href="demo-1.0.tar.gz" data-yanked="caf\xe9">x</a>'.encode("latin-1")
    (file,) = parse_project_page(body, "text/html; charset=latin-1", PAGE, "demo").files
    assert file.yanked_reason == "caf\xe9"


@pytest.mark.parametrize(
    "content_type", ["", "application/json", "text/plain", "text/html; charset=no-such-codec"]
)
def test_page_with_unexpected_content_type_raises(content_type: str) -> None:
    with pytest.raises(UpstreamError):
        parse_project_page(b"<html></html>", content_type, PAGE, "demo")


_URL_PIECES = [
    "/",
    "a",
    "b.whl",
    ".",
    "..",
    "./",
    "../",
    "//",
    "?",
    "#",
    ";",
    "%2F",
    "%",
    " ",
    "\t",
    "\n",
    "\x00",
    "\x7f",
    "\x85",
    "é",
    "\\",
    "=",
    "&",
    "sha256=" + SHA,
    "~",
    "@",
    ":",
]
_HREFS = st.one_of(
    st.tuples(
        st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "//", "/", "", " https://"]),
        st.sampled_from(["files.test", "h:8080", "u:p@h", "[::1]", "é.test", "", "a b", "h#"]),
        st.lists(st.sampled_from(_URL_PIECES), max_size=8).map("".join),
    ).map("".join),
    st.text(max_size=30),
    # Mostly URLs the fast path takes, each with a chance of one character it must refuse.
    st.tuples(
        st.sampled_from(["https://files.test/", "http://h:8080/", "https://u:p@[::1]/"]),
        st.text(st.sampled_from([*"ab/.-_~%=", "é", "\x7f", "\x85", *"?#;\\ \t"]), max_size=20),
    ).map("".join),
)


@given(_HREFS, st.sampled_from([PAGE, "http://m.test/x/"]))
def test_a_file_url_resolves_as_urljoin_and_urldefrag_would(href: str, base: str) -> None:
    url, fragment = urldefrag(urljoin(base, href.strip()))
    expected = (url if urlsplit(url).scheme in ("http", "https") else None), fragment
    assert _resolve(base, href) == expected


def test_orjson_refusals_fall_back_to_json() -> None:
    """An integer beyond 64 bits is a wrong-shaped size, not an unreadable page."""
    body = json_page(json_file(size=10**30)).replace(b"1000000000000000000000000000000", b"1" * 31)
    project = parse_project_json(body, PAGE, "demo")
    assert [f.size for f in project.files] == [None]
