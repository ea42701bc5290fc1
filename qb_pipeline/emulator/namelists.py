"""Name-list entities (Customer, Vendor, Account, Item, ...): defaults, names, deactivation.

Real: the defaults QBO fills in on create (VCR create/customer, batch vendor), DisplayName
derived from name parts, uniqueness of DisplayName across Customer/Vendor/Employee (6240) and
of FullyQualifiedName within other lists, sub-customers and sub-accounts (ParentRef, Level,
FQN ``Parent:Child``), deactivation appending " (deleted)" and reactivation removing it.
Not implemented: renaming a parent does not rewrite its children's FullyQualifiedName.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.entities import SHARED_NAME_SPACE, EntityType
from qb_pipeline.emulator.fields import READ_ONLY, money, number, ref_id

if TYPE_CHECKING:
    from qb_pipeline.emulator.books import Books

DELETED_SUFFIX = " (deleted)"
HIERARCHICAL = ("Customer", "Account", "Class", "Department", "Item")

ACCOUNT_CLASSIFICATION = {
    "Bank": ("Asset", "Checking"),
    "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Other Current Asset": ("Asset", "OtherCurrentAssets"),
    "Fixed Asset": ("Asset", "OtherFixedAssets"),
    "Other Asset": ("Asset", "OtherLongTermAssets"),
    "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Long Term Liability": ("Liability", "OtherLongTermLiabilities"),
    "Equity": ("Equity", "OpeningBalanceEquity"),
    "Income": ("Revenue", "SalesOfProductIncome"),
    "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"),
    "Expense": ("Expense", "OtherMiscellaneousServiceCost"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense"),
}


def name_space(entity: str) -> str:
    return "person" if entity in SHARED_NAME_SPACE else entity


def person_display_name(payload: dict[str, Any]) -> str | None:
    if payload.get("DisplayName"):
        return str(payload["DisplayName"])
    parts = [payload.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    joined = " ".join(str(p) for p in parts if p)
    return joined or payload.get("CompanyName")


def prepare(books: Books, et: EntityType, payload: dict[str, Any], current: dict | None) -> dict:
    """The stored object for a create (current None) or a merged update of a name list."""
    obj = {k: v for k, v in payload.items() if k not in READ_ONLY}
    if current is not None:
        for key in (
            "Balance",
            "BalanceWithJobs",
            "CurrentBalance",
            "CurrentBalanceWithSubAccounts",
        ):
            if key in current:
                obj[key] = current[key]
    name_field = et.name_field or "Name"
    if et.name in SHARED_NAME_SPACE:
        name = person_display_name(obj)
        if not name:
            raise exc.FaultError("6080", "No Name Provided", "You must specify a name.", name_field)
        obj["DisplayName"] = name
    elif not obj.get(name_field):
        raise exc.RequiredParam(name_field)
    _apply_active_suffix(obj, name_field, current)
    name = str(obj[name_field])
    if ":" in name:
        raise exc.FaultError(
            "2040",
            "Invalid String",
            f"Name cannot contain a colon (:). Supplied value:{name}",
            name_field,
        )
    _hierarchy(books, et, obj)
    DEFAULTS.get(et.name, _no_defaults)(books, obj, current)
    obj.setdefault("Active", True)
    return obj


def _apply_active_suffix(obj: dict, name_field: str, current: dict | None) -> None:
    name = str(obj.get(name_field, ""))
    if obj.get("Active") is False and not name.endswith(DELETED_SUFFIX):
        if current is None or current.get("Active") is not False or current[name_field] != name:
            obj[name_field] = name + DELETED_SUFFIX
    elif obj.get("Active", True) is not False and name.endswith(DELETED_SUFFIX):
        obj[name_field] = name[: -len(DELETED_SUFFIX)]


def _hierarchy(books: Books, et: EntityType, obj: dict) -> None:
    name = str(obj[et.name_field or "Name"])
    parent_id = ref_id(obj, "ParentRef") if et.name in HIERARCHICAL else None
    if parent_id is None:
        if et.name in HIERARCHICAL:
            obj["FullyQualifiedName"] = name
        if et.name in ("Customer", "Account", "Class", "Department", "Item"):
            obj.pop("ParentRef", None)
        return
    parent = books.get_ref(et.name, parent_id, "ParentRef")
    obj["ParentRef"] = {"value": parent_id}
    obj["FullyQualifiedName"] = f"{parent.get('FullyQualifiedName', parent.get('Name'))}:{name}"
    obj["Level"] = int(parent.get("Level", 0)) + 1
    if et.name == "Customer":
        obj["Job"] = True
    elif et.name == "Account":
        obj["SubAccount"] = True
    elif et.name in ("Class", "Department"):
        obj["SubClass" if et.name == "Class" else "SubDepartment"] = True
    elif et.name == "Item":
        obj["SubItem"] = True


def unique_key(et: EntityType, obj: dict) -> str:
    if et.name in SHARED_NAME_SPACE:
        return str(obj["DisplayName"]).lower()
    return str(obj.get("FullyQualifiedName") or obj[et.name_field or "Name"]).lower()


def _no_defaults(books: Books, obj: dict, current: dict | None) -> None:
    return None


def _customer(books: Books, obj: dict, current: dict | None) -> None:
    name = obj["DisplayName"]
    obj.setdefault("FullyQualifiedName", name)
    obj.setdefault("PrintOnCheckName", obj.get("CompanyName") or name)
    obj.setdefault("Taxable", True)
    obj.setdefault("Job", False)
    obj.setdefault("BillWithParent", False)
    obj.setdefault("Balance", 0)
    obj.setdefault("BalanceWithJobs", 0)
    obj.setdefault("CurrencyRef", books.currency_ref(None))
    obj["CurrencyRef"] = books.currency_ref(ref_id(obj, "CurrencyRef"))
    obj.setdefault("PreferredDeliveryMethod", "Print")
    obj.setdefault("IsProject", False)
    if "SalesTermRef" in obj:
        books.get_ref("Term", ref_id(obj, "SalesTermRef") or "", "SalesTermRef")


def _vendor(books: Books, obj: dict, current: dict | None) -> None:
    obj.setdefault("PrintOnCheckName", obj.get("CompanyName") or obj["DisplayName"])
    obj.setdefault("Balance", 0)
    obj.setdefault("Vendor1099", False)
    obj["CurrencyRef"] = books.currency_ref(ref_id(obj, "CurrencyRef"))


def _employee(books: Books, obj: dict, current: dict | None) -> None:
    obj.setdefault("PrintOnCheckName", obj["DisplayName"])
    obj.setdefault("BillableTime", False)


def _account(books: Books, obj: dict, current: dict | None) -> None:
    account_type = obj.get("AccountType")
    if not account_type and not obj.get("AccountSubType"):
        raise exc.RequiredParam("AccountType")
    if not account_type:
        account_type = "Expense"
        obj["AccountType"] = account_type
    if account_type not in ACCOUNT_CLASSIFICATION:
        raise exc.InvalidValue(
            "2170", "Invalid Enumeration", f"Invalid Enumeration : {account_type}", "AccountType"
        )
    classification, sub_type = ACCOUNT_CLASSIFICATION[account_type]
    obj["Classification"] = classification
    obj.setdefault("AccountSubType", sub_type)
    obj.setdefault("SubAccount", "ParentRef" in obj)
    obj.setdefault("CurrentBalance", 0)
    obj.setdefault("CurrentBalanceWithSubAccounts", obj["CurrentBalance"])
    obj["CurrencyRef"] = books.currency_ref(ref_id(obj, "CurrencyRef"))


def _item(books: Books, obj: dict, current: dict | None) -> None:
    item_type = obj.setdefault("Type", "Service")
    obj.setdefault("Taxable", False)
    obj["UnitPrice"] = money(obj.get("UnitPrice", 0), "UnitPrice")
    obj.setdefault("PurchaseCost", 0)
    obj.setdefault("TrackQtyOnHand", item_type == "Inventory")
    for field in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
        if field in obj:
            books.get_ref("Account", ref_id(obj, field) or "", field)
    if item_type in ("Service", "NonInventory", "Inventory") and "IncomeAccountRef" not in obj:
        raise exc.RequiredParam("IncomeAccountRef")
    if item_type == "Inventory":
        for field in ("ExpenseAccountRef", "AssetAccountRef", "InvStartDate"):
            if field not in obj:
                raise exc.RequiredParam(field)
        obj.setdefault("QtyOnHand", 0)


def _term(books: Books, obj: dict, current: dict | None) -> None:
    obj.setdefault("Type", "STANDARD")
    if obj["Type"] == "STANDARD":
        for field in ("DueDays", "DiscountDays"):  # whole days; "abc" would poison DueDate
            obj[field] = int(number(obj.get(field, 0), field))


def _payment_method(books: Books, obj: dict, current: dict | None) -> None:
    obj.setdefault("Type", "NON_CREDIT_CARD")


DEFAULTS = {
    "Customer": _customer,
    "Vendor": _vendor,
    "Employee": _employee,
    "Account": _account,
    "Item": _item,
    "Term": _term,
    "PaymentMethod": _payment_method,
}
