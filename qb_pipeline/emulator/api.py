"""The Accounting API under /v3/company/{realmId}/: parse the request, call the books, shape
the answer exactly as QBO does.

Real: entity paths in lower case; create/update on POST /{entity} (``operation=update``
optional), ``operation=delete``, void via ``operation=void`` or ``operation=update&include=void``;
read GET /{entity}/{id}; /query on GET (``query=``) and POST (raw ``application/text`` body);
/cdc, /batch, /reports/{name}, /{entity}/{id}/pdf and /send; /companyinfo/{realmId or 1};
/preferences; /exchangerate. Envelopes ``{"<Entity>": {...}, "time": ...}``; the QueryResponse
rules (no startPosition/maxResults when empty, maxResults = rows returned, totalCount only for
COUNT). Unknown paths answer fault 500 "Unsupported Operation" with HTTP 400.
Not implemented: /upload (attachments' file content), /taxservice/taxcode.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.batch import run_batch
from qb_pipeline.emulator.cdc import run_cdc
from qb_pipeline.emulator.clock import envelope_time, meta_time
from qb_pipeline.emulator.entities import BY_PATH, Kind
from qb_pipeline.emulator.fields import valid_id
from qb_pipeline.emulator.pdf import render_invoice_pdf
from qb_pipeline.emulator.querying import run_query_text
from qb_pipeline.emulator.reports import build_report

if TYPE_CHECKING:
    from qb_pipeline.emulator.backend import Emulator
    from qb_pipeline.emulator.books import Books

logger = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=utf-8"
PDF_SALES_FORMS = ("invoice", "estimate", "salesreceipt", "creditmemo", "refundreceipt")


@dataclass
class ApiRequest:
    realm_id: str
    method: str
    parts: list[str]  # path segments after /v3/company/{realmId}/
    params: dict[str, str]
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def raw_body(self) -> bytes:
        """The body, gunzipped when ``Content-Encoding: gzip``; a bad gzip stream is a fault."""
        if self.headers.get("content-encoding", "").lower() != "gzip":
            return self.body
        try:
            return gzip.decompress(self.body)
        except (OSError, EOFError, zlib.error):
            raise exc.MalformedJson("the gzip-encoded request body cannot be decoded") from None

    def json_body(self) -> Any:
        raw = self.raw_body()
        try:
            return json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise exc.MalformedJson(f"Malformed JSON: {str(error)[:120]}") from None

    def text_body(self) -> str:
        raw = self.raw_body()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise exc.UnsupportedOperation("non UTF-8 request body") from None


@dataclass
class ApiResponse:
    status: int
    body: bytes
    content_type: str = JSON_TYPE


def envelope(emulator: Emulator, payload: dict[str, Any], status: int = 200) -> ApiResponse:
    payload["time"] = envelope_time(emulator.clock.now())
    return ApiResponse(status, dumps(payload))


def dumps(payload: Any) -> bytes:
    """Compact JSON; orjson for speed (pages of 1,000 objects), json for what it refuses."""
    try:
        return orjson.dumps(payload)
    except TypeError:  # orjson.JSONEncodeError: e.g. an integer beyond 64 bits echoed back
        return json.dumps(payload, separators=(",", ":")).encode()


def fault_response(emulator: Emulator, fault: exc.FaultError) -> ApiResponse:
    return envelope(emulator, {"Fault": fault.fault()}, fault.status)


def handle(emulator: Emulator, request: ApiRequest) -> ApiResponse:
    """Dispatch one accounting call; faults become QBO's fault envelope."""
    try:
        books = emulator.books(request.realm_id)
        return _dispatch(emulator, books, request)
    except exc.FaultError as fault:
        return fault_response(emulator, fault)
    except Exception:  # an emulator bug still answers as QBO does: 500, SystemFault 10000
        logger.exception("unhandled error in %s /%s", request.method, "/".join(request.parts))
        return fault_response(emulator, exc.ServerError(500))


def request_kind(parts: list[str]) -> str:
    """Counter bucket of a call: query, cdc, batch, report, pdf, send, read or write."""
    head = parts[0].lower() if parts else ""
    if head in ("query", "cdc", "batch"):
        return head
    if head == "reports":
        return "report"
    if len(parts) == 3:
        return parts[2].lower()
    return "read" if len(parts) == 2 else "write"


