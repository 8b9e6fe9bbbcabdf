"""The audit log (issue 4): what real clients did, who did it (user, or user and token id),
from where and when, read back with `packyard audit` and `GET /api/v1/audit`.

One server for the module. Its default index's hosted member (`hosted`) is made readable
by `authenticated` callers only, so every download has a user or token behind it. The
fixture then drives real clients and records what it did:

- alice (password) twine-uploads `audited-lib` 1.0.0 and 1.2.3; bob (token made with the
  CLI) twine-uploads `bobs-lib` 0.1; alice makes a token through the API (with `yank`)
  and yanks 1.0.0 with it; a twine upload with a wrong password fails;
- pip installs `audited-lib==1.2.3` with alice's password, uv with bob's token;
- then it waits (bounded poll) for the server's periodic flush of download counters.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from e2e.access import (
    TOKEN_USER,
    AccessServer,
    Token,
    assert_challenge,
    describe,
    password_of,
    poll_until,
    run_client,
    start_access_server,
    with_credentials,
)
from e2e.clients import UV, Clients, expect_failure, expect_ok, installable_dists

pytestmark = pytest.mark.e2e

ADMIN = "auditor"
ALICE = "alice"
BOB = "bob"
PROJECT = "audited-lib"
VERSION = "1.2.3"
OLD_VERSION = "1.0.0"
BOBS_PROJECT = "bobs-lib"
INDEX = "hosted"
LOCAL_ADDRESS = "127.0.0.1"
FLUSH_TIMEOUT = 20.0  # the server writes download counters every 5 s


Row = dict[str, Any]


@dataclass
class History:
    srv: AccessServer
    bob_token: Token  # made with `packyard token create`
    alice_token: Token  # made by alice through the API
    started: datetime
    download_rows: list[Row]

    def audit(self, *args: str) -> list[Row]:
        result = self.srv.cli("audit", "--json", *args)
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    @property
    def secrets(self) -> list[str]:
        return [
            self.bob_token.secret,
            self.alice_token.secret,
            password_of(ALICE),
            password_of(BOB),
        ]


def twine(
    clients: Clients, srv: AccessServer, path: Path, user: str, password: str
) -> subprocess.CompletedProcess[str]:
    return clients.twine_upload(srv.upload_url(INDEX), path, user=user, password=password)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, pip_python: Path) -> Iterator[History]:
    workdir = tmp_path_factory.mktemp("access-audit")
    started = datetime.now(UTC)
    srv = start_access_server(workdir / "server")
    try:
        srv.add_user(ADMIN, admin=True)
        srv.admin_auth = (ADMIN, password_of(ADMIN))
        srv.add_user(ALICE)
        srv.add_user(BOB)
        srv.cli("index", "set", INDEX, "--readers", "authenticated")
        bob_token = srv.create_token(BOB, scopes=["read", "upload"], description="bob's CI")

        home = workdir / "clients"
        home.mkdir()
        clients = Clients(home=home, pip_python=pip_python)
        dists = workdir / "dists"
        dists.mkdir()
        alice = (ALICE, password_of(ALICE))
        for version in (OLD_VERSION, VERSION):
            wheel, _ = installable_dists(dists, PROJECT, version)
            expect_ok(twine(clients, srv, wheel, *alice))
        bobs_wheel, _ = installable_dists(dists, BOBS_PROJECT, "0.1")
        expect_ok(twine(clients, srv, bobs_wheel, TOKEN_USER, bob_token.secret))
        expect_failure(twine(clients, srv, bobs_wheel, ALICE, "not alice's password"))

        created = srv.api.call(
            "createToken", alice, json={"scopes": ["read", "yank"], "description": "alice's"}
        )
        assert created.status_code == 201, describe(created)
        alice_token = Token(secret=created.json()["secret"], id=created.json()["id"], user=ALICE)
        yanked = srv.api.call(
            "yankRelease",
            alice_token.auth,
            json={"reason": "broken"},
            index=INDEX,
            project=PROJECT,
            version=OLD_VERSION,
        )
        assert yanked.status_code == 200, describe(yanked)

        index_url = srv.simple_url(INDEX)
        requirement = f"{PROJECT}=={VERSION}"
        pip_url = with_credentials(index_url, *alice)
        pip_result, _ = clients.pip_install(pip_url, requirement, args=["--only-binary", ":all:"])
        expect_ok(pip_result)
        uv_url = with_credentials(index_url, TOKEN_USER, bob_token.secret)
        target = clients.fresh_dir("uv-target")
        uv_command: list[str | Path] = [
            UV,
            "pip",
            "install",
            "--no-config",
            "--python",
            pip_python,
            "--target",
            target,
            "--index-url",
            uv_url,
            requirement,
        ]
        expect_ok(run_client(clients, uv_command))

        history = History(
            srv=srv,
            bob_token=bob_token,
            alice_token=alice_token,
            started=started,
            download_rows=[],
        )
        query = ("--action", "download", "--project", PROJECT, "--version", VERSION)
        history.download_rows = poll_until(
            lambda: history.audit(*query, "--since", "30d"),
            lambda rows: downloaded_by_alice(rows) and downloaded_by_bobs_token(history, rows),
            timeout=FLUSH_TIMEOUT,
            what="alice's and bob's token's downloads are in the audit log",
        )
        yield history
    finally:
        srv.close()


def downloaded_by_alice(rows: list[Row]) -> bool:
    return any(ALICE in row["actor"] and "token" not in row["actor"] for row in rows)


def downloaded_by_bobs_token(history: History, rows: list[Row]) -> bool:
    return any(history.bob_token.id in row["actor"] and BOB in row["actor"] for row in rows)


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"time without a zone: {value!r}"
    return moment


def one(rows: list[Row], **match: Any) -> Row:
    found = [row for row in rows if all(row.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} rows match {match}:\n" + "\n".join(map(str, rows))
    return found[0]


def assert_recent_event(history: History, row: Row) -> None:
    """Who is given by the caller; the address is the client's; the time is now."""
    assert row["address"] == LOCAL_ADDRESS, row
    moment = parse_time(row["time"])
    assert history.started - timedelta(seconds=5) <= moment <= datetime.now(UTC), row


