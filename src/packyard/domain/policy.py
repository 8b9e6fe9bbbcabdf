"""Per-index policies: which files an index lists and serves, and from when.

A policy is evaluated for each file on the page and again on the download, with the time
passed in, so the same rules decide both and a test can move the clock. A virtual index
evaluates its members' policies and then its own (`evaluate_all`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from packyard.domain.durations import format_duration, format_point_in_time, parse_point_in_time
from packyard.domain.errors import InvalidInput
from packyard.domain.names import NormalizedName, normalize, validate_project_name

_OPERATOR_CHARS = "<>=!~"
# Name characters plus the glob wildcards; '[' is left out so a rule cannot be a
# character class, which would read like a requirement's extras.
_PATTERN = re.compile(r"[A-Za-z0-9._*?-]+")


@dataclass(frozen=True)
class Rule:
    """A name glob with an optional PEP 440 specifier, e.g. `internal-*` or `requests<2.30`."""

    pattern: str
    specifier: SpecifierSet | None
    text: str
    # Normalised once, so `Foo_*` matches `foo-bar` and every spelling of it.
    _glob: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_glob", normalize(self.pattern))

    def matches_project(self, name: NormalizedName) -> bool:
        return fnmatchcase(name, self._glob)

    def matches(self, name: NormalizedName, version: str) -> bool:
        if not self.matches_project(name):
            return False
        if self.specifier is None:
            return True
        try:
            parsed = Version(version)
        except InvalidVersion:
            # A version a specifier cannot order is outside every range: only name-only
            # rules apply to it.
            return False
        # A rule names the versions it means; "<2.30" must catch 2.30rc1 too.
        return self.specifier.contains(parsed, prereleases=True)


def parse_rule(text: str) -> Rule:
    """Split `requests<2.30` at its first operator character into a glob and a specifier."""
    text = text.strip()
    position = next((i for i, char in enumerate(text) if char in _OPERATOR_CHARS), len(text))
    pattern, spec = text[:position].strip(), text[position:].strip()
    if not _PATTERN.fullmatch(pattern):
        raise InvalidInput(
            f"Invalid rule {text!r}: {pattern!r} is not a project name pattern; use letters, "
            "digits, '.', '_', '-' and the wildcards '*' and '?', e.g. internal-* or "
            "requests<2.30"
        )
    if not spec:
        return Rule(pattern, None, text)
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier as e:
        raise InvalidInput(
            f"Invalid rule {text!r}: {spec!r} is not a PEP 440 version specifier, "
            "e.g. <2.30 or >=4,<5"
        ) from e
    return Rule(pattern, specifier, text)


@dataclass(frozen=True)
class Exemption:
    """Lifts a policy's minimum release age for one project ("break glass")."""

    project: NormalizedName
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None

    def __post_init__(self) -> None:
        # Naive times cannot be compared with the aware `now` and would be stored in an
        # unknown zone, so refuse them where they are made.
        for moment in (self.created_at, self.expires_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"Exemption times must be time-zone aware, got {moment!r}")

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class Policy:
    allow: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()
    min_age: timedelta | None = None
    exemptions: tuple[Exemption, ...] = ()

    def __post_init__(self) -> None:
        # Durations are whole seconds everywhere (`<n>[smhdw]`, stored as seconds).
        if self.min_age is not None:
            format_duration(self.min_age)

    def is_empty(self) -> bool:
        """True when nothing is configured (a zero minimum age counts as none)."""
        return not (self.allow or self.deny or self.min_age or self.exemptions)

    def to_config(self) -> dict[str, Any]:
        """Plain JSON data for `Index.config`; `from_config` reads it back."""
        return {
            "allow": [rule.text for rule in self.allow],
            "deny": [rule.text for rule in self.deny],
            "min_age": None if self.min_age is None else int(self.min_age.total_seconds()),
            "exemptions": [_exemption_to_config(e) for e in self.exemptions],
        }

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> Policy:
        """Read `to_config` output; missing keys take their defaults, bad values raise."""
        min_age = data.get("min_age")
        if min_age is not None and (type(min_age) is not int or min_age < 0):
            raise InvalidInput(f"Invalid policy: min_age must be whole seconds, got {min_age!r}")
        return cls(
            allow=tuple(parse_rule(text) for text in _strings(data, "allow")),
            deny=tuple(parse_rule(text) for text in _strings(data, "deny")),
            min_age=None if min_age is None else timedelta(seconds=min_age),
            exemptions=tuple(_exemption_from_config(e) for e in _list(data, "exemptions")),
        )


def _exemption_to_config(exemption: Exemption) -> dict[str, Any]:
    expires_at = exemption.expires_at
    return {
        "project": exemption.project,
        "reason": exemption.reason,
        "created_by": exemption.created_by,
        "created_at": format_point_in_time(exemption.created_at),
        "expires_at": None if expires_at is None else format_point_in_time(expires_at),
    }


def _exemption_from_config(data: Any) -> Exemption:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"Invalid policy: an exemption must be a mapping, got {data!r}")
    try:
        expires_at = data.get("expires_at")
        return Exemption(
            project=validate_project_name(data["project"]),
            reason=str(data.get("reason", "")),
            created_by=str(data.get("created_by", "")),
            created_at=parse_point_in_time(data["created_at"]),
            expires_at=None if expires_at is None else parse_point_in_time(expires_at),
        )
    except (KeyError, TypeError) as e:
        raise InvalidInput(f"Invalid policy: malformed exemption {data!r}") from e


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"Invalid policy: {key} must be a list, got {value!r}")
    return list(value)


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    values = _list(data, key)
    if not all(isinstance(value, str) for value in values):
        raise InvalidInput(f"Invalid policy: {key} must be a list of rules, got {values!r}")
    return values


