"""Core metadata (METADATA / PKG-INFO): parsing, validation and agreement with the filename."""

from __future__ import annotations

import email.parser
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from packyard.domain.errors import InvalidMetadata, InvalidName
from packyard.domain.filenames import ParsedFilename
from packyard.domain.models import PackageType
from packyard.domain.names import normalize, validate_project_name

_METADATA_VERSION = re.compile(r"^(\d+)\.(\d+)$")
# Values that build tools wrote for "not given" (U3).
_ABSENT = frozenset({"", "UNKNOWN"})
# Fields whose repetition would make the file ambiguous about what it describes.
_SINGLE_CRITICAL = ("Metadata-Version", "Name", "Version")
# distutils and old setuptools folded a multi-line Description with one of these prefixes.
_DESCRIPTION_FOLD = re.compile(r"\n(?:        |       \|)")


@dataclass(frozen=True)
class CoreMetadata:
    metadata_version: str
    name: str
    version: str
    requires_python: str | None = None
    summary: str | None = None
    description: str | None = None
    description_content_type: str | None = None
    keywords: str | None = None
    home_page: str | None = None
    download_url: str | None = None
    author: str | None = None
    author_email: str | None = None
    maintainer: str | None = None
    maintainer_email: str | None = None
    license: str | None = None
    license_expression: str | None = None
    classifiers: tuple[str, ...] = ()
    requires_dist: tuple[str, ...] = ()
    provides_extra: tuple[str, ...] = ()
    project_urls: dict[str, str] = field(default_factory=dict, hash=False)
    platforms: tuple[str, ...] = ()
    dynamic: tuple[str, ...] = ()

    @property
    def is_static(self) -> bool:
        """Whether an sdist's metadata may be served as a sidecar (M3): 2.2+, nothing Dynamic."""
        return _version_tuple(self.metadata_version) >= (2, 2) and not self.dynamic

    def to_json(self) -> dict[str, Any]:
        """The fields of warehouse's JSON API `info` object that come from core metadata."""
        return {
            "author": self.author,
            "author_email": self.author_email,
            "classifiers": list(self.classifiers),
            "description": self.description,
            "description_content_type": self.description_content_type,
            "download_url": self.download_url,
            "home_page": self.home_page,
            "keywords": self.keywords,
            "license": self.license,
            "license_expression": self.license_expression,
            "maintainer": self.maintainer,
            "maintainer_email": self.maintainer_email,
            "name": self.name,
            "platform": ", ".join(self.platforms) or None,
            "project_urls": dict(self.project_urls) or None,
            "provides_extra": list(self.provides_extra) or None,
            "requires_dist": list(self.requires_dist) or None,
            "requires_python": self.requires_python,
            "summary": self.summary,
            "version": self.version,
        }


