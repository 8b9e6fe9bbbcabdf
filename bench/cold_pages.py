"""CPU time for a cold mirror to serve the JSON pages of bench/mirror.py's 32 projects.

    .venv/bin/python bench/cold_pages.py [--rounds 3] [--pages DIR]

The project pages are fetched once from the upstream (the index pip uses on this machine)
into DIR (default bench/out/pages; kept, so later runs compare the same bytes), then
served to packyard by an in-process fake upstream. Each round builds a fresh store
(SQLite and files in a temporary directory), asks the app for all 32 pages at once
through httpx's ASGI transport, as uv does, and prints the wall time and the process
CPU time (`time.process_time`, which other load on the machine changes less than the
wall time) of the cold pass and of a second, warm pass. Everything runs in this one
process, so the figures include the client's side of the ASGI calls.

    PYTHONPATH=DIR/src .venv/bin/python bench/cold_pages.py

measures another tree (say `git archive COMMIT src | tar -x -C DIR`) on the same saved
pages. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx

from packyard.adapters.upstream import pip_default_index
from packyard.bootstrap import bootstrap
from packyard.config import Settings
from packyard.services.catalog import Catalog
from packyard.services.mirror import MirrorService, Upstreams
from packyard.web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mirror import REQUIREMENTS  # bench/ is not a package: found through sys.path

JSON_V1 = "application/vnd.pypi.simple.v1+json"
FAKE_UPSTREAM = "http://upstream.invalid/simple/"
PROJECTS = [line.split("==")[0] for line in REQUIREMENTS.split()]


def fetch_pages(directory: Path) -> dict[str, bytes]:
    """The upstream's JSON page of each project, from `directory` or fetched into it."""
    directory.mkdir(parents=True, exist_ok=True)
    upstream = pip_default_index().rstrip("/")

    def fetch(project: str) -> None:
        path = directory / f"{project}.json"
        if path.exists():
            return
        request = urllib.request.Request(f"{upstream}/{project}/", headers={"Accept": JSON_V1})
        with urllib.request.urlopen(request, timeout=60) as response:
            path.write_bytes(response.read())

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, PROJECTS))
    return {project: (directory / f"{project}.json").read_bytes() for project in PROJECTS}


def fake_upstream(pages: dict[str, bytes]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        project = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        if project not in pages:
            return httpx.Response(404)
        return httpx.Response(200, content=pages[project], headers={"Content-Type": JSON_V1})

    return httpx.MockTransport(handle)


async def one_round(pages: dict[str, bytes], data_dir: Path) -> tuple[float, float, float, float]:
    settings = Settings(data_dir=data_dir, upstream_url=FAKE_UPSTREAM, access_log=False)
    container = bootstrap(settings)
    mirror = MirrorService(
        uow_factory=container.uow,
        files=container.files,
        clock=container.clock,
        upstreams=Upstreams(timeout=30, transport=fake_upstream(pages)),
    )
    catalog = Catalog(
        uow_factory=container.uow,
        mirror=mirror,
        clock=container.clock,
        file_url=container.catalog.file_url,
    )
    app = create_app(settings, replace(container, mirror=mirror, catalog=catalog))
    headers = {"Accept": JSON_V1, "Accept-Encoding": "gzip"}
    try:
        transport = httpx.ASGITransport(app=app)
        # The app's lifespan runs as in a server process (start-up work, collector settings).
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://packyard") as client,
        ):

            async def all_pages() -> tuple[float, float]:
                wall, cpu = time.perf_counter(), time.process_time()
                responses = await asyncio.gather(
                    *(client.get(f"/simple/{p}/", headers=headers) for p in PROJECTS)
                )
                failed = [r.url for r in responses if r.status_code != 200]
                if failed:
                    raise RuntimeError(f"pages not served: {failed}")
                return time.perf_counter() - wall, time.process_time() - cpu

            cold = await all_pages()
            warm = await all_pages()
    finally:
        container.close()
    return (*cold, *warm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pages", type=Path, default=Path(__file__).resolve().parent / "out" / "pages"
    )
    args = parser.parse_args()
    pages = fetch_pages(args.pages)
    files = sum(page.count(b'"filename"') for page in pages.values())
    size = sum(len(page) for page in pages.values()) / 1e6
    print(f"{len(pages)} pages, {files} files, {size:.1f} MB of JSON (saved in {args.pages})")
    results = []
    for number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="packyard-cold-pages-") as tmp:
            result = asyncio.run(one_round(pages, Path(tmp)))
        results.append(result)
        print(
            "round {}: cold wall {:.2f} s, CPU {:.2f} s; warm wall {:.2f} s, CPU {:.2f} s".format(
                number, *result
            ),
            flush=True,
        )
    medians = [statistics.median(column) for column in zip(*results, strict=True)]
    print(
        "median: cold wall {:.2f} s, CPU {:.2f} s; warm wall {:.2f} s, CPU {:.2f} s".format(
            *medians
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
