"""Fixtures for the QBO client tests: an emulator over real HTTP and clients pointed at it.

Real: every client call goes over a loopback socket to an EmulatorServer with QBO's limits on
(500/min, 10/s, 10 in flight per realm). Faked: tokens come from the emulator's back door
instead of the OAuth dance (test_auth.py covers that). Each module gets its own server, so a
module may change the emulator's fault settings freely (and restores them for its later tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from qb_pipeline.emulator import EmulatorServer
from qb_pipeline.emulator.books import Books
from qb_pipeline.emulator.config import FaultsConfig
from qb_pipeline.qbo.client import QBOClient
from qb_pipeline.qbo.ratelimit import RateLimiter
from qb_pipeline.qbo.retry import RetryPolicy
from qb_pipeline.qbo.tokens import StaticTokenProvider

# Retries in tests wait milliseconds, not seconds (one test uses real sleeping, still short).
FAST_RETRY = RetryPolicy(max_attempts=6, initial_delay=0.01, max_delay=0.05, throttle_wait=0.05)


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[EmulatorServer]:
    """One emulator on a free loopback port for the module; stopped by its handle."""
    server = EmulatorServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(emulator_server: EmulatorServer) -> EmulatorServer:
    """The module's emulator, under the name the OAuth and token tests use."""
    return emulator_server


@pytest.fixture
def clean_faults(emulator_server: EmulatorServer) -> Iterator[FaultsConfig]:
    """The emulator's fault settings, put back to none after the test."""
    faults = emulator_server.emulator.config.faults
    yield faults
    for name, value in vars(FaultsConfig()).items():
        setattr(faults, name, value)


@pytest.fixture
def books(emulator_server: EmulatorServer) -> Iterator[Books]:
    """A fresh empty company (starter chart, Item 1 "Services") for one test."""
    company = emulator_server.emulator.create_realm()
    yield company
    emulator_server.emulator.delete_realm(company.realm_id)


@pytest.fixture
def connect(emulator_server: EmulatorServer) -> Callable[..., QBOClient]:
    """``connect(books, **options)``: a QBOClient with a live token and its own limiter."""

    def make(books: Books, **options: Any) -> QBOClient:
        token = emulator_server.emulator.oauth.issue_tokens(books.realm_id)["access_token"]
        options.setdefault("tokens", StaticTokenProvider({books.realm_id: token}))
        options.setdefault("limiter", RateLimiter())
        options.setdefault("retry", FAST_RETRY)
        return QBOClient(books.realm_id, base_url=emulator_server.url, **options)

    return make
