"""`index create/set/exempt`, `project claim` and where uploads land: the services behind
them, over the in-memory unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from fakes import FakeUnitOfWorkFactory
from packyard.domain.errors import Conflict, InvalidInput, InvalidName, NotFound
from packyard.domain.index_config import DEFAULT_TTL, IndexSettings
from packyard.domain.models import Index, IndexKind
from packyard.domain.names import NormalizedName
from packyard.domain.policy import Policy, parse_rule
from packyard.services.indexes import (
    add_claim,
    add_exemption,
    configure_index,
    create_index,
    set_options,
    upload_target,
)

pytestmark = pytest.mark.unit

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
UPSTREAM = "https://upstream.test/simple/"
HOSTED = IndexSettings(kind=IndexKind.HOSTED)
MIRROR = IndexSettings(kind=IndexKind.MIRROR, upstream=UPSTREAM)
VIRTUAL = IndexSettings(kind=IndexKind.VIRTUAL, members=("hosted", "upstream"))


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    factory = FakeUnitOfWorkFactory()
    create_index(uow_factory=factory, name="hosted", kind=IndexKind.HOSTED, actor="root")
    create_index(
        uow_factory=factory, name="upstream", kind=IndexKind.MIRROR, actor="root", upstream=UPSTREAM
    )
    return factory


def stored(uow: FakeUnitOfWorkFactory, name: str) -> Index | None:
    with uow(readonly=True) as unit:
        return unit.indexes.get(name)


def virtual(uow: FakeUnitOfWorkFactory, name: str, members: Sequence[str]) -> Index:
    return create_index(
        uow_factory=uow, name=name, kind=IndexKind.VIRTUAL, actor="root", members=members
    )


# set_options


def test_min_age_is_set_and_zero_removes_it() -> None:
    with_age = set_options(HOSTED, min_age=timedelta(days=3))
    assert with_age.policy.min_age == timedelta(days=3)

    without = set_options(with_age, min_age=timedelta(0))

    assert without.policy.min_age is None
    assert without.policy.is_empty()
    assert "policy" not in without.to_config()


def test_options_not_given_are_left_alone() -> None:
    settings = set_options(
        MIRROR,
        min_age=timedelta(days=3),
        allow=[parse_rule("a-*")],
        ttl=timedelta(minutes=1),
        offline=True,
    )

    assert set_options(settings) == settings


def test_rules_are_added_to_those_there_in_order_without_duplicates() -> None:
    first = set_options(HOSTED, allow=[parse_rule("a-*")], deny=[parse_rule("x<2")])

    second = set_options(
        first,
        allow=[parse_rule("a-*"), parse_rule("b-*")],
        deny=[parse_rule("x<2"), parse_rule("y")],
    )

    assert [r.text for r in second.policy.allow] == ["a-*", "b-*"]
    assert [r.text for r in second.policy.deny] == ["x<2", "y"]


def test_clear_rules_removes_rules_before_adding_new_ones_and_keeps_min_age() -> None:
    settings = set_options(
        HOSTED,
        allow=[parse_rule("a-*")],
        deny=[parse_rule("x")],
        min_age=timedelta(hours=1),
    )

    cleared = set_options(settings, clear_rules=True, deny=[parse_rule("z")])

    assert cleared.policy.allow == ()
    assert [r.text for r in cleared.policy.deny] == ["z"]
    assert cleared.policy.min_age == timedelta(hours=1)


def test_ttl_and_offline_apply_to_mirrors() -> None:
    settings = set_options(MIRROR, ttl=timedelta(seconds=1), offline=True)
    assert (settings.ttl, settings.offline) == (timedelta(seconds=1), True)

    online = set_options(settings, offline=False)

    assert (online.ttl, online.offline) == (timedelta(seconds=1), False)


@pytest.mark.parametrize("settings", [HOSTED, VIRTUAL], ids=["hosted", "virtual"])
@pytest.mark.parametrize(
    "option", [{"ttl": timedelta(minutes=1)}, {"offline": True}, {"offline": False}]
)
def test_ttl_and_offline_are_refused_for_other_kinds(
    settings: IndexSettings, option: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput, match="mirror indexes only"):
        set_options(settings, **option)  # type: ignore[arg-type]


@pytest.mark.parametrize("settings", [HOSTED, MIRROR], ids=["hosted", "mirror"])
def test_merge_is_refused_outside_virtual_indexes(settings: IndexSettings) -> None:
    with pytest.raises(InvalidInput, match="virtual indexes only"):
        set_options(settings, merge=["demo"])


def test_merges_are_normalised_and_accumulate() -> None:
    settings = set_options(VIRTUAL, merge=["Foo_Bar"])

    settings = set_options(settings, merge=["demo", "foo.bar"])

    assert settings.merge == {"foo-bar", "demo"}


def test_merge_of_an_invalid_name_is_refused() -> None:
    with pytest.raises(InvalidName):
        set_options(VIRTUAL, merge=["not a name"])


# add_exemption


def test_exemption_records_who_why_and_when_it_expires() -> None:
    settings = add_exemption(
        MIRROR,
        project="Demo_Pkg",
        reason="  hotfix for CVE  ",
        actor="admin",
        now=T0,
        expires=timedelta(days=2),
    )

    [exemption] = settings.policy.exemptions
    assert exemption.project == "demo-pkg"
    assert exemption.reason == "hotfix for CVE"
    assert exemption.created_by == "admin"
    assert exemption.created_at == T0
    assert exemption.expires_at == T0 + timedelta(days=2)


def test_exemption_without_expiry_never_expires() -> None:
    settings = add_exemption(
        HOSTED, project="demo", reason="why", actor="admin", now=T0, expires=None
    )

    assert settings.policy.exemptions[0].expires_at is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_exemption_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidInput, match="--reason"):
        add_exemption(HOSTED, project="demo", reason=reason, actor="a", now=T0, expires=None)


def test_a_new_exemption_for_a_project_replaces_the_old_one() -> None:
    first = add_exemption(HOSTED, project="demo", reason="one", actor="a", now=T0, expires=None)
    first = add_exemption(first, project="other", reason="x", actor="a", now=T0, expires=None)

    second = add_exemption(
        first, project="DEMO", reason="two", actor="b", now=T0, expires=timedelta(hours=1)
    )

    assert sorted((e.project, e.reason) for e in second.policy.exemptions) == [
        ("demo", "two"),
        ("other", "x"),
    ]


def test_exemption_keeps_the_rest_of_the_policy() -> None:
    settings = set_options(MIRROR, min_age=timedelta(days=3), deny=[parse_rule("x")])

    exempted = add_exemption(settings, project="d", reason="r", actor="a", now=T0, expires=None)

    assert exempted.policy.min_age == timedelta(days=3)
    assert [r.text for r in exempted.policy.deny] == ["x"]


# add_claim


def test_claim_is_recorded_with_who_why_and_when() -> None:
    settings = add_claim(HOSTED, project="Internal_Tool", reason=" ours ", actor="admin", now=T0)

    claim = settings.claims[NormalizedName("internal-tool")]
    assert (claim.project, claim.by, claim.reason, claim.at) == (
        "internal-tool",
        "admin",
        "ours",
        T0,
    )


def test_claim_without_a_reason_says_claimed() -> None:
    settings = add_claim(HOSTED, project="demo", reason=" ", actor="admin", now=T0)

    assert settings.claims[NormalizedName("demo")].reason == "claimed"


@pytest.mark.parametrize("settings", [MIRROR, VIRTUAL], ids=["mirror", "virtual"])
def test_claims_are_made_in_hosted_indexes_only(settings: IndexSettings) -> None:
    with pytest.raises(InvalidInput, match="hosted"):
        add_claim(settings, project="demo", reason="r", actor="a", now=T0)


# configure_index


def test_configure_index_stores_the_change_and_bumps_parents_serials(
    uow: FakeUnitOfWorkFactory,
) -> None:
    virtual(uow, "root", ["hosted", "upstream"])
    before = len(uow.db.events)

    configure_index(
        uow_factory=uow,
        name="upstream",
        actor="admin",
        change=lambda s: set_options(s, ttl=timedelta(seconds=30)),
        what="ttl",
    )

    mirror, root, hosted = (stored(uow, n) for n in ("upstream", "root", "hosted"))
    assert mirror is not None and root is not None and hosted is not None
    assert IndexSettings.of(mirror).ttl == timedelta(seconds=30)
    [event] = uow.db.events[before:]
    assert (event.action, event.actor, event.index) == ("index_configured", "admin", "upstream")
    assert mirror.serial == root.serial == event.serial
    assert event.serial is not None and hosted.serial < event.serial


def test_configure_index_that_fails_changes_nothing(uow: FakeUnitOfWorkFactory) -> None:
    before = stored(uow, "hosted")

    with pytest.raises(InvalidInput):
        configure_index(
            uow_factory=uow,
            name="hosted",
            actor="admin",
            change=lambda s: set_options(s, ttl=timedelta(seconds=30)),
            what="ttl",
        )
    with pytest.raises(NotFound):
        configure_index(uow_factory=uow, name="nope", actor="a", change=lambda s: s, what="x")

    assert stored(uow, "hosted") == before


# create_index


def test_mirror_index_gets_its_upstream_with_a_slash_and_the_default_ttl(
    uow: FakeUnitOfWorkFactory,
) -> None:
    create_index(
        uow_factory=uow,
        name="pub",
        kind=IndexKind.MIRROR,
        actor="root",
        upstream="https://user:token@upstream.test/simple",
    )

    index = stored(uow, "pub")
    assert index is not None
    settings = IndexSettings.of(index)
    assert settings.upstream == "https://user:token@upstream.test/simple/"
    assert settings.ttl == DEFAULT_TTL


@pytest.mark.parametrize(
    ("upstream", "message"),
    [(None, "upstream URL"), ("", "upstream URL"), ("ftp://h/x/", "http"), ("https://", "http")],
)
def test_mirror_index_needs_an_http_upstream(
    uow: FakeUnitOfWorkFactory, upstream: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        create_index(
            uow_factory=uow, name="pub", kind=IndexKind.MIRROR, actor="root", upstream=upstream
        )

    assert stored(uow, "pub") is None


@pytest.mark.parametrize("kind", [IndexKind.HOSTED, IndexKind.VIRTUAL])
@pytest.mark.parametrize(
    "option", [{"upstream": UPSTREAM}, {"ttl": timedelta(minutes=1)}], ids=["upstream", "ttl"]
)
def test_upstream_and_ttl_are_for_mirrors_only(
    uow: FakeUnitOfWorkFactory, kind: IndexKind, option: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput, match="mirror indexes only"):
        create_index(
            uow_factory=uow,
            name="x",
            kind=kind,
            actor="root",
            members=["hosted"] if kind is IndexKind.VIRTUAL else (),
            **option,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("kind", [IndexKind.HOSTED, IndexKind.MIRROR])
def test_members_are_for_virtual_indexes_only(uow: FakeUnitOfWorkFactory, kind: IndexKind) -> None:
    with pytest.raises(InvalidInput, match="virtual indexes only"):
        create_index(
            uow_factory=uow,
            name="x",
            kind=kind,
            actor="root",
            upstream=UPSTREAM if kind is IndexKind.MIRROR else None,
            members=["hosted"],
        )


def test_virtual_index_keeps_its_members_in_order(uow: FakeUnitOfWorkFactory) -> None:
    virtual(uow, "root", ["upstream", "hosted"])

    index = stored(uow, "root")
    assert index is not None
    assert IndexSettings.of(index).members == ("upstream", "hosted")


@pytest.mark.parametrize(
    ("members", "error", "message"),
    [
        ([], InvalidInput, "--members"),
        (["hosted", "hosted"], InvalidInput, "twice"),
        (["hosted", "v"], InvalidInput, "own member"),
        (["hosted", "missing"], NotFound, "missing"),
    ],
    ids=["none", "twice", "itself", "unknown"],
)
def test_invalid_members_are_refused_and_nothing_is_created(
    uow: FakeUnitOfWorkFactory, members: list[str], error: type[Exception], message: str
) -> None:
    events = len(uow.db.events)

    with pytest.raises(error, match=message):
        virtual(uow, "v", members)

    assert stored(uow, "v") is None
    assert len(uow.db.events) == events


def test_a_member_that_would_make_a_cycle_is_refused(uow: FakeUnitOfWorkFactory) -> None:
    # "a" names "b" before "b" exists (an index deleted and made again, or edited config).
    dangling = IndexSettings(kind=IndexKind.VIRTUAL, members=("hosted", "b"))
    with uow() as unit:
        unit.indexes.add(Index("a", IndexKind.VIRTUAL, config=dangling.to_config()))
        unit.commit()
    virtual(uow, "c", ["a"])

    with pytest.raises(InvalidInput, match="cycle"):
        virtual(uow, "b", ["c"])

    assert stored(uow, "b") is None


def test_nested_virtual_indexes_without_a_cycle_are_accepted(uow: FakeUnitOfWorkFactory) -> None:
    virtual(uow, "inner", ["hosted"])
    virtual(uow, "outer", ["inner", "upstream"])
    virtual(uow, "top", ["outer", "inner"])

    assert stored(uow, "top") is not None


# upload_target


def target(uow: FakeUnitOfWorkFactory, name: str) -> str:
    index = stored(uow, name)
    assert index is not None
    with uow(readonly=True) as unit:
        return upload_target(unit, index).name


def test_upload_to_a_hosted_index_lands_there(uow: FakeUnitOfWorkFactory) -> None:
    assert target(uow, "hosted") == "hosted"


def test_upload_to_a_virtual_index_lands_in_its_first_hosted_member(
    uow: FakeUnitOfWorkFactory,
) -> None:
    create_index(uow_factory=uow, name="team", kind=IndexKind.HOSTED, actor="root")
    virtual(uow, "root", ["upstream", "team", "hosted"])

    assert target(uow, "root") == "team"


def test_upload_to_a_mirror_is_refused(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(Conflict, match="mirror"):
        target(uow, "upstream")


def test_upload_to_a_virtual_index_without_a_hosted_member_is_refused(
    uow: FakeUnitOfWorkFactory,
) -> None:
    virtual(uow, "public", ["upstream"])

    with pytest.raises(Conflict, match="no hosted member"):
        target(uow, "public")


def test_policy_of_set_options_round_trips_through_the_index(uow: FakeUnitOfWorkFactory) -> None:
    configure_index(
        uow_factory=uow,
        name="upstream",
        actor="admin",
        change=lambda s: set_options(
            s, min_age=timedelta(days=3), allow=[parse_rule("requests<2.30")], offline=True
        ),
        what="policy",
    )

    index = stored(uow, "upstream")
    assert index is not None
    settings = IndexSettings.of(index)
    assert settings.policy == Policy(
        allow=(parse_rule("requests<2.30"),), min_age=timedelta(days=3)
    )
    assert settings.offline
