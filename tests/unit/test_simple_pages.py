"""The simple API's pages as clients parse them: PEP 503 HTML (H1-H7) and PEP 691 JSON (J1-J3)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.domain.models import Digests, DistFile, PackageType, Project
from packyard.domain.names import NormalizedName, normalize
from packyard.services.catalog import Listed, ProjectView
from packyard.services.simple_pages import (
    API_VERSION,
    FAST_GZIP_ABOVE,
    Page,
    PageFormat,
    format_time,
    make_page,
    render_index,
    render_project,
)

pytestmark = pytest.mark.unit

WHEN = datetime(2024, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
UPLOAD_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
SHA256_FRAGMENT = re.compile(r"^sha256=[0-9a-f]{64}$")


def digests(seed: str) -> Digests:
    data = seed.encode()
    return Digests(
        sha256=hashlib.sha256(data).hexdigest(),
        blake2b_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )


def dist(
    filename: str,
    version: str = "1.0",
    *,
    project: str = "demo-pkg",
    requires_python: str | None = None,
    metadata_sha256: str | None = None,
    yanked: bool = False,
    yanked_reason: str = "",
    upload_time: datetime = WHEN,
) -> DistFile:
    return DistFile(
        index="main",
        project=NormalizedName(project),
        version=version,
        filename=filename,
        packagetype=PackageType.SDIST if filename.endswith(".tar.gz") else PackageType.WHEEL,
        python_version="py3",
        size=len(filename) * 100,
        digests=digests(filename),
        upload_time=upload_time,
        uploader="alice",
        requires_python=requires_python,
        metadata_sha256=metadata_sha256,
        yanked=yanked,
        yanked_reason=yanked_reason,
    )


PROJECT = Project(
    index="main",
    name=normalize("Demo_Pkg"),
    display_name="Demo_Pkg",
    created=WHEN,
    last_serial=42,
)
SIDE = hashlib.sha256(b"METADATA").hexdigest()
FILES = [
    dist("demo_pkg-1.0.tar.gz", requires_python=">=3.9"),
    dist("demo_pkg-1.0-py3-none-any.whl", requires_python="<4,>=3.8", metadata_sha256=SIDE),
    dist("demo_pkg-1.1-py3-none-any.whl", "1.1", yanked=True, yanked_reason="broken"),
    dist("demo_pkg-1.2-py3-none-any.whl", "1.2", yanked=True),
]


def file_url(f: DistFile) -> str:
    return f"/files/{f.digests.sha256[:2]}/{f.digests.sha256}/{f.filename}"


def render(files: list[DistFile], fmt: PageFormat, project: Project = PROJECT) -> Page:
    view = ProjectView(
        index=project.index,
        name=project.name,
        display_name=project.display_name,
        files=tuple(Listed.of_hosted(f, file_url(f)) for f in files),
        last_serial=project.last_serial,
        answered_by=(project.index,),
    )
    return render_project(view, fmt, serial=7)


def names(*projects: Project) -> list[tuple[str, str]]:
    return [(p.name, p.display_name) for p in projects]


class _Page(HTMLParser):
    """Anchors and head meta tags, as pip's and uv's parsers read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.head_meta: dict[str, str | None] = {}
        self._in_head = False
        self._anchor: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self._in_head = True
        elif tag == "meta" and self._in_head:
            found = dict(attrs)
            self.head_meta[found.get("name") or ""] = found.get("content")
        elif tag == "a":
            self._anchor, self._text = dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "a" and self._anchor is not None:
            self.anchors.append((self._anchor, "".join(self._text)))
            self._anchor = None

    def handle_data(self, data: str) -> None:
        if self._anchor is not None:
            self._text.append(data)


def parse_html(page: Page) -> _Page:
    parser = _Page()
    parser.feed(page.body.decode("utf-8"))
    parser.close()
    return parser


def anchors_by_filename(page: Page) -> dict[str, dict[str, str | None]]:
    return {text: attrs for attrs, text in parse_html(page).anchors}


@pytest.fixture
def html() -> dict[str, dict[str, str | None]]:
    return anchors_by_filename(render(FILES, PageFormat.HTML))


@pytest.fixture
def document() -> dict[str, Any]:
    return json.loads(render(FILES, PageFormat.JSON_V1).body)  # type: ignore[no-any-return]


# HTML


def test_project_page_has_one_anchor_per_file_named_as_its_href(
    html: dict[str, dict[str, str | None]],
) -> None:
    assert sorted(html) == sorted(f.filename for f in FILES)
    for filename, attrs in html.items():
        href = attrs["href"]
        assert href is not None
        path, _, _ = href.partition("#")
        assert path.rsplit("/", 1)[1] == filename


