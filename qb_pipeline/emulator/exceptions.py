"""QBO faults as exceptions, moto-style: one small class per fault with its code.

Real: the envelope ``{"Fault": {"Error": [{Message, Detail, code, element}], "type"}, "time"}``,
codes as strings, HTTP 400 for validation and business rules, 429 for throttling, and the
odd lower-case 401 body (see ``unauthorized_body``). Messages and details are the ones
recorded from real QBO where we have them (../shared/qbo/API_FACTS.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class FaultError(Exception):
    """One QBO fault: raised anywhere in the emulator, rendered by the app or by batch."""

    code: str
    message: str
    detail: str = ""
    element: str = ""
    fault_type: str = "ValidationFault"
    status: int = 400

    def __post_init__(self) -> None:
        super().__init__(f"{self.code} {self.message}: {self.detail}")

    def error_item(self) -> dict[str, Any]:
        return {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }

    def fault(self) -> dict[str, Any]:
        """The ``Fault`` object (without envelope), as batch items carry it."""
        return {"Error": [self.error_item()], "type": self.fault_type}


def ObjectNotFound(entity: str = "", object_id: str = "") -> FaultError:
    return FaultError(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees.",
    )


def StaleObject() -> FaultError:
    return FaultError(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and another user were working on this at the same time. "
        "The other user finished before you did, so your work was not saved.",
    )


def DuplicateName() -> FaultError:
    return FaultError(
        "6240",
        "Duplicate Name Exists Error",
        "The name supplied already exists. : Another customer, vendor or employee is already "
        "using this name. Please use a different name.",
    )


def DuplicateDocNumber(doc_number: str, txn_type: str, txn_id: str) -> FaultError:
    return FaultError(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number "
        f"has already been used. DocNumber={doc_number} is assigned to TxnType={txn_type} "
        f"with TxnId={txn_id}",
    )


def RequiredParam(name: str) -> FaultError:
    return FaultError(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        element=name,
    )


def UnknownProperty(entity: str, name: str) -> FaultError:
    return FaultError(
        "2010",
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.'
        f"{entity}), not marked as ignorable specified is unsupported or invalid",
        element=name,
    )


def InvalidId(value: str) -> FaultError:
    return FaultError(
        "2030",
        "Invalid ID",
        f"Id should be a valid number. Supplied value:{value}",
        element="Id",
    )


def InvalidReference(entity: str, value: str, element: str) -> FaultError:
    return FaultError(
        "2500",
        "Invalid Reference Id",
        f"Invalid Reference Id : {entity} assigned to this transaction has been deleted. "
        f"Before you can modify this transaction, you must restore {entity} "
        f"(Id={value}).",
        element=element,
    )


def BusinessRule(detail: str, code: str = "6000", element: str = "") -> FaultError:
    return FaultError(
        code,
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element=element,
    )


def InvalidValue(code: str, message: str, detail: str, element: str = "") -> FaultError:
    """2040-2240 family (invalid string, date, number, enumeration...)."""
    return FaultError(code, message, detail, element=element)


def UnsupportedOperation(path: str) -> FaultError:
    return FaultError(
        "500",
        "Unsupported Operation",
        f"Operation Could not find resource for relative : {path} of full path: {path} "
        "is not supported.",
    )


def QueryParse(detail: str) -> FaultError:
    return FaultError("4000", "Error parsing query", f"QueryParserError: {detail}")


def QueryValidation(detail: str) -> FaultError:
    return FaultError("4001", "Invalid query", f"QueryValidationError: {detail}")


def MalformedJson(detail: str) -> FaultError:
    return FaultError(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{detail} specified is unsupported or invalid",
    )


def BatchTooLarge(limit: int) -> FaultError:
    return FaultError(
        "1040",
        "Batch size exceeds allowed limit",
        f"Batch Request size exceeds allowed limit of {limit} items",
    )


def Throttled() -> FaultError:
    return FaultError(
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.  Try again later",
        fault_type="SERVICE",
        status=429,
    )


def Forbidden(realm_id: str) -> FaultError:
    return FaultError(
        "3100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        f"The application is not authorized to access company {realm_id}",
        fault_type="AuthorizationFault",
        status=403,
    )


def ServerError(status: int = 500) -> FaultError:
    return FaultError(
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your "
        "data. Please wait a few minutes and try again.",
        fault_type="SystemFault",
        status=status,
    )


def unauthorized_body(detail: str, epoch_millis: int) -> dict[str, Any]:
    """The 401 body: lower-case keys in a Java-bean wrapper, epoch-millis time (real, VCR)."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": epoch_millis,
        "status": None,
        "cdcresponse": [],
    }


THROTTLE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{time}">'
    '<Fault type="SERVICE"><Error code="3001">'
    "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    "<Detail>The request limit was reached.  Try again later</Detail>"
    "</Error></Fault></IntuitResponse>"
)
