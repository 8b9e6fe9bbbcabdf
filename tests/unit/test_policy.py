from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from packyard.domain.durations import parse_duration
from packyard.domain.errors import InvalidInput, InvalidName
from packyard.domain.names import NormalizedName, normalize
from packyard.domain.policy import (
    Candidate,
    Exemption,
    Policy,
    Verdict,
    evaluate,
    evaluate_all,
    next_change,
    parse_rule,
    visible_as_of,
)

pytestmark = pytest.mark.unit

NOW = datetime(2024, 5, 4, 10, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def candidate(
    project: str = "requests",
    version: str = "2.31.0",
    *,
    mirrored: bool = True,
    published: str | None = "2020-01-01T00:00:00Z",
    first_seen: str | None = None,
) -> Candidate:
    return Candidate(
        project=NormalizedName(project),
        version=version,
        filename=f"{project.replace('-', '_')}-{version}.tar.gz",
        mirrored=mirrored,
        published_at=None if published is None else at(published),
        first_seen=None if first_seen is None else at(first_seen),
    )


def exemption(project: str = "requests", expires: str | None = None) -> Exemption:
    return Exemption(
        project=NormalizedName(project),
        reason="CVE fix needed today",
        created_by="alice",
        created_at=at("2024-05-01T00:00:00Z"),
        expires_at=None if expires is None else at(expires),
    )


def policy(
    *,
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    min_age: str | None = None,
    exemptions: Sequence[Exemption] = (),
) -> Policy:
    return Policy(
        allow=tuple(parse_rule(text) for text in allow),
        deny=tuple(parse_rule(text) for text in deny),
        min_age=None if min_age is None else parse_duration(min_age),
        exemptions=tuple(exemptions),
    )


ALLOWED = Verdict(allowed=True, reason=None, rule=None, available_at=None)


# --- parse_rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern", "specifier", "stored_text"),
    [
        ("internal-*", "internal-*", None, "internal-*"),
        ("requests", "requests", None, "requests"),
        ("requests<2.30", "requests", "<2.30", "requests<2.30"),
        ("django>=4,<5", "django", ">=4,<5", "django>=4,<5"),
        ("numpy==1.26.*", "numpy", "==1.26.*", "numpy==1.26.*"),
        ("Foo_Bar~=1.2", "Foo_Bar", "~=1.2", "Foo_Bar~=1.2"),
        ("foo!=1.0", "foo", "!=1.0", "foo!=1.0"),
        ("foo >= 1.0", "foo", ">=1.0", "foo >= 1.0"),
        ("  foo?.bar*  ", "foo?.bar*", None, "foo?.bar*"),
        ("*", "*", None, "*"),
    ],
)
def test_parse_rule_splits_glob_and_specifier(
    text: str, pattern: str, specifier: str | None, stored_text: str
) -> None:
    rule = parse_rule(text)
    assert rule.pattern == pattern
    assert rule.specifier == (None if specifier is None else SpecifierSet(specifier))
    assert rule.text == stored_text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "'' is not a project name pattern"),
        ("   ", "'' is not a project name pattern"),
        ("<2.30", "'' is not a project name pattern"),
        ("requests[security]", "'requests[security]' is not a project name pattern"),
        ("requests 2.0", "'requests 2.0' is not a project name pattern"),
        ("foo/bar", "'foo/bar' is not a project name pattern"),
        ("requests @ https://x", "'requests @ https://x' is not a project name pattern"),
        ("requests<", "'<' is not a PEP 440 version specifier"),
        ("requests<2.30;", "'<2.30;' is not a PEP 440 version specifier"),
        ("requests>=2 <3", "'>=2 <3' is not a PEP 440 version specifier"),
        ("requests<<2", "'<<2' is not a PEP 440 version specifier"),
        ("requests=2.0", "'=2.0' is not a PEP 440 version specifier"),
        ("requests<two", "'<two' is not a PEP 440 version specifier"),
    ],
)
def test_parse_rule_refuses_bad_rules_naming_rule_and_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_rule(text)
    message = str(info.value)
    assert message.startswith(f"Invalid rule {text.strip()!r}: {problem}")
    assert "e.g." in message


