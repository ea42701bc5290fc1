"""The emulator's HTTP face: OAuth at Intuit's paths, the Accounting API, the back door.

Real: bearer check on every API call (401 with QBO's odd lower-case body and
``WWW-Authenticate``; 403/3100 for a token of another company), throttles answering 429 with
fault 3001 (JSON, or QBO's historical XML when configured), ``requestid`` replay (a repeat on
the same realm gets the original response and changes nothing), ``intuit_tid`` on every
response, ``minorversion`` accepted with any value (below 75 treated as 75, i.e. ignored).
Faked on purpose: injected latency, 5xx, 429 storms and dropped connections (faults.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from qb_pipeline.emulator import api
from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator import faults as fault_kinds
from qb_pipeline.emulator.backdoor import ROUTES as BACKDOOR_ROUTES
from qb_pipeline.emulator.backend import Emulator, Replay
from qb_pipeline.emulator.clock import envelope_time
from qb_pipeline.emulator.oauth_routes import ROUTES as OAUTH_ROUTES
from qb_pipeline.emulator.oauth_routes import new_intuit_tid

logger = logging.getLogger(__name__)

COMMON_HEADERS = {
    "Cache-Control": "max-age=0, no-cache, no-store, must-revalidate, private",
    "Expires": "0",
    "Qbo-Version": "1944.190",
}
GATEWAY_503 = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    b"<h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**COMMON_HEADERS, "intuit_tid": new_intuit_tid(), **(extra or {})}


def _send(resp: api.ApiResponse, extra: dict[str, str] | None = None) -> Response:
    return Response(resp.body, resp.status, headers=_headers(extra), media_type=resp.content_type)


def _throttled(emulator: Emulator) -> Response:
    extra = {}
    if emulator.config.limits.retry_after_seconds is not None:
        extra["Retry-After"] = str(emulator.config.limits.retry_after_seconds)
    if emulator.config.faults.xml_throttle:
        body = exc.THROTTLE_XML.format(time=envelope_time(emulator.clock.now())).encode()
        return Response(body, 429, headers=_headers(extra), media_type="application/xml")
    return _send(api.fault_response(emulator, exc.Throttled()), extra)


def _abort_connection(request: Request) -> Response:
    """Close the TCP connection with no response (the server's own send is in the scope)."""
    raw_send = request.scope.get("qb.raw_send")
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
    return Response(b"", 502)  # only seen where the server has no transport (in-process tests)


def _auth(emulator: Emulator, request: Request, realm_id: str) -> Response | None:
    if not emulator.config.require_auth:
        return None
    check = emulator.oauth.check_bearer(request.headers.get("authorization"), realm_id)
    if check.ok:
        return None
    if check.status == 401:
        body = exc.unauthorized_body(check.detail, int(emulator.clock.timestamp() * 1000))
        headers = _headers({"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})
        return JSONResponse(body, 401, headers=headers)
    return _send(api.fault_response(emulator, exc.Forbidden(realm_id)))


def _params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key:
            params.setdefault(key, value)
            params.setdefault(key.lower(), value)
    return params


async def accounting(request: Request) -> Response:
    """Every call under /v3/company/{realmId}/."""
    emulator: Emulator = request.app.state.emulator
    realm_id = request.path_params["realm_id"]
    parts = [p for p in request.path_params["rest"].split("/") if p]
    denied = _auth(emulator, request, realm_id)
    if denied is not None:
        return denied
    permit = emulator.limiter.acquire(realm_id, batch=parts[:1] == ["batch"])
    if permit is None:
        return _throttled(emulator)
    try:
        return await _admitted(emulator, request, realm_id, parts)
    finally:
        permit.release()


async def _admitted(
    emulator: Emulator, request: Request, realm_id: str, parts: list[str]
) -> Response:
    decision = emulator.faults.decide()
    if decision.latency_seconds > 0:
        await asyncio.sleep(decision.latency_seconds)
    injected = _injected(emulator, request, decision.action)
    if injected is not None:
        return injected
    params = _params(request)
    body = await request.body()
    request_id = params.get("requestid") if request.method == "POST" else None
    if request_id:
        replay = emulator.replay(realm_id, request_id)
        if replay is not None:
            emulator.count_request(realm_id, "replay")
            return Response(replay.body, replay.status, headers=_headers(replay.headers))
    headers = {k.lower(): v for k, v in request.headers.items()}
    call = api.ApiRequest(realm_id, request.method, parts, params, body, headers)
    result = api.handle(emulator, call)
    emulator.count_request(realm_id, api.request_kind(parts))
    if request_id:
        emulator.remember(
            realm_id,
            request_id,
            Replay(result.status, result.body, {"Content-Type": result.content_type}),
        )
    if decision.action == fault_kinds.DROP_AFTER:
        return _abort_connection(request)
    return _send(result)


def _injected(emulator: Emulator, request: Request, action: str) -> Response | None:
    if action == fault_kinds.THROTTLE:
        return _throttled(emulator)
    if action == fault_kinds.ERROR_500:
        return _send(api.fault_response(emulator, exc.ServerError(500)))
    if action == fault_kinds.ERROR_503:
        return Response(GATEWAY_503, 503, headers=_headers(), media_type="text/html")
    if action == fault_kinds.DROP:
        return _abort_connection(request)
    return None


async def not_found(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    fault = exc.UnsupportedOperation(request.url.path)
    return _send(api.fault_response(emulator, fault))


class RawSendInScope:
    """Outermost ASGI layer: keeps the server's own ``send`` so a fault can drop the socket."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["qb.raw_send"] = send
        await self.app(scope, receive, send)


def build_app(emulator: Emulator) -> RawSendInScope:
    routes = [
        *OAUTH_ROUTES,
        Route("/v3/company/{realm_id}/{rest:path}", accounting, methods=["GET", "POST"]),
        Mount("/_emulator", routes=BACKDOOR_ROUTES),
        Route(
            "/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        ),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = emulator
    return RawSendInScope(app)
