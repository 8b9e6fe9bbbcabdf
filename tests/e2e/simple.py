"""Reading packyard as a client does: simple pages (HTML and JSON), files, sidecars."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from e2e.server import ServerProcess

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
PIP_ACCEPT = f"{JSON_TYPE}, {HTML_TYPE}; q=0.1, text/html; q=0.01"
UV_ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01"
POETRY_ACCEPT = f"{JSON_TYPE}, */*;q=0.1"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
UPLOAD_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Anchor:
    href: str  # absolute, fragment included
    text: str
    attrs: dict[str, str | None]
    raw: str  # the start tag as sent, before HTML unescaping

    @property
    def url(self) -> str:
        return self.href.split("#", 1)[0]

    @property
    def fragment(self) -> str:
        return self.href.split("#", 1)[1] if "#" in self.href else ""

    @property
    def filename(self) -> str:
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])

    @property
    def sha256(self) -> str:
        key, _, value = self.fragment.partition("=")
        assert key == "sha256", f"href {self.href!r} has no #sha256= fragment"
        return value


@dataclass
class SimplePage:
    raw: str
    anchors: list[Anchor] = field(default_factory=list)
    head_meta: dict[str, str] = field(default_factory=dict)

    def anchor(self, filename: str) -> Anchor:
        found = [a for a in self.anchors if a.text == filename]
        assert len(found) == 1, f"{filename!r} listed {len(found)} times:\n{self.raw}"
        return found[0]

    @property
    def filenames(self) -> list[str]:
        return [a.text for a in self.anchors]


class _SimpleParser(HTMLParser):
    def __init__(self, base_url: str, page: SimplePage) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.page = page
        self.in_head = False
        self.current: tuple[dict[str, str | None], str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
        elif tag == "meta" and self.in_head:
            values = dict(attrs)
            if values.get("name"):
                self.page.head_meta[str(values["name"])] = values.get("content") or ""
        elif tag == "a":
            self.current = (dict(attrs), self.get_starttag_text() or "")
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
        elif tag == "a" and self.current is not None:
            attrs, raw = self.current
            href = urljoin(self.base_url, attrs.get("href") or "")
            self.page.anchors.append(Anchor(href, "".join(self.text).strip(), attrs, raw))
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.text.append(data)


def parse_simple_html(text: str, base_url: str) -> SimplePage:
    page = SimplePage(raw=text)
    parser = _SimpleParser(base_url, page)
    parser.feed(text)
    parser.close()
    return page


def media_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip()


class IndexClient:
    """HTTP reads against one server; closes its connection pool on close()."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(
            base_url=server.url, timeout=15.0, trust_env=False, follow_redirects=False
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, **headers: str) -> httpx.Response:
        return self.http.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()})

    def get_with_accept(self, path: str, accept: str | None) -> httpx.Response:
        """GET with exactly this Accept header, or with none at all when accept is None."""
        request = self.http.build_request("GET", path)
        if accept is None:
            del request.headers["accept"]  # httpx would send */*
        else:
            request.headers["accept"] = accept
        return self.http.send(request)

    def resolve(self, page_path: str, href: str) -> str:
        """An href or url from a page, made absolute against the page's URL."""
        return urljoin(f"{self.server.url}{page_path}", href)

    def simple_root_path(self, index: str | None = None) -> str:
        return f"/{index}/simple/" if index else "/simple/"

    def project_path(self, project: str, index: str | None = None) -> str:
        return f"{self.simple_root_path(index)}{normalize(project)}/"

    def project_html(self, project: str, index: str | None = None) -> SimplePage:
        path = self.project_path(project, index)
        response = self.http.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return parse_simple_html(response.text, str(response.url))

    def project_json(self, project: str, index: str | None = None) -> dict[str, Any]:
        path = self.project_path(project, index)
        response = self.http.get(path, headers={"Accept": JSON_TYPE})
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        assert media_type(response) == JSON_TYPE, response.headers.get("content-type")
        data: dict[str, Any] = response.json()
        return data

    def root_html(self, index: str | None = None) -> SimplePage:
        path = self.simple_root_path(index)
        response = self.http.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return parse_simple_html(response.text, str(response.url))

    def json_file(self, project: str, filename: str, index: str | None = None) -> dict[str, Any]:
        files = [f for f in self.project_json(project, index)["files"] if f["filename"] == filename]
        assert len(files) == 1, f"{filename!r} listed {len(files)} times in JSON"
        entry: dict[str, Any] = files[0]
        return entry

    def file_url(self, project: str, filename: str, index: str | None = None) -> str:
        return self.project_html(project, index).anchor(filename).url

    def download(self, project: str, filename: str, index: str | None = None) -> bytes:
        url = self.file_url(project, filename, index)
        response = self.http.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        return response.content

    def pypi_json(self, project: str, version: str | None = None) -> httpx.Response:
        path = f"/pypi/{project}/json" if version is None else f"/pypi/{project}/{version}/json"
        return self.http.get(path)

    def snapshot(self, project: str, index: str | None = None) -> tuple[int, str, int, str]:
        """The project's HTML and JSON pages as (status, body) pairs, to prove nothing changed."""
        path = self.project_path(project, index)
        html = self.http.get(path, headers={"Accept": "text/html"})
        js = self.http.get(path, headers={"Accept": JSON_TYPE})
        return html.status_code, html.text, js.status_code, js.text
