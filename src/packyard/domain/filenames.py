"""Distribution filenames: which files an index accepts and what their names say.

Uploads accept only wheels and PEP 625 sdists (PEP 527). `packyard import` also reads the
older sdist names that pypiserver directories are full of, flagged `legacy=True`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from packaging.tags import InvalidTag, Tag, parse_tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from packyard.domain.errors import InvalidFilename, InvalidInput
from packyard.domain.models import PackageType
from packyard.domain.names import NormalizedName, is_valid_project_name, normalize

WHEEL_EXTENSION = ".whl"
SDIST_EXTENSION = ".tar.gz"
# Old sdist formats found in pypiserver directories; never accepted on upload.
LEGACY_SDIST_EXTENSIONS = (".tar.gz", ".tar.bz2", ".zip")
# Named so the refusal can say what the file is rather than only what is allowed.
_OBSOLETE_FORMATS = {
    ".egg": "an egg",
    ".exe": "a Windows installer",
    ".msi": "a Windows installer",
    ".rpm": "an RPM package",
    ".deb": "a Debian package",
    ".dmg": "a macOS disk image",
}
_UNDERSCORES = re.compile(r"[-_.]+")
_BAD_EXTENSION = (
    "Invalid file extension: only .whl wheels and .tar.gz sdists are accepted (PEP 527)"
)
# Unicode category Cc is exactly these two ranges (a test checks every code point): one
# regex search instead of a unicodedata lookup per character.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Everything _check_characters refuses in a non-empty name, for listing_version.
_REFUSED_CHARACTERS = re.compile(r"[/\\\x00-\x1f\x7f-\x9f]")
# packaging's own build tag check (utils._build_tag_regex), repeated here so that
# listing_version can apply it without building the rest of the parse.
_BUILD_TAG = re.compile(r"(\d+)(.*)\Z", re.ASCII)
# Filesystems cap names at 255 bytes. Longer ones take parse_filename's own path, so that
# even its failures outside InvalidInput (int() refusing thousands of digits) agree.
_LISTING_FAST_PATH_MAX_LENGTH = 255


@dataclass(frozen=True)
class ParsedFilename:
    filename: str
    name: NormalizedName
    version: Version
    packagetype: PackageType
    tags: frozenset[Tag]
    build: tuple[()] | tuple[int, str]
    legacy: bool = False


def parse_filename(filename: str, *, allow_legacy: bool = False) -> ParsedFilename:
    """Parse a wheel or sdist filename, or raise InvalidFilename saying what is wrong.

    >>> parse_filename("foo_bar-1.0.tar.gz").name
    'foo-bar'
    """
    _check_characters(filename)
    try:
        if filename.endswith(WHEEL_EXTENSION):
            return _parse_wheel(filename)
        if filename.endswith(SDIST_EXTENSION):
            return _parse_sdist(filename, allow_legacy=allow_legacy)
        if allow_legacy and filename.endswith(LEGACY_SDIST_EXTENSIONS):
            return _parse_legacy_sdist(filename)
    except InvalidInput:
        raise
    except ValueError as exc:  # int() refuses numbers over 4,300 digits in a version
        raise InvalidFilename(f"Invalid filename {filename[:200]!r}: {exc}") from exc
    raise InvalidFilename(_extension_message(filename))


def listing_version(filename: str) -> str | None:
    """The normalised version of an upstream file, or None where it is no distribution.

    Exactly `str(parse_filename(filename, allow_legacy=True).version)`, with None where
    that raises InvalidInput, at under a tenth of its cost for wheels: a mirror reads up to
    15,000 filenames in one upstream listing (pydantic-core), and parse_filename builds a
    set of Tag objects and a Version for every one of them. The files of one project
    repeat a few versions, names and tag triples, so those checks are memoised; sdists,
    legacy names and overlong names go through parse_filename itself.

    >>> listing_version("Foo_Bar-1.0.0.RC1-py3-none-any.whl")
    '1.0.0rc1'
    >>> listing_version("foo-1.0-py3.7.egg") is None
    True
    """
    if filename.endswith(WHEEL_EXTENSION) and len(filename) <= _LISTING_FAST_PATH_MAX_LENGTH:
        return _wheel_listing_version(filename)
    try:
        return str(parse_filename(filename, allow_legacy=True).version)
    except InvalidInput:
        return None


def expected_dist_info_dir(parsed: ParsedFilename) -> str:
    """The wheel's `{name}-{version}.dist-info`, spelled exactly as in the filename.

    Warehouse and pip's PEP 658 sidecar both derive the path this way, so a wheel whose
    dist-info is spelled otherwise would serve metadata the installer cannot match.
    """
    if parsed.packagetype is not PackageType.WHEEL:
        raise ValueError(f"{parsed.filename} is not a wheel")
    name, version = parsed.filename.split("-", 2)[:2]
    return f"{name}-{version}.dist-info"


def sdist_root_dir(parsed: ParsedFilename) -> str:
    """The filename without its archive extension: the sdist's expected top directory."""
    for extension in LEGACY_SDIST_EXTENSIONS:
        if parsed.packagetype is PackageType.SDIST and parsed.filename.endswith(extension):
            return parsed.filename[: -len(extension)]
    raise ValueError(f"{parsed.filename} is not an sdist")


def _check_characters(filename: str) -> None:
    if not filename:
        raise InvalidFilename("The filename is empty")
    if "/" in filename or "\\" in filename:
        raise InvalidFilename(f"Invalid filename {filename!r}: it must not contain '/' or '\\'")
    if _CONTROL_CHARACTERS.search(filename):
        raise InvalidFilename(f"Invalid filename {filename!r}: it contains control characters")


