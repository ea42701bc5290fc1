"""The loopback end of the authorization-code flow: ``qb-pipeline connect``.

``CallbackListener`` is a one-shot ``http.server`` on 127.0.0.1 that waits for the OAuth server's
redirect and hands back its query parameters (code, state, realmId). ``follow_authorization``
plays the consenting browser against the emulator (which consents at once). Neither ever logs the
callback's query string: it carries the authorization code. ``connect_realm`` runs the whole flow
from settings and stores the tokens through the TokenManager.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx

from qb_pipeline import settings
from qb_pipeline.qbo.auth import OAuthApp, OAuthConfigError, TokenSet
from qb_pipeline.qbo.errors import AuthError
from qb_pipeline.qbo.tokens import TokenManager

if TYPE_CHECKING:
    from qb_pipeline.store import ConnectionRecord

logger = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"
DEFAULT_CALLBACK_PATH = "/callback"
_PAGE = (
    b"<!DOCTYPE html><html><head><title>qb-pipeline</title></head><body>"
    b"<p>QuickBooks authorization received. You can close this window.</p></body></html>"
)


class _CallbackServer(HTTPServer):
    """An HTTPServer that remembers the first callback's parameters."""

    expected_path: str = DEFAULT_CALLBACK_PATH
    params: dict[str, str] | None = None


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:
        """Capture the callback's query parameters; anything else is a 404."""
        parts = urlsplit(self.path)
        if parts.path != self.server.expected_path or self.server.params is not None:
            self.send_error(404)
            return
        query = parse_qs(parts.query, keep_blank_values=True)
        self.server.params = {key: values[0] for key, values in query.items()}
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_PAGE)))
        self.end_headers()
        self.wfile.write(_PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Log the path only: the query string carries the authorization code."""
        logger.debug("callback listener: %s %s", self.command, urlsplit(self.path).path)


class CallbackListener:
    """Listen on ``127.0.0.1:port`` (0 = a free port) for one OAuth redirect to ``path``."""

    def __init__(self, port: int = 0, path: str = DEFAULT_CALLBACK_PATH) -> None:
        self._server = _CallbackServer((LOOPBACK_HOST, port), _CallbackHandler)
        self._server.expected_path = path or "/"
        self._server.timeout = 0.2

    @classmethod
    def for_redirect_uri(cls, redirect_uri: str, port: int | None = None) -> CallbackListener:
        """A listener for a configured redirect URI (its port unless ``port`` is given)."""
        parts = urlsplit(redirect_uri)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise AuthError(f"redirect URI {redirect_uri} is not a loopback address")
        return cls(port if port is not None else parts.port or 80, parts.path or "/")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        """The redirect URI this listener answers, e.g. http://127.0.0.1:53211/callback."""
        return f"http://{LOOPBACK_HOST}:{self.port}{self._server.expected_path}"

    def wait(
        self, timeout: float, should_stop: Callable[[], bool] = lambda: False
    ) -> dict[str, str]:
        """The callback's query parameters; AuthError if none arrives within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while self._server.params is None:
            if time.monotonic() > deadline or should_stop():
                raise AuthError(f"no OAuth callback arrived on port {self.port} in time")
            self._server.handle_request()
        return dict(self._server.params)

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> CallbackListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def follow_authorization(url: str, timeout: float = 30.0) -> None:
    """Open the authorization URL as a consenting browser would, following its redirect.

    Uses urllib, not httpx: httpx logs every URL it requests and httpcore logs response headers
    at DEBUG, and both the redirect's Location and the callback URL carry the authorization code.
    """
    if not url.startswith(("http://", "https://")):
        raise AuthError("the authorization URL must be http(s)")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        raise AuthError(f"authorization endpoint answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:  # its text may quote the callback URL: type only
        raise AuthError(f"authorization URL not followed ({type(exc.reason).__name__})") from None


def follow_in_background(url: str) -> Callable[[], bool]:
    """Run :func:`follow_authorization` in a thread; returns "has it failed?" for ``wait``."""
    failed = threading.Event()

    def run() -> None:
        try:
            follow_authorization(url)
        except AuthError as exc:
            logger.error("following the authorization URL failed: %s", exc)
            failed.set()
        except OSError as exc:  # e.g. a timeout; its text is not logged
            logger.error("following the authorization URL failed: %s", type(exc).__name__)
            failed.set()

    threading.Thread(target=run, name="qb-connect-follow", daemon=True).start()
    return failed.is_set


def connect_realm(
    *,
    realm_hint: str | None = None,
    port: int | None = None,
    timeout: float = 300.0,
    follow: bool = False,
    announce: Callable[[str], None] = lambda url: None,
    actor: str = "cli:connect",
) -> ConnectionRecord:
    """The whole ``qb-pipeline connect`` flow from settings: URL, callback, exchange, store.

    ``announce`` gets the authorization URL once the listener is up; ``follow`` opens it
    automatically (the emulator consents at once).
    """
    from qb_pipeline.store import Store
    from qb_pipeline.vault import Keyring, TokenCipher

    configured = settings.env(settings.ENV_REDIRECT_URI)
    cipher = TokenCipher(Keyring.load())  # settings first: fail before the user consents
    store = Store.from_url()
    try:
        with (
            _listener(configured, port) as listener,
            OAuthApp.from_settings(redirect_uri=configured or listener.redirect_uri) as app,
        ):
            request = app.authorization_url(realm_hint)
            announce(request.url)
            failed = follow_in_background(request.url) if follow else (lambda: False)
            tokens = app.exchange_code(request, listener.wait(timeout, failed))
            if realm_hint and tokens.realm_id != realm_hint:
                logger.warning("asked for realm %s, got realm %s", realm_hint, tokens.realm_id)
            manager = TokenManager(store, cipher, app, actor=actor)
            return manager.connect(tokens, company_name(tokens))
    finally:
        store.close()


def _listener(configured_redirect_uri: str | None, port: int | None) -> CallbackListener:
    """Listen where QB_REDIRECT_URI points, else on ``port`` (0 or None: a free port)."""
    if not configured_redirect_uri:
        return CallbackListener(port or 0)
    configured_port = urlsplit(configured_redirect_uri).port
    if port not in (None, configured_port):
        raise OAuthConfigError(
            f"--port {port} differs from the port of {settings.ENV_REDIRECT_URI} "
            f"({configured_redirect_uri}); the OAuth server redirects there"
        )
    return CallbackListener.for_redirect_uri(configured_redirect_uri)


def company_name(tokens: TokenSet) -> str:
    """The company's name from CompanyInfo when QB_QBO_BASE_URL is set, else ""."""
    base_url = settings.env(settings.ENV_QBO_BASE_URL)
    if not base_url:
        return ""
    realm_id = tokens.realm_id
    try:
        response = httpx.get(
            f"{base_url.rstrip('/')}/v3/company/{realm_id}/companyinfo/{realm_id}",
            params={"minorversion": settings.MINOR_VERSION},
            headers={
                "Authorization": f"Bearer {tokens.access_token}",
                "Accept": "application/json",
            },
            timeout=30.0,
        )
        response.raise_for_status()
        return str(response.json()["CompanyInfo"]["CompanyName"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        logger.warning("realm %s: company name not read (%s)", realm_id, type(exc).__name__)
        return ""
