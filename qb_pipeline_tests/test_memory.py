"""qb_pipeline.memory: glibc's arena cap is set on import and can be turned off."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qb_pipeline import memory

pytestmark = pytest.mark.skipif(memory._glibc() is None, reason="glibc only (no-ops elsewhere)")

_PROBE = "import qb_pipeline.memory as m; print(m.limit_malloc_arenas())"


def _probe(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


def test_arena_cap_defaults_to_two_and_respects_the_operator() -> None:
    base = {"PATH": "/usr/bin:/bin"}
    assert _probe(base) == "2"
    assert _probe({**base, "QB_MALLOC_ARENAS": "4"}) == "4"
    assert _probe({**base, "QB_MALLOC_ARENAS": "0"}) == "None"
    assert _probe({**base, "QB_MALLOC_ARENAS": "many"}) == "None"
    assert _probe({**base, "MALLOC_ARENA_MAX": "8"}) == "None"  # glibc already has its answer
