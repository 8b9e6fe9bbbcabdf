"""Virtual indexes: one URL over hosted and mirror members, first member wins, explicit
merges, explain, and the dependency-confusion guard on upload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.clients import Clients, assert_rejected, expect_failure, expect_ok, sha256_of, upload
from e2e.conftest import Unique
from e2e.simple import IndexClient, normalize
from e2e.upstream import (
    HOSTED,
    MIRROR,
    VIRTUAL,
    Pair,
    cli_ok,
    dists_for,
    explain,
    file_href,
    files_by_name,
    listed,
    publish_hosted,
    publish_upstream,
    running_pair,
    via_index,
)
from helpers.dists import module_name

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with running_pair(tmp_path_factory.mktemp("virtual-pair")) as running:
        yield running


@pytest.fixture(scope="module")
def down(pair: Pair) -> Iterator[IndexClient]:
    with IndexClient(pair.downstream) as client:
        yield client


def names_in(client: IndexClient, index: str) -> set[str]:
    return {normalize(a.text) for a in client.root_html(index).anchors}


def shadowed_project(pair: Pair, tmp_path: Path, name: str, down: IndexClient) -> dict[str, Path]:
    """`name` upstream at 9.0 (known to the mirror) and, claimed, internal at 0.5."""
    upstream_files = dists_for(tmp_path / "upstream", name, "9.0")
    publish_upstream(pair, *upstream_files)
    # The mirror knows the upstream project (as it would after any request for it).
    assert listed(down, name, MIRROR) == sorted(p.name for p in upstream_files)
    cli_ok(pair, "project", "claim", name, "--reason", "internal since 2019")
    internal_files = dists_for(tmp_path / "internal", name, "0.5")
    publish_hosted(pair, *internal_files)
    return {
        "upstream_wheel": upstream_files[0],
        "internal_wheel": internal_files[0],
        "internal_sdist": internal_files[1],
    }


# The standard indexes and listing --------------------------------------------------------------


def test_a_store_created_with_an_upstream_has_hosted_upstream_and_root_as_default(
    pair: Pair,
) -> None:
    lines = cli_ok(pair, "index", "list").splitlines()
    kinds = {line.lstrip("* ").split("\t")[0]: line.split("\t")[1] for line in lines if line}
    assert kinds == {HOSTED: "hosted", MIRROR: "mirror", VIRTUAL: "virtual"}
    assert next(line for line in lines if line.startswith("*")).startswith(f"* {VIRTUAL}\t")
    assert "members\thosted, upstream" in cli_ok(pair, "index", "show", VIRTUAL).splitlines()


def test_virtual_simple_index_lists_the_union_of_its_members(
    pair: Pair, tmp_path: Path, unique: Unique, down: IndexClient
) -> None:
    internal, public = unique("internal"), unique("public")
    publish_hosted(pair, *dists_for(tmp_path / "i", internal, "1.0", sdist=False))
    publish_upstream(pair, *dists_for(tmp_path / "p", public, "1.0", sdist=False))
    assert listed(down, public, VIRTUAL)  # now cached by the mirror

    names = names_in(down, VIRTUAL)
    assert {normalize(internal), normalize(public)} <= names
    assert normalize(public) not in names_in(down, HOSTED)
    assert normalize(internal) not in names_in(down, MIRROR)
    # /simple/ is the default index, root.
    assert {normalize(internal), normalize(public)} <= names_in(down, "")


def test_upload_to_the_default_legacy_url_lands_in_the_first_hosted_member(
    pair: Pair, clients: Clients, tmp_path: Path, project: str, down: IndexClient
) -> None:
    files = dists_for(tmp_path, project, "1.0")

    server = pair.downstream
    expect_ok(
        clients.twine_upload(server.upload_url, *files, user=server.user, password=server.password)
    )

    expected = sorted(p.name for p in files)
    assert listed(down, project, HOSTED) == expected
    assert listed(down, project, VIRTUAL) == expected
    assert listed(down, project, MIRROR) == []
    result, venv = clients.uv_install(pair.downstream.simple_url, project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == "1.0"


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_installs_through_a_created_virtual_index_over_hosted_and_mirror(
    pair: Pair, clients: Clients, tmp_path: Path, unique: Unique, installer: str
) -> None:
    index = unique("team")
    cli_ok(pair, "index", "create", index, "--kind", "virtual", "--members", "hosted,upstream")
    app, lib = unique("app"), unique("lib")
    publish_upstream(pair, *dists_for(tmp_path / "lib", lib, "1.0"))
    publish_hosted(pair, *dists_for(tmp_path / "app", app, "1.0", dependencies=[lib]))

    if installer == "pip":
        result, target = clients.pip_install(pair.index_url(index), app)
        expect_ok(result)
        versions = {
            n: clients.installed_in_target(target, module_name(n)).version for n in (app, lib)
        }
    else:
        result, venv = clients.uv_install(pair.index_url(index), app)
        expect_ok(result)
        versions = {n: clients.installed_in_venv(venv, module_name(n)).version for n in (app, lib)}

    assert versions == {app: "1.0", lib: "1.0"}


# Shadowing ------------------------------------------------------------------------------------


def test_an_internal_project_shadows_the_upstream_project_of_the_same_name(
    pair: Pair, clients: Clients, tmp_path: Path, project: str, down: IndexClient
) -> None:
    files = shadowed_project(pair, tmp_path, project, down)

    root_files = files_by_name(down.project_json(project, VIRTUAL))
    assert sorted(root_files) == sorted(
        [files["internal_wheel"].name, files["internal_sdist"].name]
    )
    assert root_files[files["internal_wheel"].name]["hashes"]["sha256"] == sha256_of(
        files["internal_wheel"].read_bytes()
    )
    # The upstream's file is not downloadable through root either.
    upstream_link = file_href(down, project, files["upstream_wheel"].name, MIRROR)
    response = down.http.get(via_index(upstream_link, pair.downstream, VIRTUAL))
    assert response.status_code in (403, 404), response.text

    result, target = clients.pip_install(pair.index_url(VIRTUAL), project)
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "0.5"
    result, venv = clients.uv_install(pair.index_url(VIRTUAL), project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == "0.5"
    result, _ = clients.uv_install(pair.index_url(VIRTUAL), f"{project}==9.0")
    expect_failure(result)


def test_explain_says_which_member_answered_and_which_was_shadowed(
    pair: Pair, tmp_path: Path, project: str, down: IndexClient
) -> None:
    files = shadowed_project(pair, tmp_path, project, down)

    explained = explain(down, project, VIRTUAL)

    assert explained["answered_by"] == [HOSTED]
    assert explained["shadowed"] == [MIRROR]
    assert sorted(explained["listed"]) == sorted(
        [files["internal_wheel"].name, files["internal_sdist"].name]
    )
    assert explained["removed"] == []
    assert explained["stale"] is False

    result = expect_ok(pair.cli("explain", project, "--index", VIRTUAL, "--json"))
    from_cli = json.loads(result.stdout)
    assert (from_cli["answered_by"], from_cli["shadowed"]) == ([HOSTED], [MIRROR])


def test_merge_makes_both_members_files_visible_for_that_project(
    pair: Pair, clients: Clients, tmp_path: Path, project: str, down: IndexClient
) -> None:
    files = shadowed_project(pair, tmp_path, project, down)
    assert files["upstream_wheel"].name not in listed(down, project, VIRTUAL)

    settings = cli_ok(pair, "index", "set", VIRTUAL, "--merge", project).splitlines()

    visible = listed(down, project, VIRTUAL)
    assert files["upstream_wheel"].name in visible
    assert files["internal_wheel"].name in visible
    assert explain(down, project, VIRTUAL)["answered_by"] == [HOSTED, MIRROR]
    assert any(line.startswith("merge\t") and normalize(project) in line for line in settings)
    result, venv = clients.uv_install(pair.index_url(VIRTUAL), project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == "9.0"


# Dependency confusion ------------------------------------------------------------------------


def test_uploading_a_new_name_that_exists_upstream_is_refused_until_claimed(
    pair: Pair, clients: Clients, tmp_path: Path, project: str, down: IndexClient
) -> None:
    publish_upstream(pair, *dists_for(tmp_path / "public", project, "3.0"))
    internal = dists_for(tmp_path / "internal", project, "1.0")
    server = pair.downstream

    result = expect_failure(
        clients.twine_upload(
            server.upload_url, *internal, user=server.user, password=server.password
        )
    )
    shown = result.stdout + result.stderr
    assert "409" in shown, shown
    assert "packyard project claim" in shown, shown
    for index in (None, HOSTED, VIRTUAL):
        response = upload(server, internal[0], index=index)
        assert_rejected(response, 409, says=["packyard project claim", normalize(project)])
    assert listed(down, project, HOSTED) == []

    claimed = cli_ok(pair, "project", "claim", project, "--reason", "our name")

    assert HOSTED in claimed
    expect_ok(
        clients.twine_upload(
            server.upload_url, *internal, user=server.user, password=server.password
        )
    )
    assert listed(down, project, HOSTED) == sorted(p.name for p in internal)
    assert listed(down, project, VIRTUAL) == sorted(p.name for p in internal)
    show = cli_ok(pair, "index", "show", HOSTED).splitlines()
    assert any(
        line.startswith("claimed\t") and normalize(project) in line and "our name" in line
        for line in show
    ), show


def test_a_new_name_unknown_upstream_needs_no_claim(
    pair: Pair, tmp_path: Path, project: str, down: IndexClient
) -> None:
    wheel = dists_for(tmp_path, project, "1.0", sdist=False)[0]

    response = upload(pair.downstream, wheel)

    assert response.status_code == 200, response.text
    assert listed(down, project, VIRTUAL) == [wheel.name]


# Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "says"),
    [("hosted,no-such-index", "no-such-index")],
    ids=["missing-member"],
)
def test_virtual_index_with_a_missing_member_is_refused(
    pair: Pair, unique: Unique, members: str, says: str
) -> None:
    name = unique("broken")

    result = expect_failure(
        pair.cli("index", "create", name, "--kind", "virtual", "--members", members)
    )

    assert says in (result.stdout + result.stderr).lower(), result.stdout + result.stderr
    assert name not in cli_ok(pair, "index", "list")


def test_claim_of_an_invalid_project_name_is_refused(pair: Pair) -> None:
    result = expect_failure(pair.cli("project", "claim", "not a name!"))

    assert "not a name!" in result.stdout + result.stderr
