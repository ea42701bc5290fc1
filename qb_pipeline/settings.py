"""Every path, URL, limit and environment variable name qb-pipeline reads, in one place.

Constants only, plus small functions that read the environment when called (never at import),
so tests can set the environment first.
"""

from __future__ import annotations

import os
from pathlib import Path

# -- environment variable names ------------------------------------------------------------------
ENV_HOME = "QB_HOME"  # local state: store (SQLite), key file, landing files, warehouse
ENV_STATE_URL = "QB_STATE_URL"  # SQLAlchemy URL of the operational store (PostgreSQL in prod)
ENV_VAULT_KEY = "QB_VAULT_KEY"  # master key(s): "kid:base64key[,kid:base64key...]", first = current
ENV_VAULT_KEY_FILE = "QB_VAULT_KEY_FILE"  # else a key file (created 0600 under QB_HOME)
ENV_QBO_BASE_URL = "QB_QBO_BASE_URL"  # Accounting API base, e.g. https://quickbooks.api.intuit.com
ENV_DISCOVERY_URL = "QB_DISCOVERY_URL"  # OpenID discovery document of the OAuth server
ENV_CLIENT_ID = "QB_CLIENT_ID"
ENV_CLIENT_SECRET = "QB_CLIENT_SECRET"
ENV_REDIRECT_URI = "QB_REDIRECT_URI"
ENV_USE_PKCE = "QB_USE_PKCE"  # "1": send a PKCE S256 challenge (on against the emulator)
# glibc malloc arenas for the process (qb_pipeline.memory); "0" leaves glibc's default (8/core)
ENV_MALLOC_ARENAS = "QB_MALLOC_ARENAS"
DEFAULT_MALLOC_ARENAS = 2
# "0": incremental syncs ask GET /cdc (30 entities a call, one shared cap) instead of one CDC
# query per entity inside a /batch call (for a QBO that refuses CDC queries in a batch)
ENV_BATCH_CDC = "QB_BATCH_CDC"
# "0": a first sync (or re-baseline) leaves every listing to the load instead of merging each
# long one as it completes during the extract
ENV_MERGE_EARLY = "QB_MERGE_EARLY"

# -- QuickBooks Online -------------------------------------------------------------------------
QBO_PRODUCTION_BASE_URL = "https://quickbooks.api.intuit.com"
QBO_SANDBOX_BASE_URL = "https://sandbox-quickbooks.api.intuit.com"
INTUIT_DISCOVERY_URL = "https://developer.api.intuit.com/.well-known/openid_configuration"
INTUIT_SANDBOX_DISCOVERY_URL = (
    "https://developer.intuit.com/.well-known/openid_sandbox_configuration"
)
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
MINOR_VERSION = 75  # the minimum QBO serves since 2025-08; sent on every call
REQUEST_TIMEOUT_SECONDS = 120.0  # QBO times requests out after 120 s
PAGE_SIZE = 1000  # MAXRESULTS ceiling
BATCH_MAX_ITEMS = 30

# Per-realm limits (API_FACTS section 5), enforced client-side.
REQUESTS_PER_MINUTE = 500
REQUESTS_PER_SECOND = 10
MAX_IN_FLIGHT = 10
BATCH_CALLS_PER_MINUTE = 40

# Sync: lists CDC does not serve (TaxCode, TaxRate, TaxAgency, ExchangeRate) are re-listed when
# their last listing is older than this (every run when 0).
LIST_REFRESH_HOURS = 24

# Tokens (API_FACTS section 6).
ACCESS_TOKEN_REFRESH_MARGIN_SECONDS = 300  # refresh 5 minutes before expiry
REFRESH_TOKEN_WARN_DAYS = 14  # report connections whose refresh token expires sooner

# -- emulator ------------------------------------------------------------------------------------
DEFAULT_EMULATOR_HOST = "127.0.0.1"
DEFAULT_EMULATOR_PORT = 8765
EMULATOR_SIZES = ("tiny", "demo", "bench")


def qb_home() -> Path:
    """Where local state lives: $QB_HOME, else ./.qb_home (created on first use by callers)."""
    return Path(os.environ.get(ENV_HOME, ".qb_home")).resolve()


def state_url() -> str:
    """The operational store's SQLAlchemy URL: $QB_STATE_URL, else SQLite under QB_HOME."""
    return os.environ.get(ENV_STATE_URL) or f"sqlite:///{qb_home() / 'state.sqlite'}"


def batch_cdc() -> bool:
    """Whether incremental syncs put one CDC query per entity in a ``/batch`` call."""
    return _switched_on(ENV_BATCH_CDC)


def merge_early() -> bool:
    """Whether a sync that lists everything merges long listings while it still extracts."""
    return _switched_on(ENV_MERGE_EARLY)


def _switched_on(name: str) -> bool:
    """A feature switch: on unless the variable is "0"."""
    return os.environ.get(name, "1").strip() != "0"


def env(name: str, default: str | None = None) -> str | None:
    """One environment variable, read now."""
    return os.environ.get(name, default)
