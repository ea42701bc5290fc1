"""PostgreSQL for tests: a throw-away schema per store on the server at 127.0.0.1:5432.

Importable by any test package (``from qb_pipeline_tests.test_store.postgres import ...``).
``require_postgres()`` skips with the reason when the server is unreachable, except under
``CI=true``, where a missing server fails the test. ``temporary_schema_url()`` creates a schema
with a unique name, yields a URL whose connections use it (``search_path``, so it also works in
child processes that only get the URL), and drops it afterwards.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
ENV_TEST_POSTGRES_URL = "QB_TEST_POSTGRES_URL"  # override the server the tests use


def postgres_base_url() -> str:
    """$QB_TEST_POSTGRES_URL, else $QB_STATE_URL when it is PostgreSQL, else the local server."""
    state_url = os.environ.get("QB_STATE_URL", "")
    if os.environ.get(ENV_TEST_POSTGRES_URL):
        return os.environ[ENV_TEST_POSTGRES_URL]
    return state_url if state_url.startswith("postgresql") else DEFAULT_POSTGRES_URL


@functools.cache
def _unreachable_reason(url: str) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        where = make_url(url).render_as_string(hide_password=True)
        return f"PostgreSQL unreachable at {where} ({type(exc.orig).__name__})"
    finally:
        engine.dispose()
    return None


def require_postgres() -> str:
    """The server's URL; skip when it is unreachable, but fail under CI=true."""
    url = postgres_base_url()
    reason = _unreachable_reason(url)
    if reason is None:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true, so a missing PostgreSQL is a failure", pytrace=False)
    pytest.skip(f"{reason}; start it or set {ENV_TEST_POSTGRES_URL}")


@contextmanager
def temporary_schema_url(base_url: str | None = None) -> Iterator[str]:
    """A URL into a fresh, uniquely named schema, dropped (with its tables) on exit."""
    base_url = base_url or require_postgres()
    schema = f"qb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