@dataclass(frozen=True)
class Candidate:
    """One file as a policy sees it."""

    project: NormalizedName
    version: str
    filename: str
    # Mirrored files are delayed by a minimum age; hosted files are the organisation's own.
    mirrored: bool
    published_at: datetime | None  # upstream's upload-time, when it gave one
    first_seen: datetime | None  # when the mirror first saw the file


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str | None  # a sentence for the user; None when allowed
    rule: str | None  # short machine form: "deny:<rule>", "allow", "min-age:3d"
    available_at: datetime | None = None  # for a cooldown refusal: when the file is listed


ALLOWED = Verdict(allowed=True, reason=None, rule=None)


def evaluate(policy: Policy, candidate: Candidate, *, now: datetime) -> Verdict:
    """Deny rules first (deny wins over allow), then the allow list, then the minimum age."""
    name, version = candidate.project, candidate.version
    for rule in policy.deny:
        if rule.matches(name, version):
            return Verdict(False, f"denied by rule {rule.text!r}", f"deny:{rule.text}")
    if policy.allow and not any(rule.matches(name, version) for rule in policy.allow):
        rules = ", ".join(rule.text for rule in policy.allow)
        return Verdict(False, f"not matched by any allow rule ({rules})", "allow")
    return _check_min_age(policy, candidate, now)


def _check_min_age(policy: Policy, candidate: Candidate, now: datetime) -> Verdict:
    min_age = policy.min_age
    if not min_age or not candidate.mirrored:
        return ALLOWED
    if any(e.project == candidate.project and e.active(now) for e in policy.exemptions):
        return ALLOWED
    age = format_duration(min_age)
    rule = f"min-age:{age}"
    since = _age_origin(candidate)
    if since is None:
        # Without any time the age cannot be shown to be enough: fail closed.
        reason = (
            f"the minimum release age {age} cannot be checked: the file has no upload time "
            "and was not seen by the mirror"
        )
        return Verdict(False, reason, rule)
    available_at = _after(since, min_age)
    if available_at is None:
        return Verdict(False, f"younger than the minimum release age {age}", rule)
    if now >= available_at:
        return ALLOWED
    return Verdict(
        False,
        f"younger than the minimum release age {age} ({_origin_label(candidate)} "
        f"{_seconds(since)}, listed from {_seconds(available_at)})",
        rule,
        available_at,
    )


def _age_origin(candidate: Candidate) -> datetime | None:
    """Age counts from upstream's upload-time, else from when the mirror first saw the file."""
    if candidate.published_at is not None:
        return candidate.published_at
    return candidate.first_seen


def _origin_label(candidate: Candidate) -> str:
    return "published" if candidate.published_at is not None else "first seen by the mirror"


def _after(moment: datetime, delta: timedelta) -> datetime | None:
    """`moment + delta`, or None past the calendar's end (a min-age of a million years)."""
    try:
        return moment + delta
    except OverflowError:
        return None


def _seconds(moment: datetime) -> str:
    return format_point_in_time(moment.replace(microsecond=0))


def evaluate_all(policies: Sequence[Policy], candidate: Candidate, *, now: datetime) -> Verdict:
    """Every policy must allow the file (a member's, then the virtual index's own)."""
    for policy in policies:
        verdict = evaluate(policy, candidate, now=now)
        if not verdict.allowed:
            return verdict
    return ALLOWED


def next_change(
    policies: Sequence[Policy], candidates: Iterable[Candidate], *, now: datetime
) -> datetime | None:
    """The earliest moment after `now` at which some candidate's verdict flips, or None.

    For cache expiry. Verdicts only change with time when a cooldown ends or an exemption
    expires, so those instants are the only ones tested; between them nothing changes.
    """
    earliest: datetime | None = None
    for candidate in candidates:
        allowed_now = evaluate_all(policies, candidate, now=now).allowed
        for moment in sorted(_moments(policies, candidate, now)):
            if earliest is not None and moment >= earliest:
                break
            if evaluate_all(policies, candidate, now=moment).allowed != allowed_now:
                earliest = moment
                break
    return earliest


def _moments(policies: Sequence[Policy], candidate: Candidate, now: datetime) -> set[datetime]:
    """Instants after `now` at which a time-dependent part of a verdict may change."""
    since = _age_origin(candidate)
    moments: set[datetime] = set()
    for policy in policies:
        if not policy.min_age or not candidate.mirrored:
            continue
        available_at = None if since is None else _after(since, policy.min_age)
        if available_at is not None and available_at > now:
            moments.add(available_at)
        moments.update(
            e.expires_at
            for e in policy.exemptions
            if e.project == candidate.project and e.expires_at is not None and e.expires_at > now
        )
    return moments


def visible_as_of(candidate: Candidate, as_of: datetime) -> bool:
    """In a point-in-time view: published (or first seen) by `as_of`; unknown is not."""
    since = _age_origin(candidate)
    return since is not None and since <= as_of
