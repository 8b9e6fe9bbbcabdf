from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.dists import core_metadata
from packyard.domain.errors import InvalidMetadata
from packyard.domain.filenames import parse_filename
from packyard.domain.metadata import CoreMetadata, check_consistency, parse_core_metadata

pytestmark = pytest.mark.unit

FULL = b"""\
Metadata-Version: 2.4
Name: Demo.Pkg
Version: 1.0.0
Summary: A demo
Keywords: one,two
Home-page: https://example.invalid/home
Download-URL: https://example.invalid/dl
Author: Ada
Author-email: ada@example.invalid
Maintainer: Bob
Maintainer-email: bob@example.invalid
License-Expression: MIT
Classifier: Programming Language :: Python :: 3
Classifier: License :: OSI Approved :: MIT License
Requires-Python: >=3.9
Requires-Dist: attrs>=22
Requires-Dist: rich; extra == "cli"
Provides-Extra: cli
Project-URL: Source, https://example.invalid/src
Project-URL: Docs, https://example.invalid/docs
Platform: any
Description-Content-Type: text/markdown

# Demo

Body text \xc3\xa9.
"""


def meta(*lines: str, body: str = "") -> bytes:
    return ("\n".join(lines) + "\n\n" + body).encode()


def test_every_field_is_read() -> None:
    parsed = parse_core_metadata(FULL)
    assert parsed == CoreMetadata(
        metadata_version="2.4",
        name="Demo.Pkg",
        version="1.0.0",
        requires_python=">=3.9",
        summary="A demo",
        description="# Demo\n\nBody text \u00e9.\n",
        description_content_type="text/markdown",
        keywords="one,two",
        home_page="https://example.invalid/home",
        download_url="https://example.invalid/dl",
        author="Ada",
        author_email="ada@example.invalid",
        maintainer="Bob",
        maintainer_email="bob@example.invalid",
        license=None,
        license_expression="MIT",
        classifiers=(
            "Programming Language :: Python :: 3",
            "License :: OSI Approved :: MIT License",
        ),
        requires_dist=("attrs>=22", 'rich; extra == "cli"'),
        provides_extra=("cli",),
        project_urls={
            "Source": "https://example.invalid/src",
            "Docs": "https://example.invalid/docs",
        },
        platforms=("any",),
        dynamic=(),
    )


def test_to_json_has_warehouse_info_shape_and_serialises() -> None:
    info = parse_core_metadata(FULL).to_json()
    assert json.loads(json.dumps(info)) == info
    assert set(info) == {
        "author",
        "author_email",
        "classifiers",
        "description",
        "description_content_type",
        "download_url",
        "home_page",
        "keywords",
        "license",
        "license_expression",
        "maintainer",
        "maintainer_email",
        "name",
        "platform",
        "project_urls",
        "provides_extra",
        "requires_dist",
        "requires_python",
        "summary",
        "version",
    }
    assert info["requires_dist"] == ["attrs>=22", 'rich; extra == "cli"']
    assert info["project_urls"] == {
        "Source": "https://example.invalid/src",
        "Docs": "https://example.invalid/docs",
    }
    assert info["platform"] == "any"


def test_to_json_uses_none_for_empty_lists_as_warehouse_does() -> None:
    info = parse_core_metadata(meta("Metadata-Version: 2.1", "Name: a", "Version: 1")).to_json()
    assert info["requires_dist"] is None
    assert info["provides_extra"] is None
    assert info["project_urls"] is None
    assert info["classifiers"] == []
    assert info["summary"] is None


@pytest.mark.parametrize("absent", ["", "UNKNOWN"])
def test_empty_and_unknown_values_count_as_absent(absent: str) -> None:
    parsed = parse_core_metadata(
        meta(
            "Metadata-Version: 1.1",
            "Name: a",
            "Version: 1",
            f"Summary: {absent}",
            f"Home-page: {absent}",
            f"License: {absent}",
            f"Platform: {absent}",
            f"Description: {absent}",
        )
    )
    assert (parsed.summary, parsed.home_page, parsed.license) == (None, None, None)
    assert parsed.platforms == ()
    assert parsed.description is None


