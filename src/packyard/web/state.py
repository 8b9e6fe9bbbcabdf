"""Per-process state of the web app: the container, URL building and the page cache."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.requests import Request

from packyard.bootstrap import Container
from packyard.services.catalog import Located
from packyard.services.simple_pages import Page


@dataclass(frozen=True)
class Missing:
    """A cached 404: the project was not found at this serial (until `expires`)."""

    serial: int
    expires: float | None = None
    public: bool = True


Entry = Page | Missing


class PageCache:
    """Rendered pages by (index, project, format). An entry is valid while its serial is
    the index's current serial and its expiry (if any) has not passed. Bounded, least
    recently used out first."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._entries: OrderedDict[tuple[str, str, str], Entry] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str], serial: int) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.serial != serial:
            return None
        if entry.expires is not None and entry.expires <= time.time():
            return None
        return entry

    def put(self, key: tuple[str, str, str], entry: Entry) -> None:
        if not entry.public:
            return  # what one caller may see is not shared with the next
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


class LocatedCache:
    """Where the files of public listings live, by (index, filename), valid while the
    index's serial holds and the listing has not expired: downloads skip the catalog."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._entries: dict[tuple[str, str], tuple[int, Located]] = {}
        self._max = max_entries

    def get(self, key: tuple[str, str], serial: int) -> Located | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != serial:
            return None
        expires = entry[1].expires_at
        if expires is not None and expires.timestamp() <= time.time():
            return None
        return entry[1]

    def put(self, key: tuple[str, str], serial: int, located: Located) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (serial, located)


@dataclass
class Urls:
    """Links in pages are root-relative, under the base URL's path when one is set."""

    prefix: str = ""
    base_url: str | None = None

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
    located: LocatedCache = field(default_factory=LocatedCache)


def state(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web
