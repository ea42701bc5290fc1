"""Intuit OAuth 2.0 / OpenID Connect as a state machine: codes, grants, tokens. No HTTP here.

Real (API_FACTS section 6): confidential clients authenticated by secret; single-use auth
codes; token responses ``{"token_type":"bearer","expires_in":3600,"refresh_token",
"x_refresh_token_expires_in","access_token"}`` plus ``x_refresh_token_hard_expires_in`` on
request and an RS256 ``id_token`` only with the ``openid`` scope; refresh tokens valid on a
rolling 100-day window with a five-year hard cap; error bodies ``invalid_grant``,
``invalid_client``, ``unsupported_grant_type``, ``invalid_request``; revoking either token of
a grant disconnects the app; re-using an auth code fails and revokes what it issued.
Faked: tokens are opaque random strings shaped like Intuit's (JWE-looking access tokens,
``AB11...`` refresh tokens); consent is automatic; the user behind a grant is synthetic.
Emulator choices: the refresh token rotates on every refresh and the old one dies at once
(the strict end of Intuit's "changes every 24 h" behaviour); PKCE (S256 or plain) is honoured
when a client sends ``code_challenge`` (Intuit does not document it). The ``id_token`` is
issued on the code exchange only, with times from the emulator clock (intuit-oauth checks
``exp``/``iat`` against the real wall clock, so once the back door has moved the clock by more
than an hour it silently drops the id_token; access and refresh tokens are unaffected).
Not implemented: ``access_denied`` (there is no consent screen), scope-dependent API access,
OAuth 1.0 migration.

Counters per realm (for the back door): ``token_requests`` (token-endpoint calls that name a
known code or refresh token of the realm), ``authorization_code_exchanges`` and ``refreshes``
(successful ones), ``invalid_grants``, ``revocations`` (grants revoked, by any path).
Records, token shapes and small checks live in ``oauth_records``; HTTP in ``oauth_routes``.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from qb_pipeline.emulator.clock import Clock
from qb_pipeline.emulator.config import EmulatorConfig, OAuthClient
from qb_pipeline.emulator.jwt import RsaSigner
from qb_pipeline.emulator.oauth_records import (
    AUTH_CODE_TTL,
    COUNTER_NAMES,
    EXPIRED_TOKEN_MEMORY,
    ID_TOKEN_TTL,
    MAX_BEARER_LENGTH,
    MIN_BEARER_LENGTH,
    AccessTokenRecord,
    AuthCode,
    BearerCheck,
    Grant,
    OAuthError,
    invalid_grant,
    new_access_token,
    new_auth_code,
    new_refresh_token,
    pkce_matches,
    user_claims,
)

logger = logging.getLogger(__name__)


@dataclass
class _State:
    """Everything the server remembers; guarded by ``OAuthServer._lock``."""

    clients: dict[str, OAuthClient] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_index: dict[str, str] = field(default_factory=dict)  # live refresh token -> grant
    retired_refresh: dict[str, str] = field(default_factory=dict)  # rotated away -> grant
    access: dict[str, AccessTokenRecord] = field(default_factory=dict)
    access_order: deque[tuple[float, str]] = field(default_factory=deque)
    counters: dict[str, Counter[str]] = field(default_factory=dict)


class OAuthServer:
    """Thread-safe OAuth state: clients, auth codes, grants, access tokens, counters."""

    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.signer = RsaSigner()
        self._lock = threading.Lock()
        self._state = _State(clients={c.client_id: c for c in config.clients})

    # -- clients -------------------------------------------------------------------------

    def register_client(self, client: OAuthClient) -> None:
        """Add or replace an app (back door)."""
        with self._lock:
            self._state.clients[client.client_id] = client

    def get_client(self, client_id: str) -> OAuthClient | None:
        with self._lock:
            return self._state.clients.get(client_id)

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> OAuthClient:
        """The client whose secret matches, else ``401 invalid_client``."""
        client = self.get_client(client_id or "")
        if client is None or not secrets.compare_digest(
            client.client_secret.encode(), (client_secret or "").encode()
        ):
            raise OAuthError("invalid_client", status=401)
        return client

    # -- authorization codes -------------------------------------------------------------

    def create_code(
        self,
        client_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        realm_id: str,
        *,
        code_challenge: str | None = None,
        challenge_method: str = "plain",
    ) -> str:
        """Record consent and return a single-use authorization code (the caller validated)."""
        now = self.clock.timestamp()
        code = new_auth_code()
        with self._lock:
            self._prune_codes(now)
            self._state.codes[code] = AuthCode(
                client_id,
                redirect_uri,
                realm_id,
                scopes,
                now + AUTH_CODE_TTL,
                code_challenge,
                challenge_method,
            )
        return code

    def _prune_codes(self, now: float) -> None:
        stale = [c for c, rec in self._state.codes.items() if rec.expires_at + AUTH_CODE_TTL < now]
        for code in stale:
            del self._state.codes[code]

    # -- token endpoint ------------------------------------------------------------------

    def exchange_code(
        self,
        client_id: str,
        code: str | None,
        redirect_uri: str | None,
        *,
        code_verifier: str | None = None,
        issuer: str | None = None,
        include_hard_expiry: bool = False,
    ) -> dict[str, Any]:
        """``grant_type=authorization_code``: a new grant and its first tokens."""
        if not code or not redirect_uri:
            raise OAuthError("invalid_request", "code and redirect_uri are required")
        now = self.clock.timestamp()
        with self._lock:
            record = self._state.codes.get(code)
            if record is None or record.client_id != client_id:
                raise invalid_grant()
            self._count(record.realm_id, "token_requests")
            self._check_code(record, redirect_uri, code_verifier, now)
            grant = self._new_grant(client_id, record.realm_id, record.scopes, now)
            record.grant_id = grant.grant_id
            self._count(record.realm_id, "authorization_code_exchanges")
            id_token = self._id_token(grant, issuer, now) if "openid" in grant.scopes else None
            return self._issue(grant, now, include_hard_expiry, id_token)

    def _check_code(
        self, record: AuthCode, redirect_uri: str, verifier: str | None, now: float
    ) -> None:
        if record.grant_id is not None:  # re-use: Intuit kills what the code issued
            self._revoke_grant(self._state.grants[record.grant_id])
            self._count(record.realm_id, "invalid_grants")
            raise invalid_grant()
        if now >= record.expires_at or record.redirect_uri != redirect_uri:
            self._count(record.realm_id, "invalid_grants")
            raise invalid_grant()
        if record.code_challenge is not None and not (
            verifier and pkce_matches(verifier, record.code_challenge, record.challenge_method)
        ):
            self._count(record.realm_id, "invalid_grants")
            raise invalid_grant("Invalid code_verifier")

    def refresh(
        self, client_id: str, refresh_token: str | None, include_hard_expiry: bool = False
    ) -> dict[str, Any]:
        """``grant_type=refresh_token``: rotate the refresh token, mint a new access token."""
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required")
        now = self.clock.timestamp()
        with self._lock:
            grant_id = self._state.refresh_index.get(refresh_token) or (
                self._state.retired_refresh.get(refresh_token)
            )
            grant = self._state.grants.get(grant_id or "")
            if grant is None or grant.client_id != client_id:
                raise invalid_grant("Incorrect or invalid refresh token")
            self._count(grant.realm_id, "token_requests")
            if grant.refresh_token != refresh_token or not grant.live(now):
                self._count(grant.realm_id, "invalid_grants")
                raise invalid_grant("Incorrect or invalid refresh token")
            self._count(grant.realm_id, "refreshes")
            return self._issue(grant, now, include_hard_expiry)

    def revoke(self, client_id: str, token: str | None) -> str:
        """Revoke the grant behind a refresh or access token; returns its realm id."""
        if not token:
            raise OAuthError("invalid_request", "token is required")
        with self._lock:
            grant = self._grant_for_revoke(token)
            if grant is None or grant.client_id != client_id:
                raise OAuthError("invalid_token", "Token invalid")
            self._revoke_grant(grant)
            return grant.realm_id

    def _grant_for_revoke(self, token: str) -> Grant | None:
        """The grant a live token belongs to; a revoked grant's tokens revoke idempotently."""
        state = self._state
        if token in state.refresh_index:
            return state.grants[state.refresh_index[token]]
        if token in state.access:
            return state.grants[state.access[token].grant_id]
        grant = state.grants.get(state.retired_refresh.get(token, ""))
        return grant if grant is not None and grant.revoked else None

    # -- resource side -------------------------------------------------------------------

    def check_bearer(self, authorization_header: str | None, realm_id: str | None) -> BearerCheck:
        """Decide an API call's auth: ok, 401 (with the QBO detail) or 403 (other realm)."""
        scheme, _, token = (authorization_header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return BearerCheck(401, "Invalid token")
        if not MIN_BEARER_LENGTH <= len(token) <= MAX_BEARER_LENGTH:
            return BearerCheck(401, "Malformed bearer token: too short or too long")
        now = self.clock.timestamp()
        with self._lock:
            record = self._state.access.get(token)
            grant = self._state.grants.get(record.grant_id) if record else None
            if record is None or grant is None:
                return BearerCheck(401, "Invalid token")
            return _verdict(grant, record, token, realm_id, now)

    def userinfo(self, authorization_header: str | None) -> dict[str, Any]:
        """OpenID UserInfo for a live access token (fields by granted scope)."""
        verdict = self.check_bearer(authorization_header, None)
        if not verdict.ok:
            raise OAuthError("invalid_token", verdict.detail, status=401)
        token = (authorization_header or "").strip().partition(" ")[2].strip()
        with self._lock:
            grant = self._state.grants[self._state.access[token].grant_id]
        return user_claims(grant)

    # -- back door -----------------------------------------------------------------------

    def issue_tokens(
        self,
        realm_id: str,
        client_id: str | None = None,
        scopes: tuple[str, ...] = ("com.intuit.quickbooks.accounting",),
        issuer: str | None = None,
    ) -> dict[str, Any]:
        """A grant without the browser dance (tests, demo); same shape as the token endpoint."""
        now = self.clock.timestamp()
        with self._lock:
            if client_id is None:
                client_id = next(iter(self._state.clients), None)
            if client_id is None or client_id not in self._state.clients:
                raise KeyError(f"unknown OAuth client {client_id!r}")
            grant = self._new_grant(client_id, realm_id, tuple(scopes), now)
            id_token = self._id_token(grant, issuer, now) if "openid" in scopes else None
            return self._issue(grant, now, False, id_token)

    def revoke_realm(self, realm_id: str) -> int:
        """Kill every grant of a realm (the user disconnected the app); returns how many."""
        with self._lock:
            grants = [
                g for g in self._state.grants.values() if g.realm_id == realm_id and not g.revoked
            ]
            for grant in grants:
                self._revoke_grant(grant)
        return len(grants)

    def counters(self, realm_id: str) -> dict[str, int]:
        with self._lock:
            counts = self._state.counters.get(realm_id, Counter())
            return {name: counts[name] for name in COUNTER_NAMES}

    def connected_realms(self) -> set[str]:
        """Realms with at least one live grant (refresh token neither revoked nor expired)."""
        now = self.clock.timestamp()
        with self._lock:
            return {g.realm_id for g in self._state.grants.values() if g.live(now)}

    def jwks(self) -> dict[str, Any]:
        return self.signer.jwks()

    # -- internals (call with the lock held) ---------------------------------------------

    def _count(self, realm_id: str, name: str) -> None:
        self._state.counters.setdefault(realm_id, Counter())[name] += 1

    def _new_grant(
        self, client_id: str, realm_id: str, scopes: tuple[str, ...], now: float
    ) -> Grant:
        grant = Grant(
            grant_id=uuid.uuid4().hex,
            client_id=client_id,
            realm_id=realm_id,
            scopes=scopes,
            sub=str(uuid.uuid5(uuid.NAMESPACE_URL, f"qbo-emulator-user:{realm_id}")),
            auth_time=now,
            hard_expires_at=now + self.config.refresh_token_hard_ttl,
        )
        self._state.grants[grant.grant_id] = grant
        logger.info("new OAuth grant for realm %s (client %s)", realm_id, client_id)
        return grant

    def _issue(
        self, grant: Grant, now: float, include_hard: bool, id_token: str | None = None
    ) -> dict[str, Any]:
        """Rotate the grant's refresh token, mint an access token, shape the response."""
        if grant.refresh_token:
            del self._state.refresh_index[grant.refresh_token]
            self._state.retired_refresh[grant.refresh_token] = grant.grant_id
        grant.refresh_token = new_refresh_token(now)
        grant.refresh_expires_at = min(now + self.config.refresh_token_ttl, grant.hard_expires_at)
        self._state.refresh_index[grant.refresh_token] = grant.grant_id
        access_token = new_access_token()
        expires_at = now + self.config.access_token_ttl
        self._state.access[access_token] = AccessTokenRecord(grant.grant_id, expires_at)
        self._state.access_order.append((expires_at, access_token))
        self._prune_access(now)
        response: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": self.config.access_token_ttl,
            "refresh_token": grant.refresh_token,
            "x_refresh_token_expires_in": round(grant.refresh_expires_at - now),
            "access_token": access_token,
        }
        if include_hard:
            response["x_refresh_token_hard_expires_in"] = round(grant.hard_expires_at - now)
        if id_token is not None:
            response["id_token"] = id_token
        return response

    def _prune_access(self, now: float) -> None:
        order = self._state.access_order
        while order and order[0][0] + EXPIRED_TOKEN_MEMORY < now:
            self._state.access.pop(order.popleft()[1], None)

    def _revoke_grant(self, grant: Grant) -> None:
        if grant.revoked:
            return
        grant.revoked = True
        self._state.refresh_index.pop(grant.refresh_token, None)
        self._state.retired_refresh[grant.refresh_token] = grant.grant_id
        self._count(grant.realm_id, "revocations")
        logger.info("OAuth grant revoked for realm %s (client %s)", grant.realm_id, grant.client_id)

    def _id_token(self, grant: Grant, issuer: str | None, now: float) -> str | None:
        if issuer is None:
            return None
        claims = {
            "sub": grant.sub,
            "aud": [grant.client_id],
            "realmid": grant.realm_id,
            "auth_time": int(grant.auth_time),
            "iss": issuer,
            "exp": int(now) + ID_TOKEN_TTL,
            "iat": int(now),
        }
        return self.signer.sign(claims)


def _verdict(
    grant: Grant, record: AccessTokenRecord, token: str, realm_id: str | None, now: float
) -> BearerCheck:
    """The bearer verdict for a known access token."""
    if grant.revoked:
        return BearerCheck(401, "Token revoked", grant.realm_id, grant.client_id)
    if now >= record.expires_at:
        return BearerCheck(401, f"Token expired: {token[:20]}...", grant.realm_id, grant.client_id)
    if realm_id is not None and realm_id != grant.realm_id:
        detail = f"The application is not authorized to access company {realm_id}"
        return BearerCheck(403, detail, grant.realm_id, grant.client_id)
    return BearerCheck(200, "", grant.realm_id, grant.client_id)