# --- Rule matching ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("internal-*", "internal-tools", True),
        ("Internal_*", "internal-tools", True),
        ("INTERNAL.*", "internal-tools", True),
        ("internal-*", "internals", False),
        ("internal-*", "my-internal-tools", False),
        ("requests", "requests", True),
        ("requests", "requests-oauthlib", False),
        ("Foo__Bar", "foo-bar", True),
        ("req?ests", "requests", True),
        ("*", "anything", True),
        ("*-internal", "acme-internal", True),
    ],
)
def test_rule_matches_project_by_normalised_glob(pattern: str, name: str, expected: bool) -> None:
    assert parse_rule(pattern).matches_project(NormalizedName(name)) is expected


@pytest.mark.parametrize(
    ("rule", "name", "version", "expected"),
    [
        ("requests<2.30", "requests", "2.29.0", True),
        ("requests<2.30", "requests", "2.30", False),
        ("requests<2.30", "requests", "2.29.1rc1", True),  # pre-releases are versions too
        ("requests<2.30", "requests", "2.30rc1", False),  # PEP 440: not "less than" 2.30
        ("requests<2.30", "requests", "2.29.0.dev1", True),
        ("requests<2.30", "urllib3", "1.0", False),
        ("requests<2.30", "requests", "not-a-version", False),
        ("requests", "requests", "not-a-version", True),
        ("numpy==1.26.*", "numpy", "1.26.4", True),
        ("numpy==1.26.*", "numpy", "1.27.0", False),
        ("django>=4,<5", "django", "4.2", True),
        ("django>=4,<5", "django", "5.0", False),
        ("django>=4,<5", "django", "5.0a1", False),  # PEP 440: <5 excludes 5's pre-releases
        ("django>=4,<5", "django", "4.0rc1", False),
    ],
)
def test_rule_matches_version_with_prereleases(
    rule: str, name: str, version: str, expected: bool
) -> None:
    assert parse_rule(rule).matches(NormalizedName(name), version) is expected


# --- evaluate -----------------------------------------------------------------------------


def refused(reason: str, rule: str, available_at: str | None = None) -> Verdict:
    return Verdict(False, reason, rule, None if available_at is None else at(available_at))


COOLED = refused(
    "younger than the minimum release age 3d "
    "(published 2024-05-02T10:00:00Z, listed from 2024-05-05T10:00:00Z)",
    "min-age:3d",
    "2024-05-05T10:00:00Z",
)
YOUNG = "2024-05-02T10:00:00Z"