def _dispatch(emulator: Emulator, books: Books, request: ApiRequest) -> ApiResponse:
    parts, method = request.parts, request.method
    head = parts[0].lower() if parts else ""
    if head == "query" and len(parts) == 1:
        text = request.params.get("query") if method == "GET" else request.text_body()
        if not text:
            raise exc.QueryParse('Encountered "<EOF>" at line 1, column 1. Was expecting: "select"')
        return envelope(emulator, {"QueryResponse": run_query_text(emulator, books, text)})
    if head == "cdc" and len(parts) == 1 and method == "GET":
        return envelope(emulator, {"CDCResponse": run_cdc(emulator, books, request.params)})
    if head == "batch" and len(parts) == 1 and method == "POST":
        items = run_batch(emulator, books, request.json_body())
        return envelope(emulator, {"BatchItemResponse": items})
    if head == "reports" and len(parts) == 2 and method == "GET":
        return _report(emulator, books, parts[1], request.params)
    if head == "preferences" and len(parts) == 1:
        return _singleton(emulator, books, "Preferences", request)
    if head == "companyinfo":
        if len(parts) == 2 and method == "GET" and parts[1] in (books.realm_id, "1"):
            return envelope(emulator, {"CompanyInfo": books.read("CompanyInfo", "1")})
        if len(parts) == 1:
            return _singleton(emulator, books, "CompanyInfo", request)
    if head == "exchangerate" and len(parts) == 1 and method == "GET":
        return _exchange_rate(emulator, books, request.params)
    et = BY_PATH.get(head)
    if et is None or et.kind == Kind.SINGLETON:
        raise exc.UnsupportedOperation(_path(request))
    if len(parts) == 1 and method == "POST":
        return _write(emulator, books, et.name, request)
    if len(parts) == 2 and method == "GET":
        return envelope(emulator, {et.name: books.read(et.name, valid_id(parts[1]))})
    if len(parts) == 3 and parts[2] == "pdf" and method == "GET" and head in PDF_SALES_FORMS:
        return _pdf(books, et.name, valid_id(parts[1]))
    if len(parts) == 3 and parts[2] == "send" and method == "POST" and head in PDF_SALES_FORMS:
        sent = books.send(et.name, valid_id(parts[1]), request.params.get("sendTo"))
        return envelope(emulator, {et.name: sent})
    raise exc.UnsupportedOperation(_path(request))


def _path(request: ApiRequest) -> str:
    return f"/v3/company/{request.realm_id}/" + "/".join(request.parts)


def _write(emulator: Emulator, books: Books, entity: str, request: ApiRequest) -> ApiResponse:
    payload = request.json_body()
    if not isinstance(payload, dict):
        raise exc.MalformedJson("the request body must be a JSON object")
    payload = payload.get(entity, payload) if set(payload) == {entity} else payload
    operation = request.params.get("operation", "").lower()
    include = request.params.get("include", "").lower()
    if operation == "delete":
        return envelope(emulator, {entity: books.delete(entity, payload)})
    if operation == "void" or (operation == "update" and include == "void"):
        return envelope(emulator, {entity: books.void(entity, payload)})
    if operation not in ("", "update", "create"):
        raise exc.UnsupportedOperation(f"{_path(request)}?operation={operation}")
    if operation == "update" or ("Id" in payload and operation != "create"):
        return envelope(emulator, {entity: books.update(entity, payload)})
    return envelope(emulator, {entity: books.create(entity, payload)})


def _singleton(emulator: Emulator, books: Books, entity: str, request: ApiRequest) -> ApiResponse:
    if request.method == "GET":
        return envelope(emulator, {entity: books.read(entity, "1")})
    payload = request.json_body()
    if not isinstance(payload, dict):
        raise exc.MalformedJson("the request body must be a JSON object")
    payload = {**payload, "Id": "1", "sparse": True}
    return envelope(emulator, {entity: books.update(entity, payload)})


def _exchange_rate(emulator: Emulator, books: Books, params: dict[str, str]) -> ApiResponse:
    source = params.get("sourcecurrencycode", "").upper()
    if not source:
        raise exc.RequiredParam("sourcecurrencycode")
    for rate in books.list("ExchangeRate"):
        if rate.get("SourceCurrencyCode") == source:
            return envelope(emulator, {"ExchangeRate": rate})
    raise exc.ObjectNotFound("ExchangeRate", source)


def _report(emulator: Emulator, books: Books, name: str, params: dict[str, str]) -> ApiResponse:
    info = books.read("CompanyInfo", "1")
    with books.lock:
        report = build_report(
            name,
            books.objects,
            params,
            today=books.today(),
            company_name=info["CompanyName"],
            home_currency=books.home_currency,
            now_text=meta_time(emulator.clock.now()),
        )
    return ApiResponse(200, dumps(report))


def _pdf(books: Books, entity: str, object_id: str) -> ApiResponse:
    document = books.read(entity, object_id)
    customer = books.objects["Customer"].get(document.get("CustomerRef", {}).get("value", ""))
    name = books.read("CompanyInfo", "1")["CompanyName"]
    return ApiResponse(
        200, render_invoice_pdf(document, company_name=name, customer=customer), "application/pdf"
    )
