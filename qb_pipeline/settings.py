"""Every path, URL, limit and environment variable name qb-pipeline reads, in one place.

Values are read when a function is called, never at import, so tests can set the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "QB_HOME"
ENV_STATE_URL = "QB_STATE_URL"
ENV_QBO_BASE_URL = "QB_QBO_BASE_URL"
ENV_DISCOVERY_URL = "QB_DISCOVERY_URL"

MINOR_VERSION = 75
DEFAULT_EMULATOR_HOST = "127.0.0.1"
DEFAULT_EMULATOR_PORT = 8765
EMULATOR_SIZES = ("tiny", "demo", "bench")


def qb_home() -> Path:
    """Where local state lives (tokens store, landing files, warehouse): $QB_HOME or ./.qb_home."""
    return Path(os.environ.get(ENV_HOME, ".qb_home")).resolve()
