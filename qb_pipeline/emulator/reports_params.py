"""Report parameters: periods from start_date/end_date or date_macro, aging options, filters.

Real: ``start_date``/``end_date`` as YYYY-MM-DD, the default period "This Fiscal Year-to-date",
date macros by their QBO names (case-insensitive), ``report_date``, ``aging_period``,
``num_periods``, comma-separated ``customer``/``vendor`` Ids. Faked: the fiscal year always
starts in January (Preferences.FiscalYearStartMonth is not consulted). Our choice where QBO's
answer is unknown: a malformed date -> fault 2060 "Invalid Date"; an unknown date macro -> 2170
"Invalid Enumeration"; a malformed aging number -> 2080 "Invalid Number"; when only one of
start/end is given the other comes from the default period. "All" spans the first to the last
posting (or today).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from qb_pipeline.emulator.exceptions import InvalidValue

DEFAULT_MACRO = "This Fiscal Year-to-date"


@dataclass(frozen=True)
class ReportPeriod:
    """The reporting window; ``date_macro`` is echoed in the header when one was used."""

    start: date
    end: date
    date_macro: str | None


@dataclass(frozen=True)
class AgingOptions:
    report_date: date
    aging_period: int
    num_periods: int


def parse_date(params: Mapping[str, str], name: str) -> date | None:
    """The YYYY-MM-DD parameter ``name``, None when absent, fault 2060 when malformed."""
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(
            "2060", "Invalid Date", f"Invalid date format: {name}={text}", element=name
        ) from None


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return (_month_start(day) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _macro_ranges(today: date, earliest: date) -> dict[str, tuple[date, date]]:
    year_start, year_end = date(today.year, 1, 1), date(today.year, 12, 31)
    last_month_end = _month_start(today) - timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start Sunday
    quarter_start = _quarter_start(today)
    quarter_end = _month_end(quarter_start + timedelta(days=62))
    last_quarter_start = _quarter_start(quarter_start - timedelta(days=1))
    last_year = (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    return {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "this week": (week_start, week_start + timedelta(days=6)),
        "this week-to-date": (week_start, today),
        "last week": (week_start - timedelta(days=7), week_start - timedelta(days=1)),
        "this month": (_month_start(today), _month_end(today)),
        "this month-to-date": (_month_start(today), today),
        "last month": (_month_start(last_month_end), last_month_end),
        "this fiscal quarter": (quarter_start, quarter_end),
        "this fiscal quarter-to-date": (quarter_start, today),
        "last fiscal quarter": (last_quarter_start, quarter_start - timedelta(days=1)),
        "this fiscal year": (year_start, year_end),
        "this fiscal year-to-date": (year_start, today),
        "last fiscal year": last_year,
        "this calendar year": (year_start, year_end),
        "this calendar year-to-date": (year_start, today),
        "last calendar year": last_year,
        "all": (min(earliest, today), today),
    }


def macro_range(macro: str, today: date, earliest: date | None = None) -> tuple[date, date]:
    """Start and end of a QBO date macro ("This Month", "Last Fiscal Year", "All"...)."""
    ranges = _macro_ranges(today, earliest or today)
    key = macro.strip().lower()
    if key not in ranges:
        raise InvalidValue(
            "2170",
            "Invalid Enumeration",
            f"Invalid date_macro: {macro}. Supported values: {', '.join(sorted(ranges))}",
            element="date_macro",
        )
    return ranges[key]


def resolve_period(
    params: Mapping[str, str],
    *,
    today: date,
    earliest: date | None = None,
    default_macro: str = DEFAULT_MACRO,
) -> ReportPeriod:
    """Explicit dates win over ``date_macro``; either missing end comes from the default."""
    start, end = parse_date(params, "start_date"), parse_date(params, "end_date")
    macro = (params.get("date_macro") or "").strip() or None
    if start is not None and end is not None:
        return ReportPeriod(start, end, None)
    used = macro or default_macro
    macro_start, macro_end = macro_range(used, today, earliest)
    shown = used.lower() if start is None and end is None else None
    return ReportPeriod(start or macro_start, end or macro_end, shown)


def _positive_int(params: Mapping[str, str], name: str, default: int) -> int:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise InvalidValue("2080", "Invalid Number", f"Invalid number: {name}={text}", element=name)
    return int(text)


def aging_options(params: Mapping[str, str], period: ReportPeriod) -> AgingOptions:
    """report_date (default: the period's end), aging_period (30) and num_periods (4)."""
    report_date = parse_date(params, "report_date") or period.end
    return AgingOptions(
        report_date,
        _positive_int(params, "aging_period", 30),
        _positive_int(params, "num_periods", 4),
    )


def id_filter(params: Mapping[str, str], name: str) -> frozenset[str]:
    """Comma-separated Ids of a ``customer``/``vendor`` filter; empty means no filter."""
    return frozenset(part.strip() for part in (params.get(name) or "").split(",") if part.strip())


def fiscal_year_start(day: date) -> date:
    """First day of the fiscal year containing ``day`` (fiscal years start in January)."""
    return date(day.year, 1, 1)
