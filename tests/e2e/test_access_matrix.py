"""Who may do what (issue 4): the permission matrix over HTTP, token lifetimes and limits,
`Vary: Authorization`, and the login-failure limit.

One server for the module, set up with the CLI only:

- users admin (admin), reader, uploader, owner, maintainer, other; team @devs = {reader};
- `pub`: hosted, default permissions (anyone reads, any user uploads new projects);
- `priv`: hosted, `--readers @devs,uploader,owner,maintainer --uploaders
  uploader,owner,maintainer`;
- `virt`: virtual over priv, pub (uploads, yanks and deletes through it act on priv);
- `lib-pub` in pub and `lib-priv` in priv, first uploaded by owner (so owned by owner),
  with `maintainer` added as maintainer by the CLI.

Every mutating cell acts on a release of its own, so cells never depend on each other; a
refused cell also checks that nothing changed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.access import (
    ADMIN,
    ANONYMOUS,
    MAINTAINER,
    OTHER,
    OWNER,
    PRINCIPALS,
    PRIVATE,
    PUBLIC,
    READER,
    TEAM,
    UPLOADER,
    VIRTUAL,
    AccessServer,
    Auth,
    assert_challenge,
    auth_of,
    describe,
    password_of,
    poll_until,
    start_access_server,
)
from e2e.conftest import UPLOADER_PASSWORD, ServerFactory
from e2e.server import ServerProcess
from e2e.simple import JSON_TYPE
from helpers.dists import dist_name, make_wheel

pytestmark = pytest.mark.e2e

INDEXES = (PUBLIC, PRIVATE, VIRTUAL)
HOSTED_OF = {PUBLIC: PUBLIC, PRIVATE: PRIVATE, VIRTUAL: PRIVATE}
PROJECT_OF = {PUBLIC: "lib-pub", PRIVATE: "lib-priv", VIRTUAL: "lib-priv"}
FIRST_VERSION = "1.0"

READ, DOWNLOAD, UPLOAD, NEW_PROJECT, YANK, DELETE, ROLES, CONFIGURE = (
    "read",
    "download",
    "upload-new-version",
    "upload-new-project",
    "yank",
    "delete",
    "manage-roles",
    "admin-configure-index",
)
ACTIONS = (READ, DOWNLOAD, UPLOAD, NEW_PROJECT, YANK, DELETE, ROLES, CONFIGURE)

# Expected status of each cell. `ok` is 200, or the 2xx the OpenAPI document gives for an
# API operation. Columns are PRINCIPALS:
#     anonymous, reader, uploader, owner, maintainer, other, admin
ok = 200
_PUBLIC_ROWS: dict[str, tuple[int, ...]] = {
    READ: (ok, ok, ok, ok, ok, ok, ok),
    DOWNLOAD: (ok, ok, ok, ok, ok, ok, ok),
    UPLOAD: (401, 403, 403, ok, ok, 403, ok),
    NEW_PROJECT: (401, ok, ok, ok, ok, ok, ok),
    YANK: (401, 403, 403, ok, ok, 403, ok),
    DELETE: (401, 403, 403, ok, 403, 403, ok),
    ROLES: (401, 403, 403, ok, 403, 403, ok),
    CONFIGURE: (401, 403, 403, 403, 403, 403, ok),
}
_PRIVATE_ROWS: dict[str, tuple[int, ...]] = {
    READ: (401, ok, ok, ok, ok, 403, ok),
    DOWNLOAD: (401, ok, ok, ok, ok, 403, ok),
    UPLOAD: (401, 403, 403, ok, ok, 403, ok),
    NEW_PROJECT: (401, 403, ok, ok, ok, 403, ok),
    YANK: (401, 403, 403, ok, ok, 403, ok),
    DELETE: (401, 403, 403, ok, 403, 403, ok),
    ROLES: (401, 403, 403, ok, 403, 403, ok),
    CONFIGURE: (401, 403, 403, 403, 403, 403, ok),
}
EXPECTED: dict[str, dict[str, tuple[int, ...]]] = {
    PUBLIC: _PUBLIC_ROWS,
    PRIVATE: _PRIVATE_ROWS,
    # Reads of a private member's project through the virtual index are the member's;
    # uploads, yanks and deletes through it act on its first hosted member, priv.
    VIRTUAL: _PRIVATE_ROWS,
}
API_OPERATION = {
    YANK: "yankRelease",
    DELETE: "deleteFiles",
    ROLES: "addProjectRole",
    CONFIGURE: "configureIndex",
}


def cell_version(index: str, action: str, principal: str) -> str:
    """A release of its own for every mutating cell."""
    return f"{2 + INDEXES.index(index)}.{ACTIONS.index(action)}.{PRINCIPALS.index(principal)}"


def cell_user(index: str, principal: str) -> str:
    """A user of its own for every role cell to make a maintainer."""
    return f"role-{index}-{principal}"


@dataclass
class World:
    srv: AccessServer
    dists: Path
    download_urls: dict[str, str]

    def wheel(self, project: str, version: str) -> Path:
        return make_wheel(self.dists, project, version)

    def upload(self, index: str, project: str, version: str, auth: Auth) -> httpx.Response:
        path = self.wheel(project, version)
        return self.srv.upload(index, path, name=project, version=version, auth=auth)

    def files(self, index: str, project: str) -> list[dict[str, Any]]:
        """The JSON page's files as the admin sees them ([] for a 404)."""
        response = self.srv.read_page(HOSTED_OF[index], project, auth_of(ADMIN))
        if response.status_code == 404:
            return []
        assert response.status_code == 200, describe(response)
        files: list[dict[str, Any]] = response.json()["files"]
        return files

    def release_files(self, index: str, project: str, version: str) -> list[dict[str, Any]]:
        prefix = f"{dist_name(project)}-{version}-"
        return [f for f in self.files(index, project) if f["filename"].startswith(prefix)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("access-matrix")
    # Refused tokens below count as failed logins from 127.0.0.1; the limit has a test
    # (and a server) of its own.
    srv = start_access_server(
        workdir / "server", settings={"PACKYARD_LOGIN_FAILURE_LIMIT": "100000"}
    )
    try:
        dists = workdir / "dists"
        dists.mkdir()
        srv.add_user(ADMIN, admin=True)
        srv.admin_auth = auth_of(ADMIN)
        for user in (READER, UPLOADER, OWNER, MAINTAINER, OTHER):
            srv.add_user(user)
        srv.cli("team", "add", TEAM)
        srv.cli("team", "add-member", TEAM, READER)
        srv.cli("index", "create", PUBLIC, "--kind", "hosted")
        srv.cli("index", "create", PRIVATE, "--kind", "hosted")
        srv.cli("index", "create", VIRTUAL, "--kind", "virtual", "--members", f"{PRIVATE},{PUBLIC}")
        srv.cli(
            "index",
            "set",
            PRIVATE,
            "--readers",
            f"@{TEAM},{UPLOADER},{OWNER},{MAINTAINER}",
            "--uploaders",
            f"{UPLOADER},{OWNER},{MAINTAINER}",
        )
        world = World(srv=srv, dists=dists, download_urls={})
        owner = auth_of(OWNER)
        for hosted in (PUBLIC, PRIVATE):
            project = PROJECT_OF[hosted]
            response = world.upload(hosted, project, FIRST_VERSION, owner)
            assert response.status_code == 200, describe(response)
            srv.cli("project", "maintainers", "add", project, MAINTAINER, "--index", hosted)
        for index, action, principal in itertools.product(INDEXES, (YANK, DELETE), PRINCIPALS):
            version = cell_version(index, action, principal)
            response = world.upload(HOSTED_OF[index], PROJECT_OF[index], version, owner)
            assert response.status_code == 200, describe(response)
        for index, principal in itertools.product(INDEXES, PRINCIPALS):
            user = cell_user(index, principal)
            created = srv.api.call(
                "createUser", auth_of(ADMIN), json={"name": user, "password": password_of(user)}
            )
            assert created.status_code == 201, describe(created)
        for index in INDEXES:
            project = PROJECT_OF[index]
            filename = f"{dist_name(project)}-{FIRST_VERSION}-py3-none-any.whl"
            world.download_urls[index] = srv.file_url(index, project, filename, auth_of(ADMIN))
        yield world
    finally:
        srv.close()


def success_status(world: World, action: str) -> int:
    """200 for pages, files and uploads; the documented 2xx for API operations."""
    if action not in API_OPERATION:
        return 200
    api = world.srv.api
    op = api.operation(API_OPERATION[action])
    responses = api.document["paths"][op.path][op.method.lower()]["responses"]
    return int(next(code for code in responses if code.startswith("2")))


def act(world: World, index: str, action: str, principal: str) -> httpx.Response:
    srv, auth = world.srv, auth_of(principal)
    project = PROJECT_OF[index]
    if action == READ:
        return srv.read_page(index, project, auth)
    if action == DOWNLOAD:
        return srv.get(world.download_urls[index], auth)
    if action == UPLOAD:
        return world.upload(index, project, cell_version(index, action, principal), auth)
    if action == NEW_PROJECT:
        return world.upload(index, new_project(index, principal), "1.0", auth)
    if action == YANK:
        version = cell_version(index, action, principal)
        return srv.api.call(
            "yankRelease",
            auth,
            json={"reason": f"matrix {principal}"},
            index=index,
            project=project,
            version=version,
        )
    if action == DELETE:
        version = cell_version(index, action, principal)
        return srv.api.call(
            "deleteFiles", auth, query={"version": version}, index=index, project=project
        )
    if action == ROLES:
        body = {"principal": cell_user(index, principal), "role": "maintainer"}
        return srv.api.call("addProjectRole", auth, json=body, index=index, project=project)
    assert action == CONFIGURE
    # A change that changes nothing: the permission check is the point.
    return srv.api.call("configureIndex", auth, json={"clear_rules": True}, name=index)


def new_project(index: str, principal: str) -> str:
    return f"new-{index}-{principal}"


def check_effect(world: World, index: str, action: str, principal: str, allowed: bool) -> None:
    """An allowed change is visible; a refused one changed nothing."""
    project = PROJECT_OF[index]
    version = cell_version(index, action, principal)
    if action == UPLOAD:
        listed = world.release_files(index, project, version)
        assert bool(listed) == allowed, f"{project} {version} listed: {listed}"
    elif action == NEW_PROJECT:
        listed = world.files(index, new_project(index, principal))
        assert bool(listed) == allowed, f"{new_project(index, principal)} listed: {listed}"
    elif action == YANK:
        files = world.release_files(index, project, version)
        assert files, f"{project} {version} is gone"
        assert all(bool(f.get("yanked")) == allowed for f in files), files
    elif action == DELETE:
        listed = world.release_files(index, project, version)
        assert (not listed) == allowed, f"{project} {version} listed: {listed}"
    elif action == ROLES:
        roles = world.srv.api.call(
            "listProjectRoles", auth_of(ADMIN), index=HOSTED_OF[index], project=project
        )
        assert roles.status_code == 200, describe(roles)
        principals = {role["principal"] for role in roles.json()}
        assert (cell_user(index, principal) in principals) == allowed, roles.json()


MATRIX = [
    pytest.param(index, action, principal, id=f"{index}-{action}-{principal}")
    for index in INDEXES
    for action in ACTIONS
    for principal in PRINCIPALS
]


@pytest.mark.parametrize(("index", "action", "principal"), MATRIX)
def test_permission_matrix(world: World, index: str, action: str, principal: str) -> None:
    expected = EXPECTED[index][action][PRINCIPALS.index(principal)]
    if expected == ok:
        expected = success_status(world, action)

    response = act(world, index, action, principal)

    assert response.status_code == expected, f"expected {expected}; " + describe(response)
    if expected == 401:
        assert_challenge(response)
    check_effect(world, index, action, principal, allowed=expected < 300)


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_creating_a_user_through_the_api_is_for_admins_only(world: World, principal: str) -> None:
    name = f"made-by-{principal}"
    expected = {ANONYMOUS: 401, ADMIN: 201}.get(principal, 403)

    response = world.srv.api.call(
        "createUser", auth_of(principal), json={"name": name, "password": password_of(name)}
    )

    assert response.status_code == expected, describe(response)
    if expected == 401:
        assert_challenge(response)
    listing = world.srv.api.call("listUsers", auth_of(ADMIN))
    users = [user["name"] for user in listing.json()]
    assert (name in users) == (expected == 201), users
    assert "argon2" not in response.text.lower(), "a password hash in a response"


def test_a_deleted_filename_can_never_be_uploaded_again(world: World) -> None:
    project, version = PROJECT_OF[PUBLIC], "7.0"
    first = world.upload(PUBLIC, project, version, auth_of(OWNER))
    assert first.status_code == 200, describe(first)
    deleted = world.srv.api.call(
        "deleteFiles", auth_of(OWNER), query={"version": version}, index=PUBLIC, project=project
    )
    assert deleted.status_code == 200, describe(deleted)

    for principal in (OWNER, ADMIN):
        again = world.upload(PUBLIC, project, version, auth_of(principal))
        assert 400 <= again.status_code < 500, describe(again)
        assert again.status_code not in (401, 403), "refused for who, not for what: " + describe(
            again
        )
    assert not world.release_files(PUBLIC, project, version)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "http://evil.example"}, id="foreign-origin"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-site"),
    ],
)
def test_cross_site_api_requests_are_refused_even_for_admins(
    world: World, headers: dict[str, str]
) -> None:
    op = world.srv.api.operation("createUser")
    name = "cross-site-" + next(iter(headers.values())).split(":")[0].replace("/", "")
    response = world.srv.http.request(
        op.method,
        op.url(world.srv.api.base),
        auth=auth_of(ADMIN),
        json={"name": name, "password": password_of(name)},
        headers=headers,
    )

    assert response.status_code == 403, describe(response)
    listing = world.srv.api.call("listUsers", auth_of(ADMIN))
    assert name not in [user["name"] for user in listing.json()]


