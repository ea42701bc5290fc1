"""The error tree of the QBO client: one exception per way a call can fail.

    QBOError                      realm, intuit_tid, code, detail, status, retryable
    ├── TransientError            5xx, timeouts, connection resets       (retryable)
    │   └── ThrottledError        429 / fault 3001; retry_after          (retryable)
    ├── AuthError                 401 that a refresh did not cure
    │   └── RealmDisconnected     invalid_grant: the grant is gone; pause the realm
    ├── ForbiddenError            403 / 3100: the app may not use this company
    └── RequestError              the request itself is wrong (never retried)
        ├── ValidationError       400 with the field (element): 2xxx, 4xxx query faults
        ├── StaleObjectError      5010: SyncToken out of date; re-read and re-apply
        ├── DuplicateError        6240 duplicate name, 6140 duplicate DocNumber
        ├── NotFoundError         610: missing, deleted or inactive object
        └── BusinessRuleError     6000 and other 6xxx business validation

``from_response`` maps a status plus QBO's fault body (JSON ``Fault``/``fault``, or the XML
QBO sometimes sends) to one of them. Messages never contain tokens or secrets.
"""

from __future__ import annotations

import json
import re
from typing import Any

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


class QBOError(Exception):
    """A failed QBO call. ``retryable`` says whether the same request may succeed later."""

    retryable = False

    def __init__(
        self,
        detail: str,
        *,
        realm_id: str = "",
        code: str = "",
        status: int = 0,
        intuit_tid: str = "",
        element: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.detail, self.realm_id, self.code, self.status = detail, realm_id, code, status
        self.intuit_tid, self.element, self.retry_after = intuit_tid, element, retry_after
        where = f"realm {realm_id}: " if realm_id else ""
        tag = f" [{code}]" if code else ""
        field = f" (field {element})" if element else ""
        super().__init__(f"{where}{detail}{tag}{field}")


class TransientError(QBOError):
    retryable = True


class ThrottledError(TransientError):
    pass


class AuthError(QBOError):
    pass


class RealmDisconnected(AuthError):
    """The realm's grant was revoked or expired (invalid_grant): reconnect it."""


class ForbiddenError(QBOError):
    pass


class RequestError(QBOError):
    pass


class ValidationError(RequestError):
    pass


class StaleObjectError(RequestError):
    pass


class DuplicateError(RequestError):
    pass


class NotFoundError(RequestError):
    pass


class BusinessRuleError(RequestError):
    pass


def _class_for(status: int, code: str) -> type[QBOError]:
    if status == 429 or code == "3001":
        return ThrottledError
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientError
    if status == 401:
        return AuthError
    if status == 403 or code in ("3100", "120"):
        return ForbiddenError
    if code == "5010":
        return StaleObjectError
    if code in ("6240", "6140"):
        return DuplicateError
    if code == "610":
        return NotFoundError
    if code.startswith("6"):
        return BusinessRuleError
    return ValidationError


def parse_fault(body: bytes) -> tuple[str, str, str]:
    """(code, detail, element) of the first error in a QBO fault body, JSON or XML."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("<"):
        code = re.search(r'code="(\d+)"', text)
        detail = re.search(r"<Detail>(.*?)</Detail>", text, re.S)
        message = re.search(r"<Message>(.*?)</Message>", text, re.S)
        found = detail or message
        return (code.group(1) if code else "", found.group(1).strip() if found else text[:200], "")
    try:
        data: Any = json.loads(text)
    except ValueError:
        return "", text[:200], ""
    fault = (data.get("Fault") or data.get("fault")) if isinstance(data, dict) else None
    errors = (fault or {}).get("Error") or (fault or {}).get("error") or []
    if not errors:
        if isinstance(data, dict) and "error" in data and isinstance(data["error"], str):
            return "", str(data.get("error_description") or data["error"]), ""
        return "", text[:200], ""
    first = errors[0]
    detail = (
        first.get("Detail") or first.get("detail") or first.get("Message") or first.get("message")
    )
    element = first.get("element") or ""
    return str(first.get("code", "")), str(detail or ""), str(element or "")


def from_response(
    status: int,
    body: bytes,
    *,
    realm_id: str = "",
    intuit_tid: str = "",
    retry_after: float | None = None,
) -> QBOError:
    """The exception for a non-success answer of QBO."""
    code, detail, element = parse_fault(body)
    cls = _class_for(status, code)
    return cls(
        detail or f"HTTP {status}",
        realm_id=realm_id,
        code=code,
        status=status,
        intuit_tid=intuit_tid,
        element=element,
        retry_after=retry_after,
    )