def test_description_header_is_unfolded() -> None:
    data = b"Metadata-Version: 1.1\nName: a\nVersion: 1\nDescription: Line one\n        Line two\n"
    assert parse_core_metadata(data).description == "Line one\nLine two"


def test_body_is_the_description_when_there_is_no_header() -> None:
    assert (
        parse_core_metadata(
            meta("Metadata-Version: 2.1", "Name: a", "Version: 1", body="Hello\n")
        ).description
        == "Hello\n"
    )


def test_crlf_line_endings_are_read() -> None:
    data = b"Metadata-Version: 2.1\r\nName: a\r\nVersion: 1.0\r\nSummary: S\r\n\r\n"
    parsed = parse_core_metadata(data)
    assert (parsed.name, parsed.version, parsed.summary) == ("a", "1.0", "S")


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.4", "2.9"])
def test_supported_metadata_versions_are_accepted(version: str) -> None:
    data = meta(f"Metadata-Version: {version}", "Name: a", "Version: 1")
    assert parse_core_metadata(data).metadata_version == version


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["Name: a", "Version: 1"], "has no Metadata-Version field"),
        (
            ["Metadata-Version: 3.0", "Name: a", "Version: 1"],
            "Metadata-Version 3.0 is not supported",
        ),
        (
            ["Metadata-Version: 10.1", "Name: a", "Version: 1"],
            "Metadata-Version 10.1 is not supported",
        ),
        (
            ["Metadata-Version: 1.3", "Name: a", "Version: 1"],
            "'1.3' is not a valid Metadata-Version",
        ),
        (
            ["Metadata-Version: two", "Name: a", "Version: 1"],
            "'two' is not a valid Metadata-Version",
        ),
        (["Metadata-Version: 2.1", "Version: 1"], "has no Name field"),
        (["Metadata-Version: 2.1", "Name: UNKNOWN", "Version: 1"], "has no Name field"),
        (["Metadata-Version: 2.1", "Name: -bad-", "Version: 1"], "Name field is invalid: '-bad-'"),
        (["Metadata-Version: 2.1", "Name: a"], "has no Version field"),
        (["Metadata-Version: 2.1", "Name: a", "Version: "], "has no Version field"),
        (["Metadata-Version: 2.1", "Name: a", "Version: one"], "'one' is not a valid PEP 440"),
        (["Metadata-Version: 2.1", "Name: a", "Name: b", "Version: 1"], "more than one Name"),
        (["Metadata-Version: 2.1", "Name: a", "Version: 1", "Version: 2"], "more than one Version"),
        (
            ["Metadata-Version: 2.1", "Name: a", "Version: 1", "Requires-Python: >=3.x"],
            "Requires-Python field '>=3.x' is not a valid version specifier",
        ),
    ],
)
def test_invalid_metadata_is_refused_with_an_actionable_message(
    lines: list[str], message: str
) -> None:
    with pytest.raises(InvalidMetadata, match=message):
        parse_core_metadata(meta(*lines))


def test_non_utf8_metadata_is_refused() -> None:
    with pytest.raises(InvalidMetadata, match="not valid UTF-8"):
        parse_core_metadata(b"Metadata-Version: 2.1\nName: a\nVersion: 1\nAuthor: \xff\n")


@pytest.mark.parametrize(
    ("metadata_version", "dynamic", "static"),
    [
        ("2.2", (), True),
        ("2.4", (), True),
        ("2.2", ("Requires-Dist",), False),
        ("2.1", (), False),
        ("1.0", (), False),
    ],
)
def test_only_2_2_metadata_without_dynamic_fields_is_static(
    metadata_version: str, dynamic: tuple[str, ...], static: bool
) -> None:
    data = core_metadata(
        "a", "1", metadata_version=metadata_version, headers=[("Dynamic", d) for d in dynamic]
    )
    assert parse_core_metadata(data).is_static is static


