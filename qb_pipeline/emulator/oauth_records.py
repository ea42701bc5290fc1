"""Values of the emulated Intuit OAuth server: records, token shapes, errors, small checks.

Real: error bodies ``{"error", "error_description"}``; access tokens that look like JWE
(``eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..``, ~900 characters) and refresh tokens
``AB11`` + 46 characters; UserInfo's camelCase claims; the scope names intuit-oauth knows.
Faked: token contents are random (nothing can be decoded from them); the UserInfo person is
synthetic. PKCE (RFC 7636) is an emulator extension; Intuit does not document it.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from typing import Any

from qb_pipeline.emulator.config import OAuthClient
from qb_pipeline.emulator.jwt import b64url

AUTH_CODE_TTL = 600  # seconds; Intuit's codes are short-lived
ID_TOKEN_TTL = 3600
EXPIRED_TOKEN_MEMORY = 86400  # expired access tokens are still told apart from garbage this long
MIN_BEARER_LENGTH = 40
MAX_BEARER_LENGTH = 4096
KNOWN_SCOPES = frozenset(
    {
        "com.intuit.quickbooks.accounting",
        "com.intuit.quickbooks.payment",
        "com.intuit.quickbooks.payroll",
        "com.intuit.quickbooks.payroll.timetracking",
        "com.intuit.quickbooks.payroll.benefits",
        "com.intuit.quickbooks.payroll.payslip.read",
        "project-management.project",
        "app-foundations.custom-field-definitions",
        "app-foundations.custom-field-definitions.read",
        "payroll.compensation.read",
        "indirect-tax.tax-calculation.quickbooks",
        "intuit_name",
        "openid",
        "profile",
        "email",
        "phone",
        "address",
    }
)
COUNTER_NAMES = (
    "token_requests",
    "authorization_code_exchanges",
    "refreshes",
    "invalid_grants",
    "revocations",
)
# base64url of {"enc":"A128CBC-HS256","alg":"dir"}, the header every Intuit access token shows
_ACCESS_TOKEN_HEADER = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0"
_ALNUM = string.ascii_letters + string.digits


class OAuthError(Exception):
    """An OAuth error response: ``{"error": ..., "error_description": ...}`` with a status."""

    def __init__(self, error: str, description: str | None = None, status: int = 400) -> None:
        super().__init__(f"{status} {error}: {description or ''}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


def invalid_grant(description: str | None = "Token invalid") -> OAuthError:
    return OAuthError("invalid_grant", description)


@dataclass(frozen=True)
class BearerCheck:
    """Verdict on an API call's ``Authorization`` header: 200 ok, 401 or 403 with a detail."""

    status: int
    detail: str = ""
    realm_id: str | None = None
    client_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Grant:
    """One app connection to one realm: the live refresh token and its expiries."""

    grant_id: str
    client_id: str
    realm_id: str
    scopes: tuple[str, ...]
    sub: str
    auth_time: float
    hard_expires_at: float
    refresh_token: str = ""
    refresh_expires_at: float = 0.0
    revoked: bool = False

    def live(self, now: float) -> bool:
        return not self.revoked and now < self.refresh_expires_at


@dataclass(frozen=True)
class AccessTokenRecord:
    grant_id: str
    expires_at: float


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    realm_id: str
    scopes: tuple[str, ...]
    expires_at: float
    code_challenge: str | None = None
    challenge_method: str = "plain"
    grant_id: str | None = None  # set once exchanged; a second exchange revokes it


def new_access_token() -> str:
    """An opaque token shaped like Intuit's JWE access tokens (~900 characters)."""
    return ".".join(
        [
            _ACCESS_TOKEN_HEADER,
            "",
            b64url(secrets.token_bytes(16)),
            b64url(secrets.token_bytes(640)),
            b64url(secrets.token_bytes(16)),
        ]
    )


def new_auth_code() -> str:
    """An authorization code, shaped like Intuit's (``AB11`` + 42 characters)."""
    return "AB11" + "".join(secrets.choice(_ALNUM) for _ in range(42))


def new_refresh_token(now: float) -> str:
    """``AB11`` + 46 characters: ten digits of epoch seconds, then random letters and digits."""
    stamp = f"{int(now) % 10**10:010d}"
    return "AB11" + stamp + "".join(secrets.choice(_ALNUM) for _ in range(36))


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    """RFC 7636 check of a ``code_verifier`` against the stored challenge."""
    if method == "S256":
        computed = b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    else:
        computed = verifier
    return secrets.compare_digest(computed, challenge)


def redirect_uri_allowed(client: OAuthClient, redirect_uri: str) -> bool:
    """Registered URIs match exactly; a client with none accepts any loopback http(s) URI."""
    if client.redirect_uris:
        return redirect_uri in client.redirect_uris
    for scheme in ("http://", "https://"):
        for host in ("127.0.0.1", "localhost", "[::1]"):
            prefix = scheme + host
            if redirect_uri.startswith(prefix) and redirect_uri[len(prefix) : len(prefix) + 1] in (
                "",
                ":",
                "/",
                "?",
            ):
                return True
    return False


def user_claims(grant: Grant) -> dict[str, Any]:
    """The synthetic company admin behind a grant, camelCase as Intuit's UserInfo answers."""
    claims: dict[str, Any] = {"sub": grant.sub}
    if "email" in grant.scopes:
        claims["email"] = f"admin+{grant.realm_id}@example.com"
        claims["emailVerified"] = True
    if "profile" in grant.scopes:
        claims["givenName"] = "Emulator"
        claims["familyName"] = "Admin"
    if "phone" in grant.scopes:
        claims["phoneNumber"] = "+1 6505550100"
        claims["phoneNumberVerified"] = False
    if "address" in grant.scopes:
        claims["address"] = {
            "streetAddress": "2700 Coast Avenue",
            "locality": "Mountain View",
            "region": "CA",
            "postalCode": "94043",
            "country": "US",
        }
    return claims
