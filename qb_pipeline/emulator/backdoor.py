"""The back door under /_emulator/: what tests, benchmarks and the demo use to steer the
emulator. Never part of QBO; nothing here is reachable under /v3.

GET /_emulator/realms                     realms with object counts
POST /_emulator/realms                    {realm_id?, name?, size?, seed?, multi_currency?}
DELETE /_emulator/realms/{realm}          drop a company (and its grants)
POST /_emulator/realms/{realm}/load       {directory}: QBO-shaped JSON files, one per entity
POST /_emulator/realms/{realm}/export     {directory?}: write files (or return them inline)
POST /_emulator/realms/{realm}/simulate   {days, seed?}: N more days of business from now;
                                          the clock then moves N days on, past all of it
POST /_emulator/realms/{realm}/tokens     {client_id?}: a grant without the browser dance
POST /_emulator/realms/{realm}/revoke     revoke every grant of the realm
GET  /_emulator/realms/{realm}/objects/{entity}[/{id}]   stored objects, as they are
GET  /_emulator/clock | POST /_emulator/clock/advance {seconds}
GET  /_emulator/stats | DELETE /_emulator/stats          request, throttle and OAuth counters
GET/PUT /_emulator/config/limits | /_emulator/config/faults
POST /_emulator/clients                   {client_id, client_secret, redirect_uris?}
GET  /_emulator/webhooks/outbox | POST /_emulator/webhooks/flush | PUT /_emulator/webhooks
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from qb_pipeline.emulator import exceptions as exc
from qb_pipeline.emulator.backend import Emulator
from qb_pipeline.emulator.config import OAuthClient
from qb_pipeline.emulator.entities import entity_type
from qb_pipeline.emulator.portable import export_directory, load_directory


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BackdoorError(400, f"malformed JSON: {error}") from None
    if not isinstance(body, dict):
        raise BackdoorError(400, "the body must be a JSON object")
    return body


class BackdoorError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _handled(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except BackdoorError as error:
            return JSONResponse({"error": error.message}, error.status)
        except exc.FaultError as fault:
            return JSONResponse({"error": fault.detail, "code": fault.code}, fault.status)
        except (ValueError, KeyError, TypeError, OSError) as error:
            return JSONResponse({"error": f"{type(error).__name__}: {error}"}, 400)

    return endpoint


def _realm(request: Request) -> str:
    realm_id = request.path_params["realm"]
    if realm_id not in _emulator(request).realms:
        raise BackdoorError(404, f"no realm {realm_id}")
    return realm_id


async def list_realms(request: Request) -> Response:
    em = _emulator(request)
    return JSONResponse(
        {
            r: {
                "name": em.realms[r].read("CompanyInfo", "1")["CompanyName"],
                "objects": em.realms[r].counts(),
            }
            for r in em.realm_ids()
        }
    )


async def create_realm(request: Request) -> Response:
    body = await _json(request)
    em = _emulator(request)
    realm_id = body.get("realm_id")
    if realm_id is not None and not str(realm_id).isdigit():
        raise BackdoorError(400, f"realm_id must be a string of digits, not {realm_id!r}")
    books = await run_in_threadpool(
        em.create_realm,
        str(realm_id) if realm_id is not None else None,
        name=str(body["name"]) if body.get("name") else None,
        size=body.get("size"),
        seed=int(body.get("seed", 0)),
        multi_currency=bool(body.get("multi_currency", False)),
    )
    return JSONResponse({"realm_id": books.realm_id, "objects": books.counts()}, 201)


async def delete_realm(request: Request) -> Response:
    _emulator(request).delete_realm(_realm(request))
    return JSONResponse({"deleted": request.path_params["realm"]})


async def load(request: Request) -> Response:
    body = await _json(request)
    books = _emulator(request).realms[_realm(request)]
    counts = await run_in_threadpool(load_directory, books, Path(body["directory"]))
    return JSONResponse({"loaded": counts})


async def export(request: Request) -> Response:
    body = await _json(request)
    books = _emulator(request).realms[_realm(request)]
    if body.get("directory"):
        counts = await run_in_threadpool(export_directory, books, Path(body["directory"]))
        return JSONResponse({"exported": counts})
    with books.lock:
        data = {name: list(objs.values()) for name, objs in books.objects.items() if objs}
    return JSONResponse(data)


async def simulate(request: Request) -> Response:
    body = await _json(request)
    em = _emulator(request)
    realm_id = _realm(request)
    from qb_pipeline.emulator.generator import simulate_days

    days = int(body.get("days", 1))
    if days < 1:
        raise BackdoorError(400, "days must be >= 1")
    truth = await run_in_threadpool(
        simulate_days,
        em.realms[realm_id],
        days=days,
        seed=int(body.get("seed", 1)),
        start=em.clock.now(),
    )
    return JSONResponse(
        {
            "realm_id": realm_id,
            "days": days,
            "objects": em.realms[realm_id].counts(),
            "anomalies": len(getattr(truth, "anomalies", [])),
        }
    )


async def tokens(request: Request) -> Response:
    body = await _json(request)
    em = _emulator(request)
    issuer = str(request.base_url).rstrip("/") + "/op/v1"
    grant = em.oauth.issue_tokens(_realm(request), body.get("client_id"), issuer=issuer)
    return JSONResponse({**grant, "realm_id": request.path_params["realm"]})


async def revoke(request: Request) -> Response:
    count = _emulator(request).oauth.revoke_realm(_realm(request))
    return JSONResponse({"revoked_grants": count})


async def objects(request: Request) -> Response:
    books = _emulator(request).realms[_realm(request)]
    et = entity_type(request.path_params["entity"])
    if et is None:
        raise BackdoorError(404, f"unknown entity {request.path_params['entity']}")
    object_id = request.path_params.get("object_id")
    with books.lock:
        if object_id is None:
            return JSONResponse(list(books.objects[et.name].values()))
        obj = books.objects[et.name].get(object_id)
        deleted = books.tombstones[et.name].get(object_id)
    if obj is None:
        raise BackdoorError(
            404, f"{et.name} {object_id} " + ("was deleted" if deleted else "not found")
        )
    return JSONResponse(obj)


async def clock(request: Request) -> Response:
    em = _emulator(request)
    if request.method == "POST":
        body = await _json(request)
        em.clock.advance(float(body.get("seconds", 0)) + 86400 * float(body.get("days", 0)))
    now: datetime = em.clock.now()
    return JSONResponse({"now": now.isoformat(), "offset_seconds": em.clock.offset_seconds})


async def stats(request: Request) -> Response:
    em = _emulator(request)
    if request.method == "DELETE":
        em.reset_stats()
    return JSONResponse(em.stats())


def _typed_setting(key: str, value: Any, type_name: str) -> Any:
    """A setting's new value, checked against its declared type (a wrong type is a 400)."""
    if value is None and "None" in type_name:
        return None
    base = type_name.split("|", maxsplit=1)[0].strip()
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if base == "bool" and isinstance(value, bool):
        return value
    if base == "int" and is_number and float(value).is_integer():
        return int(value)
    if base == "float" and is_number:
        return float(value)
    if base in ("bool", "int", "float"):
        raise BackdoorError(400, f"setting {key} must be {type_name}, not {value!r}")
    return value