@pytest.mark.parametrize(
    ("the_policy", "the_candidate", "expected"),
    [
        pytest.param(Policy(), candidate(), ALLOWED, id="empty policy"),
        pytest.param(
            policy(allow=["internal-*"]), candidate("internal-tools"), ALLOWED, id="allowed"
        ),
        pytest.param(
            policy(allow=["internal-*"]),
            candidate("requests"),
            refused("not matched by any allow rule (internal-*)", "allow"),
            id="not allowed",
        ),
        pytest.param(
            policy(allow=["internal-*", "requests<2.30"]),
            candidate("requests", "2.29.0"),
            ALLOWED,
            id="allowed version",
        ),
        pytest.param(
            policy(allow=["internal-*", "requests<2.30"]),
            candidate("requests", "2.31.0"),
            refused("not matched by any allow rule (internal-*, requests<2.30)", "allow"),
            id="version not allowed",
        ),
        pytest.param(
            policy(deny=["requests<2.30"]),
            candidate("requests", "2.29.0"),
            refused("denied by rule 'requests<2.30'", "deny:requests<2.30"),
            id="denied",
        ),
        pytest.param(
            policy(deny=["requests<2.30"]), candidate("requests", "2.30"), ALLOWED, id="not denied"
        ),
        pytest.param(
            policy(deny=["requests<2.30"]),
            candidate("requests", "2.29.1rc1"),
            refused("denied by rule 'requests<2.30'", "deny:requests<2.30"),
            id="denied pre-release",
        ),
        pytest.param(
            policy(allow=["requests"], deny=["requests<2.30"]),
            candidate("requests", "2.29.0"),
            refused("denied by rule 'requests<2.30'", "deny:requests<2.30"),
            id="deny wins over allow",
        ),
        pytest.param(
            policy(deny=["requests<2.30"]),
            candidate("requests", "garbage"),
            ALLOWED,
            id="unparsable version escapes specifier deny",
        ),
        pytest.param(
            policy(deny=["requests"]),
            candidate("requests", "garbage"),
            refused("denied by rule 'requests'", "deny:requests"),
            id="unparsable version caught by name-only deny",
        ),
        pytest.param(
            policy(allow=["requests>=1"]),
            candidate("requests", "garbage"),
            refused("not matched by any allow rule (requests>=1)", "allow"),
            id="unparsable version outside specifier allow",
        ),
        pytest.param(
            policy(min_age="3d"),
            candidate(mirrored=False, published=YOUNG),
            ALLOWED,
            id="hosted files are never delayed",
        ),
        pytest.param(
            policy(min_age="3d"), candidate(published=YOUNG), COOLED, id="young mirrored file"
        ),
        pytest.param(
            policy(min_age="3d"),
            candidate(published="2024-05-01T10:00:00Z"),
            ALLOWED,
            id="exactly the minimum age",
        ),
        pytest.param(
            policy(min_age="3d"),
            candidate(published="2024-05-01T10:00:01Z"),
            refused(
                "younger than the minimum release age 3d "
                "(published 2024-05-01T10:00:01Z, listed from 2024-05-04T10:00:01Z)",
                "min-age:3d",
                "2024-05-04T10:00:01Z",
            ),
            id="one second too young",
        ),
        pytest.param(
            policy(min_age="3d"),
            candidate(published=None, first_seen=YOUNG),
            refused(
                "younger than the minimum release age 3d "
                "(first seen by the mirror 2024-05-02T10:00:00Z, listed from "
                "2024-05-05T10:00:00Z)",
                "min-age:3d",
                "2024-05-05T10:00:00Z",
            ),
            id="first seen when no upload time",
        ),
        pytest.param(
            policy(min_age="3d"),
            candidate(published=None, first_seen="2024-04-01T00:00:00Z"),
            ALLOWED,
            id="first seen long ago",
        ),
        pytest.param(
            policy(min_age="3d"),
            candidate(published="2020-01-01T00:00:00Z", first_seen=YOUNG),
            ALLOWED,
            id="upload time wins over first seen",
        ),
        pytest.param(
            policy(min_age="3d"),
            candidate(published=None, first_seen=None),
            refused(
                "the minimum release age 3d cannot be checked: the file has no upload time "
                "and was not seen by the mirror",
                "min-age:3d",
            ),
            id="unknown age fails closed",
        ),
        pytest.param(
            policy(min_age="0s"), candidate(published="2024-05-05T00:00:00Z"), ALLOWED, id="0s"
        ),
        pytest.param(
            policy(min_age="3d", exemptions=[exemption()]),
            candidate(published=YOUNG),
            ALLOWED,
            id="exemption without expiry",
        ),
        pytest.param(
            policy(min_age="3d", exemptions=[exemption(expires="2024-05-04T10:00:01Z")]),
            candidate(published=YOUNG),
            ALLOWED,
            id="exemption not yet expired",
        ),
        pytest.param(
            policy(min_age="3d", exemptions=[exemption(expires="2024-05-04T10:00:00Z")]),
            candidate(published=YOUNG),
            COOLED,
            id="exemption expired",
        ),
        pytest.param(
            policy(min_age="3d", exemptions=[exemption("urllib3")]),
            candidate(published=YOUNG),
            COOLED,
            id="exemption for another project",
        ),
        pytest.param(
            policy(min_age="3d", exemptions=[exemption()]),
            candidate(published=None, first_seen=None),
            ALLOWED,
            id="exemption lifts unknown age",
        ),
        pytest.param(
            policy(deny=["requests"], min_age="3d", exemptions=[exemption()]),
            candidate(published=YOUNG),
            refused("denied by rule 'requests'", "deny:requests"),
            id="exemption does not lift deny",
        ),
        pytest.param(
            policy(allow=["internal-*"], min_age="3d", exemptions=[exemption()]),
            candidate(published=YOUNG),
            refused("not matched by any allow rule (internal-*)", "allow"),
            id="exemption does not lift allow",
        ),
        pytest.param(
            policy(deny=["requests"], min_age="3d"),
            candidate(published=YOUNG),
            refused("denied by rule 'requests'", "deny:requests"),
            id="deny reported before cooldown",
        ),
    ],
)
def test_evaluate(the_policy: Policy, the_candidate: Candidate, expected: Verdict) -> None:
    assert evaluate(the_policy, the_candidate, now=NOW) == expected