def test_a_changed_password_is_refused_at_the_next_request(world: World) -> None:
    user = "changes-password"
    created = world.srv.api.call(
        "createUser", auth_of(ADMIN), json={"name": user, "password": password_of(user)}
    )
    assert created.status_code == 201, describe(created)
    old = (user, password_of(user))
    assert world.srv.api.call("listTokens", old).status_code == 200  # now verified and cached

    world.srv.cli("user", "passwd", user, input="a-brand-new-password\n")

    assert_challenge(world.srv.api.call("listTokens", old))
    new = world.srv.api.call("listTokens", (user, "a-brand-new-password"))
    assert new.status_code == 200, describe(new)


def test_private_index_challenges_anonymous_readers_with_a_basic_realm(world: World) -> None:
    """STANDARDS A1: pip's keyring and netrc flows start from a 401 with a Basic challenge."""
    for url in (
        world.srv.simple_url(PRIVATE),
        world.srv.page_url(PRIVATE, PROJECT_OF[PRIVATE]),
        world.download_urls[PRIVATE],
        world.srv.page_url(VIRTUAL, PROJECT_OF[PRIVATE]),
    ):
        response = world.srv.get(url, None)
        assert_challenge(response)
        assert "realm=" in response.headers["www-authenticate"].lower(), response.headers
        assert "lib_priv" not in response.text, "a refused page shows the files"


