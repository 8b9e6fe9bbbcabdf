"""Contract of the unit of work and its repositories, over SQLite, PostgreSQL and fakes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from fakes import ReadOnlyError
from packyard.adapters.db.uow import SqlUnitOfWorkFactory
from packyard.domain.errors import Conflict, FileExists, NotFound
from packyard.domain.models import Digests, DistFile, Event, Index, IndexKind, PackageType, User
from packyard.domain.names import NormalizedName

from .conftest import Backend

pytestmark = pytest.mark.integration

T = TypeVar("T")
DEMO = NormalizedName("demo")
T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def make_file(
    filename: str = "demo-1.0-py3-none-any.whl",
    *,
    project: NormalizedName = DEMO,
    index: str = "hosted",
    upload_time: datetime = T0,
    sha256: str = "a" * 64,
) -> DistFile:
    return DistFile(
        index=index,
        project=project,
        version="1.0",
        filename=filename,
        packagetype=PackageType.WHEEL,
        python_version="py3",
        size=123,
        digests=Digests(sha256=sha256, blake2b_256="b" * 64, md5="c" * 32),
        upload_time=upload_time,
        uploader="alice",
        requires_python=">=3.11",
        metadata_sha256="d" * 64,
        metadata={"summary": "A demo", "classifiers": ["Typing :: Typed"]},
    )


def seed(backend: Backend, *, project: bool = True) -> None:
    with backend.uow() as uow:
        uow.indexes.add(Index(name="hosted", kind=IndexKind.HOSTED))
        if project:
            uow.projects.ensure("hosted", DEMO, "Demo")
        uow.commit()


def run_concurrently(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Start `count` calls of `work` at once (a barrier) and collect results or errors."""
    barrier = threading.Barrier(count)

    def call(i: int) -> T | Exception:
        barrier.wait(timeout=30)
        try:
            return work(i)
        except Exception as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


# Transactions -------------------------------------------------------------------------


