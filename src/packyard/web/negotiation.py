"""Content negotiation for simple pages (PEP 691): Accept with q-values, ?format= override."""

from __future__ import annotations

import functools

from packyard.services.simple_pages import PageFormat

_BY_TYPE = {fmt.value: fmt for fmt in PageFormat}
_ALIASES = {
    "application/vnd.pypi.simple.latest+json": PageFormat.JSON_V1,
    "application/vnd.pypi.simple.latest+html": PageFormat.HTML_V1,
}
# When q-values tie, prefer JSON over the HTML flavours, as PEP 691 suggests for servers.
_PREFERENCE = {PageFormat.JSON_V1: 3, PageFormat.HTML_V1: 2, PageFormat.HTML: 1}


class NotAcceptable(Exception):
    """No format the client accepts is available (HTTP 406)."""


@functools.lru_cache(maxsize=256)
def choose_format(accept: str | None, override: str | None = None) -> PageFormat:
    """The page format for an Accept header; a missing header or */* gets HTML.

    Each format takes the q-value of the most specific range that matches it (RFC 9110
    12.5.1), so `application/vnd.pypi.simple.v1+json;q=0, */*` never yields JSON.
    """
    if override:
        if override in _BY_TYPE:
            return _BY_TYPE[override]
        raise NotAcceptable(f"Unknown format {override!r}; use one of {', '.join(_BY_TYPE)}")
    if not accept or not accept.strip():
        return PageFormat.HTML
    ranges = _parse(accept)
    best: tuple[float, bool, int] | None = None
    chosen = PageFormat.HTML
    for fmt in PageFormat:
        quality, specificity = _quality(fmt, ranges)
        if quality <= 0:
            continue
        named = specificity > 0
        # Asked for by name: JSON first. Reached only through */*: what a browser shows.
        preference = _PREFERENCE[fmt] if named else -_PREFERENCE[fmt]
        candidate = (quality, named, preference)
        if best is None or candidate > best:
            best, chosen = candidate, fmt
    if best is None:
        raise NotAcceptable(
            "None of the formats in the Accept header is served here; accept one of "
            + ", ".join(_BY_TYPE)
        )
    return chosen


def _quality(fmt: PageFormat, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """The q-value of the most specific range matching fmt, and that range's specificity."""
    quality, specificity = 0.0, -1
    for media_type, q in ranges:
        level = _specificity(media_type, fmt)
        if level > specificity:
            quality, specificity = q, level
    return quality, specificity


def _specificity(media_type: str, fmt: PageFormat) -> int:
    if _BY_TYPE.get(media_type) is fmt or _ALIASES.get(media_type) is fmt:
        return 2
    if media_type.endswith("/*") and fmt.value.startswith(media_type[:-1]):
        return 1
    if media_type == "*/*":
        return 0
    return -1


def _parse(accept: str) -> list[tuple[str, float]]:
    parsed = []
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if media_type:
            parsed.append((media_type.lower(), quality))
    return parsed
