from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.domain.errors import InvalidInput, InvalidName
from packyard.domain.names import (
    is_valid_project_name,
    normalize,
    validate_index_name,
    validate_project_name,
    validate_text,
)

pytestmark = pytest.mark.unit

# Valid names as N1 defines them: alphanumeric ends, '.', '_' and '-' inside.
valid_names = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,30}[A-Za-z0-9])?", fullmatch=True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("foo", "foo"),
        ("Foo", "foo"),
        ("foo_bar", "foo-bar"),
        ("Foo.Bar", "foo-bar"),
        ("foo--bar", "foo-bar"),
        ("foo-_.bar", "foo-bar"),
        ("FOO__BAR", "foo-bar"),
        ("zope.interface", "zope-interface"),
        ("a", "a"),
        ("1", "1"),
    ],
)
def test_normalize_follows_pep_503(name: str, expected: str) -> None:
    assert normalize(name) == expected


@pytest.mark.parametrize("name", ["a", "A1", "foo.bar", "foo_bar", "foo-bar", "0x", "x.y-z_9"])
def test_valid_project_names_are_accepted(name: str) -> None:
    assert is_valid_project_name(name)
    assert validate_project_name(name) == normalize(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-foo",
        "foo-",
        ".foo",
        "foo_",
        "foo bar",
        "foo/bar",
        "fóo",
        "foo!",
        "foo\n",
        # Letters that case-insensitive matching would take for ASCII ones.
        "\u017f",
        "\u212a",
        "\u0130",
        "\u0131",
    ],
)
def test_invalid_project_names_are_refused_with_the_rule(name: str) -> None:
    assert not is_valid_project_name(name)
    with pytest.raises(InvalidName, match="is not a valid project name"):
        validate_project_name(name)


@pytest.mark.parametrize("name", ["main", "team-a", "a", "x.y_z-1"])
def test_valid_index_names_are_returned_unchanged(name: str) -> None:
    assert validate_index_name(name) == name


@pytest.mark.parametrize("name", ["simple", "legacy", "+files", "_"])
def test_reserved_index_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidName, match="reserved"):
        validate_index_name(name)


@pytest.mark.parametrize("name", ["Main", "-a", "a-", "", "a" * 65, "a b"])
def test_malformed_index_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidName, match="not a valid index name"):
        validate_index_name(name)


@given(valid_names)
def test_normalize_is_idempotent(name: str) -> None:
    assert normalize(normalize(name)) == normalize(name)


@given(valid_names, st.data())
def test_every_spelling_of_a_name_normalises_equally(name: str, data: st.DataObject) -> None:
    separator = st.text(alphabet="-_.", min_size=1, max_size=3)
    respelled = re.sub(r"[-_.]+", lambda _: data.draw(separator), name)
    respelled = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in respelled)
    assert normalize(respelled) == normalize(name)


@given(valid_names)
def test_normalised_names_are_lower_case_with_single_dashes(name: str) -> None:
    normalised = normalize(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", normalised)


@pytest.mark.parametrize("text", ["ok", "line one\nline two", "tab\there", "ünïcödé ✓"])
def test_plain_text_is_accepted_as_it_is(text: str) -> None:
    assert validate_text(text, "reason") == text


@pytest.mark.parametrize("text", ["nul\x00byte", "bell\x07", "escape\x1b[31m", "del\x7f"])
def test_control_characters_in_free_text_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        validate_text(text, "reason")


def test_overlong_free_text_is_refused() -> None:
    with pytest.raises(InvalidInput, match="longer than 10"):
        validate_text("x" * 11, "reason", max_length=10)
