"""Emulator configuration: limits, faults, webhooks, OAuth clients. Plain dataclasses.

Every limit QBO documents is on by default at its documented value (API_FACTS section 5);
a benchmark or test may lift or tighten any of them, at start or through the back door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LimitsConfig:
    """Per-realm throttles, as documented (500/min, 10/s, 10 in flight, 40 batch/min)."""

    enabled: bool = True
    requests_per_minute: int = 500
    requests_per_second: int = 10
    max_in_flight: int = 10
    batch_per_minute: int = 40
    batch_max_items: int = 30
    retry_after_seconds: int | None = 60  # QBO says "wait 60 seconds"; header is optional


@dataclass
class FaultsConfig:
    """Injected faults. Probabilities are per API request (OAuth and back door exempt)."""

    error_500_rate: float = 0.0
    error_503_rate: float = 0.0
    drop_rate: float = 0.0  # close the connection without a response
    drop_after_commit_rate: float = 0.0  # do the write, then drop the response
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    throttle_storm_every: int = 0  # every N-th request starts a storm (0 = never)
    throttle_storm_length: int = 0  # requests answered 429 in each storm
    xml_throttle: bool = False  # answer throttles with QBO's historical XML body
    seed: int = 0


@dataclass
class WebhookConfig:
    """Outbound webhook delivery, as the Intuit developer portal configures it per app."""

    urls: list[str] = field(default_factory=list)
    verifier_token: str = "emulator-verifier-token"
    payload_format: str = "legacy"  # "legacy" (eventNotifications) or "cloudevents"
    group_window_seconds: float = 1.0  # QBO aggregates; sandbox is near real time
    # Intuit retries at 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h; scaled for tests.
    retry_schedule_seconds: tuple[float, ...] = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
    timeout_seconds: float = 3.0
    files_dir: Path | None = None  # also write each delivery here as a file


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)  # empty: any loopback URI
    webhook_verifier_token: str = "emulator-verifier-token"


@dataclass
class EmulatorConfig:
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    faults: FaultsConfig = field(default_factory=FaultsConfig)
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    clients: list[OAuthClient] = field(
        default_factory=lambda: [OAuthClient("emulator-client-id", "emulator-client-secret")]
    )
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 100 * 86400  # rolling 100 days
    refresh_token_hard_ttl: int = 5 * 365 * 86400  # five-year cap (2025-11 policy)
    require_auth: bool = True  # bearer tokens checked on every API call
    cdc_max_objects: int = 1000
    cdc_max_age_days: int = 30
    batch_cdc: bool = True  # CDCQuery batch items (Intuit's Java SDK sends them)
    requestid_cache_size: int = 10_000
    # Filtered+sorted query results kept for paging, bounded by the rows they list (each a
    # reference to a books object: ~8 bytes). A sync asks ~35 distinct queries (a listing per
    # entity, a COUNT per long one); 16 entries made a bench company's pages re-sort.
    query_cache_rows: int = 2_000_000
