"""Distribution filenames: which files an index accepts and what their names say.

Uploads accept only wheels and PEP 625 sdists (PEP 527). `packyard import` also reads the
older sdist names that pypiserver directories are full of, flagged `legacy=True`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from packyard.domain.errors import InvalidFilename
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
    if filename.endswith(WHEEL_EXTENSION):
        return _parse_wheel(filename)
    if filename.endswith(SDIST_EXTENSION):
        return _parse_sdist(filename, allow_legacy=allow_legacy)
    if allow_legacy and filename.endswith(LEGACY_SDIST_EXTENSIONS):
        return _parse_legacy_sdist(filename)
    raise InvalidFilename(_extension_message(filename))


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
    if any(unicodedata.category(char) == "Cc" for char in filename):
        raise InvalidFilename(f"Invalid filename {filename!r}: it contains control characters")


def _extension_message(filename: str) -> str:
    extension = filename[filename.rfind(".") :].lower() if "." in filename else ""
    kind = _OBSOLETE_FORMATS.get(extension)
    if kind is not None:
        return f"{_BAD_EXTENSION}; {filename} is {kind}"
    return f"{_BAD_EXTENSION}; got {filename}"


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
