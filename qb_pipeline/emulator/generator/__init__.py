"""Deterministic synthetic QuickBooks Online companies, written through a sink.

``generate_company`` sets a small business up (chart of accounts, terms, payment methods,
classes, departments, customers with jobs, vendors, employees, items) and writes 12-24 months
of history ending at ``end``; ``simulate_days`` adds more days to a company read back from the
sink. Both send only the create/update/void/delete payloads a QBO client would send and read
Ids, totals and balances from the answers. The same seed always gives the same payloads.

Real: payload shapes and rules of the QBO API. Faked: the business (names, prices, customer
behaviour, seasonality, planted anomalies, noisy expense categories), recorded in a
``GroundTruth`` that the API never serves. Not implemented: time activities, transfers,
vendor credits, purchase orders, attachments, CompanyInfo/Preferences (the caller names the
realm, e.g. with ``company_name``, and enables multi-currency where wanted).

Example::

    truth = generate_company(books, size="tiny", seed=7, end=date(2025, 6, 30))
    truth.to_json("truth.json")
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta

from qb_pipeline.emulator.clock import COMPANY_TZ
from qb_pipeline.emulator.generator.activity import MIX, TRANSACTIONS_PER_INVOICE, Rates, Simulation
from qb_pipeline.emulator.generator.anomalies import ANOMALY_KINDS, plan_anomalies
from qb_pipeline.emulator.generator.catalog import kind_for_seed
from qb_pipeline.emulator.generator.profile import (
    ALL_JOURNALS,
    SIZES,
    WEEKDAY_SHAPE,
    SizeProfile,
    Volume,
    company_name,
)
from qb_pipeline.emulator.generator.readback import invoice_rate, load_company, random_for
from qb_pipeline.emulator.generator.setup import setup_company
from qb_pipeline.emulator.generator.sink import CompanySink
from qb_pipeline.emulator.generator.state import Writer
from qb_pipeline.emulator.generator.truth import (
    TRANSACTION_ENTITIES,
    Anomaly,
    CustomerProfile,
    ExpenseLabel,
    GroundTruth,
)

__all__ = [
    "ANOMALY_KINDS",
    "SIZES",
    "TRANSACTION_ENTITIES",
    "Anomaly",
    "CompanySink",
    "CustomerProfile",
    "ExpenseLabel",
    "GroundTruth",
    "SizeProfile",
    "company_name",
    "generate_company",
    "simulate_days",
]

log = logging.getLogger(__name__)

DEFAULT_END = date(2025, 12, 31)  # a fixed date: the wall clock never shapes the data


def _variable_transactions(size: SizeProfile, days: int) -> float:
    """Transactions left for sales and spending once routines, recurring bills and deposits
    (which do not scale with sales) are counted."""
    months = days / 30.44
    per_month = 2.0 * size.recurring_bills
    per_month += sum(
        {"payroll": 2 if size.employees >= 8 else 1, "sales_tax": 1 / 3}.get(name, 1)
        for name in size.monthly_journals
    )
    anomalies = size.anomalies_per_kind * (len(ANOMALY_KINDS) + 3)
    variable = size.transactions - per_month * months - anomalies - 1
    for _ in range(3):  # deposits depend on payments, which depend on sales
        payments = 1.15 * variable / TRANSACTIONS_PER_INVOICE
        deposits = 0.8 * min(days / 7, payments) + payments / 30
        variable = size.transactions - per_month * months - anomalies - 1 - deposits
    return max(variable, 0.0)


def _rates(profile: SizeProfile, volume: Volume, noise: float) -> Rates:
    """Daily rates that land the history near the profile's transaction count."""
    variable = _variable_transactions(profile, volume.days)
    return Rates(
        invoices=variable / (TRANSACTIONS_PER_INVOICE * volume.total_weight()),
        voids=profile.voids / volume.days,
        deletes=profile.deletes / volume.days,
        updates=profile.updates / volume.days,
        routines=profile.monthly_journals,
        noise=noise,
        minimum=2.0,
    )


def generate_company(
    sink: CompanySink,
    *,
    size: str = "tiny",
    seed: int = 0,
    multi_currency: bool = False,
    end: date | None = None,
) -> GroundTruth:
    """Set a company up and write its history (``SIZES[size].months`` ending at ``end``)."""
    profile = SIZES[size]
    end = end or DEFAULT_END
    rng = random.Random(seed)
    kind = kind_for_seed(seed)
    days = round(profile.months * 365.25 / 12)
    start = end - timedelta(days=days - 1)
    truth = GroundTruth(
        company_name(seed, 0),
        kind.key,
        seed,
        size,
        multi_currency,
        start.isoformat(),
        end.isoformat(),
    )
    writer = Writer(sink, truth)
    company = setup_company(writer, rng, kind, profile, start=start, multi_currency=multi_currency)
    volume = Volume(start, days, rng.uniform(0.2, 0.6), kind.season_peak_day, kind.season_strength)
    rates = _rates(profile, volume, rng.uniform(0.05, 0.10))
    plan = plan_anomalies(rng, start, days, profile.anomalies_per_kind)
    simulation = Simulation(company, writer, rng, volume, rates=rates, anomaly_plan=plan)
    simulation.opening_balances(start)
    simulation.run(start, days)
    log.info(
        "generated %s (%s): %d transactions", truth.company_name, size, truth.transaction_count
    )
    return truth


def simulate_days(sink: CompanySink, *, days: int, seed: int, start: datetime) -> GroundTruth:
    """``days`` more days of business on a company read back from the sink, from ``start``."""
    not_before = start.astimezone(COMPANY_TZ)
    first_day = not_before.date()
    rng = random_for(seed, first_day)
    truth = GroundTruth(
        start=first_day.isoformat(),
        seed=seed,
        end=(first_day + timedelta(days=days - 1)).isoformat(),
    )
    writer = Writer(sink, truth)
    company = load_company(writer, rng, seed, not_before)
    truth.business = company.kind.key
    mean_weight = sum(WEEKDAY_SHAPE) / len(WEEKDAY_SHAPE)
    invoices = invoice_rate(writer, mean_weight)
    volume = Volume(
        first_day, days, 0.0, company.kind.season_peak_day, company.kind.season_strength
    )
    edits = invoices * sum(MIX.values()) * 0.01
    rates = Rates(
        invoices,
        edits,
        edits,
        2 * edits,
        ALL_JOURNALS if len(company.employees) >= 8 else ("payroll", "card_payment"),
        rng.uniform(0.05, 0.10),
    )
    plan = plan_anomalies(rng, first_day, days, int(days / 180 + rng.random()))
    simulation = Simulation(company, writer, rng, volume, rates=rates, anomaly_plan=plan)
    simulation.not_before = not_before
    simulation.resume(first_day)
    simulation.run(first_day, days)
    return truth