def test_a_private_project_through_the_virtual_index_never_falls_back_to_a_later_member(
    world: World,
) -> None:
    """A name priv has is answered by priv or refused, never by pub behind it."""
    project = PROJECT_OF[PRIVATE]
    shadow = world.upload(PUBLIC, project, "99.0", auth_of(UPLOADER))
    assert shadow.status_code == 200, describe(shadow)

    for principal in (ANONYMOUS, OTHER):
        response = world.srv.read_page(VIRTUAL, project, auth_of(principal))
        assert response.status_code in (401, 403), describe(response)
        assert "99.0" not in response.text, describe(response)
    allowed = world.srv.read_page(VIRTUAL, project, auth_of(READER))
    assert allowed.status_code == 200, describe(allowed)
    assert "99.0" not in allowed.text, "a later member's files through the virtual index"


@pytest.mark.parametrize(
    ("index", "principal"),
    [
        pytest.param(PRIVATE, READER, id="private"),
        pytest.param(VIRTUAL, READER, id="virtual-over-private"),
    ],
)
def test_pages_that_depend_on_the_caller_vary_on_authorization(
    world: World, index: str, principal: str
) -> None:
    for accept in (JSON_TYPE, "text/html"):
        response = world.srv.get(
            world.srv.page_url(index, PROJECT_OF[index]), auth_of(principal), accept=accept
        )
        assert response.status_code == 200, describe(response)
        vary = [v.strip().lower() for v in response.headers.get("vary", "").split(",")]
        assert "authorization" in vary, f"Vary: {response.headers.get('vary')!r}"
        assert "public" not in response.headers.get("cache-control", "").lower(), response.headers
    listing = world.srv.get(world.srv.simple_url(PRIVATE), auth_of(principal))
    assert listing.status_code == 200, describe(listing)
    assert "authorization" in listing.headers.get("vary", "").lower(), listing.headers


