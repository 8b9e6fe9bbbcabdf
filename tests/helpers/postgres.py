"""A throw-away PostgreSQL database for tests (integration and e2e).

PACKYARD_TEST_DATABASE_URL names a server and a database to connect to for CREATE
DATABASE (default postgresql://127.0.0.1:5432/test); each test session gets a fresh
database with a random name, dropped at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://127.0.0.1:5432/test"
URL_VARIABLE = "PACKYARD_TEST_DATABASE_URL"


class PostgresUnavailableError(RuntimeError):
    """The test PostgreSQL server could not be reached."""


def server_url() -> str:
    return os.environ.get(URL_VARIABLE) or DEFAULT_URL


@contextmanager
def postgres_test_database(url: str | None = None) -> Iterator[str]:
    """Create a fresh database, yield its URL (postgresql://...), drop it afterwards.

    Raise PostgresUnavailableError when the server cannot be reached; see
    skip_or_fail_unavailable() for what a test should do then.
    """
    admin_url = make_url(url or server_url()).set(drivername="postgresql")
    try:
        admin = psycopg.connect(
            admin_url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
        )
    except psycopg.OperationalError as error:
        raise PostgresUnavailableError(
            f"PostgreSQL at {admin_url.render_as_string()} was unreachable: {error}".rstrip()
        ) from error
    name = f"packyard_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def skip_or_fail_unavailable(error: PostgresUnavailableError) -> None:
    """On CI a missing PostgreSQL is a broken setup; on a laptop it is a skip."""
    message = (
        f"{error}\nStart PostgreSQL or point {URL_VARIABLE} at one, e.g. "
        f"{URL_VARIABLE}=postgresql://user:password@host:5432/postgres"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
