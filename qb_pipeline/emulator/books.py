"""One company's books (a realm): every object, the change record CDC needs, and the rules.

Real: server-assigned Ids (one sequence for transactions, one for Customer/Vendor/Employee,
one per other list), SyncToken optimistic concurrency (5010), sparse and full updates,
delete of transactions as tombstones, void, deactivation of name lists, requestid-free
semantics (replay lives in the app), MetaData stamps in company time. Writes are serialised
by one lock per realm; readers get the stored dicts and must not mutate them.
Faked: nothing is persisted; ``export``/``load`` move a company in and out as QBO JSON.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from qb_pipeline.emulator import company, forms, links, namelists
from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.clock import COMPANY_TZ, Clock, company_today, meta_time
from qb_pipeline.emulator.entities import ENTITY_TYPES, SHARED_NAME_SPACE, EntityType, Kind
from qb_pipeline.emulator.fields import check_known, clean, ref_id, sync_token, valid_id

ChangeListener = Callable[[str, str, str, str, datetime, "str | None"], None]
NOT_CREATABLE = ("TaxCode", "TaxRate", "CompanyInfo", "Preferences")


class Books:
    """The state of one QBO company. Thread-safe; all writes under ``self.lock``."""

    def __init__(
        self,
        realm_id: str,
        clock: Clock,
        *,
        name: str = "Sandbox Company_US_1",
        home_currency: str = "USD",
        multi_currency: bool = False,
        starter_chart: bool = True,
    ) -> None:
        self.realm_id = realm_id
        self.clock = clock
        self.home_currency = home_currency
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, dict]] = {name: {} for name in ENTITY_TYPES}
        self.tombstones: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
        self.updated_at: dict[str, dict[str, float]] = defaultdict(dict)
        self.version = 0
        self.listener: ChangeListener | None = None
        self._ids: dict[str, int] = defaultdict(int)
        self._doc_numbers: dict[str, int] = defaultdict(lambda: 1000)
        self._names: dict[str, dict[str, str]] = defaultdict(dict)
        self._applied: dict[tuple[str, str], float] = defaultdict(float)
        self._touched: dict[tuple[str, str], bool] | None = None
        self._events: list[tuple[str, str, str, str | None]] = []
        self._moment = clock.now()
        self._seed(name, multi_currency, starter_chart)

    # -- seeding ---------------------------------------------------------------------------
    def _seed(self, name: str, multi_currency: bool, starter_chart: bool) -> None:
        with self.operation(self.clock.now(), notify=False):
            today = company_today(self.clock).isoformat()
            self._store_new("CompanyInfo", company.company_info(self.realm_id, name, "US", today))
            self._store_new(
                "Preferences", company.preferences(self.home_currency, multi_currency, name)
            )
            self._store_new("TaxAgency", dict(company.TAX_AGENCY))
            self._store_new("TaxRate", dict(company.TAX_RATE))
            self._ids["TaxCode"] = 1
            self._store_new("TaxCode", dict(company.TAX_CODE))
            if multi_currency:
                self._seed_exchange_rates(today)
            if starter_chart:
                for term_name, days in company.STARTER_TERMS:
                    self.create("Term", {"Name": term_name, "DueDays": days}, at=self._moment)
                for account in company.STARTER_ACCOUNTS:
                    self.create("Account", dict(account), at=self._moment)
                for sub_type in company.SPECIAL_ACCOUNTS:
                    self.special_account(sub_type)
                income = self.find("Account", "Name", "Services")
                self.create(
                    "Item",
                    {
                        "Name": "Services",
                        "Type": "Service",
                        "IncomeAccountRef": {"value": income["Id"]},
                    },
                    at=self._moment,
                )

    def _seed_exchange_rates(self, as_of: str) -> None:
        """Multi-currency companies know a rate per foreign currency (keyed by its code)."""
        stamp = meta_time(self._moment)
        for code, rate in company.DEFAULT_RATES.items():
            self.objects["ExchangeRate"][code] = {
                "SourceCurrencyCode": code,
                "TargetCurrencyCode": self.home_currency,
                "Rate": rate,
                "AsOfDate": as_of,
                "MetaData": {"LastUpdatedTime": stamp},
            }

    # -- operations -----------------------------------------------------------------------
    @contextmanager
    def operation(self, at: datetime | None, notify: bool = True) -> Iterator[datetime]:
        """One API write: deferred touches, events emitted only if it succeeds."""
        with self.lock:
            outer = self._touched is not None
            if outer:
                yield self._moment
                return
            self._moment = at or self.clock.now()
            self._touched, self._events = {}, []
            try:
                yield self._moment
                self._commit_touches()
                self.version += 1
                events = self._events
            finally:
                self._touched, self._events = None, []
            if notify and self.listener is not None:
                for entity, object_id, operation, deleted_id in events:
                    self.listener(
                        self.realm_id, entity, object_id, operation, self._moment, deleted_id
                    )

    def touch(self, entity: str, object_id: str, *, bump: bool) -> None:
        """Mark a related object changed by side effect (bump: also SyncToken, as QBO does)."""
        if self._touched is None:
            raise RuntimeError("touch outside an operation")
        key = (entity, object_id)
        self._touched[key] = self._touched.get(key, False) or bump

    def _commit_touches(self) -> None:
        assert self._touched is not None
        stamp = meta_time(self._moment)
        for (entity, object_id), bump in self._touched.items():
            obj = self.objects[entity].get(object_id)
            if obj is None:
                continue
            if bump:
                obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
                self._events.append((entity, object_id, "Update", None))
            obj["MetaData"] = {**obj["MetaData"], "LastUpdatedTime": stamp}
            self.updated_at[entity][object_id] = self._moment.timestamp()

    def _store_new(self, entity: str, obj: dict) -> dict:
        object_id = obj.get("Id") or self._next_id(entity)
        stamp = meta_time(self._moment)
        stored = {
            "domain": "QBO",
            "sparse": False,
            **obj,
            "Id": object_id,
            "SyncToken": "0",
            "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
        }
        self.objects[entity][object_id] = stored
        self.updated_at[entity][object_id] = self._moment.timestamp()
        self._events.append((entity, object_id, "Create", None))
        return stored

    def _next_id(self, entity: str) -> str:
        et = ENTITY_TYPES[entity]
        space = "txn" if et.kind == Kind.TRANSACTION else namelists.name_space(entity)
        self._ids[space] += 1
        return str(self._ids[space])

    def create(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        et = _creatable(entity)
        payload = clean(payload)
        check_known(entity, payload)
        with self.operation(at):
            obj = self._prepare(et, payload, None)
            obj.pop("Id", None)
            obj.pop("SyncToken", None)
            if et.kind == Kind.NAME_LIST:
                self._check_name(et, obj, None)
            obj["Id"] = self._next_id(entity)
            if et.kind == Kind.NAME_LIST:
                self._claim_name(et, obj, None)
            links.validate(self, entity, obj)
            stored = self._store_new(entity, obj)
            links.apply(self, entity, stored, +1)
            return stored

    def update(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        et = ENTITY_TYPES[entity]
        payload = clean(payload)
        check_known(entity, payload)
        with self.operation(at):
            current = self._current_for_write(et, payload)
            sparse = str(payload.get("sparse", "false")).lower() == "true"
            merged = {**current, **payload} if sparse else _full_update(et, current, payload)
            new = self._prepare(et, merged, current)
            new.update(
                Id=current["Id"], SyncToken=current["SyncToken"], MetaData=current["MetaData"]
            )
            new.setdefault("domain", "QBO")
            new["sparse"] = False
            if _same(new, current):
                return current
            if et.kind == Kind.NAME_LIST:
                self._claim_name(et, new, current)
            self._replace(entity, current, new)
            self._events.append((entity, current["Id"], "Update", None))
            return self.objects[entity][current["Id"]]

    def _replace(self, entity: str, current: dict, new: dict) -> None:
        links.apply(self, entity, current, -1)
        try:
            links.validate(self, entity, new)
        except exc.FaultError:
            links.apply(self, entity, current, +1)
            raise
        new["SyncToken"] = str(int(current["SyncToken"]) + 1)
        new["MetaData"] = {**current["MetaData"], "LastUpdatedTime": meta_time(self._moment)}
        self.objects[entity][current["Id"]] = new
        self.updated_at[entity][current["Id"]] = self._moment.timestamp()
        links.apply(self, entity, new, +1)

    def delete(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        et = ENTITY_TYPES[entity]
        if not et.deletable:
            raise exc.FaultError(
                "6000",
                "A business validation error has occurred while processing your request",
                f"Business Validation Error: Operation delete is not supported for {entity}; "
                "make it inactive instead.",
            )
        with self.operation(at) as moment:
            current = self._current_for_write(et, clean(payload))
            links.apply(self, entity, current, -1)
            del self.objects[entity][current["Id"]]
            self.updated_at[entity].pop(current["Id"], None)
            self.tombstones[entity][current["Id"]] = (moment.timestamp(), meta_time(moment))
            self._events.append((entity, current["Id"], "Delete", None))
            return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}

    def void(self, entity: str, payload: dict[str, Any], *, at: datetime | None = None) -> dict:
        et = ENTITY_TYPES[entity]
        if not et.voidable:
            raise exc.UnsupportedOperation(f"/{et.path}?operation=void")
        with self.operation(at):
            current = self._current_for_write(et, clean(payload))
            self._replace(entity, current, forms.voided(entity, current))
            self._events.append((entity, current["Id"], "Void", None))
            return self.objects[entity][current["Id"]]

    def send(self, entity: str, object_id: str, to: str | None) -> dict:
        """POST /invoice/{id}/send: EmailStatus, DeliveryInfo and BillEmail as QBO sets them."""
        with self.operation(None) as moment:
            current = self.read(entity, object_id)
            address = to or current.get("BillEmail", {}).get("Address")
            if not address:
                raise exc.RequiredParam("BillEmail")
            new = {
                **current,
                "EmailStatus": "EmailSent",
                "BillEmail": {"Address": address},
                "DeliveryInfo": {"DeliveryType": "Email", "DeliveryTime": meta_time(moment)},
            }
            self._replace(entity, current, new)
            self._events.append((entity, object_id, "Emailed", None))
            return self.objects[entity][object_id]

    def _current_for_write(self, et: EntityType, payload: dict) -> dict:
        if "Id" not in payload:
            raise exc.RequiredParam("Id")
        current = self.read(et.name, valid_id(payload["Id"]) if et.kind != Kind.SINGLETON else "1")
        if "SyncToken" not in payload:
            raise exc.RequiredParam("SyncToken")
        if sync_token(payload["SyncToken"]) != current["SyncToken"]:
            raise exc.StaleObject()
        return current

    def _prepare(self, et: EntityType, payload: dict, current: dict | None) -> dict:
        if et.kind == Kind.NAME_LIST:
            return namelists.prepare(self, et, payload, current)
        if et.kind == Kind.TRANSACTION:
            return forms.prepare(self, et, payload, current)
        obj = {k: v for k, v in payload.items() if k not in ("MetaData", "domain", "sparse")}
        for field in et.required:
            if field not in obj:
                raise exc.RequiredParam(field)
        return obj

    def _check_name(self, et: EntityType, obj: dict, current: dict | None) -> None:
        holder = self._names[namelists.name_space(et.name)].get(namelists.unique_key(et, obj))
        if holder is not None and (current is None or holder != f"{et.name}:{current['Id']}"):
            raise exc.DuplicateName()

    def _claim_name(self, et: EntityType, obj: dict, current: dict | None) -> None:
        self._check_name(et, obj, current)
        space = self._names[namelists.name_space(et.name)]
        key = namelists.unique_key(et, obj)
        if current is not None:
            space.pop(namelists.unique_key(et, current), None)
        space[key] = f"{et.name}:{obj['Id']}"

    # -- reads and lookups -------------------------------------------------------------------
    def read(self, entity: str, object_id: str) -> dict:
        obj = self.objects[entity].get(str(object_id))
        if obj is None:
            raise exc.ObjectNotFound(entity, str(object_id))
        return obj

    def get_ref(self, entity: str, object_id: str, element: str) -> dict:
        """A referenced object; missing or inactive -> 2500 Invalid Reference Id."""
        obj = self.objects[entity].get(str(object_id))
        if obj is None or (
            ENTITY_TYPES[entity].kind == Kind.NAME_LIST and obj.get("Active") is False
        ):
            raise exc.InvalidReference(entity, str(object_id), element)
        return obj

    def find(self, entity: str, field: str, value: str) -> dict:
        for obj in self.objects[entity].values():
            if obj.get(field) == value:
                return obj
        raise exc.ObjectNotFound(entity, value)

    def today(self) -> date:
        return self._moment.astimezone(COMPANY_TZ).date()

    def currency_ref(self, code: str | None) -> dict:
        code = code or self.home_currency
        return {"value": code, "name": company.CURRENCY_NAMES.get(code, code)}

    def rate(self, currency: str) -> float:
        for rate in self.objects["ExchangeRate"].values():
            if rate.get("SourceCurrencyCode") == currency:
                return float(rate["Rate"])
        return company.DEFAULT_RATES.get(currency, 1.0)

    def next_doc_number(self, entity: str) -> str:
        self._doc_numbers[entity] += 1
        return str(self._doc_numbers[entity])

    def default_term_id(self) -> str | None:
        prefs = self.objects["Preferences"]["1"]
        term_id = prefs.get("SalesFormsPrefs", {}).get("DefaultTerms", {}).get("value")
        return term_id if term_id in self.objects["Term"] else None

    def default_tax_code_id(self) -> str | None:
        prefs = self.objects["Preferences"]["1"]
        return ref_id(prefs.get("TaxPrefs", {}), "TaxGroupCodeRef")

    def sales_rates(self, code: dict) -> list[dict]:
        details = code.get("SalesTaxRateList", {}).get("TaxRateDetail", [])
        return [
            self.objects["TaxRate"][d["TaxRateRef"]["value"]]
            for d in details
            if d["TaxRateRef"]["value"] in self.objects["TaxRate"]
        ]

    def special_account(self, sub_type: str) -> str:
        """Id of the account of that AccountSubType, created on first use as QBO does."""
        for account in self.objects["Account"].values():
            if account.get("AccountSubType") == sub_type and account.get("Active", True):
                return account["Id"]
        name, account_type = company.SPECIAL_ACCOUNTS[sub_type]
        payload = {"Name": name, "AccountType": account_type, "AccountSubType": sub_type}
        return self.create("Account", payload, at=self._moment)["Id"]

    def applied_to(self, entity: str, object_id: str) -> float:
        return round(self._applied.get((entity, object_id), 0.0), 2)

    def add_applied(self, entity: str, object_id: str, amount: float) -> None:
        self._applied[(entity, object_id)] += amount

    def list(self, entity: str) -> list[dict]:
        return list(self.objects[entity].values())

    def counts(self) -> dict[str, int]:
        return {name: len(objs) for name, objs in self.objects.items() if objs}


def _creatable(entity: str) -> EntityType:
    et = ENTITY_TYPES[entity]
    if entity in NOT_CREATABLE:
        raise exc.UnsupportedOperation(f"/{et.path} (create)")
    return et


def _full_update(et: EntityType, current: dict, payload: dict) -> dict:
    """Full update: writable fields not sent are cleared; server-owned fields and the name kept."""
    keep = ("Id", "SyncToken", "MetaData", "domain", et.name_field or "Id")
    kept = {k: current[k] for k in keep if k in current}
    return {**kept, **payload}


def _same(new: dict, current: dict) -> bool:
    ignore = ("SyncToken", "MetaData", "sparse")
    return {k: v for k, v in new.items() if k not in ignore} == {
        k: v for k, v in current.items() if k not in ignore
    }


__all__ = ["SHARED_NAME_SPACE", "Books"]