# Tokens ----------------------------------------------------------------------------------


def test_a_token_acts_for_its_user_and_never_grants_more(world: World) -> None:
    reader = world.srv.api_token(READER, scopes=["read"], description="matrix reader")
    other = world.srv.api_token(OTHER, description="matrix other")
    page = PROJECT_OF[PRIVATE]

    assert world.srv.read_page(PRIVATE, page, reader.auth).status_code == 200
    refused = world.srv.read_page(PRIVATE, page, other.auth)
    assert refused.status_code == 403, describe(refused)
    upload = world.upload(PUBLIC, "token-reader-read-only", "1.0", reader.auth)
    assert upload.status_code == 403, "a read-only token uploaded: " + describe(upload)
    admin_action = world.srv.api.call(
        "createUser", other.auth, json={"name": "by-token", "password": password_of("x")}
    )
    assert admin_action.status_code == 403, describe(admin_action)


def test_an_expired_token_is_refused(world: World) -> None:
    token = world.srv.create_token(READER, indexes=[PRIVATE], scopes=["read"], expires="1s")
    line = next(f for f in world.srv.token_lines(READER) if f[0] == token.id)
    assert "expires=never" not in line, line

    url = world.srv.page_url(PRIVATE, PROJECT_OF[PRIVATE])
    response = poll_until(
        lambda: world.srv.get(url, token.auth),
        lambda r: r.status_code != 200,
        timeout=10,
        what="a token created with --expires 1s is refused",
    )

    assert_challenge(response)
    assert world.srv.get(url, auth_of(READER)).status_code == 200, "the user's password too"


