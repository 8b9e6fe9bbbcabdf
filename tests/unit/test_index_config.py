"""IndexSettings: the typed view of an index's JSON config, and `index show` lines."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.domain.index_config import DEFAULT_TTL, Claim, IndexSettings
from packyard.domain.models import Index, IndexKind
from packyard.domain.names import NormalizedName
from packyard.domain.policy import Exemption, Policy, parse_rule

pytestmark = pytest.mark.unit

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NAMES = [NormalizedName(n) for n in ("demo", "requests", "internal-tool", "a-b-c")]
RULES = ["internal-*", "requests<2.30", "demo", "x?z>=1,<2", "Foo_Bar"]

moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
seconds = st.integers(min_value=1, max_value=10**8).map(lambda s: timedelta(seconds=s))
texts = st.text(max_size=20)

exemptions = st.builds(
    Exemption,
    project=st.sampled_from(NAMES),
    reason=texts,
    created_by=texts,
    created_at=moments,
    expires_at=st.none() | moments,
)
policies = st.builds(
    Policy,
    allow=st.lists(st.sampled_from(RULES).map(parse_rule), max_size=3).map(tuple),
    deny=st.lists(st.sampled_from(RULES).map(parse_rule), max_size=3).map(tuple),
    min_age=st.none() | seconds,
    exemptions=st.lists(exemptions, max_size=2).map(tuple),
)
claims = st.dictionaries(
    st.sampled_from(NAMES),
    st.tuples(texts, texts, moments),
    max_size=2,
).map(lambda d: {n: Claim(project=n, by=b, reason=r, at=a) for n, (b, r, a) in d.items()})


@st.composite
def settings(draw: st.DrawFn) -> IndexSettings:
    kind = draw(st.sampled_from(list(IndexKind)))
    common = IndexSettings(kind=kind, policy=draw(policies), claims=draw(claims))
    if kind is IndexKind.MIRROR:
        return replace(
            common,
            upstream=draw(st.sampled_from(["https://upstream.test/simple/", "http://u:p@h:8/x/"])),
            ttl=draw(seconds),
            offline=draw(st.booleans()),
        )
    if kind is IndexKind.VIRTUAL:
        members = draw(st.lists(st.sampled_from(["hosted", "upstream", "b", "c"]), unique=True))
        return replace(
            common,
            members=tuple(members),
            merge=frozenset(draw(st.lists(st.sampled_from(NAMES)))),
        )
    return common


@given(settings())
def test_settings_read_back_what_to_config_wrote_through_json(original: IndexSettings) -> None:
    stored = json.loads(json.dumps(original.to_config()))

    assert IndexSettings.of(Index("x", original.kind, config=stored)) == original


def test_empty_config_gives_the_defaults() -> None:
    settings = IndexSettings.of(Index("m", IndexKind.MIRROR))

    assert settings == IndexSettings(kind=IndexKind.MIRROR)
    assert settings.ttl == DEFAULT_TTL == timedelta(minutes=10)
    assert not settings.offline
    assert settings.policy.is_empty()


def test_config_keeps_only_what_the_kind_uses() -> None:
    assert IndexSettings(kind=IndexKind.HOSTED, ttl=timedelta(hours=1)).to_config() == {}
    assert IndexSettings(kind=IndexKind.VIRTUAL, members=("a",)).to_config() == {
        "members": ["a"],
        "merge": [],
    }
    assert IndexSettings(kind=IndexKind.MIRROR, upstream="https://u.test/").to_config() == {
        "upstream": "https://u.test/",
        "ttl_seconds": 600,
        "offline": False,
    }


# Labels this feature adds; other features add lines of their own (readers, uploaders).
LABELS = {"kind", "upstream", "ttl", "offline", "members", "merge", "allow", "deny", "min-age"}
LABELS |= {"exempt", "claimed"}


def shown(settings: IndexSettings) -> list[tuple[str, str]]:
    return [line for line in settings.describe() if line[0] in LABELS]


def test_describe_a_mirror_with_its_defaults() -> None:
    settings = IndexSettings(kind=IndexKind.MIRROR, upstream="https://upstream.test/simple/")

    assert shown(settings) == [
        ("kind", "mirror"),
        ("upstream", "https://upstream.test/simple/"),
        ("ttl", "10m"),
        ("offline", "no"),
        ("allow", "everything"),
        ("deny", "nothing"),
        ("min-age", "none"),
    ]


def test_describe_a_virtual_index_with_policy_exemptions_and_merges() -> None:
    exemption = Exemption(
        project=NormalizedName("demo"),
        reason="hotfix",
        created_by="admin",
        created_at=T0,
        expires_at=T0 + timedelta(days=1),
    )
    settings = IndexSettings(
        kind=IndexKind.VIRTUAL,
        members=("hosted", "upstream"),
        merge=frozenset({NormalizedName("zeta"), NormalizedName("alpha")}),
        policy=Policy(
            allow=(parse_rule("internal-*"), parse_rule("demo")),
            deny=(parse_rule("requests<2.30"),),
            min_age=timedelta(days=3),
            exemptions=(exemption,),
        ),
    )

    assert shown(settings) == [
        ("kind", "virtual"),
        ("members", "hosted, upstream"),
        ("merge", "alpha, zeta"),
        ("allow", "internal-*, demo"),
        ("deny", "requests<2.30"),
        ("min-age", "3d"),
        ("exempt", "demo (by admin, expires 2024-05-02T12:00:00+00:00): hotfix"),
    ]


def test_describe_an_offline_virtual_and_hosted_index() -> None:
    mirror = IndexSettings(kind=IndexKind.MIRROR, upstream="https://u.test/", offline=True)
    virtual = IndexSettings(kind=IndexKind.VIRTUAL, members=("a",))
    claim = Claim(project=NormalizedName("requests"), by="admin", reason="ours", at=T0)
    hosted = IndexSettings(kind=IndexKind.HOSTED, claims={claim.project: claim})

    assert ("offline", "yes") in mirror.describe()
    assert ("merge", "none") in virtual.describe()
    assert shown(hosted) == [
        ("kind", "hosted"),
        ("allow", "everything"),
        ("deny", "nothing"),
        ("min-age", "none"),
        ("claimed", "requests (by admin): ours"),
    ]
    never = Exemption(NormalizedName("demo"), "why", "admin", T0, None)
    exempted = IndexSettings(kind=IndexKind.HOSTED, policy=Policy(exemptions=(never,)))
    assert exempted.describe()[-1] == ("exempt", "demo (by admin, expires never): why")
