"""Company sizes, volumes over time and names: the knobs of a synthetic company.

Real: nothing QBO-specific. Faked: growth trend, seasonality and weekday shape of sales, the
exchange-rate walk of EUR/GBP/CAD against USD. Every figure is a pure function of the seed,
so the same seed always yields the same company.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date

from qb_pipeline.emulator.generator.catalog import FOREIGN_CURRENCIES, kind_for_seed
from qb_pipeline.emulator.generator.names import COMPANY_WORDS, PLACE_NAMES


@dataclass(frozen=True)
class SizeProfile:
    """How big a company is: target transaction count, history, list sizes, planted events."""

    name: str
    transactions: int
    months: int
    customers: int
    extra_vendors: int
    employees: int
    recurring_bills: int  # monthly bills (rent, power, ...)
    monthly_journals: tuple[str, ...]  # routines: journals and the interest deposit
    anomalies_per_kind: int
    voids: int
    deletes: int
    updates: int


ALL_JOURNALS = (
    "payroll",
    "card_payment",
    "depreciation",
    "loan_payment",
    "sales_tax",
    "interest",
)

SIZES: dict[str, SizeProfile] = {
    "tiny": SizeProfile("tiny", 200, 12, 25, 0, 4, 2, ("payroll", "card_payment"), 1, 2, 2, 4),
    "demo": SizeProfile("demo", 5_000, 24, 150, 12, 10, 5, ALL_JOURNALS, 4, 15, 15, 30),
    "bench": SizeProfile("bench", 110_000, 24, 2_500, 240, 40, 6, ALL_JOURNALS, 40, 200, 200, 300),
}

WEEKDAY_SHAPE = (1.0, 1.05, 1.05, 1.0, 0.95, 0.25, 0.06)  # Monday .. Sunday


@dataclass(frozen=True)
class Volume:
    """Sales volume over time: growth from start to end and a yearly season."""

    start: date
    days: int
    growth: float
    peak_day: int
    season: float

    def weight(self, day: date) -> float:
        """Relative activity of one day (1.0 = an average weekday at the start, no season)."""
        trend = 1.0 + self.growth * (day - self.start).days / max(self.days, 1)
        angle = 2 * math.pi * (day.timetuple().tm_yday - self.peak_day) / 365.0
        return trend * (1.0 + self.season * math.cos(angle)) * WEEKDAY_SHAPE[day.weekday()]

    def total_weight(self) -> float:
        return sum(
            self.weight(date.fromordinal(self.start.toordinal() + i)) for i in range(self.days)
        )


def company_name(seed: int, index: int) -> str:
    """Name of company ``index`` from ``seed``, e.g. "Cedar Ridge Landscaping & Design"."""
    rng = random.Random(f"company-name:{seed}:{index}")
    kind = kind_for_seed(seed)
    place = rng.choice(PLACE_NAMES + tuple(COMPANY_WORDS))
    return f"{place} {rng.choice(kind.suffixes)}"


def exchange_rate(currency: str, day: date) -> float:
    """Deterministic rate of ``currency`` in USD on ``day`` (a slow walk around a base rate)."""
    base = dict(FOREIGN_CURRENCIES)[currency]
    phase = sum(map(ord, currency))
    wobble = 0.04 * math.sin(day.toordinal() / 47.0 + phase) + 0.01 * math.sin(
        day.toordinal() / 5.0
    )
    return round(base * (1.0 + wobble), 6)