@pytest.mark.parametrize("by", ["id", "token"])
def test_a_revoked_token_is_refused_at_the_next_request(world: World, by: str) -> None:
    # The CLI's token (its id found with `token list`), or the API's (its id in the answer).
    make = world.srv.create_token if by == "token" else world.srv.api_token
    token = make(READER, scopes=["read"], description=f"revoke by {by}")
    url = world.srv.page_url(PRIVATE, PROJECT_OF[PRIVATE])
    assert world.srv.get(url, token.auth).status_code == 200

    world.srv.cli("token", "revoke", token.id if by == "id" else token.secret)

    assert_challenge(world.srv.get(url, token.auth))
    assert world.srv.get(url, auth_of(READER)).status_code == 200, "the user's password too"


@pytest.mark.parametrize("how", ["disable", "delete"])
def test_a_disabled_or_deleted_users_password_and_tokens_are_refused_at_once(
    world: World, how: str
) -> None:
    user = f"leaver-{how}"
    created = world.srv.api.call(
        "createUser", auth_of(ADMIN), json={"name": user, "password": password_of(user)}
    )
    assert created.status_code == 201, describe(created)
    token = world.srv.api_token(user)
    password = (user, password_of(user))
    before = [
        world.upload(PUBLIC, f"{user}-by-token", "1.0", token.auth),
        world.upload(PUBLIC, f"{user}-by-password", "1.0", password),
    ]
    assert [r.status_code for r in before] == [200, 200], [describe(r) for r in before]

    world.srv.cli("user", how, user)

    # Next versions of the projects the user owns: refused for a disabled or gone user.
    for auth, project in ((token.auth, f"{user}-by-token"), (password, f"{user}-by-password")):
        response = world.upload(PUBLIC, project, "2.0", auth)
        assert_challenge(response)  # no longer valid credentials, like a wrong password
        assert not world.release_files(PUBLIC, project, "2.0")