def test_changes_without_commit_are_rolled_back(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.indexes.add(Index(name="hosted", kind=IndexKind.HOSTED))
        uow.events.append(Event(action="IndexCreated", actor="alice", index="hosted"))
    with backend.uow(readonly=True) as uow:
        assert uow.indexes.get("hosted") is None
        assert uow.events.last_serial() == 0


def test_committed_changes_persist(backend: Backend) -> None:
    seed(backend)
    with backend.uow(readonly=True) as uow:
        assert uow.indexes.get("hosted") == Index(name="hosted", kind=IndexKind.HOSTED)
        project = uow.projects.get("hosted", DEMO)
        assert project is not None
        assert project.display_name == "Demo"


def test_rollback_discards_only_changes_since_the_last_commit(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.indexes.add(Index(name="hosted", kind=IndexKind.HOSTED))
        uow.commit()
        uow.indexes.add(Index(name="other", kind=IndexKind.HOSTED))
        uow.rollback()
        assert [i.name for i in uow.indexes.list()] == ["hosted"]


def test_read_only_unit_of_work_cannot_write(backend: Backend) -> None:
    with (
        pytest.raises((DBAPIError, ReadOnlyError)),
        backend.uow(readonly=True) as uow,
    ):
        uow.indexes.add(Index(name="hosted", kind=IndexKind.HOSTED))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.indexes.list() == []


def test_read_and_write_units_of_work_alternate_on_pooled_connections(backend: Backend) -> None:
    # Pooled connections keep what a unit of work set on them: a read-only one must still
    # refuse writes after the same connection wrote, and a writer still write after reads.
    for name in ("a", "b", "c"):
        with backend.uow(readonly=True) as uow:
            assert name not in [i.name for i in uow.indexes.list()]
        with backend.uow() as uow:
            uow.indexes.add(Index(name=name, kind=IndexKind.HOSTED))
            uow.commit()
        with (
            pytest.raises((DBAPIError, ReadOnlyError)),
            backend.uow(readonly=True) as uow,
        ):
            uow.indexes.add(Index(name=f"{name}-not", kind=IndexKind.HOSTED))
            uow.commit()
    with backend.uow(readonly=True) as uow:
        assert [i.name for i in uow.indexes.list()] == ["a", "b", "c"]


# Indexes and settings -----------------------------------------------------------------


def test_duplicate_index_name_is_a_conflict(backend: Backend) -> None:
    seed(backend, project=False)
    with backend.uow() as uow, pytest.raises(Conflict, match="'hosted' exists already"):
        uow.indexes.add(Index(name="hosted", kind=IndexKind.MIRROR))


def test_index_config_round_trips(backend: Backend) -> None:
    config: dict[str, object] = {"upstream": "https://pypi.org/simple/", "ttl": 600, "x": [1]}
    with backend.uow() as uow:
        uow.indexes.add(Index(name="upstream", kind=IndexKind.MIRROR, config=config))
        uow.indexes.add(Index(name="root", kind=IndexKind.VIRTUAL))
        uow.commit()
    with backend.uow() as uow:
        uow.indexes.update_config("root", {"members": ["hosted", "upstream"]})
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.indexes.get("upstream") == Index("upstream", IndexKind.MIRROR, config=config)
        assert [(i.name, i.kind, i.config) for i in uow.indexes.list()] == [
            ("root", IndexKind.VIRTUAL, {"members": ["hosted", "upstream"]}),
            ("upstream", IndexKind.MIRROR, config),
        ]


def test_updating_a_missing_index_is_not_found(backend: Backend) -> None:
    with backend.uow() as uow:
        with pytest.raises(NotFound):
            uow.indexes.update_config("nope", {})
        with pytest.raises(NotFound):
            uow.indexes.bump_serial("nope", 1)


def test_default_index_is_a_setting(backend: Backend) -> None:
    seed(backend, project=False)
    with backend.uow() as uow:
        assert uow.indexes.get_default() is None
        uow.indexes.set_default("hosted")
        uow.indexes.add(Index(name="root", kind=IndexKind.VIRTUAL))
        uow.indexes.set_default("root")
        with pytest.raises(NotFound):
            uow.indexes.set_default("nope")
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.indexes.get_default() == "root"


def test_index_serial_rises_on_every_bump(backend: Backend) -> None:
    seed(backend, project=False)
    with backend.uow() as uow:
        uow.indexes.bump_serial("hosted", 5)
        uow.commit()
    assert backend.serials.resolve("hosted") == ("hosted", 5)
    # An older serial (a transaction that committed after a newer one) still moves it on.
    with backend.uow() as uow:
        uow.indexes.bump_serial("hosted", 3)
        uow.commit()
    assert backend.serials.resolve("hosted") == ("hosted", 6)
    assert backend.serials.resolve("nope") is None


def test_serial_reader_resolves_named_and_default_indexes(backend: Backend) -> None:
    seed(backend, project=False)
    assert backend.serials.resolve(None) is None
    with backend.uow() as uow:
        uow.indexes.bump_serial("hosted", 3)
        uow.indexes.set_default("hosted")
        uow.commit()
    assert backend.serials.resolve(None) == ("hosted", 3)
    assert backend.serials.resolve("hosted") == ("hosted", 3)
    assert backend.serials.resolve("nope") is None


def test_serial_reader_sees_a_commit_through_another_engine_at_once(
    sql_backend: Backend, second_engine: Callable[[Backend], Engine]
) -> None:
    seed(sql_backend, project=False)
    other = SqlUnitOfWorkFactory(second_engine(sql_backend))
    assert sql_backend.serials.resolve("hosted") == ("hosted", 0)
    with other() as uow:
        uow.indexes.bump_serial("hosted", 42)
        uow.indexes.set_default("hosted")
        uow.commit()
    assert sql_backend.serials.resolve("hosted") == ("hosted", 42)
    assert sql_backend.serials.resolve(None) == ("hosted", 42)


# Projects -------------------------------------------------------------------------------


def test_ensure_creates_once_and_then_returns_the_project(backend: Backend) -> None:
    seed(backend, project=False)
    with backend.uow() as uow:
        first = uow.projects.ensure("hosted", DEMO, "Demo")
        again = uow.projects.ensure("hosted", DEMO, "DEMO")
        uow.projects.ensure("hosted", NormalizedName("another"), "another")
        uow.commit()
    assert again == first
    assert first.display_name == "Demo"
    assert first.created.tzinfo == UTC
    with backend.uow(readonly=True) as uow:
        assert [p.name for p in uow.projects.list("hosted")] == ["another", "demo"]
        assert uow.projects.list("other") == []


def test_ensure_in_a_missing_index_is_not_found(backend: Backend) -> None:
    with backend.uow() as uow, pytest.raises(NotFound):
        uow.projects.ensure("nope", DEMO, "Demo")


def test_concurrent_ensure_yields_one_project(backend: Backend) -> None:
    seed(backend, project=False)

    def ensure(i: int) -> str:
        with backend.uow() as uow:
            project = uow.projects.ensure("hosted", DEMO, f"Demo{i}")
            uow.commit()
        return project.display_name

    names = run_concurrently(6, ensure)
    assert len(set(names)) == 1, names
    with backend.uow(readonly=True) as uow:
        assert len(uow.projects.list("hosted")) == 1


def test_touch_records_the_latest_serial(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        uow.projects.touch("hosted", DEMO, 7)
        with pytest.raises(NotFound):
            uow.projects.touch("hosted", NormalizedName("nope"), 7)
        uow.commit()
    with backend.uow(readonly=True) as uow:
        project = uow.projects.get("hosted", DEMO)
        assert project is not None
        assert project.last_serial == 7


# Files ----------------------------------------------------------------------------------


def test_added_file_round_trips(backend: Backend) -> None:
    seed(backend)
    file = make_file()
    with backend.uow() as uow:
        uow.files.add(file)
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.files.get("hosted", file.filename) == file
        assert uow.files.find_by_sha256("a" * 64) == file
        assert uow.files.find_by_sha256("f" * 64) is None
        assert uow.files.get("other", file.filename) is None


def test_datetimes_are_utc_aware_with_microseconds(backend: Backend) -> None:
    seed(backend)
    local = T0.astimezone(timezone(timedelta(hours=-5, minutes=-30)))
    with backend.uow() as uow:
        uow.files.add(make_file(upload_time=local))
        uow.events.append(Event(action="FileUploaded", actor="alice", time=local))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        file = uow.files.get("hosted", make_file().filename)
        (event,) = uow.events.since(0)
    assert file is not None
    for value in (file.upload_time, event.time):
        assert value == T0
        assert value is not None
        assert value.tzinfo == UTC
        assert value.microsecond == 123456


def test_naive_datetimes_are_refused(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow, pytest.raises(ValueError, match="naive datetime"):
        uow.files.add(make_file(upload_time=T0.replace(tzinfo=None)))


def test_files_of_a_project_come_oldest_first(backend: Backend) -> None:
    seed(backend)
    later, earlier = T0 + timedelta(microseconds=1), T0 - timedelta(days=1)
    with backend.uow() as uow:
        uow.projects.ensure("hosted", NormalizedName("other"), "other")
        for name, time in [("c", later), ("b", T0), ("a", T0), ("d", earlier)]:
            uow.files.add(make_file(f"demo-{name}.tar.gz", upload_time=time))
        uow.files.add(make_file("other-1.0.tar.gz", project=NormalizedName("other")))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        names = [f.filename for f in uow.files.for_project("hosted", DEMO)]
    # Same upload time: insertion order.
    assert names == ["demo-d.tar.gz", "demo-b.tar.gz", "demo-a.tar.gz", "demo-c.tar.gz"]


def test_adding_a_file_to_a_missing_project_is_not_found(backend: Backend) -> None:
    seed(backend, project=False)
    with backend.uow() as uow, pytest.raises(NotFound):
        uow.files.add(make_file())


def test_duplicate_filename_raises_file_exists_and_the_transaction_goes_on(
    backend: Backend,
) -> None:
    seed(backend)
    with backend.uow() as uow:
        uow.files.add(make_file())
        uow.commit()
    with backend.uow() as uow:
        with pytest.raises(FileExists, match="exists already in index 'hosted'"):
            uow.files.add(make_file(sha256="e" * 64))
        uow.files.add(make_file("demo-1.0.tar.gz"))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert len(uow.files.for_project("hosted", DEMO)) == 2


def test_concurrent_adds_of_one_filename_admit_exactly_one(backend: Backend) -> None:
    seed(backend)

    def add(i: int) -> str:
        with backend.uow() as uow:
            uow.files.add(make_file(sha256=f"{i:x}" * 64))
            uow.commit()
        return "added"

    outcomes = run_concurrently(4, add)
    assert outcomes.count("added") == 1, outcomes
    assert all(isinstance(o, FileExists) for o in outcomes if o != "added"), outcomes


def test_add_racing_an_uncommitted_add_of_the_same_file_raises_file_exists(
    backend: Backend,
) -> None:
    seed(backend)
    outcome: list[object] = []

    def second() -> None:
        try:
            with backend.uow() as uow:
                uow.files.add(make_file(sha256="e" * 64))
                uow.commit()
            outcome.append("added")
        except Exception as error:
            outcome.append(error)

    with backend.uow() as first:
        first.files.add(make_file())
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second writer should wait for the first"
        first.commit()
    thread.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], FileExists), outcome


def test_concurrent_adds_of_different_files_to_one_project_all_succeed(
    backend: Backend,
) -> None:
    seed(backend)

    def add(i: int) -> str:
        with backend.uow() as uow:
            uow.projects.ensure("hosted", DEMO, "Demo")
            uow.files.add(make_file(f"demo-{i}.tar.gz"))
            uow.commit()
        return "added"

    assert run_concurrently(6, add) == ["added"] * 6
    with backend.uow(readonly=True) as uow:
        assert len(uow.files.for_project("hosted", DEMO)) == 6


def test_yank_and_unyank(backend: Backend) -> None:
    seed(backend)
    filename = make_file().filename
    with backend.uow() as uow:
        uow.files.add(make_file())
        uow.files.set_yanked("hosted", filename, yanked=True, reason="broken build")
        uow.commit()
    with backend.uow() as uow:
        file = uow.files.get("hosted", filename)
        assert file is not None
        assert (file.yanked, file.yanked_reason) == (True, "broken build")
        uow.files.set_yanked("hosted", filename, yanked=False, reason="")
        with pytest.raises(NotFound):
            uow.files.set_yanked("hosted", "nope.tar.gz", yanked=True, reason="")
        uow.commit()
    with backend.uow(readonly=True) as uow:
        file = uow.files.get("hosted", filename)
        assert file is not None
        assert (file.yanked, file.yanked_reason) == (False, "")


# Users ----------------------------------------------------------------------------------


def test_users_add_update_list(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.users.add(User(name="bob", password_hash="h1"))
        uow.users.add(User(name="alice", password_hash="h2", is_admin=True, created=T0))
        with pytest.raises(Conflict, match="'bob' exists already"):
            uow.users.add(User(name="bob", password_hash="h3"))
        uow.users.update(User(name="bob", password_hash="h4", disabled=True))
        with pytest.raises(NotFound):
            uow.users.update(User(name="carol", password_hash="h5"))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        alice, bob = uow.users.list()
        assert alice == User(name="alice", password_hash="h2", is_admin=True, created=T0)
        assert (bob.name, bob.password_hash, bob.disabled) == ("bob", "h4", True)
        assert bob.created is not None
        assert bob.created.tzinfo == UTC
        assert uow.users.get("carol") is None


# Events ---------------------------------------------------------------------------------


def test_event_serials_increase(backend: Backend) -> None:
    with backend.uow() as uow:
        first = uow.events.append(Event(action="A", actor="alice", data={"n": 1}))
        second = uow.events.append(Event(action="B", actor="bob", index="hosted"))
        uow.commit()
    with backend.uow() as uow:
        third = uow.events.append(Event(action="C", actor="carol", filename="x.tar.gz"))
        uow.commit()
    assert 0 < first < second < third
    with backend.uow(readonly=True) as uow:
        assert uow.events.last_serial() == third
        events = uow.events.since(first)
        assert [(e.serial, e.action) for e in events] == [(second, "B"), (third, "C")]
        assert events[0].index == "hosted"
        assert events[1].filename == "x.tar.gz"
        (only,) = uow.events.since(0, limit=1)
        assert (only.serial, only.data, only.actor) == (first, {"n": 1}, "alice")
