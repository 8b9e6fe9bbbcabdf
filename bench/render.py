"""CPU time to render one big project page (PEP 691 JSON and PEP 503 HTML, with gzip).

    .venv/bin/python bench/render.py [--files 15000] [--repeat 7]

Builds a synthetic view shaped like pydantic-core on a mirror (about 150 versions of
~100 wheels each, upstream times, sha256 digests and metadata sidecars, a few yanked
files) and times `render_project` with `time.process_time`, so other load on the machine
shows up less than in wall time. Prints the median and the best run per format, the body
and gzip sizes, and the time of gzip alone. Not a test: figures vary between machines.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import statistics
import time
from datetime import UTC, datetime, timedelta

from packyard.domain.names import NormalizedName
from packyard.services.catalog import Listed, ProjectView
from packyard.services.simple_pages import PageFormat, render_project

PLATFORMS = [
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_1_x86_64",
    "musllinux_1_1_aarch64",
    "macosx_10_12_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
    "win32",
    "manylinux_2_17_ppc64le.manylinux2014_ppc64le",
    "manylinux_2_17_s390x.manylinux2014_s390x",
]
PYTHONS = ["cp38", "cp39", "cp310", "cp311", "cp312", "cp313", "pp39", "pp310", "pp311", "cp313t"]


def synthetic_view(count: int) -> ProjectView:
    """`count` files of a pydantic-core-like project, in upload order."""
    files: list[Listed] = []
    start = datetime(2022, 1, 1, tzinfo=UTC)
    number = 0
    while len(files) < count:
        version = f"2.{number // 10}.{number % 10}"
        for python in PYTHONS:
            for platform in PLATFORMS:
                if len(files) == count:
                    break
                files.append(_listed(version, python, platform, start, len(files)))
        number += 1
    return ProjectView(
        index="mirror",
        name=NormalizedName("pydantic-core"),
        display_name="pydantic_core",
        files=tuple(files),
        last_serial=123_456,
        answered_by=("mirror",),
    )


def _listed(version: str, python: str, platform: str, start: datetime, n: int) -> Listed:
    abi = python.removesuffix("t") + ("t" if python.endswith("t") else "")
    filename = f"pydantic_core-{version}-{python}-{abi}-{platform}.whl"
    sha256 = hashlib.sha256(filename.encode()).hexdigest()
    uploaded = start + timedelta(minutes=37 * n, microseconds=n * 7919 % 1_000_000)
    return Listed(
        filename=filename,
        version=version,
        url=f"/mirror/+f/{sha256}/{filename}",
        sha256=sha256,
        size=1_800_000 + n % 100_000,
        upload_time=uploaded,
        requires_python=">=3.8",
        yanked=n % 997 == 0,
        yanked_reason="broken build" if n % 1994 == 0 else "",
        metadata_sha256=hashlib.sha256(filename.encode() + b".metadata").hexdigest(),
        has_metadata=True,
        source="mirror",
        mirrored=True,
        first_seen=uploaded,
    )


def cpu_ms(view: ProjectView, fmt: PageFormat, repeat: int) -> tuple[list[float], int, int]:
    runs: list[float] = []
    for _ in range(repeat):
        began = time.process_time()
        page = render_project(view, fmt, serial=1)
        runs.append((time.process_time() - began) * 1000)
    return runs, len(page.body), len(page.gzipped)


def gzip_ms(body: bytes, level: int) -> tuple[float, int]:
    began = time.process_time()
    size = len(gzip.compress(body, compresslevel=level, mtime=0))
    return (time.process_time() - began) * 1000, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=15_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    view = synthetic_view(args.files)
    render_project(view, PageFormat.HTML, serial=1)  # compiles the template once
    print(f"{args.files} files, {args.repeat} runs, CPU ms (process_time)")
    for fmt in (PageFormat.JSON_V1, PageFormat.HTML):
        runs, size, zipped = cpu_ms(view, fmt, args.repeat)
        print(
            f"{fmt.name:8} median {statistics.median(runs):7.1f}  best {min(runs):7.1f}"
            f"  body {size / 1e6:5.2f} MB  gzip {zipped / 1e6:5.2f} MB"
        )
        body = render_project(view, fmt, serial=1).body
        for level in (1, 6):
            took, size = gzip_ms(body, level)
            print(f"         gzip level {level}: {took:6.1f} ms  {size / 1e6:5.2f} MB")


if __name__ == "__main__":
    main()