def test_a_project_scoped_token_cannot_upload_another_project(world: World) -> None:
    project = PROJECT_OF[PUBLIC]
    token = world.srv.create_token(
        OWNER, indexes=[PUBLIC], projects=[project], scopes=["upload"], description="one project"
    )

    allowed = world.upload(PUBLIC, project, "5.0", token.auth)
    other_new = world.upload(PUBLIC, "scoped-token-elsewhere", "1.0", token.auth)
    other_owned = world.upload(PRIVATE, PROJECT_OF[PRIVATE], "5.0", token.auth)
    control = world.upload(PUBLIC, "scoped-token-control", "1.0", auth_of(OWNER))

    assert allowed.status_code == 200, describe(allowed)
    assert other_new.status_code == 403, describe(other_new)
    assert other_owned.status_code == 403, describe(other_owned)
    assert control.status_code == 200, "the owner's password may: " + describe(control)
    assert not world.files(PUBLIC, "scoped-token-elsewhere")
    assert not world.release_files(PRIVATE, PROJECT_OF[PRIVATE], "5.0")


def test_a_token_for_one_index_cannot_read_a_private_index_through_a_virtual_index(
    world: World,
) -> None:
    """reader may read priv, but this token is for pub and virt only."""
    token = world.srv.api_token(READER, indexes=[PUBLIC, VIRTUAL], scopes=["read"])
    private_project = PROJECT_OF[PRIVATE]

    through_virtual = world.srv.read_page(VIRTUAL, private_project, token.auth)
    file_through_virtual = world.srv.get(world.download_urls[VIRTUAL], token.auth)
    direct = world.srv.read_page(PRIVATE, private_project, token.auth)
    public_through_virtual = world.srv.read_page(VIRTUAL, PROJECT_OF[PUBLIC], token.auth)
    with_password = world.srv.read_page(VIRTUAL, private_project, auth_of(READER))

    assert through_virtual.status_code == 403, describe(through_virtual)
    assert "lib_priv" not in through_virtual.text
    assert file_through_virtual.status_code == 403, describe(file_through_virtual)
    assert direct.status_code == 403, describe(direct)
    assert public_through_virtual.status_code == 200, describe(public_through_virtual)
    assert with_password.status_code == 200, describe(with_password)


def test_token_secrets_and_password_hashes_never_appear_in_api_answers(world: World) -> None:
    token = world.srv.api_token(ADMIN, description="listing check")
    answers = [
        world.srv.api.call("listTokens", auth_of(ADMIN)),
        world.srv.api.call("listUsers", auth_of(ADMIN)),
        world.srv.api.call("queryAudit", auth_of(ADMIN)),
    ]
    for response in answers:
        assert response.status_code == 200, describe(response)
        assert token.secret not in response.text
        assert "$argon2" not in response.text
    listing = world.srv.cli("token", "list").stdout
    assert token.secret not in listing and token.id in listing
    assert token.secret.removeprefix("pky_") not in listing


# Abuse resistance ------------------------------------------------------------------------


def test_failed_logins_are_rate_limited_even_for_the_right_password(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    limited: ServerProcess = server_factory(settings={"PACKYARD_LOGIN_FAILURE_LIMIT": "3"})
    url = f"{limited.url}/api/v1/tokens"
    wrong = (limited.user, "not the password")
    right = (limited.user, UPLOADER_PASSWORD)
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        failures = [http.get(url, auth=wrong) for _ in range(3)]
        fourth = http.get(url, auth=right)

    for response in failures:
        assert_challenge(response)
    assert fourth.status_code == 429, describe(fourth)
    retry_after = fourth.headers.get("retry-after", "")
    assert retry_after.isdigit() and int(retry_after) > 0, f"Retry-After {retry_after!r}"
