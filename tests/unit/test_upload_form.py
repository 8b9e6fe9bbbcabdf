"""UploadForm: warehouse's legacy upload form as twine, uv, flit and poetry send it (U1-U3)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.domain.errors import DigestMismatch, Gone, InvalidInput
from packyard.domain.models import Digests, PackageType
from packyard.domain.upload import UploadForm

pytestmark = pytest.mark.unit

DATA = b"the bytes of a wheel"
REAL = Digests(
    sha256=hashlib.sha256(DATA).hexdigest(),
    blake2b_256=hashlib.blake2b(DATA, digest_size=32).hexdigest(),
    md5=hashlib.md5(DATA, usedforsecurity=False).hexdigest(),
)
SENT = {
    "md5_digest": REAL.md5,
    "sha256_digest": REAL.sha256,
    "blake2_256_digest": REAL.blake2b_256,
}


def parse(**fields: str) -> UploadForm:
    return UploadForm.from_fields({":action": "file_upload", "protocol_version": "1", **fields})


@pytest.mark.parametrize("action", ["frobnicate", "", "upload", "FILE_UPLOAD", None])
def test_unknown_or_missing_action_is_invalid_input(action: str | None) -> None:
    fields = {"protocol_version": "1"} if action is None else {":action": action}

    with pytest.raises(InvalidInput, match="action"):
        UploadForm.from_fields(fields)


def test_register_action_is_gone() -> None:
    action = "submit"
    with pytest.raises(Gone, match=action) as caught:
        UploadForm.from_fields({":action": action, "protocol_version": "1"})

    assert "was ever registered" not in str(caught.value)  # U10


@pytest.mark.parametrize("version", ["0", "2", "1.0", "one"])
def test_protocol_version_other_than_1_is_invalid_input(version: str) -> None:
    with pytest.raises(InvalidInput, match="protocol_version"):
        parse(protocol_version=version)


def test_missing_protocol_version_is_taken_as_1() -> None:
    assert UploadForm.from_fields({":action": "file_upload"}) == UploadForm()


def test_fields_are_read_and_unknown_ones_ignored() -> None:
    form = parse(
        name="Demo_Pkg",
        version="1.0",
        filetype="bdist_wheel",
        pyversion="py3",
        metadata_version="2.1",
        summary="ignored",
        comment="ignored",
        **SENT,
    )

    assert form == UploadForm(
        name="Demo_Pkg",
        version="1.0",
        filetype="bdist_wheel",
        pyversion="py3",
        md5_digest=REAL.md5,
        sha256_digest=REAL.sha256,
        blake2_256_digest=REAL.blake2b_256,
    )


@pytest.mark.parametrize("absent", ["", "UNKNOWN", "  ", " UNKNOWN "])
@pytest.mark.parametrize(
    "field", ["name", "version", "filetype", "pyversion", "md5_digest", "sha256_digest"]
)
def test_empty_and_unknown_values_are_absent(field: str, absent: str) -> None:
    assert getattr(parse(**{field: absent}), field) is None


def test_values_are_stripped() -> None:
    assert parse(name=" demo ", sha256_digest=f" {REAL.sha256}\n").name == "demo"
    parse(sha256_digest=f" {REAL.sha256}\n").check_digests(REAL)


def test_matching_digests_pass() -> None:
    parse(**SENT).check_digests(REAL)


def test_no_digests_pass() -> None:
    parse().check_digests(REAL)


@given(st.binary(max_size=256), st.data())
def test_digests_are_compared_case_insensitively(data: bytes, draw: st.DataObject) -> None:
    real = Digests(
        sha256=hashlib.sha256(data).hexdigest(),
        blake2b_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )

    def scramble(hexdigest: str) -> str:
        upper = draw.draw(st.lists(st.booleans(), min_size=len(hexdigest), max_size=len(hexdigest)))
        return "".join(c.upper() if u else c for c, u in zip(hexdigest, upper, strict=True))

    parse(
        md5_digest=scramble(real.md5),
        sha256_digest=scramble(real.sha256),
        blake2_256_digest=scramble(real.blake2b_256),
    ).check_digests(real)


@pytest.mark.parametrize("field", list(SENT))
@pytest.mark.parametrize("wrong", ["truncate", "flip", "other-data"])
def test_each_wrong_digest_is_a_mismatch_naming_the_field(field: str, wrong: str) -> None:
    good = SENT[field]
    bad = {
        "truncate": good[:-2],
        "flip": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "other-data": hashlib.new("sha256", b"other").hexdigest()[: len(good)],
    }[wrong]

    with pytest.raises(DigestMismatch) as caught:
        parse(**{**SENT, field: bad}).check_digests(REAL)

    assert field in str(caught.value)
    assert bad in str(caught.value)


def test_digest_mismatch_is_invalid_input() -> None:
    # The web layer maps InvalidInput to 400, as U2 requires.
    assert issubclass(DigestMismatch, InvalidInput)


@pytest.mark.parametrize(
    ("filetype", "packagetype"),
    [("sdist", PackageType.SDIST), ("bdist_wheel", PackageType.WHEEL), (None, PackageType.WHEEL)],
)
def test_matching_filetype_passes(filetype: str | None, packagetype: PackageType) -> None:
    UploadForm(filetype=filetype).check_filetype(packagetype)


@pytest.mark.parametrize(
    ("filetype", "packagetype", "message"),
    [
        ("sdist", PackageType.WHEEL, "does not match"),
        ("bdist_wheel", PackageType.SDIST, "does not match"),
        ("bdist_egg", PackageType.WHEEL, "Unsupported filetype"),
        ("bdist_wininst", PackageType.WHEEL, "Unsupported filetype"),
    ],
)
def test_wrong_filetype_is_invalid_input(
    filetype: str, packagetype: PackageType, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        UploadForm(filetype=filetype).check_filetype(packagetype)
