"""QBOClient: one realm's QuickBooks Online Accounting API over httpx.

Every call sends ``minorversion`` and an ``Accept: application/json`` bearer request, takes a
slot of the realm's budget (``ratelimit``) for each HTTP attempt, and retries transient and
throttled failures (``retry``). Every write carries a ``requestid``: derived from the caller's
idempotency key when given (the same key always gives the same id, so a retried or re-run
write is replayed by QBO, never done twice), random otherwise. A 401 asks the token provider
for a new token once and tries once more; a second 401 is an :class:`AuthError`. A provider
raising :class:`RealmDisconnected` ends the call at once (no retry). Errors carry realm,
``intuit_tid``, fault code, detail and status; no token ever reaches a message or a log line.

Clients are cheap and thread-safe: by default they share one pooled ``httpx.Client`` and one
``RateLimiter`` per process, so many threads and many QBOClients of a realm share its budget.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx
import orjson

from qb_pipeline import settings
from qb_pipeline.qbo.batch import READ_OPERATIONS, BatchItem, BatchResult, batch_results
from qb_pipeline.qbo.entities import SALES_FORMS, VOID_BY_OPERATION, Entity, entity
from qb_pipeline.qbo.errors import (
    AuthError,
    QBOError,
    ThrottledError,
    TransientError,
    from_response,
    parse_fault,
)
from qb_pipeline.qbo.query import CDCResult, Query, QueryPage, cdc_result, entity_of, paginate
from qb_pipeline.qbo.ratelimit import CallKind, Priority, RateLimiter, default_limiter
from qb_pipeline.qbo.retry import (
    DEFAULT_POLICY,
    RetryPolicy,
    parse_retry_after,
    should_retry,
    wait_for,
)

if TYPE_CHECKING:
    from qb_pipeline.qbo.tokens import TokenProvider

logger = logging.getLogger(__name__)

USER_AGENT = "qb-pipeline/0.1 (+httpx)"
# Fixed namespace: the same idempotency key gives the same requestid in every process, forever.
REQUEST_ID_NAMESPACE = uuid.UUID("5c0b6b1e-4a51-4f43-9d3e-1a0b7e2c9f00")
_DIGITS = re.compile(r"^\d{1,20}$")
_TRANSIENT_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

__all__ = [
    "BatchItem",
    "BatchResult",
    "CDCResult",
    "QBOClient",
    "QueryPage",
    "answer_time",
    "request_id_for",
]


def request_id_for(idempotency_key: str, operation: str, entity_name: str) -> str:
    """The requestid of a write: uuid5 of (operation, entity, key), 36 characters (QBO allows
    50, and 36 in a batch). Operation and entity are mixed in so one upstream key can drive
    an invoice create and a payment create without the second replaying the first."""
    if not idempotency_key:
        raise ValueError("an idempotency key must not be empty")
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, f"{operation}:{entity_name}:{idempotency_key}"))


def _changed_since(value: datetime | str) -> str:
    """A CDC start as QBO takes it: ISO 8601 to the second, with its offset."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("changed_since needs a time zone")
    return value.isoformat(timespec="seconds")


def _request_id(idempotency_key: str | None, operation: str, entity_name: str) -> str:
    if idempotency_key is None:
        return str(uuid.uuid4())
    return request_id_for(idempotency_key, operation, entity_name)


_shared: tuple[int, httpx.Client] | None = None
_shared_lock = threading.Lock()


def shared_http_client() -> httpx.Client:
    """The process's pooled httpx.Client (a new one after a fork: sockets are not shared)."""
    global _shared  # noqa: PLW0603 - one connection pool per process is the point
    with _shared_lock:
        if _shared is None or _shared[0] != os.getpid():
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            _shared = (os.getpid(), httpx.Client(limits=limits, headers={"User-Agent": USER_AGENT}))
        return _shared[1]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot send a {type(value).__name__} to QBO")


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=_json_default, separators=(",", ":")).encode()


def _object_id(value: str | int) -> str:
    text = str(value)
    if not _DIGITS.match(text):
        raise ValueError(f"a QBO Id is a string of digits, not {text!r}")
    return text


@dataclass(frozen=True)
class _Call:
    """One logical API call (possibly sent several times)."""

    method: str
    path: str
    kind: CallKind
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str = ""
    accept: str = "application/json"
    request_id: str = ""
    priority: Priority | None = None


