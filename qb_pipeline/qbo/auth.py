"""The OAuth 2.0 app: authorization URL (state, optional PKCE S256), code exchange, refresh, revoke.

Endpoints come from settings or the OpenID discovery document, so Intuit and the local emulator
differ only by configuration. Token calls authenticate with HTTP Basic (client_secret_basic), post
form fields and ask for the hard-expiry field (``x-include-refresh-token-hard-expires-in``).

Errors: ``invalid_grant`` -> :class:`RealmDisconnected` (the grant is gone: reconnect);
``invalid_client`` -> :class:`AuthError` naming the settings to check; 5xx, 429 and network
failures -> :class:`TransientError`. No token, secret or code reaches a message, log line or repr.
``BearerTokenAuth`` plugs a TokenProvider into httpx (after a 401: refresh once, retry once).
The loopback callback listener used by ``qb-pipeline connect`` lives in ``qbo.loopback``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from qb_pipeline import settings
from qb_pipeline.qbo.errors import AuthError, RealmDisconnected, TransientError, from_response

if TYPE_CHECKING:
    from qb_pipeline.qbo.tokens import TokenProvider

logger = logging.getLogger(__name__)

HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
TOKEN_TIMEOUT_SECONDS = 30.0
_TRUE = frozenset({"1", "true", "yes", "on"})


class OAuthConfigError(ValueError):
    """OAuth settings are missing or wrong (names the setting, never its value)."""


class StateMismatch(AuthError):
    """The callback's ``state`` is not the one this app sent: a forged or stale callback."""


@dataclass(frozen=True)
class OAuthEndpoints:
    """Where the OAuth server lives."""

    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str

    @classmethod
    def from_discovery(cls, document: Mapping[str, Any], source: str = "") -> OAuthEndpoints:
        """Read the three endpoints from an OpenID discovery document."""
        names = ("authorization_endpoint", "token_endpoint", "revocation_endpoint")
        missing = [name for name in names if not document.get(name)]
        if missing:
            raise OAuthConfigError(f"discovery document {source} lacks {', '.join(missing)}")
        return cls(*(str(document[name]) for name in names))


@dataclass(frozen=True)
class AuthorizationRequest:
    """One authorization attempt: the URL to open and what the callback must match."""

    url: str
    state: str = field(repr=False)
    code_verifier: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TokenSet:
    """Tokens of one realm with absolute (aware UTC) expiries. Its repr hides the tokens."""

    realm_id: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None = None
    refresh_hard_expires_at: datetime | None = None
    scopes: str = ""
    id_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_response(
        cls, body: Mapping[str, Any], realm_id: str, now: datetime, scopes: str = ""
    ) -> TokenSet:
        """A token endpoint answer, with ``expires_in`` fields turned into times from ``now``."""
        try:
            access, refresh = str(body["access_token"]), str(body["refresh_token"])
            access_in = float(body.get("expires_in", 3600))
        except (KeyError, TypeError, ValueError) as exc:
            missing = "token response lacks access_token/refresh_token"
            raise AuthError(missing, realm_id=realm_id) from exc
        return cls(
            realm_id=realm_id,
            access_token=access,
            refresh_token=refresh,
            access_expires_at=now + timedelta(seconds=access_in),
            refresh_expires_at=_after(now, body.get("x_refresh_token_expires_in")),
            refresh_hard_expires_at=_after(now, body.get("x_refresh_token_hard_expires_in")),
            scopes=scopes,
            id_token=body.get("id_token"),
        )


def _after(now: datetime, seconds: Any) -> datetime | None:
    try:
        return None if seconds is None else now + timedelta(seconds=float(seconds))
    except (TypeError, ValueError):
        return None


