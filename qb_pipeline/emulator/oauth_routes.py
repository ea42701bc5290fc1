"""Starlette routes for the emulated Intuit OAuth 2.0 / OpenID Connect endpoints.

Real: Intuit's own paths (``/connect/oauth2``, ``/oauth2/v1/tokens/bearer``,
``/v2/oauth2/tokens/revoke``, ``/.well-known/openid_configuration``, ``/op/v1/jwks``,
``/v1/openid_connect/userinfo``), the discovery document's keys and values with every URL moved
onto the emulator's own base URL (so ``intuitlib.client.AuthClient(environment=<discovery
URL>)`` works unchanged), client authentication by HTTP Basic or form fields, form-encoded token
requests, JSON or form revoke bodies, ``application/json;charset=UTF-8`` token answers with
``Cache-Control: no-store``, and an ``intuit_tid`` header on every response.
Faked: the authorize endpoint consents at once (no login, no company picker) and redirects
straight back; an emulator-only ``realm_id`` (or ``realmId``) query parameter picks the company,
else the first one. Bad ``client_id``/``redirect_uri`` answer a 400 page, never a redirect.
Not implemented: ``access_denied`` (no consent screen), ``prompt``/``claims`` parameters.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from qb_pipeline.emulator.oauth import OAuthServer
from qb_pipeline.emulator.oauth_records import KNOWN_SCOPES, OAuthError, redirect_uri_allowed

logger = logging.getLogger(__name__)

JSON_UTF8 = "application/json;charset=UTF-8"
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
JWKS_PATH = "/op/v1/jwks"
USERINFO_PATH = "/v1/openid_connect/userinfo"
ISSUER_PATH = "/op/v1"
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def new_intuit_tid() -> str:
    """A unique transaction id in Intuit's X-Ray style: ``1-<8 hex epoch>-<24 hex>``."""
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def discovery_document(base_url: str) -> dict[str, Any]:
    """Intuit's discovery document with every endpoint on ``base_url`` (no trailing slash)."""
    return {
        "issuer": base_url + ISSUER_PATH,
        "authorization_endpoint": base_url + AUTHORIZE_PATH,
        "token_endpoint": base_url + TOKEN_PATH,
        "userinfo_endpoint": base_url + USERINFO_PATH,
        "revocation_endpoint": base_url + REVOKE_PATH,
        "jwks_uri": base_url + JWKS_PATH,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


# -- response helpers ------------------------------------------------------------------------


def _with_tid(response: Response) -> Response:
    response.headers["intuit_tid"] = new_intuit_tid()
    return response


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return _with_tid(JSONResponse(body, status, headers=headers, media_type=JSON_UTF8))


def _oauth_error(exc: OAuthError) -> Response:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        scheme = "Bearer" if exc.error == "invalid_token" else "Basic"
        headers["WWW-Authenticate"] = f'{scheme} realm="Intuit", error="{exc.error}"'
    logger.info("OAuth request rejected: %s %s", exc.status, exc.error)
    return _json(exc.body(), exc.status, headers)


def _error_page(message: str) -> Response:
    """The 400 page for requests that must never be redirected (bad client or redirect URI)."""
    html = (
        "<!DOCTYPE html><html><head><title>Authorization error</title></head><body>"
        f"<h1>400 Bad Request</h1><p>{_html_escape(message)}</p></body></html>"
    )
    return _with_tid(HTMLResponse(html, status_code=400))


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _redirect(redirect_uri: str, params: dict[str, str | None]) -> Response:
    """302 to ``redirect_uri`` with ``params`` appended to its query (None values dropped)."""
    parts = urlsplit(redirect_uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    return _with_tid(RedirectResponse(location, status_code=302))


# -- request helpers -------------------------------------------------------------------------


def _oauth(request: Request) -> OAuthServer:
    return request.app.state.emulator.oauth


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _parse_form(raw: bytes) -> dict[str, str]:
    """First value of each field of a form-encoded body (no python-multipart needed)."""
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """client_secret_basic, else client_secret_post; malformed Basic -> invalid_client."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", status=401) from exc
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", status=401)
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


def _choose_realm(request: Request) -> str | None:
    """The emulator's ``realm_id``/``realmId`` query parameter if known, else its first realm."""
    realm_ids = list(request.app.state.emulator.realm_ids())
    wanted = request.query_params.get("realm_id") or request.query_params.get("realmId")
    if wanted is not None:
        return wanted if wanted in realm_ids else None
    return realm_ids[0] if realm_ids else None


# -- endpoints -------------------------------------------------------------------------------


async def authorize(request: Request) -> Response:
    """GET /connect/oauth2: validate, auto-consent, redirect back with code/state/realmId."""
    params = request.query_params
    client = _oauth(request).get_client(params.get("client_id", ""))
    redirect_uri = params.get("redirect_uri", "")
    if client is None:
        return _error_page("Unknown client_id: this app is not registered with the emulator.")
    if not redirect_uri or not redirect_uri_allowed(client, redirect_uri):
        return _error_page("The redirect_uri is not registered for this app.")
    state = params.get("state")
    if params.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
    scopes = tuple(params.get("scope", "").split())
    if not scopes or not set(scopes) <= KNOWN_SCOPES:
        return _redirect(redirect_uri, {"error": "invalid_scope", "state": state})
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method", "plain")
    if challenge is not None and (not challenge or method not in ("S256", "plain")):
        return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
    realm_id = _choose_realm(request)
    if realm_id is None:
        return _error_page("No such company in the emulator (realm_id).")
    code = _oauth(request).create_code(
        client.client_id,
        redirect_uri,
        scopes,
        realm_id,
        code_challenge=challenge,
        challenge_method=method,
    )
    return _redirect(redirect_uri, {"code": code, "state": state, "realmId": realm_id})


async def token(request: Request) -> Response:
    """POST /oauth2/v1/tokens/bearer: authorization_code and refresh_token grants."""
    oauth = _oauth(request)
    form = _parse_form(await request.body())
    include_hard = request.headers.get(HARD_EXPIRY_HEADER, "").strip().lower() == "true"
    try:
        client = oauth.authenticate_client(*_client_credentials(request, form))
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type == "authorization_code":
            body = oauth.exchange_code(
                client.client_id,
                form.get("code"),
                form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"),
                issuer=_base_url(request) + ISSUER_PATH,
                include_hard_expiry=include_hard,
            )
        elif grant_type == "refresh_token":
            body = oauth.refresh(client.client_id, form.get("refresh_token"), include_hard)
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as exc:
        return _oauth_error(exc)
    return _json(body, 200, _NO_STORE)


async def revoke(request: Request) -> Response:
    """POST /v2/oauth2/tokens/revoke: JSON or form ``token``; revokes the whole grant."""
    raw = await request.body()
    try:
        if "json" in request.headers.get("content-type", ""):
            payload = json.loads(raw or b"{}")
            if not isinstance(payload, dict):
                raise OAuthError("invalid_request", "body must be a JSON object")
            form = {k: str(v) for k, v in payload.items()}
        else:
            form = _parse_form(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _oauth_error(OAuthError("invalid_request", "body is not valid JSON"))
    except OAuthError as exc:
        return _oauth_error(exc)
    oauth = _oauth(request)
    try:
        client = oauth.authenticate_client(*_client_credentials(request, form))
        realm_id = oauth.revoke(client.client_id, form.get("token"))
    except OAuthError as exc:
        return _oauth_error(exc)
    logger.info("app disconnected from realm %s", realm_id)
    return _json({}, 200)


async def openid_configuration(request: Request) -> Response:
    """GET /.well-known/openid_(sandbox_)configuration on the emulator's own base URL."""
    return _json(discovery_document(_base_url(request)))


async def jwks(request: Request) -> Response:
    """GET /op/v1/jwks: the public key that signs id_tokens."""
    return _json(_oauth(request).jwks())


async def userinfo(request: Request) -> Response:
    """GET /v1/openid_connect/userinfo with a bearer access token."""
    try:
        claims = _oauth(request).userinfo(request.headers.get("authorization"))
    except OAuthError as exc:
        return _oauth_error(exc)
    return _json(claims)


ROUTES: list[Route] = [
    Route(AUTHORIZE_PATH, authorize, methods=["GET"]),
    Route(TOKEN_PATH, token, methods=["POST"]),
    Route(REVOKE_PATH, revoke, methods=["POST"]),
    Route(JWKS_PATH, jwks, methods=["GET"]),
    Route(USERINFO_PATH, userinfo, methods=["GET"]),
    *(
        Route(f"/.well-known/{name}{slash}", openid_configuration, methods=["GET"])
        for name in ("openid_configuration", "openid_sandbox_configuration")
        for slash in ("", "/")
    ),
]
