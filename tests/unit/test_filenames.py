from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from packaging.tags import Tag
from packaging.version import Version

from helpers.dists import make_sdist, make_wheel
from packyard.domain import filenames
from packyard.domain.errors import InvalidFilename, InvalidInput
from packyard.domain.filenames import (
    ParsedFilename,
    expected_dist_info_dir,
    listing_version,
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
        ("foo-1.0\x7f.tar.gz", "control characters"),
        ("foo-1.0\x85.tar.gz", "control characters"),
        ("foo-1.0-py3-none-any\x9f.whl", "control characters"),
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


def test_control_characters_are_refused_with_the_filename_in_the_message() -> None:
    with pytest.raises(InvalidFilename) as raised:
        parse_filename("foo-1.0\x85.tar.gz")
    assert str(raised.value) == (
        "Invalid filename 'foo-1.0\\x85.tar.gz': it contains control characters"
    )


def test_control_character_regex_is_exactly_unicode_category_cc() -> None:
    pattern = filenames._CONTROL_CHARACTERS
    wrong = [
        hex(code)
        for code in range(0x110000)
        if (unicodedata.category(chr(code)) == "Cc") != bool(pattern.search(chr(code)))
    ]
    assert wrong == []


def test_refused_character_regex_is_category_cc_and_both_slashes() -> None:
    pattern = filenames._REFUSED_CHARACTERS
    wrong = [
        hex(code)
        for code in range(0x110000)
        if (unicodedata.category(chr(code)) == "Cc" or chr(code) in "/\\")
        != bool(pattern.search(chr(code)))
    ]
    assert wrong == []


def _version_as_parsed(filename: str) -> str | None:
    """What the mirror derived from each upstream filename before listing_version."""
    try:
        return str(parse_filename(filename, allow_legacy=True).version)
    except InvalidInput:
        return None


@pytest.mark.parametrize(
    ("filename", "version"),
    [
        ("foo-1.0-py3-none-any.whl", "1.0"),
        ("Foo_Bar-1.0.0.RC1-py3-none-any.whl", "1.0.0rc1"),
        (
            "pydantic_core-2.27.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "2.27.2",
        ),
        ("foo-1!2.0.post1.dev3+Local.A-1local-py2.py3-none-any.whl", "1!2.0.post1.dev3+local.a"),
        ("foo-1.0-0-PY3-NONE-ANY.whl", "1.0"),
        ("zope.interface-5.0-cp313-cp313t-win_amd64.whl", "5.0"),
        ("foo_bar-1.0.tar.gz", "1.0"),
        ("Foo-Bar-1.0-beta.zip", "1.0b0"),
        ("foo-1.0.tar.bz2", "1.0"),
        # Wheel parts packaging or packyard refuse.
        ("foo-1.0-x-py3-none-any.whl", None),  # a build tag starts with a digit
        ("foo-1.0-\uff11-py3-none-any.whl", None),  # an ASCII digit
        ("foo-1.0-1\x00-py3-none-any.whl", None),  # only the character check refuses it
        ("foo-1.0-1/x-py3-none-any.whl", None),
        ("foo-1.0--py3-none-any.whl", None),
        ("foo__bar-1.0-py3-none-any.whl", None),
        ("_foo-1.0-py3-none-any.whl", None),
        ("f\u00f3o-1.0-py3-none-any.whl", None),
        ("foo-one-py3-none-any.whl", None),
        ("foo-1.0-3py-none-any.whl", None),  # the interpreter is an identifier
        ("foo-1.0-py3..py2-none-any.whl", None),
        ("foo-1.0-py3-none-.whl", None),
        ("foo-1.0-none-any.whl", None),
        ("foo-1.0-1-2-py3-none-any.whl", None),
        ("foo-1.0-py3-none-any.WHL", None),
        # Version() strips the newline; only the character check refuses it.
        ("foo-1.0\n-py3-none-any.whl", None),
        ("foo-1.0-py3-none-any\x85.whl", None),
        ("foo-1.0-py3-none-linux/x86_64.whl", None),
        ("foo-1.0-py3-none-linux\\x86_64.whl", None),
        ("foo-1.0.egg", None),
        ("foo-1.0.tar.gz.whl", None),
        ("", None),
    ],
)
def test_listing_version_is_the_parsed_version_or_none(filename: str, version: str | None) -> None:
    assert listing_version(filename) == version
    assert _version_as_parsed(filename) == version


@pytest.mark.parametrize("length", [254, 255, 256, 300])
@pytest.mark.parametrize("name_end", ["a", "a__b", "\u00e9"])
def test_listing_version_agrees_on_names_either_side_of_the_fast_path(
    length: int, name_end: str
) -> None:
    rest = f"{name_end}-1.0-py3-none-any.whl"
    filename = "x" * (length - len(rest)) + rest
    assert len(filename) == length
    assert listing_version(filename) == _version_as_parsed(filename)


def test_listing_version_caches_are_bounded() -> None:
    caches = [
        filenames._is_valid_wheel_name,
        filenames._wheel_version,
        filenames._is_valid_build_tag,
        filenames._is_valid_tag_triple,
    ]
    assert all(cache.cache_info().maxsize is not None for cache in caches)


def _compressed(parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(parts, min_size=1, max_size=3).map(".".join)


def _samples(*groups: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from([sample for group in groups for sample in group])


def _tricky(
    traps: st.SearchStrategy[str], *others: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    """Parts that may or may not pass: known traps, the other strategies, and any text."""
    return st.one_of(traps, *others, st.text(max_size=6))


_TRICKY_CHARACTERS = _samples(
    ["\x00", "\n", "\x1f", "\x7f", "\x85", "\x9f", "/", "\\", "-", "_", ".", " ", "+", "!"],
    ["\u00e9", "\u0130", "\u017f", "\u212a", "\u200b", "\uff11", "\u0663", "\U0001f40d"],
)
# Escaped as PEP 427 asks: no '-', no runs of '_'.
_wheel_names = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._]{0,20}[A-Za-z0-9])?", fullmatch=True).map(
    lambda name: re.sub("_+", "_", name)
)
_name_parts = _tricky(
    _samples(
        ["foo__bar", "_foo", "foo_", "foo.", ".foo", "f\u00f3o", "foo bar", "Foo-Bar", ""],
        ["pydantic_core", "zope.interface", "\u0130", "\u017f", "\u212a", "x" * 40],
    ),
    names,
)
# `versions` spells some post-releases and pre-releases with a '-', which splits a wheel name.
_wheel_versions = st.one_of(
    versions.map(lambda version: version.replace("-", ".")),
    st.sampled_from(["1!2.0", "0!0", "1.0.post1.dev2", "1.0+Local_A", "1.0.0.RC1", "v1.0"]),
)
_version_parts = _tricky(
    _samples(
        ["1.0-beta", " 1.0", "1.0 ", "1.0\n", "bad_version", "\u0661.\u0660", "1..0", "1.0+"],
        ["1.0.POST", "1.0rev2", "1.0c1", "1.0alpha", "", "1.0-2", "1.0+a..b", "x" * 40],
    ),
    versions,
)
_wheel_build_tags = st.from_regex(r"[0-9]{1,3}[A-Za-z0-9_.]{0,4}", fullmatch=True)
# None: no build tag, so a wheel name with one '-' fewer.
_wheel_builds = st.one_of(st.none(), _wheel_build_tags)
_build_parts = st.one_of(
    st.none(),
    _tricky(
        st.sampled_from(
            ["x", "x1", "", "\uff11", "\u0663", " 1", "_1", "1\n", "1\x00", "1/", "1\\", "1\x85"]
        ),
        _wheel_build_tags,
    ),
)
_wheel_tags = st.builds(
    "{}-{}-{}".format,
    _compressed(st.sampled_from(["py3", "py2", "cp311", "pp310", "PY3", "_x", "p\u00fd3"])),
    _compressed(st.sampled_from(["none", "abi3", "cp311", "cp313t", "pypy310_pp73", "NONE"])),
    _compressed(
        _samples(
            ["any", "win_amd64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "ANY"],
            ["macosx_11_0_arm64", "musllinux_1_1_aarch64", "linux x86"],
        )
    ),
)
_tag_parts = _tricky(
    _samples(
        ["py3-none", "py3-none-any-extra", "-none-any", "py3.-none-any", "py3-none-"],
        ["3py-none-any", "py 3-none-any", "py3-none-linux/x86", "py3..py2-none-any"],
    ),
    st.builds(
        "{}-{}-{}".format,
        _compressed(_tricky(st.sampled_from(["3py", "", "py-3"]), st.just("py3"))),
        _compressed(_tricky(st.sampled_from(["", "none"]))),
        _compressed(_tricky(st.sampled_from(["", "any"]))),
    ),
    _wheel_tags,
)


_ANY_WHEEL_PART = st.sampled_from(["none", "name", "version", "build", "tags", "ext", "all"])
_ANY_SDIST_PART = st.sampled_from(["none", "name", "version", "ext", "all"])


@st.composite
def _wheel_filenames(
    draw: st.DrawFn, which_broken: st.SearchStrategy[str] = _ANY_WHEEL_PART
) -> str:
    # Valid but for at most one part, so that each check is put to the test alone, or
    # anything in every part.
    broken = draw(which_broken)

    def part(which: str, valid: st.SearchStrategy[str], tricky: st.SearchStrategy[str]) -> str:
        return draw(tricky if broken in (which, "all") else valid)

    name = part("name", _wheel_names, _name_parts)
    version = part("version", _wheel_versions, _version_parts)
    build = draw(_build_parts if broken in ("build", "all") else _wheel_builds)
    tags = part("tags", _wheel_tags, _tag_parts)
    extension = part("ext", st.just(".whl"), st.sampled_from([".WHL", ".whl.zip", ".whl "]))
    middle = "" if build is None else f"-{build}"
    return f"{name}-{version}{middle}-{tags}{extension}"


@st.composite
def _sdist_filenames(
    draw: st.DrawFn, which_broken: st.SearchStrategy[str] = _ANY_SDIST_PART
) -> str:
    # Legacy names keep their '-' and their unnormalised versions ("1.0-beta").
    broken = draw(which_broken)
    name = draw(_name_parts if broken in ("name", "all") else names)
    version = draw(_version_parts if broken in ("version", "all") else versions)
    extensions = [".tgz", ".egg", ".tar.xz", ".TAR.GZ", ""]
    valid_extensions = [".tar.gz", ".zip", ".tar.bz2"]
    extension = draw(st.sampled_from(extensions if broken in ("ext", "all") else valid_extensions))
    return f"{name}-{version}{extension}"


@st.composite
def _with_a_tricky_character(draw: st.DrawFn, source: st.SearchStrategy[str]) -> str:
    filename = draw(source)
    # Next to a separator half of the time: at the ends of the parts, the short ones
    # included, or doubling a '_' or a '.'.
    edges = [i + side for i, char in enumerate(filename) if char in "-_." for side in (0, 1)]
    anywhere = st.integers(0, len(filename))
    position = draw(st.one_of(anywhere, st.sampled_from(edges)) if edges else anywhere)
    return filename[:position] + draw(_TRICKY_CHARACTERS) + filename[position:]


_valid_filenames = st.one_of(_wheel_filenames(st.just("none")), _sdist_filenames(st.just("none")))
listing_filenames = st.one_of(
    _wheel_filenames(),
    _sdist_filenames(),
    _with_a_tricky_character(_valid_filenames),
    st.text(alphabet="aZ0_.-+!\u00e9\x00/", max_size=30).map(lambda text: f"{text}.whl"),
    st.text(max_size=80),
)


@settings(max_examples=1000, deadline=None)
@given(listing_filenames)
def test_listing_version_agrees_with_parse_filename(filename: str) -> None:
    assert listing_version(filename) == _version_as_parsed(filename)


@settings(max_examples=300, deadline=None)
@given(_with_a_tricky_character(_valid_filenames))
def test_listing_version_agrees_on_one_tricky_character_in_a_valid_name(filename: str) -> None:
    assert listing_version(filename) == _version_as_parsed(filename)


@pytest.mark.parametrize(
    "filename",
    [
        f"foo-1.0-{'1' * 5000}-py3-none-any.whl",
        f"foo-{'1' * 5000}-py3-none-any.whl",
        f"foo-{'1' * 5000}.tar.gz",
    ],
)
def test_listing_version_fails_as_parse_filename_on_overlong_numbers(filename: str) -> None:
    try:
        expected = _version_as_parsed(filename)
    except ValueError as error:  # int() refuses more than 4300 digits, not InvalidInput
        with pytest.raises(type(error)):
            listing_version(filename)
    else:
        assert listing_version(filename) == expected


@pytest.mark.parametrize(
    "reached",
    [
        lambda f: f.endswith(".whl") and f.count("-") == 5 and listing_version(f) is not None,
        lambda f: f.endswith(".whl") and f.count("-") == 5 and listing_version(f) is None,
        lambda f: "." in "".join(f[:-4].split("-")[-3:]) and listing_version(f) is not None,
        lambda f: f.endswith(".zip") and f.count("-") > 1 and listing_version(f) is not None,
        lambda f: f.endswith(".whl") and "+" in f and listing_version(f) is not None,
        lambda f: f.endswith(".whl") and not f.isascii() and listing_version(f) is None,
    ],
    ids=["build", "bad-build", "compressed", "legacy-sdist", "local-version", "non-ascii"],
)
def test_listing_filenames_reach_the_tricky_cases(reached: Callable[[str], bool]) -> None:
    # Guards the property test against a strategy that never gets past the first checks.
    find(
        listing_filenames,
        reached,
        settings=settings(max_examples=5000, database=None, phases=[Phase.generate]),
    )


@pytest.mark.parametrize(
    "filename",
    [
        "demo-" + "1" * 5000 + "-py3-none-any.whl",
        "demo-1.0-" + "1" * 5000 + "-py3-none-any.whl",
        "demo-" + "1" * 5000 + ".tar.gz",
    ],
)
def test_a_number_too_long_for_int_is_an_invalid_filename(filename: str) -> None:
    with pytest.raises(InvalidFilename):
        parse_filename(filename, allow_legacy=True)
    assert listing_version(filename) is None