def _config_endpoint(section: str) -> Any:
    async def endpoint(request: Request) -> Response:
        em = _emulator(request)
        target = getattr(em.config, section)
        if request.method == "PUT":
            body = await _json(request)
            types = {f.name: str(f.type) for f in dataclasses.fields(target)}
            unknown = set(body) - set(types)
            if unknown:
                raise BackdoorError(400, f"unknown {section} settings: {sorted(unknown)}")
            checked = {key: _typed_setting(key, value, types[key]) for key, value in body.items()}
            for key, value in checked.items():
                setattr(target, key, value)
            if section == "faults":
                em.faults.reseed()
        return JSONResponse(dataclasses.asdict(target))

    return endpoint


async def clients(request: Request) -> Response:
    body = await _json(request)
    client = OAuthClient(
        str(body["client_id"]),
        str(body["client_secret"]),
        list(body.get("redirect_uris", [])),
        str(body.get("webhook_verifier_token", "emulator-verifier-token")),
    )
    _emulator(request).oauth.register_client(client)
    return JSONResponse({"client_id": client.client_id}, 201)


async def webhooks(request: Request) -> Response:
    em = _emulator(request)
    if request.method == "PUT":
        config = em.webhooks.configure(**await _json(request))
        return JSONResponse(json.loads(json.dumps(dataclasses.asdict(config), default=str)))
    if request.url.path.endswith("/flush"):
        done = await run_in_threadpool(em.webhooks.flush, 10.0)
        return JSONResponse({"flushed": done})
    return JSONResponse(em.webhooks.outbox(request.query_params.get("realm_id")))


ROUTES = [
    Route("/realms", _handled(list_realms), methods=["GET"]),
    Route("/realms", _handled(create_realm), methods=["POST"]),
    Route("/realms/{realm}", _handled(delete_realm), methods=["DELETE"]),
    Route("/realms/{realm}/load", _handled(load), methods=["POST"]),
    Route("/realms/{realm}/export", _handled(export), methods=["POST"]),
    Route("/realms/{realm}/simulate", _handled(simulate), methods=["POST"]),
    Route("/realms/{realm}/tokens", _handled(tokens), methods=["POST"]),
    Route("/realms/{realm}/revoke", _handled(revoke), methods=["POST"]),
    Route("/realms/{realm}/objects/{entity}", _handled(objects), methods=["GET"]),
    Route("/realms/{realm}/objects/{entity}/{object_id}", _handled(objects), methods=["GET"]),
    Route("/clock", _handled(clock), methods=["GET"]),
    Route("/clock/advance", _handled(clock), methods=["POST"]),
    Route("/stats", _handled(stats), methods=["GET", "DELETE"]),
    Route("/config/limits", _handled(_config_endpoint("limits")), methods=["GET", "PUT"]),
    Route("/config/faults", _handled(_config_endpoint("faults")), methods=["GET", "PUT"]),
    Route("/clients", _handled(clients), methods=["POST"]),
    Route("/webhooks/outbox", _handled(webhooks), methods=["GET"]),
    Route("/webhooks/flush", _handled(webhooks), methods=["POST"]),
    Route("/webhooks", _handled(webhooks), methods=["PUT"]),
]