def test_cooldown_message_shows_whole_seconds_but_available_at_is_exact() -> None:
    verdict = evaluate(
        policy(min_age="1h"), candidate(published="2024-05-04T09:30:00.250000Z"), now=NOW
    )
    assert verdict.reason == (
        "younger than the minimum release age 1h "
        "(published 2024-05-04T09:30:00Z, listed from 2024-05-04T10:30:00Z)"
    )
    assert verdict.available_at == at("2024-05-04T10:30:00.250000Z")


def test_cooldown_compares_instants_across_time_zones() -> None:
    plus_two = timezone(timedelta(hours=2))
    the_candidate = Candidate(
        NormalizedName("requests"),
        "2.31.0",
        "requests-2.31.0.tar.gz",
        mirrored=True,
        published_at=datetime(2024, 5, 1, 12, 0, 1, tzinfo=plus_two),  # 10:00:01Z
        first_seen=None,
    )
    verdict = evaluate(policy(min_age="3d"), the_candidate, now=NOW)
    assert verdict.available_at == at("2024-05-04T10:00:01Z")
    assert evaluate(policy(min_age="3d"), the_candidate, now=verdict.available_at).allowed


# --- evaluate_all -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policies", "expected_rule"),
    [
        pytest.param([], None, id="no policies"),
        pytest.param([Policy(), Policy()], None, id="both empty"),
        pytest.param([Policy(), policy(deny=["requests"])], "deny:requests", id="virtual denies"),
        pytest.param([policy(deny=["requests"]), Policy()], "deny:requests", id="member denies"),
        pytest.param(
            [policy(min_age="3d"), policy(deny=["requests"])], "min-age:3d", id="first refusal"
        ),
        pytest.param(
            [policy(allow=["requests"]), policy(allow=["internal-*"])],
            "allow",
            id="both allow lists must pass",
        ),
        pytest.param(
            [policy(min_age="3d", exemptions=[exemption()]), policy(min_age="1w")],
            "min-age:1w",
            id="member exemption does not lift the virtual cooldown",
        ),
        pytest.param(
            [policy(min_age="1w"), policy(min_age="3d", exemptions=[exemption()])],
            "min-age:1w",
            id="virtual exemption does not lift the member cooldown",
        ),
        pytest.param(
            [policy(min_age="3d", exemptions=[exemption()]), policy(allow=["req*"])],
            None,
            id="every policy allows",
        ),
    ],
)
def test_evaluate_all_returns_the_first_refusal(
    policies: list[Policy], expected_rule: str | None
) -> None:
    verdict = evaluate_all(policies, candidate(published=YOUNG), now=NOW)
    assert verdict.rule == expected_rule
    assert verdict.allowed is (expected_rule is None)