def utc_now() -> datetime:
    """Aware UTC now (the default clock)."""
    return datetime.now(UTC)


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``(code_verifier, S256 code_challenge)`` pair (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthApp:
    """A confidential OAuth client of Intuit (or the emulator). Thread-safe."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        discovery_url: str | None = None,
        endpoints: OAuthEndpoints | None = None,
        use_pkce: bool = False,
        http: httpx.Client | None = None,
        scopes: tuple[str, ...] = (settings.ACCOUNTING_SCOPE,),
    ) -> None:
        if endpoints is None and not discovery_url:
            raise OAuthConfigError("OAuthApp needs endpoints or a discovery_url")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.discovery_url = discovery_url
        self.use_pkce = use_pkce
        self.scopes = scopes
        self._endpoints = endpoints
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=TOKEN_TIMEOUT_SECONDS)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, *, redirect_uri: str | None = None, http: httpx.Client | None = None
    ) -> OAuthApp:
        """The app configured by QB_CLIENT_ID, QB_CLIENT_SECRET, QB_REDIRECT_URI, QB_DISCOVERY_URL
        (default: Intuit's production document) and QB_USE_PKCE."""
        required = [settings.ENV_CLIENT_ID, settings.ENV_CLIENT_SECRET]
        if redirect_uri is None:
            required.append(settings.ENV_REDIRECT_URI)
        missing = [name for name in required if not settings.env(name)]
        if missing:
            raise OAuthConfigError(
                f"missing OAuth setting(s): {', '.join(missing)} (set the environment variables)"
            )
        return cls(
            str(settings.env(settings.ENV_CLIENT_ID)),
            str(settings.env(settings.ENV_CLIENT_SECRET)),
            redirect_uri or str(settings.env(settings.ENV_REDIRECT_URI)),
            discovery_url=settings.env(settings.ENV_DISCOVERY_URL) or settings.INTUIT_DISCOVERY_URL,
            use_pkce=(settings.env(settings.ENV_USE_PKCE) or "").strip().lower() in _TRUE,
            http=http,
        )

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"

    def close(self) -> None:
        """Close the HTTP client if this app created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> OAuthApp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def endpoints(self) -> OAuthEndpoints:
        """The configured endpoints, else those of the discovery document (fetched once)."""
        with self._lock:
            if self._endpoints is None:
                self._endpoints = self._discover()
            return self._endpoints

    def _discover(self) -> OAuthEndpoints:
        url = str(self.discovery_url)
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise TransientError(f"discovery document unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise OAuthConfigError(f"discovery document {url} answered HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError as exc:
            raise OAuthConfigError(f"discovery document {url} is not JSON") from exc
        logger.info("OAuth endpoints from discovery document %s", url)
        return OAuthEndpoints.from_discovery(document, url)

    # -- authorization code flow ---------------------------------------------------------------

    def authorization_url(self, realm_hint: str | None = None) -> AuthorizationRequest:
        """A fresh authorization request. ``realm_hint`` is the emulator's company picker."""
        state = secrets.token_urlsafe(24)
        params = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": " ".join(self.scopes),
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        verifier = None
        if self.use_pkce:
            verifier, challenge = pkce_pair()
            params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
        if realm_hint:
            params["realm_id"] = realm_hint
        url = f"{self.endpoints.authorization_endpoint}?{urlencode(params)}"
        return AuthorizationRequest(url, state, verifier)

    def exchange_code(
        self,
        request: AuthorizationRequest,
        callback_params: Mapping[str, str],
        *,
        now: datetime | None = None,
    ) -> TokenSet:
        """Check the callback against ``request`` (state) and trade its code for tokens."""
        if callback_params.get("error"):
            raise AuthError(f"authorization was not granted: {callback_params['error']}")
        if not secrets.compare_digest(
            str(callback_params.get("state", "")).encode(), request.state.encode()
        ):
            raise StateMismatch(
                "OAuth state mismatch: the callback does not answer this authorization request"
            )
        code, realm_id = callback_params.get("code"), callback_params.get("realmId", "")
        if not code or not realm_id:
            raise AuthError("the callback lacks the authorization code or realmId")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        if request.code_verifier:
            form["code_verifier"] = request.code_verifier
        body = self._token_call(form, realm_id, exchange=True)
        logger.info("authorization code exchanged for realm %s", realm_id)
        return TokenSet.from_response(body, realm_id, now or utc_now(), " ".join(self.scopes))

    def refresh(
        self, refresh_token: str, *, realm_id: str = "", now: datetime | None = None
    ) -> TokenSet:
        """New tokens for a refresh token; the answer's refresh token replaces the old one."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        body = self._token_call(form, realm_id, exchange=False)
        logger.info("access token refreshed for realm %s", realm_id or "?")
        return TokenSet.from_response(body, realm_id, now or utc_now(), " ".join(self.scopes))

    def revoke(self, token: str, *, realm_id: str = "") -> None:
        """Revoke the grant behind a refresh (or access) token: the app is disconnected."""
        try:
            response = self._http.post(
                self.endpoints.revocation_endpoint,
                json={"token": token},
                auth=(self.client_id, self._client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise TransientError(
                f"revocation endpoint unreachable ({type(exc).__name__})", realm_id=realm_id
            ) from exc
        if response.status_code != 200:
            raise _token_error(response, realm_id, exchange=False)
        logger.info("OAuth grant revoked for realm %s", realm_id or "?")

    def _token_call(self, form: dict[str, str], realm_id: str, *, exchange: bool) -> dict[str, Any]:
        """POST to the token endpoint; the JSON answer or the mapped error."""
        try:
            response = self._http.post(
                self.endpoints.token_endpoint,
                data=form,
                auth=(self.client_id, self._client_secret),
                headers={"Accept": "application/json", HARD_EXPIRY_HEADER: "true"},
            )
        except httpx.TransportError as exc:
            raise TransientError(
                f"token endpoint unreachable ({type(exc).__name__})", realm_id=realm_id
            ) from exc
        if response.status_code != 200:
            raise _token_error(response, realm_id, exchange=exchange)
        try:
            body = response.json()
        except ValueError as exc:
            raise AuthError("token endpoint answered non-JSON", realm_id=realm_id) from exc
        if not isinstance(body, dict):
            raise AuthError("token endpoint answered an unexpected body", realm_id=realm_id)
        return body


class BearerTokenAuth(httpx.Auth):
    """httpx.Auth for one realm: the provider's bearer token; after a 401, refresh once, retry."""

    requires_request_body = True  # the retry re-sends the body

    def __init__(self, provider: TokenProvider, realm_id: str) -> None:
        self.provider = provider
        self.realm_id = realm_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.provider.access_token(self.realm_id)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token = self.provider.after_unauthorized(self.realm_id, token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def __repr__(self) -> str:
        return f"BearerTokenAuth(realm_id={self.realm_id!r})"


def _token_error(response: httpx.Response, realm_id: str, *, exchange: bool) -> Exception:
    """The exception for a failed token/revoke call; only the OAuth error code is quoted."""
    status, tid = response.status_code, response.headers.get("intuit_tid", "")
    if status == 429 or status >= 500:
        return from_response(status, b"", realm_id=realm_id, intuit_tid=tid)
    try:
        body = response.json()
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
    except ValueError:
        error = ""
    common: dict[str, Any] = {
        "realm_id": realm_id,
        "code": error,
        "status": status,
        "intuit_tid": tid,
    }
    if error == "invalid_grant":
        what = "authorization code" if exchange else "refresh token"
        hint = "start again" if exchange else "reconnect with `qb-pipeline connect`"
        return RealmDisconnected(f"the {what} was rejected (invalid_grant): {hint}", **common)
    if error == "invalid_client" or status == 401:
        return AuthError(
            "the OAuth client was rejected (invalid_client): check QB_CLIENT_ID and "
            "QB_CLIENT_SECRET",
            **common,
        )
    return AuthError(f"the OAuth server refused the request (HTTP {status})", **common)


def __getattr__(name: str) -> Any:
    """``TokenManager`` lives in ``qbo.tokens``; importable from here too (lazily: no cycle)."""
    if name == "TokenManager":
        from qb_pipeline.qbo.tokens import TokenManager

        return TokenManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