def _extension_message(filename: str) -> str:
    extension = filename[filename.rfind(".") :].lower() if "." in filename else ""
    kind = _OBSOLETE_FORMATS.get(extension)
    if kind is not None:
        return f"{_BAD_EXTENSION}; {filename} is {kind}"
    return f"{_BAD_EXTENSION}; got {filename}"


def _wheel_listing_version(filename: str) -> str | None:
    """parse_filename's checks of a wheel name, each part's cached.

    The parts and the '-' and '.whl' between them are the whole filename, so checking
    every part for refused characters (as _check_characters does) covers all of it. The
    order differs from parse_filename's, which only matters for errors other than
    InvalidInput, and names within the length bound raise none.
    """
    stem = filename[: -len(WHEEL_EXTENSION)]
    dashes = stem.count("-")
    if dashes not in (4, 5):
        return None
    parts = stem.split("-", dashes - 2)
    if not _is_valid_wheel_name(parts[0]):
        return None
    if dashes == 5 and not _is_valid_build_tag(parts[2]):
        return None
    if not _is_valid_tag_triple(parts[-1]):
        return None
    return _wheel_version(parts[1])


# Bounded: a listing repeats each part for many files, but a hostile one must not grow
# the caches without limit. Sized above the versions and tag triples of the largest projects.
@functools.lru_cache(maxsize=1024)
def _is_valid_wheel_name(name_part: str) -> bool:
    # packaging's escaped-name rule is no '__' and only [\w.]; packyard's project names
    # (_parse_wheel) are letters, digits and '._-': within [\w.], no refused character.
    return "__" not in name_part and is_valid_project_name(name_part)


@functools.lru_cache(maxsize=8192)
def _wheel_version(version_part: str) -> str | None:
    # Version() strips surrounding whitespace, control characters included.
    if _REFUSED_CHARACTERS.search(version_part):
        return None
    try:
        return str(Version(version_part))
    except InvalidVersion:
        return None


@functools.lru_cache(maxsize=1024)
def _is_valid_build_tag(build_part: str) -> bool:
    return (
        _REFUSED_CHARACTERS.search(build_part) is None and _BUILD_TAG.match(build_part) is not None
    )


@functools.lru_cache(maxsize=1024)
def _is_valid_tag_triple(tag_part: str) -> bool:
    # packaging's own parser rather than a copy of its rules, which changed in 26.3; cached,
    # its Tag objects are built once per distinct triple, not once per file.
    if _REFUSED_CHARACTERS.search(tag_part):
        return False
    try:
        parse_tag(tag_part)
    except InvalidTag:
        return False
    return True


def _parse_wheel(filename: str) -> ParsedFilename:
    try:
        _, version, build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as e:
        raise InvalidFilename(f"{filename} is not a valid wheel filename: {e}") from e
    name_part = filename.split("-", 1)[0]
    # packaging accepts any Unicode word character; project names are ASCII (N1).
    _require_valid_name(name_part, filename)
    return ParsedFilename(filename, normalize(name_part), version, PackageType.WHEEL, tags, build)


def _parse_sdist(filename: str, *, allow_legacy: bool) -> ParsedFilename:
    name_part = filename[: -len(SDIST_EXTENSION)].rpartition("-")[0]
    if "-" in name_part:
        if allow_legacy:
            return _parse_legacy_sdist(filename)
        raise InvalidFilename(_pep625_message(filename))
    try:
        _, version = parse_sdist_filename(filename)
    except InvalidSdistFilename as e:
        raise InvalidFilename(f"{filename} is not a valid sdist filename: {e}") from e
    _require_valid_name(name_part, filename)
    return ParsedFilename(
        filename, normalize(name_part), version, PackageType.SDIST, frozenset(), ()
    )


def _pep625_message(filename: str) -> str:
    message = (
        f"{filename} is not a valid sdist filename: PEP 625 requires "
        "'{name}-{version}.tar.gz' with runs of '-', '_' and '.' in the name replaced by '_'"
    )
    stem = filename[: -len(SDIST_EXTENSION)]
    try:
        name_part, version = _split_legacy_stem(stem, filename)
    except InvalidFilename:
        return message
    return f"{message}, e.g. {_UNDERSCORES.sub('_', name_part).lower()}-{version}.tar.gz"


def _parse_legacy_sdist(filename: str) -> ParsedFilename:
    extension = next(ext for ext in LEGACY_SDIST_EXTENSIONS if filename.endswith(ext))
    stem = filename[: -len(extension)]
    name_part, version = _split_legacy_stem(stem, filename)
    _require_valid_name(name_part, filename)
    return ParsedFilename(
        filename, normalize(name_part), version, PackageType.SDIST, frozenset(), (), legacy=True
    )


def _split_legacy_stem(stem: str, filename: str) -> tuple[str, Version]:
    """Split at the last '-' followed by a PEP 440 version, as pypiserver guessed."""
    position = stem.rfind("-")
    while position > 0:
        try:
            return stem[:position], Version(stem[position + 1 :])
        except InvalidVersion:
            position = stem.rfind("-", 0, position)
    raise InvalidFilename(
        f"{filename} is not a valid sdist filename: no '-{{version}}' with a PEP 440 version"
    )


def _require_valid_name(name_part: str, filename: str) -> None:
    if not is_valid_project_name(name_part):
        raise InvalidFilename(
            f"{filename} is not a valid distribution filename: {name_part!r} is not a valid "
            "project name"
        )