def test_every_href_carries_the_full_sha256_fragment(
    html: dict[str, dict[str, str | None]],
) -> None:
    for f in FILES:
        href = html[f.filename]["href"]
        assert href is not None
        _, _, fragment = href.partition("#")
        assert SHA256_FRAGMENT.match(fragment)
        assert fragment == f"sha256={f.digests.sha256}"
        assert "?" not in href  # M2: pip appends .metadata to the path


def test_requires_python_is_html_escaped() -> None:
    body = render(FILES, PageFormat.HTML).body.decode()

    assert 'data-requires-python="&gt;=3.9"' in body
    assert 'data-requires-python="&lt;4,&gt;=3.8"' in body
    assert "<4" not in body


def test_requires_python_parses_back_and_is_absent_when_unknown(
    html: dict[str, dict[str, str | None]],
) -> None:
    assert html["demo_pkg-1.0.tar.gz"]["data-requires-python"] == ">=3.9"
    assert html["demo_pkg-1.0-py3-none-any.whl"]["data-requires-python"] == "<4,>=3.8"
    assert "data-requires-python" not in html["demo_pkg-1.1-py3-none-any.whl"]


def test_yanked_files_carry_data_yanked_with_the_reason(
    html: dict[str, dict[str, str | None]],
) -> None:
    assert html["demo_pkg-1.1-py3-none-any.whl"]["data-yanked"] == "broken"
    assert html["demo_pkg-1.2-py3-none-any.whl"]["data-yanked"] in {"", None}
    assert "data-yanked" in html["demo_pkg-1.2-py3-none-any.whl"]
    assert "data-yanked" not in html["demo_pkg-1.0-py3-none-any.whl"]


@pytest.mark.parametrize("reason", ['says "no" & <b>bold</b>', "l'apostrophe", "ünïcödé ✓", "a\tb"])
def test_yank_reason_survives_escaping(reason: str) -> None:
    page = render([dist("demo_pkg-1.0.tar.gz", yanked=True, yanked_reason=reason)], PageFormat.HTML)

    assert anchors_by_filename(page)["demo_pkg-1.0.tar.gz"]["data-yanked"] == reason
    assert b"<b>" not in page.body


def test_files_with_a_sidecar_carry_both_core_metadata_attributes(
    html: dict[str, dict[str, str | None]],
) -> None:
    wheel = html["demo_pkg-1.0-py3-none-any.whl"]
    assert wheel["data-core-metadata"] == f"sha256={SIDE}"
    assert wheel["data-dist-info-metadata"] == f"sha256={SIDE}"
    for plain in ("demo_pkg-1.0.tar.gz", "demo_pkg-1.1-py3-none-any.whl"):
        assert "data-core-metadata" not in html[plain]
        assert "data-dist-info-metadata" not in html[plain]


@pytest.mark.parametrize("fmt", [PageFormat.HTML, PageFormat.HTML_V1])
def test_html_pages_declare_the_repository_version_in_head(fmt: PageFormat) -> None:
    project_page = parse_html(render(FILES, fmt))
    index_page = parse_html(render_index(names(PROJECT), lambda n: f"/simple/{n}/", fmt, 3))

    for page in (project_page, index_page):
        assert page.head_meta["pypi:repository-version"] == API_VERSION
        assert re.match(r"^1\.\d+$", API_VERSION)


def test_index_page_has_one_anchor_per_project() -> None:
    other = Project(index="main", name=normalize("zeta"), display_name="Zeta", created=WHEN)

    page = render_index(names(PROJECT, other), lambda n: f"/simple/{n}/", PageFormat.HTML, 3)

    anchors = [(attrs["href"], text) for attrs, text in parse_html(page).anchors]
    assert anchors == [("/simple/demo-pkg/", "Demo_Pkg"), ("/simple/zeta/", "Zeta")]


def test_display_name_is_escaped_in_the_page_title() -> None:
    project = Project(index="main", name=normalize("a"), display_name="<i>a</i>", created=WHEN)

    body = render([], PageFormat.HTML, project).body

    assert b"<i>" not in body


# JSON


def test_json_declares_an_api_version_of_at_least_1_1(document: dict[str, Any]) -> None:
    major, minor = (int(part) for part in document["meta"]["api-version"].split("."))
    assert (major, minor) >= (1, 1)


def test_json_name_is_the_normalised_name(document: dict[str, Any]) -> None:
    assert document["name"] == "demo-pkg"


