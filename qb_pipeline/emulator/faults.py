"""Fault injection: what a flaky QBO does to a client, on demand and reproducibly.

Faked on purpose (configurable, seeded): server errors (500 with a SystemFault body, 503 with
the HTML page a gateway sends), latency (fixed + uniform jitter), dropped connections (before
or after the write is done: the case idempotency must survive), and 429 storms (runs of
throttled answers), optionally with the XML throttle body QBO used to send.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from qb_pipeline.emulator.config import FaultsConfig

NONE, ERROR_500, ERROR_503, DROP, DROP_AFTER, THROTTLE = (
    "none",
    "500",
    "503",
    "drop",
    "drop_after_commit",
    "throttle",
)


@dataclass(frozen=True)
class FaultDecision:
    action: str
    latency_seconds: float


class FaultInjector:
    def __init__(self, config: FaultsConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._count = 0
        self._storm_left = 0
        self.injected: dict[str, int] = {}

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(self.config.seed)
            self._count, self._storm_left = 0, 0

    def decide(self) -> FaultDecision:
        cfg = self.config
        with self._lock:
            self._count += 1
            latency = (cfg.latency_ms + self._rng.uniform(0, cfg.jitter_ms)) / 1000.0
            action = self._action(cfg)
            if action != NONE:
                self.injected[action] = self.injected.get(action, 0) + 1
            return FaultDecision(action, latency)

    def _action(self, cfg: FaultsConfig) -> str:
        if cfg.throttle_storm_every and self._count % cfg.throttle_storm_every == 0:
            self._storm_left = cfg.throttle_storm_length
        if self._storm_left > 0:
            self._storm_left -= 1
            return THROTTLE
        roll = self._rng.random()
        for action, rate in (
            (ERROR_500, cfg.error_500_rate),
            (ERROR_503, cfg.error_503_rate),
            (DROP, cfg.drop_rate),
            (DROP_AFTER, cfg.drop_after_commit_rate),
        ):
            if roll < rate:
                return action
            roll -= rate
        return NONE
