"""Project and index names: validation and PEP 503 normalisation."""

from __future__ import annotations

import re
from typing import NewType

from packyard.domain.errors import InvalidInput, InvalidName

NormalizedName = NewType("NormalizedName", str)

_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE | re.ASCII)
_SEPARATORS = re.compile(r"[-_.]+")
_INDEX_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")

RESERVED_INDEX_NAMES = frozenset(
    {"simple", "legacy", "api", "docs", "pypi", "metrics", "healthz", "readyz", "static", "_"}
)


def normalize(name: str) -> NormalizedName:
    """PEP 503 normalisation; does not validate."""
    return NormalizedName(_SEPARATORS.sub("-", name).lower())


def is_valid_project_name(name: str) -> bool:
    return bool(_PROJECT_NAME.fullmatch(name))


def validate_project_name(name: str) -> NormalizedName:
    """Return the normalised name, or raise InvalidName with the rule it broke."""
    if not is_valid_project_name(name):
        raise InvalidName(
            f"{name!r} is not a valid project name: use ASCII letters, digits, '.', '_' and "
            "'-', starting and ending with a letter or digit"
        )
    return normalize(name)


def validate_index_name(name: str) -> str:
    """Index names are lower-case URL segments that do not collide with packyard's routes."""
    if name.startswith("+") or name in RESERVED_INDEX_NAMES:
        raise InvalidName(f"{name!r} is reserved for packyard's own URLs; choose another name")
    if not _INDEX_NAME.fullmatch(name):
        raise InvalidName(
            f"{name!r} is not a valid index name: use 1 to 64 lower-case letters, digits, "
            "'.', '_' or '-', starting and ending with a letter or digit"
        )
    return name


def validate_text(value: str, field: str, *, max_length: int = 1000) -> str:
    """Free text (reasons, descriptions): no NUL or other control characters but tabs
    and newlines (PostgreSQL cannot store NUL), and a bounded length."""
    if len(value) > max_length:
        raise InvalidInput(f"The {field} is longer than {max_length} characters")
    if any((ord(c) < 32 and c not in "\t\n") or ord(c) == 127 for c in value):
        raise InvalidInput(f"The {field} contains control characters; use plain text")
    return value