class QBOClient:
    """The Accounting API of one realm; thread-safe."""

    def __init__(
        self,
        realm_id: str,
        tokens: TokenProvider,
        *,
        base_url: str | None = None,
        minor_version: int = settings.MINOR_VERSION,
        limiter: RateLimiter | None = None,
        http: httpx.Client | None = None,
        timeout: float = settings.REQUEST_TIMEOUT_SECONDS,
        retry: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.realm_id = _object_id(realm_id)
        base = (
            base_url or settings.env(settings.ENV_QBO_BASE_URL) or settings.QBO_PRODUCTION_BASE_URL
        )
        self.base_url = base.rstrip("/")
        self._company = f"{self.base_url}/v3/company/{self.realm_id}"
        self._tokens = tokens
        self.minor_version = minor_version
        self.limiter = limiter or default_limiter()
        self._http = http or shared_http_client()
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._retry = retry
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"QBOClient(realm_id={self.realm_id!r}, base_url={self.base_url!r})"

    # -- objects ---------------------------------------------------------------------------
    def read(self, entity_name: str, object_id: str | int) -> dict[str, Any]:
        """One object by Id (NotFoundError when missing or deleted)."""
        e = entity(entity_name)
        call = _Call("GET", f"/{e.path}/{_object_id(object_id)}", CallKind.READ)
        return self._json(call)[e.key]

    def create(
        self, entity_name: str, obj: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create an object; the same ``idempotency_key`` never creates it twice."""
        e = entity(entity_name)
        return self._write(e, "create", dict(obj), (), idempotency_key)

    def update(
        self,
        entity_name: str,
        obj: Mapping[str, Any],
        *,
        sparse: bool = True,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Sparse (only the given fields) or full update; needs Id and the current SyncToken
        (StaleObjectError when another writer got there first)."""
        e = entity(entity_name)
        if "Id" not in obj or "SyncToken" not in obj:
            raise ValueError(f"updating a {e.name} needs its Id and SyncToken")
        body = {**obj, "sparse": sparse}
        return self._write(e, "update", body, (("operation", "update"),), idempotency_key)

    def delete(
        self,
        entity_name: str,
        object_id: str | int,
        sync_token: str | int,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Delete a transaction (name lists are deactivated by ``update(..., Active=False)``)."""
        e = entity(entity_name)
        if not e.deletable:
            raise ValueError(f"{e.name} cannot be deleted; deactivate it with Active: false")
        body = {"Id": _object_id(object_id), "SyncToken": str(sync_token)}
        return self._write(e, "delete", body, (("operation", "delete"),), idempotency_key)

    def void(
        self,
        entity_name: str,
        object_id: str | int,
        sync_token: str | int,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Void an invoice, payment, sales receipt or bill payment (amounts zeroed, kept)."""
        e = entity(entity_name)
        if not e.voidable:
            raise ValueError(f"{e.name} cannot be voided")
        body: dict[str, Any] = {"Id": _object_id(object_id), "SyncToken": str(sync_token)}
        params: tuple[tuple[str, str], ...] = (("operation", "void"),)
        if e.name not in VOID_BY_OPERATION:
            body["sparse"] = True
            params = (("operation", "update"), ("include", "void"))
        return self._write(e, "void", body, params, idempotency_key)

    def _write(
        self,
        e: Entity,
        operation: str,
        body: dict[str, Any],
        params: tuple[tuple[str, str], ...],
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        request_id = _request_id(idempotency_key, operation, e.name)
        call = _Call(
            "POST", f"/{e.path}", CallKind.WRITE, params, _dumps(body), "application/json",
            request_id=request_id,
        )  # fmt: skip
        return self._json(call)[e.key]

    # -- queries and change data capture ---------------------------------------------------
    def query(
        self,
        query: Query | str,
        *,
        page_size: int = settings.PAGE_SIZE,
        start_position: int = 1,
        max_rows: int | None = None,
    ) -> Iterator[QueryPage]:
        """Pages (<= 1,000 rows) of a query, fetched lazily one after the other."""
        return paginate(
            self._query_response,
            query,
            page_size=page_size,
            start_position=start_position,
            max_rows=max_rows,
        )

    def rows(self, query: Query | str, **paging: Any) -> Iterator[dict[str, Any]]:
        """Every row of a query, page after page."""
        for page in self.query(query, **paging):
            yield from page.rows

    def count(self, query: Query | str) -> int:
        """``SELECT COUNT(*)`` of a query (its paging and order ignored)."""
        if isinstance(query, Query):
            text = query.count_sql
        else:
            text = re.sub(r"(?i)^\s*SELECT\s+\*", "SELECT COUNT(*)", query, count=1)
            entity_of(text)
        return int(self._query_response(text).get("totalCount", 0))

    def _query_response(self, text: str) -> dict[str, Any]:
        call = _Call("GET", "/query", CallKind.QUERY, (("query", text),))
        return self._json(call).get("QueryResponse") or {}

    def cdc(self, entities: Iterable[str], changed_since: datetime | str) -> CDCResult:
        """Objects of ``entities`` changed since then (<= 30 days back; deletes as Ids)."""
        names = [entity(n) for n in entities]
        return cdc_result(self.cdc_envelope(names, changed_since), [e.name for e in names])

    def query_envelope(self, text: str) -> dict[str, Any]:
        """The whole answer to one query text: ``QueryResponse`` and the server's ``time``
        (see :func:`answer_time`), for callers that keep cursors in server time."""
        entity_of(text)
        return self._json(_Call("GET", "/query", CallKind.QUERY, (("query", text),)))

    def cdc_envelope(
        self, entities: Iterable[str | Entity], changed_since: datetime | str
    ) -> dict[str, Any]:
        """The whole CDC answer (delete stubs keep their ``MetaData``), with its ``time``."""
        names = [entity(n) if isinstance(n, str) else n for n in entities]
        refused = [e.name for e in names if not e.cdc]
        if refused or not names:
            raise ValueError(f"change data capture does not serve {refused or 'no entities'}")
        params = (
            ("entities", ",".join(e.name for e in names)),
            ("changedSince", _changed_since(changed_since)),
        )
        return self._json(_Call("GET", "/cdc", CallKind.CDC, params))

    def cdc_batch(
        self, requests: Sequence[tuple[Sequence[str], datetime | str]]
    ) -> tuple[list[BatchResult], dict[str, Any]]:
        """Up to 30 CDC queries, each ``(entities, changed_since)`` with its own start and its
        own 1,000-object cap, in one ``/batch`` call: each one's answer (``{"QueryResponse":
        [...]}``, as inside a ``/cdc`` answer's ``CDCResponse``) or the error QBO gave for it,
        and the whole answer (for its ``time``)."""
        items = [
            BatchItem.cdc(f"c{n}", list(names), _changed_since(since))
            for n, (names, since) in enumerate(requests)
        ]
        return self.batch_envelope(items)

    # -- batch -----------------------------------------------------------------------------
    def batch(
        self, items: Sequence[BatchItem], *, idempotency_key: str | None = None
    ) -> list[BatchResult]:
        """Up to 30 operations in one call; each item answers with its object or its error."""
        return self.batch_envelope(items, idempotency_key=idempotency_key)[0]

    def batch_envelope(
        self, items: Sequence[BatchItem], *, idempotency_key: str | None = None
    ) -> tuple[list[BatchResult], dict[str, Any]]:
        """``batch`` and the whole answer it came in (for the server's ``time``)."""
        if not 1 <= len(items) <= settings.BATCH_MAX_ITEMS:
            raise ValueError(f"a batch holds 1..{settings.BATCH_MAX_ITEMS} items, not {len(items)}")
        if len({item.bid for item in items}) != len(items):
            raise ValueError("batch item bIds must be unique")
        writes = any(item.operation not in READ_OPERATIONS for item in items)
        body = _dumps({"BatchItemRequest": [item.as_json() for item in items]})
        call = _Call(
            "POST", "/batch", CallKind.BATCH, (), body, "application/json",
            request_id=_request_id(idempotency_key, "batch", "Batch"),
            priority=Priority.WRITE if writes else Priority.READ,
        )  # fmt: skip
        response = self._send_with_retries(call)
        data = self._decode(response)
        return batch_results(data, items, self.realm_id, _tid(response)), data

    def query_batch(self, texts: Sequence[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Up to 30 query texts in one ``/batch`` call: each one's ``QueryResponse`` (rows or
        ``totalCount``), in order, and the whole answer (for its ``time``). The first item QBO
        refused is raised."""
        items = [BatchItem.select(f"q{n}", text) for n, text in enumerate(texts)]
        results, data = self.batch_envelope(items)
        answers = []
        for result in results:
            if isinstance(result.value, QBOError):
                raise result.value
            answers.append(result.value)
        return answers, data

    # -- reports, PDFs, e-mail -------------------------------------------------------------
    def report(self, name: str, **params: str | date) -> dict[str, Any]:
        """A report (``ProfitAndLoss``, ``AgedReceivables``, ...) as QBO's JSON."""
        if not re.fullmatch(r"[A-Za-z]+", name):
            raise ValueError(f"not a report name: {name!r}")
        pairs = tuple(
            (k, v.isoformat() if isinstance(v, date) else str(v)) for k, v in params.items()
        )
        return self._json(_Call("GET", f"/reports/{name}", CallKind.REPORT, pairs))

    def invoice_pdf(self, invoice_id: str | int, *, entity_name: str = "Invoice") -> bytes:
        """The PDF QBO renders for an invoice (or another sales form)."""
        e = entity(entity_name)
        if e.name not in SALES_FORMS:
            raise ValueError(f"QBO renders no PDF for {e.name}")
        call = _Call(
            "GET",
            f"/{e.path}/{_object_id(invoice_id)}/pdf",
            CallKind.READ,
            accept="application/pdf",
        )
        return self._send_with_retries(call).content

    def send(
        self,
        entity_name: str,
        object_id: str | int,
        *,
        send_to: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """E-mail a sales form (to ``send_to`` or its BillEmail); the object as sent."""
        e = entity(entity_name)
        if e.name not in SALES_FORMS:
            raise ValueError(f"QBO cannot e-mail a {e.name}")
        call = _Call(
            "POST", f"/{e.path}/{_object_id(object_id)}/send", CallKind.WRITE,
            (("sendTo", send_to),) if send_to else (), b"", "application/octet-stream",
            request_id=_request_id(idempotency_key, "send", e.name),
        )  # fmt: skip
        return self._json(call)[e.key]

    # -- transport -------------------------------------------------------------------------
    def _json(self, call: _Call) -> dict[str, Any]:
        return self._decode(self._send_with_retries(call))

    def _decode(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise QBOError(
                f"QBO answered HTTP {response.status_code} with a body that is not JSON",
                realm_id=self.realm_id,
                status=response.status_code,
                intuit_tid=_tid(response),
            ) from None
        if isinstance(data, dict) and ("Fault" in data or "fault" in data):
            raise from_response(
                response.status_code, response.content, realm_id=self.realm_id,
                intuit_tid=_tid(response),
            )  # fmt: skip
        return data

    def _send_with_retries(self, call: _Call) -> httpx.Response:
        """Send until success, a final error or the attempts run out; one re-auth on 401."""
        token, reauthorized, attempt = self._tokens.access_token(self.realm_id), False, 0
        while True:
            try:
                response = self._send_once(call, token)
                if response.status_code == 401 and not reauthorized:
                    reauthorized = True
                    logger.info(
                        "realm %s: 401 on %s; asking for a new token", self.realm_id, call.path
                    )
                    token = self._tokens.after_unauthorized(self.realm_id, token)
                    continue
                return self._checked(response)
            except QBOError as error:
                retry = should_retry(error, call.method, bool(call.request_id))
                if not retry or attempt + 1 >= self._retry.max_attempts:
                    raise
                self._back_off(call, error, attempt)
                attempt += 1
                token = self._tokens.access_token(self.realm_id)

    def _send_once(self, call: _Call, token: str) -> httpx.Response:
        params = [*call.params, ("minorversion", str(self.minor_version))]
        if call.request_id:
            params.append(("requestid", call.request_id))
        url = f"{self._company}{call.path}?{urlencode(params, quote_via=quote)}"
        headers = {"Authorization": f"Bearer {token}", "Accept": call.accept}
        if call.content_type:
            headers["Content-Type"] = call.content_type
        with self.limiter.acquire(self.realm_id, call.kind, call.priority):
            try:
                return self._http.request(
                    call.method, url, content=call.body, headers=headers, timeout=self._timeout
                )
            except httpx.TransportError as error:
                raise self._transport_error(error) from error

    def _transport_error(self, error: httpx.TransportError) -> QBOError:
        kind = type(error).__name__
        if isinstance(error, _TRANSIENT_TRANSPORT):
            return TransientError(f"{kind}: {error}", realm_id=self.realm_id)
        return QBOError(f"{kind}: {error}", realm_id=self.realm_id)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        if response.status_code == 401:  # the body may quote part of the token: not kept
            raise AuthError(
                "QBO refused the access token (HTTP 401), also after a refresh",
                realm_id=self.realm_id,
                code=parse_fault(response.content)[0],
                status=401,
                intuit_tid=_tid(response),
            )
        raise from_response(
            response.status_code,
            response.content,
            realm_id=self.realm_id,
            intuit_tid=_tid(response),
            retry_after=parse_retry_after(response.headers),
        )

    def _back_off(self, call: _Call, error: QBOError, attempt: int) -> None:
        delay = wait_for(error, attempt, self._retry)
        if isinstance(error, ThrottledError):
            self.limiter.pause(self.realm_id, delay)
        logger.warning(
            "realm %s: %s %s failed (%s %s, intuit_tid=%s); retry %d in %.2f s",
            self.realm_id, call.method, call.path, type(error).__name__, error.code or error.status,
            error.intuit_tid or "-", attempt + 1, delay,
        )  # fmt: skip
        self._sleep(delay)


def answer_time(envelope: Mapping[str, Any]) -> datetime | None:
    """The server's time of an answer: its envelope ``time`` (ISO 8601 with an offset, or epoch
    milliseconds on some faults) as an aware datetime; None when absent or unreadable."""
    value = envelope.get("time")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _tid(response: httpx.Response) -> str:
    return response.headers.get("intuit_tid", "")
