from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.tags import Tag
from packaging.version import Version

from helpers.dists import make_sdist, make_wheel
from packyard.domain.errors import InvalidFilename
from packyard.domain.filenames import (
    ParsedFilename,
    expected_dist_info_dir,
    parse_filename,
    sdist_root_dir,
)
from packyard.domain.models import PackageType
from packyard.domain.names import normalize

pytestmark = pytest.mark.unit

names = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9])?", fullmatch=True)
# PEP 440 versions, some spelled unnormalised ("-2" is a post-release, "RC" a candidate).
versions = st.builds(
    lambda release, pre, post, dev, local: (
        ".".join(map(str, release)) + pre + post + dev + (f"+{local}" if local else "")
    ),
    st.lists(st.integers(0, 2000), min_size=1, max_size=4),
    st.sampled_from(["", "a1", "b2", "rc3", "RC4", "-beta"]),
    st.sampled_from(["", ".post1", "-2"]),
    st.sampled_from(["", ".dev5"]),
    st.from_regex(r"([a-z0-9]{1,5}(\.[a-z0-9]{1,5})?)?", fullmatch=True),
)


@pytest.mark.parametrize(
    ("filename", "name", "version", "tags", "build"),
    [
        ("foo-1.0-py3-none-any.whl", "foo", "1.0", {Tag("py3", "none", "any")}, ()),
        ("Foo_Bar-2.0b1-py3-none-any.whl", "foo-bar", "2.0b1", {Tag("py3", "none", "any")}, ()),
        (
            "foo-1.0-1local-py2.py3-none-any.whl",
            "foo",
            "1.0",
            {Tag("py2", "none", "any"), Tag("py3", "none", "any")},
            (1, "local"),
        ),
        (
            "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            "numpy",
            "2.1.0",
            {Tag("cp312", "cp312", "manylinux_2_17_x86_64")},
            (),
        ),
        ("zope.interface-5.0+abc.1-py3-none-any.whl", "zope-interface", "5.0+abc.1", None, ()),
    ],
)
def test_wheel_filenames_are_parsed(
    filename: str,
    name: str,
    version: str,
    tags: set[Tag] | None,
    build: tuple[int, str] | tuple[()],
) -> None:
    parsed = parse_filename(filename)
    assert parsed.filename == filename
    assert parsed.name == name
    assert parsed.version == Version(version)
    assert parsed.packagetype is PackageType.WHEEL
    assert parsed.build == build
    assert parsed.legacy is False
    if tags is not None:
        assert parsed.tags == tags


@pytest.mark.parametrize(
    ("filename", "name", "version"),
    [
        ("foo-1.0.tar.gz", "foo", "1.0"),
        ("foo_bar-1.0.tar.gz", "foo-bar", "1.0"),
        ("Foo_Bar-1.0.post1.tar.gz", "foo-bar", "1.0.post1"),
        ("zope.interface-5.0.tar.gz", "zope-interface", "5.0"),
        ("foo-1.0+local.tar.gz", "foo", "1.0+local"),
    ],
)
def test_pep_625_sdist_filenames_are_parsed(filename: str, name: str, version: str) -> None:
    parsed = parse_filename(filename)
    assert (parsed.name, parsed.version) == (name, Version(version))
    assert parsed.packagetype is PackageType.SDIST
    assert parsed.tags == frozenset()
    assert parsed.build == ()
    assert parsed.legacy is False


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("", "The filename is empty"),
        ("foo/bar-1.0.tar.gz", "must not contain '/'"),
        ("..\\foo-1.0.tar.gz", "must not contain '/'"),
        ("foo\x00-1.0.tar.gz", "control characters"),
        ("foo-1.0\n.tar.gz", "control characters"),
        ("foo-1.0.zip", r"only \.whl wheels and \.tar\.gz sdists are accepted \(PEP 527\)"),
        ("foo-1.0.tar.bz2", "only .whl wheels and .tar.gz sdists"),
        ("foo-1.0.tgz", "only .whl wheels and .tar.gz sdists"),
        ("foo-1.0-py3-none-any.WHL", "only .whl wheels and .tar.gz sdists"),
        ("foo-1.0-py3.7.egg", "foo-1.0-py3.7.egg is an egg"),
        ("foo-1.0.win32.exe", "is a Windows installer"),
        ("foo-1.0.msi", "is a Windows installer"),
        ("foo-1.0-1.noarch.rpm", "is an RPM package"),
        ("foo", "only .whl wheels"),
        ("foo-1.0.whl", "not a valid wheel filename"),
        ("foo-bad_version-py3-none-any.whl", "not a valid wheel filename"),
        ("foo__bar-1.0-py3-none-any.whl", "not a valid wheel filename"),
        ("fóo-1.0-py3-none-any.whl", "'fóo' is not a valid project name"),
        ("foo-1.0-x-py3-none-any.whl", "not a valid wheel filename"),
        ("foo.tar.gz", "not a valid sdist filename"),
        ("-1.0.tar.gz", "not a valid sdist filename"),
        ("foo-notaversion.tar.gz", "not a valid sdist filename"),
        ("_foo-1.0.tar.gz", "'_foo' is not a valid project name"),
    ],
)
def test_bad_filenames_are_refused_with_the_reason(filename: str, message: str) -> None:
    with pytest.raises(InvalidFilename, match=message):
        parse_filename(filename)