def test_json_versions_are_sorted_without_duplicates() -> None:
    files = [
        dist("demo_pkg-1.10-py3-none-any.whl", "1.10"),
        dist("demo_pkg-1.2-py3-none-any.whl", "1.2"),
        dist("demo_pkg-1.2.tar.gz", "1.2"),
        dist("demo_pkg-1.9rc1-py3-none-any.whl", "1.9rc1"),
        dist("demo_pkg-1.0.post1.tar.gz", "1.0.post1"),
    ]

    document = json.loads(render(files, PageFormat.JSON_V1).body)

    assert document["versions"] == ["1.0.post1", "1.2", "1.9rc1", "1.10"]


def test_json_files_carry_the_required_fields(document: dict[str, Any]) -> None:
    assert [f["filename"] for f in document["files"]] == [f.filename for f in FILES]
    for entry, f in zip(document["files"], FILES, strict=True):
        assert entry["url"] == file_url(f)
        assert entry["hashes"] == {"sha256": f.digests.sha256}
        assert entry["requires-python"] == f.requires_python
        assert entry["size"] == f.size
        assert entry["upload-time"] == "2024-03-04T05:06:07.890123Z"


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
        ),
    )
)
def test_upload_time_is_utc_with_six_fraction_digits(moment: datetime) -> None:
    shown = format_time(moment)

    assert UPLOAD_TIME.match(shown)
    assert datetime.strptime(shown, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == moment


def strftime_utc(moment: datetime) -> str:
    """How upload times were formatted before format_time used isoformat."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The last day of year 9999 would overflow in UTC; glibc's strftime writes years before
# 1000 with fewer than 4 digits.
@given(st.datetimes(datetime(1000, 1, 2), datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)))
def test_upload_time_is_what_strftime_wrote_for_any_zone(moment: datetime) -> None:
    assert format_time(moment) == strftime_utc(moment)


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (WHEN.replace(microsecond=0), "2024-03-04T05:06:07.000000Z"),
        (WHEN.replace(microsecond=5), "2024-03-04T05:06:07.000005Z"),
        (datetime(2024, 3, 4, 1, 2, 3, 4, tzinfo=ZONES[1]), "2024-03-03T19:32:03.000004Z"),
        (datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "0999-01-02T03:04:05.000006Z"),
    ],
)
def test_upload_time_keeps_every_digit(moment: datetime, shown: str) -> None:
    assert format_time(moment) == shown


def test_naive_upload_time_is_refused_rather_than_read_as_local_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(WHEN.replace(tzinfo=None))


@given(st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)))
def test_json_upload_time_is_format_time_for_any_zone_and_fraction(moment: datetime) -> None:
    # Times in UTC with a fraction are written by orjson, others by format_time.
    page = render([dist("demo_pkg-1.0.tar.gz", upload_time=moment)], PageFormat.JSON_V1)

    assert json.loads(page.body)["files"][0]["upload-time"] == format_time(moment)


def test_json_versions_show_the_first_spelling_of_equal_versions() -> None:
    files = [
        dist("demo_pkg-1.0.0-py3-none-any.whl", "1.0.0"),
        dist("demo_pkg-1.0.tar.gz", "1.0"),
        dist("demo_pkg-2.0-py3-none-any.whl", "2.0"),
        dist("demo_pkg-1.0.0.0.tar.gz", "1.0.0.0"),
    ]

    document = json.loads(render(files, PageFormat.JSON_V1).body)

    assert document["versions"] == ["1.0.0", "2.0"]


def _keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_json_never_mentions_dist_info_metadata(document: dict[str, Any]) -> None:
    assert "dist-info-metadata" not in set(_keys(document))
    assert b"dist-info-metadata" not in render(FILES, PageFormat.JSON_V1).body


def test_json_yanked_is_the_reason_true_or_false(document: dict[str, Any]) -> None:
    yanked = {f["filename"]: f["yanked"] for f in document["files"]}

    assert yanked == {
        "demo_pkg-1.0.tar.gz": False,
        "demo_pkg-1.0-py3-none-any.whl": False,
        "demo_pkg-1.1-py3-none-any.whl": "broken",
        "demo_pkg-1.2-py3-none-any.whl": True,
    }


def test_json_core_metadata_is_a_hash_dict_or_false(document: dict[str, Any]) -> None:
    core = {f["filename"]: f["core-metadata"] for f in document["files"]}

    assert core["demo_pkg-1.0-py3-none-any.whl"] == {"sha256": SIDE}
    assert core["demo_pkg-1.0.tar.gz"] is False


def test_json_index_lists_the_projects() -> None:
    page = render_index(names(PROJECT), lambda n: f"/simple/{n}/", PageFormat.JSON_V1, 3)

    document = json.loads(page.body)

    assert document["meta"]["api-version"] == API_VERSION
    assert [p["name"] for p in document["projects"]] == ["Demo_Pkg"]


# Page envelope


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        (PageFormat.HTML, "text/html; charset=utf-8"),
        (PageFormat.HTML_V1, "application/vnd.pypi.simple.v1+html; charset=utf-8"),
        (PageFormat.JSON_V1, "application/vnd.pypi.simple.v1+json"),
    ],
)
def test_content_type_is_exact_and_lower_case(fmt: PageFormat, content_type: str) -> None:
    assert render(FILES, fmt).content_type == content_type


@pytest.mark.parametrize("fmt", list(PageFormat))
def test_gzipped_body_decompresses_to_the_body(fmt: PageFormat) -> None:
    page = render(FILES, fmt)

    assert gzip.decompress(page.gzipped) == page.body


@pytest.mark.parametrize("size", [100, FAST_GZIP_ABOVE, FAST_GZIP_ABOVE + 1, 3 * FAST_GZIP_ABOVE])
def test_gzipped_body_is_the_same_bytes_on_every_replica(size: int) -> None:
    body = (b'{"filename": "demo_pkg-1.0.tar.gz", "size": 1234}, ' * size)[:size]

    first, second = (
        make_page(body, PageFormat.JSON_V1, 1, 1),
        make_page(body, PageFormat.JSON_V1, 1, 1),
    )

    assert gzip.decompress(first.gzipped) == body
    assert first.gzipped == second.gzipped
    assert first.gzipped[4:8] == bytes(4)  # the gzip header's mtime


def test_page_records_its_serials() -> None:
    page = render(FILES, PageFormat.HTML)

    assert (page.serial, page.last_serial) == (7, PROJECT.last_serial)


def test_etag_is_stable_for_the_same_content() -> None:
    assert render(FILES, PageFormat.JSON_V1).etag == render(list(FILES), PageFormat.JSON_V1).etag


@pytest.mark.parametrize("fmt", list(PageFormat))
def test_etag_differs_when_the_content_differs(fmt: PageFormat) -> None:
    yanked = [*FILES[:-1], dist("demo_pkg-1.2-py3-none-any.whl", "1.2", yanked=False)]

    assert render(FILES, fmt).etag != render(yanked, fmt).etag


def test_etag_differs_between_formats() -> None:
    etags = {render(FILES, fmt).etag for fmt in PageFormat}

    assert len(etags) == len(PageFormat)


@given(st.binary(), st.binary())
def test_etag_is_a_quoted_strong_validator_that_tracks_the_body(a: bytes, b: bytes) -> None:
    first, second = make_page(a, PageFormat.HTML, 1, 1), make_page(b, PageFormat.HTML, 1, 1)

    assert re.match(r'^"[^"]+"$', first.etag)
    assert (first.etag == second.etag) == (a == b)


# A big project (a mirror of pydantic-core lists 15,000 files)

BIG = 15_000
BIG_START = datetime(2022, 1, 3, 12, 0, 0, 123456, tzinfo=UTC)
PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "manylinux_2_17_ppc64le.manylinux2014_ppc64le",
    "manylinux_2_17_s390x.manylinux2014_s390x",
    "musllinux_1_1_x86_64",
    "musllinux_1_1_aarch64",
    "macosx_10_12_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
    "win32",
)
PYTHONS = ("cp38", "cp39", "cp310", "cp311", "cp312", "cp313", "cp313t", "pp39", "pp310", "pp311")
ODD_REASON = 'says "no" & <b>bold</b>'


def big_version(n: int) -> str:
    """150 versions of 100 files; the 51st file of each spells its version differently."""
    version = f"2.{n // 1000}.{n // 100 % 10}"
    return f"{version}.0" if n % 100 == 50 else version


def big_file(n: int) -> Listed:
    """Mostly what a mirror lists for a big binary project, with every variation of a
    field every so often: no hash, no size or time, times out of UTC or with a zero
    fraction, yanks with and without a reason, metadata with, without and with no hash."""
    version = big_version(n)
    python, platform = PYTHONS[n // 10 % 10], PLATFORMS[n % 10]
    filename = (
        f"pydantic_core-{version}.tar.gz"
        if n % 100 == 99
        else f"pydantic_core-{version}-{python}-{python}-{platform}.whl"
    )
    sha256 = hashlib.sha256(filename.encode()).hexdigest()
    uploaded = BIG_START + timedelta(minutes=17 * n, microseconds=7919 * n)
    if n % 100 == 7:
        uploaded = uploaded.replace(microsecond=0)
    if n % 10 == 3:
        uploaded = uploaded.astimezone(ZONES[n % 3])
    metadata = hashlib.sha256(f"{filename}.metadata".encode()).hexdigest()
    return Listed(
        filename=filename,
        version=version,
        url=f"/mirror/+f/{sha256}/{filename}",
        sha256=None if n % 1000 == 500 else sha256,
        size=None if n % 700 == 1 else 1_800_000 + n,
        upload_time=None if n % 900 == 2 else uploaded,
        requires_python=None if n < 300 else ">=3.8" if n > 6_000 else "<4,>=3.7",
        yanked=n % 97 == 0,
        yanked_reason=ODD_REASON if n % 194 == 0 else "",
        metadata_sha256=None if n % 11 == 0 else metadata,
        has_metadata=n % 11 != 0 or n % 2 == 0,
        source="mirror",
        mirrored=True,
        first_seen=uploaded,
    )


@pytest.fixture(scope="module")
def big_view() -> ProjectView:
    return ProjectView(
        index="mirror",
        name=NormalizedName("pydantic-core"),
        display_name="pydantic_core",
        files=tuple(big_file(n) for n in range(BIG)),
        last_serial=123_456,
        answered_by=("mirror",),
    )


def expected_entry(f: Listed) -> dict[str, Any]:
    """A file as PEP 691, 700 and 714 describe it."""
    entry: dict[str, Any] = {
        "filename": f.filename,
        "url": f.url,
        "hashes": {"sha256": f.sha256} if f.sha256 else {},
        "requires-python": f.requires_python,
        "yanked": (f.yanked_reason or True) if f.yanked else False,
        "core-metadata": {"sha256": f.metadata_sha256} if f.metadata_sha256 else f.has_metadata,
    }
    if f.size is not None:
        entry["size"] = f.size
    if f.upload_time is not None:
        entry["upload-time"] = strftime_utc(f.upload_time)
    return entry


def expected_anchor(f: Listed) -> dict[str, str | None]:
    """A file's attributes as PEP 503, 592, 658 and 714 describe them, parsed back."""
    attrs: dict[str, str | None] = {"href": f"{f.url}#sha256={f.sha256}" if f.sha256 else f.url}
    if f.requires_python:
        attrs["data-requires-python"] = f.requires_python
    if f.yanked:
        attrs["data-yanked"] = f.yanked_reason
    metadata = f"sha256={f.metadata_sha256}" if f.metadata_sha256 else f.has_metadata and "true"
    if metadata:
        attrs["data-core-metadata"] = attrs["data-dist-info-metadata"] = metadata
    return attrs


def test_big_json_page_lists_every_file_and_version_as_the_peps_say(
    big_view: ProjectView,
) -> None:
    page = render_project(big_view, PageFormat.JSON_V1, serial=9)

    document = json.loads(gzip.decompress(page.gzipped))
    assert document["meta"] == {"api-version": API_VERSION, "_last-serial": 123_456}
    assert document["name"] == "pydantic-core"
    assert document["versions"] == [big_version(n) for n in range(0, BIG, 100)]
    assert document["files"] == [expected_entry(f) for f in big_view.files]


def test_big_html_page_has_every_anchor_as_the_peps_say(big_view: ProjectView) -> None:
    page = render_project(big_view, PageFormat.HTML, serial=9)

    parsed = parse_html(page)
    assert gzip.decompress(page.gzipped) == page.body
    assert parsed.head_meta["pypi:repository-version"] == API_VERSION
    assert len(parsed.anchors) == BIG
    assert [text for _, text in parsed.anchors] == [f.filename for f in big_view.files]
    assert [attrs for attrs, _ in parsed.anchors] == [expected_anchor(f) for f in big_view.files]
    assert b"<b>" not in page.body
    assert page.body.count(b"<br>\n") == BIG


def test_big_view_has_every_variation_it_claims(big_view: ProjectView) -> None:
    files = big_view.files

    assert len({f.filename for f in files}) == BIG
    assert {f.requires_python for f in files} == {None, "<4,>=3.7", ">=3.8"}
    assert {f.yanked_reason for f in files if f.yanked} == {"", ODD_REASON}
    assert {(f.metadata_sha256 is None, f.has_metadata) for f in files} == {
        (False, True),
        (True, True),
        (True, False),
    }
    times = [f.upload_time for f in files if f.upload_time is not None]
    assert len(times) < BIG
    assert {t.utcoffset() for t in times} == {z.utcoffset(None) for z in ZONES}
    assert any(t.microsecond == 0 for t in times)
    assert any(f.sha256 is None for f in files)
    assert any(f.size is None for f in files)