def test_uploads_yanks_token_creations_and_failed_logins_are_listed_with_who_where_and_when(
    history: History,
) -> None:
    rows = history.audit("--since", "1h")

    by_alice = one(rows, action="file_uploaded", project=PROJECT, version=VERSION)
    by_bobs_token = one(rows, action="file_uploaded", project=BOBS_PROJECT)
    yank = one(rows, action="file_yanked", project=PROJECT, version=OLD_VERSION)
    api_token = one(rows, action="token_created", actor=ALICE)
    failures = [row for row in rows if row["action"] == "login_failed"]

    assert by_alice["actor"] == ALICE, by_alice
    assert by_bobs_token["actor"] == f"{BOB} (token {history.bob_token.id})", by_bobs_token
    assert yank["actor"] == f"{ALICE} (token {history.alice_token.id})", yank
    for row in (by_alice, by_bobs_token, yank, api_token):
        assert_recent_event(history, row)
    assert history.alice_token.id in json.dumps(api_token), api_token
    assert len(failures) == 1, failures
    assert_recent_event(history, failures[0])
    assert ALICE in json.dumps(failures[0]), "a failed login names the user name tried"


def test_token_creation_with_the_cli_is_recorded_as_the_cli(history: History) -> None:
    rows = history.audit("--action", "token_created")

    cli_made = [row for row in rows if history.bob_token.id in json.dumps(row)]

    assert len(cli_made) == 1, rows
    assert cli_made[0]["actor"].startswith("cli:"), cli_made
    parse_time(cli_made[0]["time"])


