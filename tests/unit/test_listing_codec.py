"""A mirrored project's listing survives its stored form exactly."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.adapters.db.listing_codec import (
    ListingFormatError,
    decode_listing,
    encode_listing,
)
from packyard.adapters.db.mirror_repository import DecodedListings
from packyard.domain.models import MirrorFile
from packyard.domain.names import NormalizedName

pytestmark = pytest.mark.unit

DEMO = NormalizedName("demo")
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_SHA = st.none() | st.text("0123456789abcdef", min_size=64, max_size=64)
_TIMES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_FILENAMES = st.sampled_from(["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "x"]) | _TEXT


@st.composite
def mirror_files(draw: st.DrawFn) -> MirrorFile:
    filename = draw(_FILENAMES)
    url = draw(
        st.sampled_from(
            [
                f"https://files.test/p/{filename}",
                f"https://files.test/p/{filename}/",
                "https://files.test/p/",
                f"https://files.test/{filename}x",
                "https://files.test/p/other.whl",
            ]
        )
        | _TEXT
    )
    return MirrorFile(
        index="upstream",
        project=DEMO,
        filename=filename,
        version=draw(_TEXT),
        upstream_url=url,
        first_seen=draw(_TIMES),
        sha256=draw(_SHA),
        size=draw(st.none() | st.integers(0, 2**53)),
        upload_time=draw(st.none() | _TIMES),
        requires_python=draw(st.none() | _TEXT),
        yanked=draw(st.booleans()),
        yanked_reason=draw(_TEXT),
        metadata_sha256=draw(_SHA),
        has_metadata=draw(st.booleans()),
    )


@given(st.lists(mirror_files(), max_size=8))
def test_a_listing_decodes_to_what_was_encoded(files: list[MirrorFile]) -> None:
    assert decode_listing("upstream", DEMO, encode_listing(files)) == files


@given(st.lists(mirror_files(), max_size=8))
def test_a_listing_stored_compressed_by_an_earlier_version_still_decodes(
    files: list[MirrorFile],
) -> None:
    assert decode_listing("upstream", DEMO, zlib.compress(encode_listing(files))) == files


def test_a_non_utc_time_comes_back_as_the_same_instant() -> None:
    paris = datetime(2024, 5, 6, 9, 8, 9, 123456).astimezone()
    file = MirrorFile("upstream", DEMO, "demo-1.0.tar.gz", "1.0", "https://f/x", paris)
    (back,) = decode_listing("upstream", DEMO, encode_listing([file]))
    assert back.first_seen == paris and back.first_seen.utcoffset() is not None
    assert back.first_seen - paris == timedelta(0)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not zlib",
        b"{not json",
        b'{"format": 99, "files": []}',
        zlib.compress(b"not json"),
        zlib.compress(b"[]"),
        zlib.compress(b'{"format": 99, "files": []}'),
    ],
)
def test_an_unreadable_listing_is_an_error_that_says_so(blob: bytes) -> None:
    with pytest.raises(ListingFormatError, match="listing"):
        decode_listing("upstream", DEMO, blob)


def test_decoded_listings_forget_the_least_recently_used_beyond_their_bound() -> None:
    listings = DecodedListings(max_files=3)
    file = MirrorFile("upstream", DEMO, "demo-1.0.tar.gz", "1.0", "https://f/x", datetime.now(UTC))
    listings.put(("upstream", "a", "1"), [file, replace(file, filename="b")])
    listings.put(("upstream", "b", "2"), [file])
    assert listings.get(("upstream", "a", "1")) is not None  # now the most recent

    listings.put(("upstream", "c", "3"), [file])

    assert listings.get(("upstream", "b", "2")) is None
    assert listings.get(("upstream", "a", "1")) == {
        "demo-1.0.tar.gz": file,
        "b": replace(file, filename="b"),
    }
    assert listings.get(("upstream", "c", "3")) == {"demo-1.0.tar.gz": file}