def test_repeated_project_url_labels_keep_the_first() -> None:
    data = meta(
        "Metadata-Version: 2.1",
        "Name: a",
        "Version: 1",
        "Project-URL: Home, https://one.invalid",
        "Project-URL: Home, https://two.invalid",
    )
    assert parse_core_metadata(data).project_urls == {"Home": "https://one.invalid"}


@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_invalid_metadata(data: bytes) -> None:
    with contextlib.suppress(InvalidMetadata):
        parse_core_metadata(data)


@given(st.text(max_size=300))
def test_arbitrary_headers_after_a_valid_prefix_raise_only_invalid_metadata(tail: str) -> None:
    try:
        parsed = parse_core_metadata(
            ("Metadata-Version: 2.1\nName: a\nVersion: 1\n" + tail).encode()
        )
    except InvalidMetadata:
        return
    assert parsed.metadata_version == "2.1"
    json.dumps(parsed.to_json())


# check_consistency


def read(name: str, version: str) -> CoreMetadata:
    return parse_core_metadata(core_metadata(name, version))


@pytest.mark.parametrize(
    ("name", "version", "filename", "form_name", "form_version"),
    [
        ("foo", "1.0", "foo-1.0-py3-none-any.whl", "FOO", "1.0.0"),
        ("Foo.Bar", "1.0", "foo_bar-1.0.0-py3-none-any.whl", "foo-bar", "1"),
        ("foo-bar", "1.0.0", "Foo_Bar-1.0.tar.gz", "Foo_Bar", "1.0"),
        ("foo", "1.0-1", "foo-1.0.post1.tar.gz", "foo", "1.0.post1"),
        ("Foo-Bar", "1.0", "Foo-Bar-1.0.zip", None, None),
    ],
)
def test_consistent_metadata_passes(
    name: str, version: str, filename: str, form_name: str | None, form_version: str | None
) -> None:
    check_consistency(
        read(name, version),
        parse_filename(filename, allow_legacy=True),
        form_name=form_name,
        form_version=form_version,
    )


@pytest.mark.parametrize(
    ("name", "version", "filename", "message"),
    [
        (
            "foo",
            "1.0",
            "bar-1.0-py3-none-any.whl",
            "The name 'foo' in METADATA does not match the filename's 'bar'",
        ),
        (
            "foo",
            "1.1",
            "foo-1.0-py3-none-any.whl",
            "The version '1.1' in METADATA does not match the filename's '1.0'",
        ),
        (
            "foo",
            "1.0",
            "bar-1.0.tar.gz",
            "The name 'foo' in PKG-INFO does not match the filename's 'bar'",
        ),
        (
            "foo",
            "2.0",
            "foo-1.0.zip",
            "The version '2.0' in PKG-INFO does not match the filename's '1.0'",
        ),
    ],
)
def test_metadata_disagreeing_with_the_filename_is_refused(
    name: str, version: str, filename: str, message: str
) -> None:
    with pytest.raises(InvalidMetadata) as raised:
        check_consistency(read(name, version), parse_filename(filename, allow_legacy=True))
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("form_name", "form_version", "message"),
    [
        (
            "bar",
            None,
            "The name 'foo' in METADATA does not match the name 'bar' sent with the upload",
        ),
        (None, "2.0", "The version '1.0' in METADATA does not match the version '2.0' sent"),
        (None, "x.y", "The version 'x.y' sent with the upload is not a valid PEP 440 version"),
    ],
)
def test_metadata_disagreeing_with_the_form_is_refused(
    form_name: str | None, form_version: str | None, message: str
) -> None:
    with pytest.raises(InvalidMetadata, match=message):
        check_consistency(
            read("foo", "1.0"),
            parse_filename("foo-1.0-py3-none-any.whl"),
            form_name=form_name,
            form_version=form_version,
        )


@pytest.mark.parametrize("absent", ["", "UNKNOWN"])
def test_empty_form_fields_are_not_compared(absent: str) -> None:
    check_consistency(
        read("foo", "1.0"),
        parse_filename("foo-1.0-py3-none-any.whl"),
        form_name=absent,
        form_version=absent,
    )