def test_the_audit_log_never_shows_a_secret(history: History) -> None:
    text = history.srv.cli("audit").stdout + history.srv.cli("audit", "--json").stdout
    api = history.srv.api.call("queryAudit", history.srv.admin_auth)

    for secret in history.secrets:
        assert secret not in text
        assert secret not in api.text
    assert "$argon2" not in text + api.text


def test_which_tokens_and_users_downloaded_a_version_in_the_last_30_days(
    history: History,
) -> None:
    rows = history.download_rows

    assert {row["project"] for row in rows} == {PROJECT}, rows
    assert {row["version"] for row in rows} == {VERSION}, rows
    assert {row["action"] for row in rows} == {"download"}, rows
    actors = {row["actor"] for row in rows}
    assert downloaded_by_alice(rows), actors
    assert downloaded_by_bobs_token(history, rows), actors
    assert not any(history.alice_token.id in actor for actor in actors), "alice's token"
    assert all(parse_time(row["time"]) <= datetime.now(UTC) for row in rows), rows
    text = history.srv.cli(
        "audit",
        "--action",
        "download",
        "--project",
        PROJECT,
        "--version",
        VERSION,
        "--since",
        "30d",
    ).stdout
    assert history.bob_token.id in text and ALICE in text, text


def test_download_answers_are_limited_to_the_version_asked_about(history: History) -> None:
    other_version = history.audit(
        "--action", "download", "--project", PROJECT, "--version", OLD_VERSION, "--since", "30d"
    )
    other_project = history.audit(
        "--action", "download", "--project", BOBS_PROJECT, "--since", "30d"
    )

    assert other_version == [], other_version
    assert other_project == [], other_project


def test_user_filter_keeps_what_the_user_and_their_tokens_did(history: History) -> None:
    bobs = history.audit("--user", BOB)
    alices = history.audit("--user", ALICE)

    assert bobs, "nothing by bob"
    assert all(BOB in row["actor"] and ALICE not in row["actor"] for row in bobs), bobs
    assert {"file_uploaded", "download"} <= {row["action"] for row in bobs}, bobs
    assert any(history.bob_token.id in row["actor"] for row in bobs), bobs
    assert all(BOB not in row["actor"] for row in alices), alices
    assert {"file_uploaded", "file_yanked", "token_created", "download"} <= {
        row["action"] for row in alices
    }, alices


def test_since_filter_drops_older_events(history: History) -> None:
    query = ("--action", "file_uploaded", "--project", PROJECT)
    assert len(history.audit(*query, "--since", "30d")) == 2

    recent = poll_until(
        lambda: history.audit(*query, "--since", "1s"),
        lambda rows: rows == [],
        timeout=10,
        what="uploads older than a second are outside --since 1s",
    )

    assert recent == []
    assert len(history.audit(*query, "--since", "1h")) == 2


def test_an_invalid_since_is_refused_with_a_message(history: History) -> None:
    result = history.srv.cli("audit", "--since", "last tuesday", check=False)

    assert result.returncode != 0, result.stdout
    assert "since" in (result.stderr + result.stdout).lower() or "duration" in result.stderr


def test_the_management_api_answers_the_download_question_for_admins_only(
    history: History,
) -> None:
    query = {"action": "download", "project": PROJECT, "version": VERSION, "since": "30d"}

    as_admin = history.srv.api.call("queryAudit", history.srv.admin_auth, query=query)
    as_alice = history.srv.api.call("queryAudit", (ALICE, password_of(ALICE)), query=query)
    anonymous = history.srv.api.call("queryAudit", None, query=query)

    assert as_admin.status_code == 200, describe(as_admin)
    actors = {row["actor"] for row in as_admin.json()}
    assert actors == {row["actor"] for row in history.download_rows}, actors
    assert as_alice.status_code == 403, describe(as_alice)
    assert_challenge(anonymous)