@pytest.mark.parametrize(
    ("filename", "suggestion"),
    [
        ("foo-bar-1.0.tar.gz", "foo_bar-1.0.tar.gz"),
        ("Foo-Bar.Baz-2.0.tar.gz", "foo_bar_baz-2.0.tar.gz"),
        ("foo-1.0-beta.tar.gz", "foo-1.0b0.tar.gz"),
    ],
)
def test_pre_pep_625_sdist_names_are_refused_with_the_correct_spelling(
    filename: str, suggestion: str
) -> None:
    with pytest.raises(InvalidFilename, match="PEP 625") as raised:
        parse_filename(filename)
    assert str(raised.value).endswith(f"e.g. {suggestion}")


def test_wheel_filename_errors_chain_the_packaging_error() -> None:
    with pytest.raises(InvalidFilename) as raised:
        parse_filename("foo-1.0.whl")
    assert type(raised.value.__cause__).__name__ == "InvalidWheelFilename"


@pytest.mark.parametrize(
    ("filename", "name", "version"),
    [
        ("Foo-Bar-1.0.tar.gz", "foo-bar", "1.0"),
        ("foo-1.0.zip", "foo", "1.0"),
        ("foo-bar-1.0.zip", "foo-bar", "1.0"),
        ("foo-1.0.tar.bz2", "foo", "1.0"),
        ("foo-1.0-beta.tar.gz", "foo", "1.0b0"),
        ("my-pkg-2-3.4.tar.gz", "my-pkg-2", "3.4"),
    ],
)
def test_legacy_sdist_names_are_accepted_on_import(filename: str, name: str, version: str) -> None:
    parsed = parse_filename(filename, allow_legacy=True)
    assert (parsed.name, parsed.version) == (name, Version(version))
    assert parsed.packagetype is PackageType.SDIST
    assert parsed.legacy is True


def test_pep_625_names_are_not_legacy_even_on_import() -> None:
    assert parse_filename("foo_bar-1.0.tar.gz", allow_legacy=True).legacy is False


@pytest.mark.parametrize(
    "filename", ["foo-1.0.egg", "foo-1.0.exe", "foo-1.0.msi", "foo-1.0.rpm", "foo-1.0.tar.xz"]
)
def test_legacy_import_still_refuses_non_sdist_formats(filename: str) -> None:
    with pytest.raises(InvalidFilename, match="Invalid file extension"):
        parse_filename(filename, allow_legacy=True)


@pytest.mark.parametrize("filename", ["foo-bar.zip", "foo.tar.gz", "-1.0.zip"])
def test_legacy_names_without_a_version_are_refused(filename: str) -> None:
    with pytest.raises(InvalidFilename, match="not a valid sdist filename"):
        parse_filename(filename, allow_legacy=True)


@pytest.mark.parametrize(
    ("filename", "dist_info"),
    [
        ("foo-1.0-py3-none-any.whl", "foo-1.0.dist-info"),
        ("Foo_Bar-1.0.0-1-py3-none-any.whl", "Foo_Bar-1.0.0.dist-info"),
    ],
)
def test_dist_info_dir_is_spelled_as_in_the_filename(filename: str, dist_info: str) -> None:
    assert expected_dist_info_dir(parse_filename(filename)) == dist_info


@pytest.mark.parametrize(
    ("filename", "root"),
    [
        ("foo_bar-1.0.tar.gz", "foo_bar-1.0"),
        ("Foo-Bar-1.0.zip", "Foo-Bar-1.0"),
        ("foo-1.0.tar.bz2", "foo-1.0"),
    ],
)
def test_sdist_root_is_the_filename_without_extension(filename: str, root: str) -> None:
    assert sdist_root_dir(parse_filename(filename, allow_legacy=True)) == root


def test_root_and_dist_info_helpers_refuse_the_other_kind() -> None:
    with pytest.raises(ValueError, match="not an sdist"):
        sdist_root_dir(parse_filename("foo-1.0-py3-none-any.whl"))
    with pytest.raises(ValueError, match="not a wheel"):
        expected_dist_info_dir(parse_filename("foo-1.0.tar.gz"))


def test_parsed_filenames_are_hashable_values() -> None:
    first, second = parse_filename("foo-1.0.tar.gz"), parse_filename("foo-1.0.tar.gz")
    assert first == second
    assert {first: 1}[second] == 1
    assert isinstance(first, ParsedFilename)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(name=names, version=versions)
def test_built_wheel_filenames_round_trip(tmp_path: Path, name: str, version: str) -> None:
    parsed = parse_filename(make_wheel(tmp_path, name, version).name)
    assert parsed.name == normalize(name)
    assert parsed.version == Version(version)
    assert parsed.packagetype is PackageType.WHEEL


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(name=names, version=versions)
def test_built_sdist_filenames_round_trip(tmp_path: Path, name: str, version: str) -> None:
    parsed = parse_filename(make_sdist(tmp_path, name, version).name)
    assert (parsed.name, parsed.version, parsed.legacy) == (
        normalize(name),
        Version(version),
        False,
    )


@given(st.text(max_size=60), st.booleans())
def test_parse_filename_raises_only_invalid_filename(filename: str, allow_legacy: bool) -> None:
    try:
        parsed = parse_filename(filename, allow_legacy=allow_legacy)
    except InvalidFilename:
        return
    assert parsed.filename == filename
