"""The audit log: filtering events and download counters, and recording downloads in
batches per day, file and principal."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from fakes import FakeUnitOfWorkFactory
from packyard.domain.access import ANONYMOUS_PRINCIPAL, Principal
from packyard.domain.models import Event, Index, IndexKind, Scope, Token, User
from packyard.services.audit import DOWNLOAD, DownloadRecorder, audit_report, principal_label

pytestmark = pytest.mark.unit

NOW = datetime(2024, 9, 30, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class Clock:
    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> datetime:
        return self.current


def person(name: str) -> Principal:
    return Principal(user=User(name, "unused"))


def via_token(name: str, token_id: str) -> Principal:
    token = Token(token_id, name, f"digest-{token_id}", "pky_xxxxxx", frozenset({Scope.READ}))
    return Principal(user=User(name, "unused"), token=token)


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(Index("main", IndexKind.HOSTED))
        unit.indexes.add(Index("other", IndexKind.HOSTED))
        unit.commit()
    return factory


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def recorder(uow: FakeUnitOfWorkFactory, clock: Clock) -> DownloadRecorder:
    return DownloadRecorder(uow, clock)


def download(
    recorder: DownloadRecorder,
    who: Principal,
    *,
    project: str = "X",
    version: str = "1.2.3",
    index: str = "main",
    times: int = 1,
) -> None:
    filename = f"{project.lower()}-{version}-py3-none-any.whl"
    for _ in range(times):
        recorder.record(who=who, index=index, project=project, version=version, filename=filename)


def event(
    uow: FakeUnitOfWorkFactory, action: str, actor: str, ago: timedelta, **fields: Any
) -> None:
    with uow() as unit:
        unit.events.append(Event(action=action, actor=actor, time=NOW - ago, **fields))
        unit.commit()


def report(uow: FakeUnitOfWorkFactory, **filters: Any) -> list[dict[str, Any]]:
    return audit_report(uow_factory=uow, **filters)


def summary(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(row["action"], row["actor"]) for row in rows]


# Principals as the download counters name them


@pytest.mark.parametrize(
    ("who", "label"),
    [
        (ANONYMOUS_PRINCIPAL, "anonymous"),
        (person("alice"), "user:alice"),
        (via_token("alice", "t1"), "token:t1 (alice)"),
    ],
)
def test_downloads_are_labelled_by_user_or_token_or_anonymous(who: Principal, label: str) -> None:
    assert principal_label(who) == label


# Recording downloads


def test_recording_writes_nothing_until_flush(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder
) -> None:
    opened = len(uow.created)

    download(recorder, person("alice"), times=50)

    assert len(uow.created) == opened
    assert uow.db.downloads == {}


def test_flush_aggregates_per_day_file_and_principal(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder, clock: Clock
) -> None:
    download(recorder, person("alice"), times=3)
    download(recorder, via_token("alice", "t1"), times=2)
    download(recorder, ANONYMOUS_PRINCIPAL, times=4)
    download(recorder, person("alice"), version="1.2.4")
    clock.current = NOW + DAY
    download(recorder, person("alice"), times=5)

    rows = recorder.flush()

    assert rows == 5
    counts = {
        (c.day.date().isoformat(), c.filename, c.principal): c.count
        for c in uow.db.downloads.values()
    }
    assert counts == {
        ("2024-09-30", "x-1.2.3-py3-none-any.whl", "user:alice"): 3,
        ("2024-09-30", "x-1.2.3-py3-none-any.whl", "token:t1 (alice)"): 2,
        ("2024-09-30", "x-1.2.3-py3-none-any.whl", "anonymous"): 4,
        ("2024-09-30", "x-1.2.4-py3-none-any.whl", "user:alice"): 1,
        ("2024-10-01", "x-1.2.3-py3-none-any.whl", "user:alice"): 5,
    }
    assert sum(counts.values()) == 15


def test_counts_of_successive_flushes_add_up(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder
) -> None:
    for batch in (3, 4, 1):
        download(recorder, person("alice"), times=batch)
        assert recorder.flush() == 1

    [count] = uow.db.downloads.values()
    assert count.count == 8
    assert recorder.flush() == 0


def test_flush_with_nothing_recorded_opens_no_unit_of_work(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder
) -> None:
    opened = len(uow.created)

    assert recorder.flush() == 0
    assert len(uow.created) == opened


def test_download_day_is_the_utc_day_whatever_the_clocks_zone(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder, clock: Clock
) -> None:
    clock.current = datetime(2024, 10, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    download(recorder, person("alice"))
    clock.current = datetime(2024, 9, 30, 23, 59, 59, tzinfo=UTC)
    download(recorder, person("alice"))

    recorder.flush()

    [count] = uow.db.downloads.values()
    assert count.day == datetime(2024, 9, 30, tzinfo=UTC)
    assert count.count == 2


def test_download_project_is_recorded_normalised(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder
) -> None:
    download(recorder, person("alice"), project="My_Pkg")

    recorder.flush()

    [count] = uow.db.downloads.values()
    assert count.project == "my-pkg"


# The incident question


def test_which_tokens_and_users_downloaded_x_1_2_3_in_the_last_30_days(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder, clock: Clock
) -> None:
    clock.current = NOW - 40 * DAY
    download(recorder, via_token("alice", "old-token"), times=7)  # too long ago
    clock.current = NOW - 10 * DAY
    download(recorder, person("bob"), times=2)
    download(recorder, person("carol"), version="1.2.4")  # another version
    download(recorder, person("dave"), project="Y")  # another project
    download(recorder, person("erin"), index="other")  # another index, same file
    clock.current = NOW - 2 * DAY
    download(recorder, ANONYMOUS_PRINCIPAL, times=3)
    clock.current = NOW - DAY
    download(recorder, via_token("alice", "ci-token"), times=4)
    download(recorder, person("bob"))
    recorder.flush()
    event(uow, "file_uploaded", "bob", 11 * DAY, project="x", version="1.2.3")

    rows = report(uow, action=DOWNLOAD, project="x", version="1.2.3", since=NOW - 30 * DAY)

    who = Counter[str]()
    for row in rows:
        assert row["action"] == DOWNLOAD
        assert (row["project"], row["version"]) == ("x", "1.2.3")
        who[row["actor"]] += row["detail"]["count"]
    assert who == {
        "user:bob": 3,
        "anonymous": 3,
        "token:ci-token (alice)": 4,
        "user:erin": 1,
    }
    assert rows[0]["time"] >= rows[-1]["time"]  # newest first


def test_incident_question_for_one_index(
    uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder
) -> None:
    download(recorder, person("bob"))
    download(recorder, person("erin"), index="other")
    recorder.flush()

    rows = report(uow, action=DOWNLOAD, project="X", version="1.2.3", index="other")

    assert summary(rows) == [(DOWNLOAD, "user:erin")]


# Filtering events and downloads


@pytest.fixture
def history(uow: FakeUnitOfWorkFactory, recorder: DownloadRecorder, clock: Clock) -> None:
    event(uow, "user_added", "root", 50 * DAY, data={"user": "alice"})
    event(uow, "file_uploaded", "alice", 20 * DAY, index="main", project="my-pkg", version="1.0")
    event(
        uow,
        "file_uploaded",
        "alice (token t1)",
        5 * DAY,
        index="main",
        project="my-pkg",
        version="2.0",
    )
    event(uow, "file_yanked", "bob", 4 * DAY, index="main", project="my-pkg", version="1.0")
    event(uow, "file_uploaded", "bob", 3 * DAY, index="main", project="other", version="1.0")
    event(uow, "login_failed", "alice", 2 * DAY, address="203.0.113.9")
    event(uow, "token_created", "alicea", DAY, data={"user": "alicea"})
    clock.current = NOW - 2 * DAY
    download(recorder, via_token("alice", "t1"), project="My.Pkg", version="2.0", times=2)
    download(recorder, person("bob"), project="My.Pkg", version="1.0")
    recorder.flush()


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"since": NOW - 3 * DAY - timedelta(hours=1)},
            [
                ("token_created", "alicea"),
                ("login_failed", "alice"),
                (DOWNLOAD, "user:bob"),
                (DOWNLOAD, "token:t1 (alice)"),
                ("file_uploaded", "bob"),
            ],
        ),
        (
            {"project": "MY_PKG"},
            [
                (DOWNLOAD, "user:bob"),
                (DOWNLOAD, "token:t1 (alice)"),
                ("file_yanked", "bob"),
                ("file_uploaded", "alice (token t1)"),
                ("file_uploaded", "alice"),
            ],
        ),
        (
            {"project": "my.pkg", "version": "1.0"},
            [(DOWNLOAD, "user:bob"), ("file_yanked", "bob"), ("file_uploaded", "alice")],
        ),
        (
            {"user": "alice"},
            [
                ("login_failed", "alice"),
                (DOWNLOAD, "token:t1 (alice)"),
                ("file_uploaded", "alice (token t1)"),
                ("file_uploaded", "alice"),
            ],
        ),
        ({"user": "bob", "action": "file_uploaded"}, [("file_uploaded", "bob")]),
        ({"action": "file_yanked"}, [("file_yanked", "bob")]),
        ({"action": "login_failed"}, [("login_failed", "alice")]),
        ({"action": DOWNLOAD, "user": "bob"}, [(DOWNLOAD, "user:bob")]),
        ({"user": "nobody"}, []),
        ({"action": "no_such_action"}, []),
        ({"project": "absent"}, []),
    ],
    ids=[
        "since",
        "project-any-spelling",
        "project-and-version",
        "user-with-their-tokens",
        "user-and-action",
        "action",
        "login-failures",
        "downloads-of-a-user",
        "unknown-user",
        "unknown-action",
        "unknown-project",
    ],
)
def test_audit_report_filters(
    uow: FakeUnitOfWorkFactory, filters: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert summary(report(uow, **filters)) == expected


@pytest.mark.usefixtures("history")
def test_report_rows_carry_who_what_when_and_from_where(uow: FakeUnitOfWorkFactory) -> None:
    [failure] = report(uow, action="login_failed")

    assert failure == {
        "time": (NOW - 2 * DAY).isoformat(),
        "action": "login_failed",
        "actor": "alice",
        "address": "203.0.113.9",
        "index": None,
        "project": None,
        "version": None,
        "filename": None,
        "detail": None,
        "serial": failure["serial"],
    }
    assert isinstance(failure["serial"], int)


@pytest.mark.usefixtures("history")
def test_report_download_rows_say_the_count_is_per_day(uow: FakeUnitOfWorkFactory) -> None:
    rows = report(uow, action=DOWNLOAD, user="alice")

    assert rows == [
        {
            "time": datetime(2024, 9, 28, tzinfo=UTC).isoformat(),
            "action": DOWNLOAD,
            "actor": "token:t1 (alice)",
            "address": None,
            "index": "main",
            "project": "my-pkg",
            "version": "2.0",
            "filename": "my.pkg-2.0-py3-none-any.whl",
            "detail": {"count": 2, "per": "day"},
        }
    ]


@pytest.mark.usefixtures("history")
def test_report_is_newest_first_and_limited(uow: FakeUnitOfWorkFactory) -> None:
    everything = report(uow)
    first_three = report(uow, limit=3)

    times = [row["time"] for row in everything]
    assert times == sorted(times, reverse=True)
    assert len(everything) == 9
    assert first_three == everything[:3]


@pytest.mark.usefixtures("history")
def test_user_filter_does_not_match_a_longer_name_with_the_same_start(
    uow: FakeUnitOfWorkFactory,
) -> None:
    assert "alicea" not in {row["actor"] for row in report(uow, user="alice")}
    assert summary(report(uow, user="alicea")) == [("token_created", "alicea")]
