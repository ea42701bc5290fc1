"""The warehouse's fixed shape: the entities we land, their raw table names, and the DDL.

Every entity of the catalogue gets its ``raw.<snake_case>`` table at schema setup, so staging SQL
never meets a missing table (an entity a realm never had is simply an empty table). The entity
list is the warehouse's own copy of the QBO catalogue: the warehouse must not import the emulator,
and the client's catalogue (``qb_pipeline.qbo.entities``) may differ in what it can fetch.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import duckdb

SCHEMAS = ("raw", "staging", "marts", "meta")

# QBO entity names as the API spells them (CDC/query names), in catalogue order.
RAW_ENTITIES: tuple[str, ...] = (
    # name lists
    "Customer",
    "Vendor",
    "Employee",
    "Item",
    "Account",
    "Class",
    "Department",
    "Term",
    "PaymentMethod",
    "TaxCode",
    "TaxRate",
    "TaxAgency",
    # transactions
    "Invoice",
    "Payment",
    "Bill",
    "BillPayment",
    "Purchase",
    "JournalEntry",
    "Estimate",
    "CreditMemo",
    "RefundReceipt",
    "SalesReceipt",
    "Deposit",
    "Transfer",
    "VendorCredit",
    "PurchaseOrder",
    "CreditCardPayment",
    "TimeActivity",
    # other
    "RecurringTransaction",
    "Attachable",
    "ExchangeRate",
    "Budget",
    "CompanyCurrency",
    "CompanyInfo",
    "Preferences",
)

_BY_LOWER = {name.lower(): name for name in RAW_ENTITIES}


class UnknownEntityError(ValueError):
    """An entity name that is not in the warehouse's catalogue."""

    def __init__(self, entity: str) -> None:
        super().__init__(f"unknown QBO entity {entity!r} (not in the warehouse catalogue)")
        self.entity = entity


def canonical_entity(entity: str) -> str:
    """The catalogue spelling of ``entity`` (case-insensitive), or UnknownEntityError."""
    name = _BY_LOWER.get(entity.lower())
    if name is None:
        raise UnknownEntityError(entity)
    return name


def table_name(entity: str) -> str:
    """``JournalEntry`` -> ``journal_entry`` (the table in schema ``raw``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", canonical_entity(entity)).lower()


def raw_table(entity: str) -> str:
    """The qualified, quoted raw table of an entity: ``raw."journal_entry"``."""
    return f'raw."{table_name(entity)}"'


@cache
def read_sql(name: str) -> str:
    """The text of ``sql/raw/<name>.sql`` shipped beside this module."""
    return (
        resources.files("qb_pipeline.warehouse").joinpath("sql", "raw", f"{name}.sql").read_text()
    )


def entity_sql(name: str, entity: str) -> str:
    """An entity-specific statement: ``{table}`` in the SQL file becomes the raw table."""
    return read_sql(name).replace("{table}", raw_table(entity))


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas, meta tables and one raw table per entity; idempotent."""
    con.execute(read_sql("schema"))
    for entity in RAW_ENTITIES:
        con.execute(entity_sql("entity_table", entity))