# --- next_change --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policies", "candidates", "expected"),
    [
        pytest.param([], [candidate(published=YOUNG)], None, id="no policies"),
        pytest.param([policy(min_age="3d")], [], None, id="no candidates"),
        pytest.param(
            [policy(min_age="3d")],
            [candidate(published=YOUNG, mirrored=False)],
            None,
            id="hosted only",
        ),
        pytest.param(
            [policy(min_age="3d")], [candidate(published="2024-01-01T00:00:00Z")], None, id="old"
        ),
        pytest.param(
            [policy(min_age="3d")],
            [candidate(published=YOUNG)],
            "2024-05-05T10:00:00Z",
            id="one cooled",
        ),
        pytest.param(
            [policy(min_age="3d")],
            [
                candidate(published="2024-01-01T00:00:00Z"),
                candidate(published="2024-05-03T00:00:00Z"),
                candidate(published="2024-05-02T00:00:00Z"),
                candidate(published=None, first_seen="2024-05-01T12:00:00Z"),
            ],
            "2024-05-04T12:00:00Z",
            id="earliest, first seen counted",
        ),
        pytest.param(
            [policy(min_age="3d"), policy(min_age="5d")],
            [candidate(published=YOUNG)],
            "2024-05-07T10:00:00Z",
            id="listed when the longest layered cooldown ends",
        ),
        pytest.param(
            [policy(min_age="3d", deny=["requests"])],
            [candidate(published=YOUNG)],
            None,
            id="denied stays denied",
        ),
        pytest.param(
            [policy(min_age="3d"), policy(deny=["requests"])],
            [candidate(published=YOUNG)],
            None,
            id="denied by a later layer",
        ),
        pytest.param(
            [policy(min_age="3d")], [candidate(published=None)], None, id="unknown age never"
        ),
        pytest.param(
            [policy(min_age="3d", exemptions=[exemption(expires="2024-05-05T00:00:00Z")])],
            [candidate(published=YOUNG)],
            "2024-05-05T00:00:00Z",
            id="exemption expires while still young",
        ),
        pytest.param(
            [policy(min_age="3d", exemptions=[exemption(expires="2024-05-06T00:00:00Z")])],
            [candidate(published=YOUNG)],
            None,
            id="exemption expires after the cooldown ends",
        ),
        pytest.param(
            [policy(min_age="3d", exemptions=[exemption(expires="2024-05-04T00:00:00Z")])],
            [candidate(published=YOUNG)],
            "2024-05-05T10:00:00Z",
            id="expired exemption ignored",
        ),
    ],
)
def test_next_change(
    policies: list[Policy], candidates: list[Candidate], expected: str | None
) -> None:
    result = next_change(policies, iter(candidates), now=NOW)
    assert result == (None if expected is None else at(expected))


def test_next_change_is_the_moment_a_listing_changes() -> None:
    policies = [policy(min_age="3d")]
    files = [candidate(published=YOUNG), candidate(published="2024-05-03T00:00:00Z")]

    def listed(now: datetime) -> list[bool]:
        return [evaluate_all(policies, f, now=now).allowed for f in files]

    moment = next_change(policies, files, now=NOW)
    assert moment is not None
    assert listed(moment - timedelta(microseconds=1)) == listed(NOW) != listed(moment)


# --- visible_as_of ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("the_candidate", "expected"),
    [
        (candidate(published="2024-05-01T00:00:00Z"), True),
        (candidate(published="2024-05-02T00:00:00Z"), True),
        (candidate(published="2024-05-02T00:00:01Z"), False),
        (candidate(published="2024-05-02T00:00:00Z", mirrored=False), True),
        (candidate(published="2024-05-03T00:00:00Z", mirrored=False), False),
        (candidate(published=None, first_seen="2024-05-01T00:00:00Z"), True),
        (candidate(published=None, first_seen="2024-05-03T00:00:00Z"), False),
        (candidate(published="2024-05-03T00:00:00Z", first_seen="2024-05-01T00:00:00Z"), False),
        (candidate(published=None, first_seen=None), False),
    ],
)
def test_visible_as_of(the_candidate: Candidate, expected: bool) -> None:
    assert visible_as_of(the_candidate, at("2024-05-02T00:00:00Z")) is expected


# --- Exemption, Policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "expected"),
    [
        (None, True),
        ("2024-05-04T10:00:01Z", True),
        ("2024-05-04T10:00:00Z", False),
        ("2024-05-01T00:00:00Z", False),
    ],
)
def test_exemption_is_active_until_it_expires(expires: str | None, expected: bool) -> None:
    assert exemption(expires=expires).active(NOW) is expected


def test_exemption_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        Exemption(NormalizedName("x"), "", "alice", datetime(2024, 5, 1), None)


