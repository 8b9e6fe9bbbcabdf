"""Per-process state of the web app: the container, URL building and the page cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.requests import Request

from packyard.bootstrap import Container
from packyard.domain.models import DistFile
from packyard.services.simple_pages import Page


class PageCache:
    """Rendered pages by (index, project, format); an entry is valid while its serial is
    the index's current serial. Bounded, least recently used out first."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._entries: OrderedDict[tuple[str, str, str], Page | int] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str], serial: int) -> Page | int | None:
        """The cached page, or the serial at which the project was found missing."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        cached_serial = entry if isinstance(entry, int) else entry.serial
        return entry if cached_serial == serial else None

    def put(self, key: tuple[str, str, str], entry: Page | int) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


@dataclass
class Urls:
    """Links in pages are root-relative, under the base URL's path when one is set."""

    prefix: str = ""
    base_url: str | None = None

    def file(self, f: DistFile) -> str:
        return f"{self.prefix}/{f.index}/+f/{f.digests.sha256}/{f.filename}"

    def simple(self, index: str | None, project: str | None = None) -> str:
        root = f"{self.prefix}/simple/" if index is None else f"{self.prefix}/{index}/simple/"
        return root if project is None else f"{root}{project}/"

    def absolute(self, request: Request, path: str) -> str:
        if self.base_url:
            origin = self.base_url[: len(self.base_url) - len(self.prefix)]
            return origin + path
        return f"{request.url.scheme}://{request.url.netloc}{path}"


@dataclass
class WebState:
    container: Container
    urls: Urls
    pages: PageCache = field(default_factory=PageCache)


def state(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web
