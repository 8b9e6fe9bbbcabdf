"""`packyard new`: name checks, the index question, the files it writes, and that it never
writes over anything."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from packyard.adapters.docs_archive import read_docs_zip
from packyard.cli import main
from packyard.cli_new import (
    NewProject,
    check_free,
    check_name,
    publish_url_for,
    render,
    split_credentials,
    write_project,
)
from packyard.domain.errors import InvalidInput

pytestmark = pytest.mark.unit

INDEX = "http://packyard.internal:8080/simple/"
PUBLISH = "http://packyard.internal:8080/legacy/"
PUBLIC_HOSTS = ("pypi.org", "pythonhosted.org", "pypi.python.org", "test.pypi")
CLOSED = "http://127.0.0.1:9/simple/"  # nothing listens: a request would fail loudly


def project(**fields: str | None) -> NewProject:
    values: dict[str, str | None] = {"name": "Demo_Lib", "index_url": INDEX, "publish_url": PUBLISH}
    values.update(fields)
    return NewProject(**values)  # type: ignore[arg-type]


# Names and URLs --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo-lib", "Demo_Lib", "a", "x.y-z"])
def test_valid_names_are_accepted_and_normalised(name: str) -> None:
    assert check_name(name) == name.lower().replace("_", "-").replace(".", "-")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("-demo", "not a valid project name"),
        ("demo lib", "not a valid project name"),
        ("démo", "not a valid project name"),
        ("1lib", "not a module name"),
        ("class", "not a module name"),
    ],
)
def test_invalid_names_are_refused_with_the_reason(name: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        check_name(name)


@pytest.mark.parametrize(
    ("index_url", "publish_url"),
    [
        ("http://h/simple/", "http://h/legacy/"),
        ("http://h/simple", "http://h/legacy/"),
        ("https://h/pypi/team-a/simple/", "https://h/pypi/team-a/legacy/"),
    ],
)
def test_uploads_go_to_legacy_beside_simple(index_url: str, publish_url: str) -> None:
    assert publish_url_for(index_url) == publish_url


def test_an_index_url_that_is_not_a_simple_url_is_refused() -> None:
    with pytest.raises(InvalidInput, match="/simple/"):
        publish_url_for("http://h/packages/")


def test_credentials_in_the_url_are_used_but_never_kept_in_it() -> None:
    clean, auth = split_credentials("https://al%40ice:s3cret@h:8443/simple/")

    assert clean == "https://h:8443/simple/"
    assert auth is not None
    request = httpx.Request("GET", clean)
    assert next(auth.auth_flow(request)).headers["authorization"].startswith("Basic ")


def test_credentials_come_from_netrc_when_the_url_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine h login alice password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    _, auth = split_credentials("http://h/simple/")

    assert auth is not None


# Is the name taken? -----------------------------------------------------------------------


def answering(status: int, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status)

    return httpx.MockTransport(handle)


def test_a_name_the_index_does_not_know_is_free() -> None:
    seen: list[httpx.Request] = []

    check_free(INDEX, "Demo_Lib", None, transport=answering(404, seen))

    assert str(seen[0].url) == f"{INDEX}demo-lib/"


@pytest.mark.parametrize(("status", "says"), [(200, "is taken"), (301, "is taken")])
def test_a_name_the_index_answers_for_is_taken(status: int, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        check_free(INDEX, "demo-lib", None, transport=answering(status))


@pytest.mark.parametrize(("status", "says"), [(401, "credentials"), (403, "credentials")])
def test_an_index_that_will_not_say_refuses_the_name(status: int, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        check_free(INDEX, "demo-lib", None, transport=answering(status))


def test_an_unreachable_index_refuses_the_name() -> None:
    with pytest.raises(InvalidInput, match="Cannot ask"):
        check_free(CLOSED, "demo-lib", None)


# The files --------------------------------------------------------------------------------


def test_pyproject_is_pep_621_private_and_publishes_to_the_index_only() -> None:
    files = render(project(author='Ada "L"', email="ada@example.com"))

    data = tomllib.loads(files["pyproject.toml"])
    meta = data["project"]
    assert (meta["name"], meta["version"], meta["readme"]) == ("Demo_Lib", "0.1.0", "README.md")
    assert meta["license"] == "LicenseRef-Proprietary"
    assert "Private :: Do Not Upload" in meta["classifiers"]
    assert (
        meta["authors"] == meta["maintainers"] == [{"name": 'Ada "L"', "email": "ada@example.com"}]
    )
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert data["tool"]["uv"]["index"] == [
        {"name": "packyard", "url": INDEX, "publish-url": PUBLISH, "default": True}
    ]
    assert data["tool"]["uv"]["publish-url"] == PUBLISH


def test_authors_are_left_out_when_nobody_is_known() -> None:
    meta = tomllib.loads(render(project())["pyproject.toml"])["project"]

    assert "authors" not in meta


def test_the_project_has_a_typed_src_package_tests_docs_and_ci() -> None:
    files = render(project())

    assert {
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        ".gitignore",
        "src/demo_lib/__init__.py",
        "src/demo_lib/py.typed",
        "tests/test_demo_lib.py",
        "docs/index.md",
        "docs/build.py",
        ".github/workflows/publish.yml",
    } <= set(files)


def test_the_readme_has_pip_uv_and_twine_lines_for_this_index() -> None:
    readme = render(project())["README.md"]

    assert f"pip install --index-url {INDEX} Demo_Lib" in readme
    assert f"index-url = {INDEX}" in readme
    assert f"twine upload --repository-url {PUBLISH} dist/*" in readme
    assert f"repository = {PUBLISH}" in readme


def test_the_workflow_tests_builds_and_publishes_on_a_tag_with_a_secret() -> None:
    workflow = render(project())[".github/workflows/publish.yml"]

    assert 'tags: ["v*"]' in workflow
    assert "uv run --with pytest pytest" in workflow
    assert "uv build" in workflow and "uv publish" in workflow
    assert "${{ secrets.PACKYARD_TOKEN }}" in workflow
    assert PUBLISH in workflow


def test_no_file_names_a_public_index() -> None:
    for path, text in render(project()).items():
        for host in PUBLIC_HOSTS:
            assert host not in text, f"{path} names {host}"


def test_the_generated_test_passes_and_the_docs_build_into_an_uploadable_zip(
    tmp_path: Path,
) -> None:
    target = tmp_path / "demo-lib"
    write_project(target, render(project()))

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=target,
        env={"PYTHONPATH": str(target / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    docs = subprocess.run(
        [sys.executable, "docs/build.py"], cwd=target, capture_output=True, text=True, check=False
    )

    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout
    assert docs.returncode == 0, docs.stderr
    staged = read_docs_zip(target / "docs/_build/site.zip", tmp_path / "staging")
    assert {m.path for m in staged} == {"index.html", "style.css"}
    assert "<h1>Demo_Lib</h1>" in (target / "docs/_build/html/index.html").read_text()


# The command ------------------------------------------------------------------------------


def test_an_invalid_name_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["new", "bad-", "--index-url", CLOSED])

    assert result.exit_code == 1
    assert "not a valid project name" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "demo-lib"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")

    result = CliRunner().invoke(
        main, ["new", "demo-lib", "--dir", str(existing), "--index-url", CLOSED]
    )

    assert result.exit_code == 1
    assert "exists already" in result.output
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


def test_without_an_index_url_new_says_how_to_give_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", "demo-lib"], env={"PACKYARD_INDEX_URL": ""})

    assert result.exit_code == 2
    assert "PACKYARD_INDEX_URL" in result.output


def test_write_project_refuses_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="exists already"):
        write_project(tmp_path, {"a.txt": "x"})

    assert not (tmp_path / "a.txt").exists()