def test_policy_refuses_a_min_age_that_is_not_whole_seconds() -> None:
    with pytest.raises(ValueError, match="whole, non-negative number of seconds"):
        Policy(min_age=timedelta(seconds=1.5))


@pytest.mark.parametrize(
    ("the_policy", "expected"),
    [
        (Policy(), True),
        (policy(min_age="0s"), True),
        (policy(min_age="1s"), False),
        (policy(allow=["x"]), False),
        (policy(deny=["x"]), False),
        (policy(exemptions=[exemption()]), False),
    ],
)
def test_is_empty(the_policy: Policy, expected: bool) -> None:
    assert the_policy.is_empty() is expected


def test_to_config_is_plain_json_data() -> None:
    the_policy = policy(
        allow=["internal-*", "requests<2.30"],
        deny=["django>=4,<5"],
        min_age="3d",
        exemptions=[exemption(expires="2024-05-08T00:00:00.5+02:00")],
    )
    assert the_policy.to_config() == {
        "allow": ["internal-*", "requests<2.30"],
        "deny": ["django>=4,<5"],
        "min_age": 259200,
        "exemptions": [
            {
                "project": "requests",
                "reason": "CVE fix needed today",
                "created_by": "alice",
                "created_at": "2024-05-01T00:00:00Z",
                "expires_at": "2024-05-07T22:00:00.500000Z",
            }
        ],
    }


def test_from_config_gives_defaults_for_missing_keys() -> None:
    assert Policy.from_config({}) == Policy()
    assert Policy.from_config({"allow": None, "upstream": "https://x"}) == Policy()


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({"allow": "requests"}, InvalidInput, "allow must be a list"),
        ({"deny": [1]}, InvalidInput, "deny must be a list of rules"),
        ({"deny": ["requests[x]"]}, InvalidInput, r"Invalid rule 'requests\[x\]'"),
        ({"min_age": -1}, InvalidInput, "min_age must be whole seconds"),
        ({"min_age": 1.5}, InvalidInput, "min_age must be whole seconds"),
        ({"min_age": "3d"}, InvalidInput, "min_age must be whole seconds"),
        ({"min_age": True}, InvalidInput, "min_age must be whole seconds"),
        ({"exemptions": ["requests"]}, InvalidInput, "an exemption must be a mapping"),
        ({"exemptions": [{"project": "requests"}]}, InvalidInput, "malformed exemption"),
        (
            {"exemptions": [{"project": "-x-", "created_at": "2024-05-01"}]},
            InvalidName,
            "'-x-' is not a valid project name",
        ),
        (
            {"exemptions": [{"project": "x", "created_at": "yesterday"}]},
            InvalidInput,
            "'yesterday' is not a point in time",
        ),
    ],
)
def test_from_config_refuses_bad_data(
    data: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Policy.from_config(data)


_names = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,15}[A-Za-z0-9])?", fullmatch=True)
_globs = st.from_regex(r"[A-Za-z0-9*?]([A-Za-z0-9._*?-]{0,15})", fullmatch=True)
_specifiers = st.sampled_from(["", "<2.30", ">=4,<5", "==1.26.*", "~=1.2", "!=1.0", " >= 1"])
_rules = st.builds(lambda glob, spec: parse_rule(glob + spec), _globs, _specifiers)
_zones = st.just(UTC) | st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)
_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=_zones
)
_exemptions = st.builds(
    Exemption,
    project=_names.map(normalize),
    reason=st.text(),
    created_by=st.text(),
    created_at=_times,
    expires_at=st.none() | _times,
)
_policies = st.builds(
    Policy,
    allow=st.lists(_rules, max_size=3).map(tuple),
    deny=st.lists(_rules, max_size=3).map(tuple),
    min_age=st.none() | st.integers(0, 10**10).map(lambda s: timedelta(seconds=s)),
    exemptions=st.lists(_exemptions, max_size=3).map(tuple),
)


@given(_policies)
def test_from_config_reads_back_to_config_through_json(the_policy: Policy) -> None:
    stored = json.loads(json.dumps(the_policy.to_config()))
    assert Policy.from_config(stored) == the_policy
