"""Input hygiene shared by every entity: known properties, empty strings, money, dates, refs.

Real: QBO rejects unknown top-level properties (2010), tolerates what python-quickbooks sends
(empty strings for absent values, integer SyncTokens), and keeps money at two decimals.
Faked: the 20xx code chosen for a bad number or date is our best reading (UNCERTAIN upstream).
"""

from __future__ import annotations

import json
import math
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from qb_pipeline.emulator import exceptions as exc

# Properties the server computes or owns: accepted on input (clients echo them) but ignored.
READ_ONLY = frozenset(
    {
        "domain",
        "sparse",
        "MetaData",
        "status",
        "FullyQualifiedName",
        "Level",
        "Balance",
        "BalanceWithJobs",
        "HomeBalance",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "LineEx",
        "PurchaseEx",
    }
)


@cache
def known_fields(entity: str) -> frozenset[str]:
    data = json.loads(
        resources.files("qb_pipeline.emulator").joinpath("data/fields.json").read_text()
    )
    return frozenset(data.get(entity, ()))


def check_known(entity: str, payload: dict[str, Any]) -> None:
    """Fault 2010 for a top-level property the entity does not have, or of the wrong JSON type."""
    known = known_fields(entity)
    for key in payload:
        if key not in known:
            raise exc.UnknownProperty(entity, key)
    check_shapes(payload)


# JSON shapes QBO's deserializer insists on (a string where an object belongs is a 2010).
LIST_FIELDS = frozenset(
    {"Line", "LinkedTxn", "TaxLine", "CustomField", "AttachableRef", "NameValue"}
)
OBJECT_FIELDS = frozenset({"CashBack", "CheckPayment", "CreditCardPayment", "Mobile", "Fax"})
OBJECT_SUFFIXES = ("Ref", "Detail", "Addr", "Email", "Phone", "Info")
SCALAR_FIELDS = frozenset(
    {
        "value",
        "DetailType",
        "PostingType",
        "PaymentType",
        "PayType",
        "AccountType",
        "AccountSubType",
        "Type",
        "TxnId",
        "TxnType",
    }
)


def _expected_shape(key: str) -> type | tuple[type, ...] | None:
    if key in LIST_FIELDS:
        return list
    if key in OBJECT_FIELDS or key.endswith(OBJECT_SUFFIXES):
        return dict
    if key in SCALAR_FIELDS:
        return (str, int, float, bool)
    return None


def check_shapes(value: Any, parent: str = "") -> None:
    """Fault 2010 where a property has the wrong JSON type; 2020 for a LinkedTxn without ids."""
    if isinstance(value, list):
        for item in value:
            if parent in LIST_FIELDS and not isinstance(item, dict):
                raise _wrong_shape(parent, dict, item)
            check_shapes(item, parent)
        return
    if not isinstance(value, dict):
        return
    if parent == "LinkedTxn":
        for required in ("TxnId", "TxnType"):
            if required not in value:
                raise exc.RequiredParam(f"LinkedTxn.{required}")
    for key, item in value.items():
        expected = _expected_shape(key)
        if expected is not None and item is not None and not isinstance(item, expected):
            raise _wrong_shape(key, expected, item)
        check_shapes(item, key)


def _wrong_shape(key: str, expected: type | tuple[type, ...], item: Any) -> exc.FaultError:
    wanted = "an array" if expected is list else "an object" if expected is dict else "a value"
    return exc.FaultError(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{key} must be {wanted}, not {type(item).__name__} specified is "
        "unsupported or invalid",
        element=key,
    )


def clean(value: Any) -> Any:
    """Drop empty strings and nulls recursively: python-quickbooks sends "" for absent values."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [clean(v) for v in value if v is not None]
    return value


def money(value: Any, element: str) -> float:
    """A monetary amount rounded to cents; strings of digits are accepted as QBO does."""
    return round(number(value, element), 2)


def number(value: Any, element: str) -> float:
    """A finite number (quantities, rates); 2090 for booleans, text, NaN and infinities."""
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        parsed = float(value)
        if not math.isfinite(parsed):
            raise ValueError(value)
        return parsed
    except (TypeError, ValueError, OverflowError):
        raise exc.InvalidValue(
            "2090", "Invalid Number", f"Invalid Number : {value} for {element}", element
        ) from None


def qbo_date(value: Any, element: str) -> date:
    """A YYYY-MM-DD date; years past 9000 are refused (terms must be addable without overflow)."""
    try:
        parsed = date.fromisoformat(str(value)[:10])
        if parsed.year > 9000:
            raise ValueError(value)
        return parsed
    except ValueError:
        raise exc.InvalidValue(
            "2060", "Invalid Date", f"Invalid Date : {value} for {element}", element
        ) from None


def ref_id(payload: dict[str, Any], field: str) -> str | None:
    ref = payload.get(field)
    if ref is None:
        return None
    if not isinstance(ref, dict) or "value" not in ref:
        raise exc.InvalidValue(
            "2500", "Invalid Reference Id", f"Invalid Reference Id : {field} has no value", field
        )
    return str(ref["value"])


def sync_token(value: Any) -> str:
    """SyncTokens arrive as "3" or 3 (python-quickbooks sends an integer on create)."""
    try:
        return str(int(str(value)))
    except ValueError:
        raise exc.InvalidValue(
            "2030",
            "Invalid ID",
            f"SyncToken should be a valid number. Supplied value:{value}",
            "SyncToken",
        ) from None


def valid_id(value: Any) -> str:
    text = str(value)
    if not text.isdigit():
        raise exc.InvalidId(text)
    return str(int(text))
