"""The management API at /api/v1 over a real SQLite store, through the whole ASGI app."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.dists import make_wheel
from packyard.bootstrap import Container, bootstrap
from packyard.config import load_settings
from packyard.services.users import add_user
from packyard.web.app import create_app

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
ADMIN = ("boss", PASSWORD)
ALICE = ("alice", PASSWORD)
BOB = ("bob", PASSWORD)
Auth = tuple[str, str] | None


class Api:
    """A synchronous face on httpx.AsyncClient driving the ASGI app in-process."""

    def __init__(self, container: Container) -> None:
        transport = httpx.ASGITransport(app=create_app(container=container))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://packyard.test")
        self.runner = asyncio.Runner()
        self.container = container

    def __call__(
        self, method: str, path: str, *, auth: Auth = None, **kwargs: Any
    ) -> httpx.Response:
        return self.runner.run(self.client.request(method, path, auth=auth, **kwargs))

    def token(self, auth: Auth, **fields: Any) -> tuple[str, dict[str, Any]]:
        """Create a token through the API; returns (secret, the response body)."""
        response = self("POST", "/api/v1/tokens", auth=auth, json=fields)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body["secret"], body

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated store with an admin and two users, copied for each test (hashing
    passwords and migrating take longer than most tests)."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    built = bootstrap(load_settings(data_dir=data_dir, upstream_url="none"))
    for (name, password), admin in ((ADMIN, True), (ALICE, False), (BOB, False)):
        add_user(
            uow_factory=built.uow,
            clock=built.clock,
            name=name,
            password=password,
            admin=admin,
            actor="test",
        )
    built.close()
    return data_dir


@pytest.fixture
def container(template: Path, tmp_path: Path) -> Iterator[Container]:
    data_dir = shutil.copytree(template, tmp_path / "data")
    built = bootstrap(load_settings(data_dir=data_dir, upstream_url="none"))
    yield built
    built.close()


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    client = Api(container)
    yield client
    client.close()


def upload(api: Api, tmp_path: Path, auth: Auth, name: str, version: str) -> str:
    """Upload a wheel to the hosted index as twine would; returns its download path."""
    wheel = make_wheel(tmp_path, name, version)
    data = wheel.read_bytes()
    response = api(
        "POST",
        "/hosted/legacy/",
        auth=auth,
        data={":action": "file_upload", "protocol_version": "1"},
        files={"content": (wheel.name, data, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    return f"/hosted/+f/{hashlib.sha256(data).hexdigest()}/{wheel.name}"


ADMIN_ACTIONS = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"name": "carol", "password": PASSWORD}),
    ("PATCH", "/api/v1/users/bob", {"disabled": True}),
    ("DELETE", "/api/v1/users/bob", None),
    ("GET", "/api/v1/teams", None),
    ("POST", "/api/v1/teams", {"name": "release"}),
    ("POST", "/api/v1/indexes", {"name": "private", "kind": "hosted"}),
    ("PATCH", "/api/v1/indexes/hosted", {"readers": "authenticated"}),
    ("POST", "/api/v1/indexes/hosted/claims", {"project": "requests"}),
    ("PUT", "/api/v1/indexes/hosted/default", None),
    ("GET", "/api/v1/audit", None),
    ("GET", "/api/v1/tokens?user=bob", None),
    ("POST", "/api/v1/tokens", {"user": "bob"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ACTIONS)
def test_admin_actions_refuse_a_normal_user_with_403(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = api(method, path, auth=ALICE, json=body)
    assert response.status_code == 403, response.text
    assert "administrator" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ACTIONS)
def test_admin_actions_challenge_anonymous_callers_with_401(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = api(method, path, json=body)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ACTIONS[:3])
def test_admin_actions_succeed_for_an_admin(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert api(method, path, auth=ADMIN, json=body).status_code < 300


def test_a_token_without_the_admin_scope_cannot_act_as_admin(api: Api) -> None:
    plain, _ = api.token(ADMIN, scopes=["read", "upload", "yank", "delete"])
    admin, _ = api.token(ADMIN, scopes=["admin"])

    refused = api("GET", "/api/v1/users", auth=("__token__", plain))
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    assert api("GET", "/api/v1/users", auth=("__token__", admin)).status_code == 200


def test_a_token_without_the_admin_scope_cannot_mint_tokens(api: Api) -> None:
    plain, _ = api.token(ALICE, scopes=["read"])
    response = api("POST", "/api/v1/tokens", auth=("__token__", plain), json={"scopes": ["admin"]})
    assert response.status_code == 403


def test_token_create_returns_the_secret_once_and_list_never_shows_it(api: Api) -> None:
    secret, created = api.token(ALICE, scopes=["read"], description="ci", expires="30d")

    assert secret.startswith("pky_")
    assert created["user"] == "alice"
    assert created["scopes"] == ["read"]
    assert secret.startswith(created["prefix"])
    assert created["expires_at"] is not None
    listed = api("GET", "/api/v1/tokens", auth=ALICE)
    assert [t["id"] for t in listed.json()] == [created["id"]]
    assert secret not in listed.text
    assert "secret" not in listed.json()[0]
    assert "digest" not in listed.text
    assert api("GET", "/api/v1/tokens", auth=("__token__", secret)).status_code == 200


def test_users_list_their_own_tokens_and_admins_list_everyones(api: Api) -> None:
    _, mine = api.token(ALICE)
    _, theirs = api.token(BOB)

    assert [t["id"] for t in api("GET", "/api/v1/tokens", auth=BOB).json()] == [theirs["id"]]
    everyone = {t["id"] for t in api("GET", "/api/v1/tokens", auth=ADMIN).json()}
    assert everyone == {mine["id"], theirs["id"]}


def test_tokens_are_revoked_by_their_owner_or_an_admin_only(api: Api) -> None:
    secret, token = api.token(ALICE)
    path = f"/api/v1/tokens/{token['id']}"

    assert api("DELETE", path, auth=BOB).status_code == 403
    assert api("DELETE", path, auth=ALICE).status_code == 204
    assert api("GET", "/api/v1/tokens", auth=("__token__", secret)).status_code == 401
    assert api("DELETE", path, auth=ADMIN).status_code == 404
    _, other = api.token(BOB)
    assert api("DELETE", f"/api/v1/tokens/{other['id']}", auth=ADMIN).status_code == 204


def test_no_response_contains_a_password_hash(api: Api) -> None:
    api.token(ALICE)
    bodies = [
        api("POST", "/api/v1/users", auth=ADMIN, json={"name": "carol", "password": PASSWORD}),
        api("PATCH", "/api/v1/users/carol", auth=ADMIN, json={"password": "another secret"}),
        api("POST", "/api/v1/teams", auth=ADMIN, json={"name": "release"}),
        api("PUT", "/api/v1/teams/release/members/carol", auth=ADMIN),
        *(api("GET", f"/api/v1/{what}", auth=ADMIN) for what in ("users", "teams", "tokens")),
        api("GET", "/api/v1/audit", auth=ADMIN),
    ]
    assert all(r.status_code < 300 for r in bodies), [r.text for r in bodies]
    for response in bodies:
        assert "password_hash" not in response.text
        assert "$argon2" not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "http://packyard.test:8080"},
        {"Origin": "null"},
    ],
)
def test_cross_site_requests_with_unsafe_methods_are_refused(
    api: Api, headers: dict[str, str]
) -> None:
    body = {"name": "carol", "password": PASSWORD}
    response = api("POST", "/api/v1/users", auth=ADMIN, json=body, headers=headers)
    assert response.status_code == 403
    assert "refused" in response.json()["detail"]
    assert api("GET", "/api/v1/users", auth=ADMIN).json()[-1]["name"] != "carol"


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://packyard.test"}, {}],
)
def test_same_site_requests_are_accepted(api: Api, headers: dict[str, str]) -> None:
    body = {"name": "carol", "password": PASSWORD}
    assert api("POST", "/api/v1/users", auth=ADMIN, json=body, headers=headers).status_code == 201


def test_cross_site_reads_are_answered(api: Api) -> None:
    headers = {"Sec-Fetch-Site": "cross-site"}
    assert api("GET", "/api/v1/users", auth=ADMIN, headers=headers).status_code == 200


def test_index_permissions_take_effect_on_simple_reads(api: Api) -> None:
    assert api("GET", "/hosted/simple/").status_code == 200
    response = api("PATCH", "/api/v1/indexes/hosted", auth=ADMIN, json={"readers": "alice"})
    assert response.status_code == 200, response.text
    assert response.json()["readers"] == "alice"

    anonymous = api("GET", "/hosted/simple/")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert api("GET", "/hosted/simple/", auth=BOB).status_code == 403
    assert api("GET", "/hosted/simple/", auth=ALICE).status_code == 200
    names = [i["name"] for i in api("GET", "/api/v1/indexes", auth=BOB).json()]
    assert "hosted" not in names


def test_audit_answers_who_downloaded_a_release_in_the_last_30_days(
    api: Api, tmp_path: Path
) -> None:
    wanted = upload(api, tmp_path, ALICE, "incident", "1.2.3")
    other = upload(api, tmp_path, ALICE, "incident", "1.2.4")
    secret, token = api.token(ALICE, scopes=["read"])
    assert api("GET", wanted, auth=("__token__", secret)).status_code == 200
    assert api("GET", wanted, auth=BOB).status_code == 200
    assert api("GET", other, auth=ADMIN).status_code == 200
    api.container.downloads.flush()

    query = {"action": "download", "project": "incident", "version": "1.2.3", "since": "30d"}
    response = api("GET", "/api/v1/audit", auth=ADMIN, params=query)

    assert response.status_code == 200, response.text
    actors = {row["actor"]: row["detail"]["count"] for row in response.json()}
    assert actors == {f"token:{token['id']} (alice)": 1, "user:bob": 1}


def test_audit_records_api_actions_with_actor_and_address(api: Api) -> None:
    _, token = api.token(ALICE)
    rows = api("GET", "/api/v1/audit", auth=ADMIN, params={"action": "token_created"}).json()
    assert rows[0]["actor"] == "alice"
    assert rows[0]["address"] == "127.0.0.1"
    assert rows[0]["detail"]["token"] == token["id"]


def test_project_owners_manage_roles_and_maintainers_yank(api: Api, tmp_path: Path) -> None:
    upload(api, tmp_path, ALICE, "owned", "1.0")
    roles = "/api/v1/indexes/root/projects/owned/roles"
    assert api("POST", roles, auth=BOB, json={"principal": "bob", "role": "owner"}).status_code == (
        403
    )
    added = api("POST", roles, auth=ALICE, json={"principal": "bob", "role": "maintainer"})
    assert added.status_code == 200, added.text
    assert {(r["principal"], r["role"]) for r in added.json()} == {
        ("alice", "owner"),
        ("bob", "maintainer"),
    }

    yank = "/api/v1/indexes/hosted/projects/owned/releases/1.0/yank"
    yanked = api("POST", yank, auth=BOB, json={"reason": "broken"})
    assert yanked.status_code == 200, yanked.text
    assert [(f["yanked"], f["yanked_reason"]) for f in yanked.json()] == [(True, "broken")]
    assert api("DELETE", "/api/v1/indexes/hosted/projects/owned", auth=BOB).status_code == 403
    removed = api("DELETE", f"{roles}/maintainer/bob", auth=ALICE)
    assert removed.json() == [{"principal": "alice", "role": "owner"}]
    deleted = api("DELETE", "/api/v1/indexes/hosted/projects/owned?version=1.0", auth=ALICE)
    assert [f["filename"] for f in deleted.json()] == ["owned-1.0-py3-none-any.whl"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/v1/indexes/nowhere", None, 404),
        ("POST", "/api/v1/users", {"name": "alice", "password": PASSWORD}, 409),
        ("POST", "/api/v1/users", {"name": "carol", "password": "short"}, 422),
        ("POST", "/api/v1/indexes", {"name": "m", "kind": "mirror"}, 400),
        ("PATCH", "/api/v1/indexes/hosted", {"readers": "anonymous,bob"}, 400),
        ("PATCH", "/api/v1/indexes/hosted", {"colour": "blue"}, 422),
    ],
)
def test_errors_are_json_with_the_usual_status_codes(
    api: Api, method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    response = api(method, path, auth=ADMIN, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]


def test_indexes_are_created_configured_and_shown(api: Api) -> None:
    body = {"name": "team", "kind": "virtual", "members": ["hosted"]}
    assert api("POST", "/api/v1/indexes", auth=ADMIN, json=body).status_code == 201
    change = {"deny": ["evil-*"], "merge": ["shared"], "uploaders": "alice,@release"}
    api("POST", "/api/v1/teams", auth=ADMIN, json={"name": "release"})
    assert api("PATCH", "/api/v1/indexes/team", auth=ADMIN, json=change).status_code == 200
    assert api("PUT", "/api/v1/indexes/team/default", auth=ADMIN).status_code == 200

    shown = api("GET", "/api/v1/indexes/team", auth=ALICE).json()
    assert shown["default"] is True
    assert shown["policy"]["deny"] == ["evil-*"]
    assert shown["merge"] == ["shared"]
    assert shown["uploaders"] == "alice,@release"


def test_validation_errors_name_the_field_but_never_echo_the_password(api: Api) -> None:
    response = api("POST", "/api/v1/users", auth=ADMIN, json={"name": "c", "password": "hunter"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]
    assert "hunter" not in response.text


@pytest.mark.parametrize(
    "body", [b'{"name": "team\\ud800"}', b'{"name": "team\\u0000"}'], ids=["surrogate", "nul"]
)
def test_text_no_database_can_store_is_refused_with_422(api: Api, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    response = api("POST", "/api/v1/teams", auth=ADMIN, content=body, headers=headers)
    assert response.status_code == 422
    assert "UTF-8 without NUL" in response.json()["detail"][0]["msg"]


def test_nul_in_the_url_is_refused_with_400(api: Api) -> None:
    response = api("PATCH", "/api/v1/users/a%00b", auth=ADMIN, json={"disabled": True})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
