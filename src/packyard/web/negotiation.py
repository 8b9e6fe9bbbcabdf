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
    """The page format for an Accept header; a missing header or */* gets HTML."""
    if override:
        if override in _BY_TYPE:
            return _BY_TYPE[override]
        raise NotAcceptable(f"Unknown format {override!r}; use one of {', '.join(_BY_TYPE)}")
    if not accept or not accept.strip():
        return PageFormat.HTML
    best: tuple[float, int, PageFormat] | None = None
    for media_type, quality in _parse(accept):
        for fmt in _matching(media_type):
            candidate = (quality, _PREFERENCE[fmt] if media_type != "*/*" else 0, fmt)
            if quality > 0 and (best is None or candidate[:2] > best[:2]):
                best = candidate
    if best is None:
        raise NotAcceptable(
            "None of the formats in the Accept header is served here; accept one of "
            + ", ".join(_BY_TYPE)
        )
    # */* alone stands for "anything": give what a browser can show.
    return best[2] if best[1] else PageFormat.HTML


def _matching(media_type: str) -> tuple[PageFormat, ...]:
    if media_type in _BY_TYPE:
        return (_BY_TYPE[media_type],)
    if media_type in _ALIASES:
        return (_ALIASES[media_type],)
    if media_type in {"*/*", "text/*"}:
        return (PageFormat.HTML,)
    if media_type == "application/*":
        return (PageFormat.JSON_V1, PageFormat.HTML_V1)
    return ()


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