def parse_core_metadata(data: bytes) -> CoreMetadata:
    """Parse METADATA / PKG-INFO bytes; raise InvalidMetadata with a message a user can act on."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidMetadata(f"The metadata is not valid UTF-8: {e}") from e
    # compat32 keeps header values as written; the modern policy would reinterpret them.
    message = email.parser.Parser(policy=email.policy.compat32).parsestr(text)
    _reject_repeated(message)
    return CoreMetadata(
        metadata_version=_metadata_version(message),
        name=_name(message),
        version=_version(message),
        requires_python=_requires_python(message),
        summary=_one(message, "Summary"),
        description=_description(message),
        description_content_type=_one(message, "Description-Content-Type"),
        keywords=_one(message, "Keywords"),
        home_page=_one(message, "Home-page"),
        download_url=_one(message, "Download-URL"),
        author=_one(message, "Author"),
        author_email=_one(message, "Author-email"),
        maintainer=_one(message, "Maintainer"),
        maintainer_email=_one(message, "Maintainer-email"),
        license=_one(message, "License"),
        license_expression=_one(message, "License-Expression"),
        classifiers=_many(message, "Classifier"),
        requires_dist=_many(message, "Requires-Dist"),
        provides_extra=_many(message, "Provides-Extra"),
        project_urls=_project_urls(message),
        platforms=_many(message, "Platform"),
        dynamic=_many(message, "Dynamic"),
    )


def check_consistency(
    meta: CoreMetadata,
    parsed: ParsedFilename,
    *,
    form_name: str | None = None,
    form_version: str | None = None,
) -> None:
    """Raise InvalidMetadata unless metadata, filename and upload form name one release."""
    source = "METADATA" if parsed.packagetype is PackageType.WHEEL else "PKG-INFO"
    if normalize(meta.name) != parsed.name:
        raise InvalidMetadata(
            f"The name {meta.name!r} in {source} does not match the filename's {parsed.name!r}"
        )
    if Version(meta.version) != parsed.version:
        raise InvalidMetadata(
            f"The version {meta.version!r} in {source} does not match the filename's "
            f"{str(parsed.version)!r}"
        )
    if form_name is not None and form_name not in _ABSENT:
        _check_form_name(meta, source, form_name)
    if form_version is not None and form_version not in _ABSENT:
        _check_form_version(meta, source, form_version)


def _check_form_name(meta: CoreMetadata, source: str, form_name: str) -> None:
    if normalize(meta.name) != normalize(form_name):
        raise InvalidMetadata(
            f"The name {meta.name!r} in {source} does not match the name {form_name!r} "
            "sent with the upload"
        )


def _check_form_version(meta: CoreMetadata, source: str, form_version: str) -> None:
    try:
        agrees = Version(form_version) == Version(meta.version)
    except InvalidVersion as e:
        raise InvalidMetadata(
            f"The version {form_version!r} sent with the upload is not a valid PEP 440 version"
        ) from e
    if not agrees:
        raise InvalidMetadata(
            f"The version {meta.version!r} in {source} does not match the version "
            f"{form_version!r} sent with the upload"
        )


def _version_tuple(metadata_version: str) -> tuple[int, int]:
    match = _METADATA_VERSION.match(metadata_version)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def _reject_repeated(message: Message) -> None:
    for header in _SINGLE_CRITICAL:
        if len(message.get_all(header) or []) > 1:
            raise InvalidMetadata(f"The metadata has more than one {header} field")


def _one(message: Message, header: str) -> str | None:
    value = message.get(header)
    if value is None:
        return None
    value = str(value).strip()
    return None if value in _ABSENT else value


def _many(message: Message, header: str) -> tuple[str, ...]:
    values = (str(value).strip() for value in message.get_all(header) or [])
    return tuple(value for value in values if value not in _ABSENT)


def _metadata_version(message: Message) -> str:
    value = _one(message, "Metadata-Version")
    if value is None:
        raise InvalidMetadata("The metadata has no Metadata-Version field")
    major, minor = _version_tuple(value)
    if major > 2:
        raise InvalidMetadata(f"Metadata-Version {value} is not supported (1.0 to 2.x are)")
    if (major, minor) not in {(1, 0), (1, 1), (1, 2)} and major != 2:
        raise InvalidMetadata(
            f"{value!r} is not a valid Metadata-Version: use 1.0, 1.1, 1.2 or 2.x"
        )
    return value


def _name(message: Message) -> str:
    value = _one(message, "Name")
    if value is None:
        raise InvalidMetadata("The metadata has no Name field")
    try:
        validate_project_name(value)
    except InvalidName as e:
        raise InvalidMetadata(f"The Name field is invalid: {e}") from e
    return value


def _version(message: Message) -> str:
    value = _one(message, "Version")
    if value is None:
        raise InvalidMetadata("The metadata has no Version field")
    try:
        Version(value)
    except InvalidVersion as e:
        raise InvalidMetadata(f"The Version field {value!r} is not a valid PEP 440 version") from e
    return value


def _requires_python(message: Message) -> str | None:
    # Installers parse it from every index page, so a bad one must not get listed.
    value = _one(message, "Requires-Python")
    if value is not None:
        try:
            SpecifierSet(value)
        except InvalidSpecifier as e:
            raise InvalidMetadata(
                f"The Requires-Python field {value!r} is not a valid version specifier"
            ) from e
    return value


def _description(message: Message) -> str | None:
    header = _one(message, "Description")
    if header is not None:
        return _DESCRIPTION_FOLD.sub("\n", header)
    body = message.get_payload()
    # A multipart body is not a description; treat it as absent rather than guess.
    if not isinstance(body, str) or body.strip() in _ABSENT:
        return None
    return body


def _project_urls(message: Message) -> dict[str, str]:
    urls: dict[str, str] = {}
    for entry in _many(message, "Project-URL"):
        label, _, url = (part.strip() for part in entry.partition(","))
        urls.setdefault(label, url)
    return urls
