"""The emulated Intuit OAuth server through its HTTP routes (Starlette TestClient, in-process).

Real behaviour checked: discovery keys and values, authorize redirect shape, token response
fields, error bodies and statuses, single-use codes, refresh rotation, revoke, bearer verdicts.
Emulator extensions checked too: ``realm_id`` on authorize, PKCE, the back-door hooks.
Real third-party clients (intuit-oauth, python-quickbooks) over real HTTP: test_oauth_clients.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from qb_pipeline.emulator.clock import Clock
from qb_pipeline.emulator.config import EmulatorConfig, OAuthClient
from qb_pipeline.emulator.oauth import OAuthServer
from qb_pipeline.emulator.oauth_routes import ROUTES

REALMS = ("9130357766900001", "9130357766900002")
CALLBACK = "http://localhost:8000/callback"
APP = OAuthClient("app-id", "app-secret", [CALLBACK])
LOOPBACK_APP = OAuthClient("loopback-id", "loopback-secret")
DAY = 86400
DISCOVERY_SAMPLE = Path("/work/shared/qbo/samples/discovery.json")
RT_INVALID = {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
TOKEN_INVALID = {"error_description": "Token invalid"}


def basic(client: OAuthClient = APP, secret: str | None = None) -> dict[str, str]:
    raw = f"{client.client_id}:{secret or client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


class Harness:
    """A Starlette app with only the OAuth routes, its OAuthServer and its clock."""

    def __init__(self, **config_overrides: int) -> None:
        self.clock = Clock()
        config = EmulatorConfig(clients=[APP, LOOPBACK_APP], **config_overrides)
        self.oauth = OAuthServer(config, self.clock)
        app = Starlette(routes=ROUTES)
        app.state.emulator = SimpleNamespace(
            oauth=self.oauth, clock=self.clock, config=config, realm_ids=lambda: list(REALMS)
        )
        self.http = TestClient(app, follow_redirects=False)

    def authorize(self, client: OAuthClient = APP, **params: str) -> dict[str, str]:
        query = {
            "client_id": client.client_id,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": CALLBACK,
            "state": "xyz",
            **params,
        }
        response = self.http.get("/connect/oauth2", params=query)
        assert response.status_code == 302, response.text
        return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}

    def token(self, form: dict[str, str], headers: dict[str, str] | None = None) -> tuple:
        response = self.http.post(
            "/oauth2/v1/tokens/bearer", data=form, headers=basic() if headers is None else headers
        )
        return response.status_code, response.json()

    def exchange(self, code: str, **extra: str) -> tuple:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
        return self.token({**form, **extra})

    def connect(self, **params: str) -> dict:
        status, body = self.exchange(self.authorize(**params)["code"])
        assert status == 200, body
        return body

    def refresh(self, refresh_token: str) -> tuple:
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def bearer(self, access_token: str, realm_id: str = REALMS[0]) -> tuple[int, str]:
        verdict = self.oauth.check_bearer(f"Bearer {access_token}", realm_id)
        return verdict.status, verdict.detail


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_discovery_has_intuits_keys_with_urls_on_the_emulator(h: Harness) -> None:
    sample = json.loads(DISCOVERY_SAMPLE.read_text())
    for path in (
        "/.well-known/openid_configuration",
        "/.well-known/openid_configuration/",
        "/.well-known/openid_sandbox_configuration",
        "/.well-known/openid_sandbox_configuration/",
    ):
        response = h.http.get(path)
        assert response.status_code == 200
        assert response.headers["intuit_tid"].startswith("1-")
        doc = response.json()
        assert list(doc) == list(sample)
        for key, value in sample.items():
            if isinstance(value, str):
                assert doc[key] == "http://testserver" + urlsplit(value).path
            else:
                assert doc[key] == value
    assert doc["token_endpoint"] == "http://testserver/oauth2/v1/tokens/bearer"
    assert doc["issuer"] == "http://testserver/op/v1"


def test_authorize_redirects_with_code_state_and_realm(h: Harness) -> None:
    response = h.http.get(
        "/connect/oauth2",
        params={
            "client_id": "app-id",
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting openid",
            "redirect_uri": CALLBACK,
            "state": "s1",
        },
    )
    assert response.status_code == 302
    assert "intuit_tid" in response.headers
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert list(query) == ["code", "state", "realmId"]
    assert query["state"] == ["s1"] and query["realmId"] == [REALMS[0]]
    assert query["code"][0].startswith("AB11")
    assert h.authorize(realm_id=REALMS[1])["realmId"] == REALMS[1]
    assert h.authorize(realmId=REALMS[1])["realmId"] == REALMS[1]


@pytest.mark.parametrize(
    ("client_id", "redirect_uri", "realm_id"),
    [
        ("nobody", CALLBACK, None),
        ("app-id", "http://localhost:8000/other", None),
        ("app-id", "", None),
        ("loopback-id", "https://evil.example/cb", None),
        ("loopback-id", "http://localhost.evil.example/cb", None),
        ("app-id", CALLBACK, "123"),
    ],
)
def test_authorize_never_redirects_to_an_unverified_place(
    h: Harness, client_id: str, redirect_uri: str, realm_id: str | None
) -> None:
    params = {"client_id": client_id, "response_type": "code", "scope": "openid"}
    params |= {"redirect_uri": redirect_uri} | ({"realm_id": realm_id} if realm_id else {})
    response = h.http.get("/connect/oauth2", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "intuit_tid" in response.headers


def test_loopback_client_accepts_any_loopback_redirect(h: Harness) -> None:
    for uri in ("http://127.0.0.1:5555/cb", "http://localhost/cb", "https://localhost:8443/x"):
        params = h.authorize(LOOPBACK_APP, redirect_uri=uri)
        assert params["realmId"] == REALMS[0]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": ""}, "invalid_scope"),
        ({"scope": "com.intuit.quickbooks.everything"}, "invalid_scope"),
        ({"code_challenge": "abc", "code_challenge_method": "S512"}, "invalid_request"),
    ],
)
def test_authorize_errors_redirect_with_error_and_state(
    h: Harness, params: dict[str, str], error: str
) -> None:
    assert h.authorize(**params) == {"error": error, "state": "xyz"}


def test_code_exchange_returns_intuits_token_response(h: Harness) -> None:
    code = h.authorize()["code"]
    response = h.http.post(
        "/oauth2/v1/tokens/bearer",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        headers=basic(),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["intuit_tid"]
    body = response.json()
    assert list(body) == [
        "token_type",
        "expires_in",
        "refresh_token",
        "x_refresh_token_expires_in",
        "access_token",
    ]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 100 * DAY
    assert body["refresh_token"].startswith("AB11") and len(body["refresh_token"]) == 50
    assert body["access_token"].startswith("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..")
    assert len(body["access_token"]) > 800
    assert h.oauth.counters(REALMS[0])["authorization_code_exchanges"] == 1


def test_hard_expiry_only_when_asked(h: Harness) -> None:
    code = h.authorize()["code"]
    headers = basic() | {"x-include-refresh-token-hard-expires-in": "true"}
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    status, body = h.token(form, headers)
    assert status == 200
    assert body["x_refresh_token_hard_expires_in"] == 5 * 365 * DAY
    assert "x_refresh_token_hard_expires_in" not in h.connect()


def test_client_authentication(h: Harness) -> None:
    code = h.authorize()["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    assert h.token(form, basic(secret="wrong")) == (401, {"error": "invalid_client"})
    assert h.token(form, {}) == (401, {"error": "invalid_client"})
    assert h.token(form, {"Authorization": "Basic !!notbase64"}) == (
        401,
        {"error": "invalid_client"},
    )
    post_auth = {"client_id": "app-id", "client_secret": "app-secret"}
    status, body = h.token(form | post_auth, {})
    assert status == 200 and body["token_type"] == "bearer"


def test_token_request_errors(h: Harness) -> None:
    assert h.token({}) == (
        400,
        {"error": "invalid_request", "error_description": "grant_type is required"},
    )
    assert h.token({"grant_type": "password"}) == (400, {"error": "unsupported_grant_type"})
    assert h.exchange("AB11nosuchcode") == (400, {"error": "invalid_grant", **TOKEN_INVALID})
    code = h.authorize()["code"]
    assert h.token({"grant_type": "authorization_code", "code": code})[1]["error"] == (
        "invalid_request"
    )
    wrong_uri = h.exchange(code, redirect_uri="http://localhost:8000/elsewhere")
    assert wrong_uri == (400, {"error": "invalid_grant", **TOKEN_INVALID})
    status, body = h.refresh("")
    assert (status, body["error"]) == (400, "invalid_request")
    assert h.refresh("AB11" + "x" * 46) == (400, RT_INVALID)


def test_code_is_single_use_and_reuse_revokes_its_tokens(h: Harness) -> None:
    code = h.authorize()["code"]
    status, first = h.exchange(code)
    assert status == 200
    assert h.exchange(code) == (400, {"error": "invalid_grant", **TOKEN_INVALID})
    assert h.bearer(first["access_token"]) == (401, "Token revoked")
    assert h.refresh(first["refresh_token"]) == (400, RT_INVALID)
    counts = h.oauth.counters(REALMS[0])
    assert counts["invalid_grants"] == 2
    assert counts["revocations"] == 1
    assert REALMS[0] not in h.oauth.connected_realms()


def test_code_expires_after_ten_minutes(h: Harness) -> None:
    code = h.authorize()["code"]
    h.clock.advance(601)
    assert h.exchange(code) == (400, {"error": "invalid_grant", **TOKEN_INVALID})


def test_pkce_s256_and_plain(h: Harness) -> None:
    verifier = "a-long-random-code-verifier-0123456789-abcdefghijk"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    challenge_text = challenge.rstrip(b"=").decode()
    s256 = {"code_challenge": challenge_text, "code_challenge_method": "S256"}
    wrong = h.exchange(h.authorize(**s256)["code"], code_verifier="not-it")
    assert wrong == (400, {"error": "invalid_grant", "error_description": "Invalid code_verifier"})
    assert h.exchange(h.authorize(**s256)["code"])[0] == 400
    assert h.exchange(h.authorize(**s256)["code"], code_verifier=verifier)[0] == 200
    plain_code = h.authorize(code_challenge=verifier)["code"]
    assert h.exchange(plain_code, code_verifier=verifier)[0] == 200


def test_refresh_rotates_and_the_old_token_dies(h: Harness) -> None:
    first = h.connect()
    status, second = h.refresh(first["refresh_token"])
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert h.refresh(first["refresh_token"]) == (400, RT_INVALID)
    assert h.refresh(second["refresh_token"])[0] == 200
    # access tokens already issued stay valid until they expire, as at Intuit
    assert h.bearer(first["access_token"]) == (200, "")
    counts = h.oauth.counters(REALMS[0])
    assert counts == {
        "token_requests": 4,
        "authorization_code_exchanges": 1,
        "refreshes": 2,
        "invalid_grants": 1,
        "revocations": 0,
    }


def test_refresh_window_rolls_and_respects_the_hard_cap() -> None:
    h = Harness(refresh_token_hard_ttl=150 * DAY)
    tokens = h.connect()
    h.clock.advance(30 * DAY)
    status, tokens = h.refresh(tokens["refresh_token"])
    assert (status, tokens["x_refresh_token_expires_in"]) == (200, 100 * DAY)
    h.clock.advance(90 * DAY)
    status, tokens = h.refresh(tokens["refresh_token"])
    assert (status, tokens["x_refresh_token_expires_in"]) == (200, 30 * DAY)
    h.clock.advance(30 * DAY)
    assert h.refresh(tokens["refresh_token"]) == (400, RT_INVALID)
    assert h.oauth.connected_realms() == set()


def test_refresh_token_expires_after_100_idle_days(h: Harness) -> None:
    tokens = h.connect()
    h.clock.advance(100 * DAY)
    assert h.refresh(tokens["refresh_token"]) == (400, RT_INVALID)


def test_refresh_token_of_another_client_is_invalid(h: Harness) -> None:
    tokens = h.connect()
    status, body = h.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic(LOOPBACK_APP),
    )
    assert (status, body) == (400, RT_INVALID)


def test_revoke_by_json_or_form_kills_the_whole_grant(h: Harness) -> None:
    tokens = h.connect()
    response = h.http.post(
        "/v2/oauth2/tokens/revoke", json={"token": tokens["refresh_token"]}, headers=basic()
    )
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["intuit_tid"]
    assert h.bearer(tokens["access_token"]) == (401, "Token revoked")
    assert h.refresh(tokens["refresh_token"]) == (400, RT_INVALID)
    again = h.http.post(
        "/v2/oauth2/tokens/revoke", json={"token": tokens["refresh_token"]}, headers=basic()
    )
    assert again.status_code == 200  # revoking a revoked grant is harmless
    other = h.connect()
    by_form = h.http.post(
        "/v2/oauth2/tokens/revoke", data={"token": other["access_token"]}, headers=basic()
    )
    assert by_form.status_code == 200
    assert h.refresh(other["refresh_token"]) == (400, RT_INVALID)
    assert h.oauth.counters(REALMS[0])["revocations"] == 2


def test_revoke_errors(h: Harness) -> None:
    tokens = h.connect()
    url = "/v2/oauth2/tokens/revoke"
    unknown = h.http.post(url, json={"token": "AB11" + "z" * 46}, headers=basic())
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_token")
    foreign = h.http.post(url, json={"token": tokens["refresh_token"]}, headers=basic(LOOPBACK_APP))
    assert foreign.status_code == 400
    no_auth = h.http.post(url, json={"token": tokens["refresh_token"]})
    assert (no_auth.status_code, no_auth.json()) == (401, {"error": "invalid_client"})
    missing = h.http.post(url, json={}, headers=basic())
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert h.refresh(tokens["refresh_token"])[0] == 200  # nothing above revoked it


def test_check_bearer_verdicts(h: Harness) -> None:
    tokens = h.connect()
    access = tokens["access_token"]
    assert h.bearer(access) == (200, "")
    assert h.oauth.check_bearer(f"Bearer {access}", REALMS[0]).realm_id == REALMS[0]
    status, detail = h.bearer(access, REALMS[1])
    assert (status, detail) == (
        403,
        f"The application is not authorized to access company {REALMS[1]}",
    )
    assert h.oauth.check_bearer(None, REALMS[0]).status == 401
    assert h.oauth.check_bearer(f"Basic {access}", REALMS[0]).detail == "Invalid token"
    assert h.bearer("short") == (401, "Malformed bearer token: too short or too long")
    assert h.bearer("x" * 5000) == (401, "Malformed bearer token: too short or too long")
    assert h.bearer(access[:-4] + "AAAA") == (401, "Invalid token")
    h.clock.advance(3600)
    assert h.bearer(access) == (401, f"Token expired: {access[:20]}...")


def test_userinfo(h: Harness) -> None:
    tokens = h.connect(scope="openid email profile")
    response = h.http.get(
        "/v1/openid_connect/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    info = response.json()
    assert info["email"] == f"admin+{REALMS[0]}@example.com" and info["emailVerified"] is True
    assert {"sub", "givenName", "familyName"} <= set(info)
    assert "phoneNumber" not in info
    denied = h.http.get("/v1/openid_connect/userinfo", headers={"Authorization": "Bearer nope"})
    assert (denied.status_code, denied.json()["error"]) == (401, "invalid_token")
    assert denied.headers["www-authenticate"].startswith("Bearer")


def test_id_token_only_with_openid_and_verifiable_with_the_jwks(h: Harness) -> None:
    assert "id_token" not in h.connect()
    tokens = h.connect(scope="com.intuit.quickbooks.accounting openid", realm_id=REALMS[1])
    keys = h.http.get("/op/v1/jwks").json()
    header = pyjwt.get_unverified_header(tokens["id_token"])
    assert header == {"kid": keys["keys"][0]["kid"], "alg": "RS256"}
    key = pyjwt.PyJWKSet.from_dict(keys)[header["kid"]].key
    claims = pyjwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience="app-id")
    assert claims["aud"] == ["app-id"]
    assert claims["iss"] == "http://testserver/op/v1"
    assert claims["realmid"] == REALMS[1]
    assert claims["exp"] - claims["iat"] == 3600
    assert set(claims) == {"sub", "aud", "realmid", "auth_time", "iss", "exp", "iat"}
    assert "id_token" not in h.refresh(tokens["refresh_token"])[1]


def test_back_door_hooks(h: Harness) -> None:
    direct = h.oauth.issue_tokens(REALMS[1])
    assert h.bearer(direct["access_token"], REALMS[1]) == (200, "")
    h.connect()
    assert h.oauth.connected_realms() == set(REALMS)
    assert h.oauth.revoke_realm(REALMS[1]) == 1
    assert h.oauth.revoke_realm(REALMS[1]) == 0
    assert h.oauth.connected_realms() == {REALMS[0]}
    assert h.bearer(direct["access_token"], REALMS[1]) == (401, "Token revoked")
    assert h.oauth.counters(REALMS[1])["revocations"] == 1
    assert h.oauth.counters("unknown-realm")["refreshes"] == 0
    with pytest.raises(KeyError):
        h.oauth.issue_tokens(REALMS[0], "no-such-client")
    new_app = OAuthClient("late-id", "late-secret", ["https://app.example/cb"])
    h.oauth.register_client(new_app)
    params = h.authorize(new_app, redirect_uri="https://app.example/cb")
    assert params["realmId"] == REALMS[0]
