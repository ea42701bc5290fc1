"""Where the QBO client gets its bearer tokens: the TokenProvider protocol and simple providers.

``TokenManager`` (below) is the real provider: encrypted tokens in
the store, proactive refresh, one refresh per realm across threads and processes.
``StaticTokenProvider`` serves fixed tokens for tests and simple scripts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from qb_pipeline import settings
from qb_pipeline.qbo.auth import OAuthApp, TokenSet, utc_now
from qb_pipeline.qbo.errors import AuthError, QBOError, RealmDisconnected

if TYPE_CHECKING:
    from qb_pipeline.store import ConnectionRecord, LockedConnection, Store
    from qb_pipeline.vault import TokenCipher

logger = logging.getLogger(__name__)


@runtime_checkable
class TokenProvider(Protocol):
    """Hands the client a valid access token per realm."""

    def access_token(self, realm_id: str) -> str:
        """A valid token (refreshing first if within 5 min of expiry); raises RealmDisconnected."""
        ...

    def after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        """Called once after a 401: refresh unless someone already replaced the token; new token."""
        ...


class StaticTokenProvider:
    """For tests and simple scripts: a fixed token per realm, no refresh."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = dict(tokens)

    def access_token(self, realm_id: str) -> str:
        """The fixed token of the realm; RealmDisconnected for an unknown realm."""
        try:
            return self._tokens[realm_id]
        except KeyError:
            raise RealmDisconnected("no token configured", realm_id=realm_id) from None

    def after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        """A static token cannot be refreshed: the same token again (the client's retry fails)."""
        return self.access_token(realm_id)

    def __repr__(self) -> str:
        return f"StaticTokenProvider(realms={sorted(self._tokens)!r})"


class TokenManager:
    """The real TokenProvider: the vault's ciphertexts in the store, refreshed through the app.

    Access tokens are refreshed ``refresh_margin`` (5 min) before they expire. One refresh per
    realm runs at a time: a per-realm thread lock inside the process, the store's row lock across
    processes; whoever waited re-reads the row and uses the winner's token. The rotated refresh
    token is committed before the new access token is handed out. ``invalid_grant`` marks the
    connection disconnected (alert + event); a disconnected realm then fails at once, without
    calling Intuit, until ``connect`` restores it.
    """

    def __init__(
        self,
        store: Store,
        cipher: TokenCipher,
        app: OAuthApp,
        *,
        actor: str = "token-manager",
        clock: Callable[[], datetime] = utc_now,
        refresh_margin: timedelta = timedelta(seconds=settings.ACCESS_TOKEN_REFRESH_MARGIN_SECONDS),
    ) -> None:
        self._store, self._cipher, self._app = store, cipher, app
        self.actor, self._clock, self._margin = actor, clock, refresh_margin
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenManager(actor={self.actor!r}, store={self._store!r})"

    # -- TokenProvider -------------------------------------------------------------------------

    def access_token(self, realm_id: str) -> str:
        """A valid access token, refreshed first when it expires within the margin."""
        record = _usable(self._store.connections.get(realm_id), realm_id)
        if self._fresh(record):
            return self._decrypt(record, "access")
        return self._refresh(realm_id, rejected=None)

    def after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        """After a 401: refresh unless another caller already replaced ``rejected_token``."""
        return self._refresh(realm_id, rejected=rejected_token)

    # -- lifecycle -----------------------------------------------------------------------------

    def connect(self, tokens: TokenSet, company_name: str = "") -> ConnectionRecord:
        """Store a new or restored connection (event connected/reconnected; alert resolved)."""
        from qb_pipeline.store import ConnectionRecord

        realm_id = tokens.realm_id
        existing = self._store.connections.get(realm_id)
        record = ConnectionRecord(
            realm_id=realm_id,
            status="connected",
            key_id=self._cipher.current_key_id,
            access_token_ct=self._cipher.encrypt(realm_id, tokens.access_token),
            refresh_token_ct=self._cipher.encrypt(realm_id, tokens.refresh_token),
            access_expires_at=tokens.access_expires_at,
            refresh_expires_at=tokens.refresh_expires_at,
            refresh_hard_expires_at=tokens.refresh_hard_expires_at,
            company_name=company_name or (existing.company_name if existing else ""),
            client_id=self._app.client_id,
            scopes=tokens.scopes,
            connected_at=self._clock(),
        )
        self._store.connections.save(record)
        event = "connected" if existing is None else "reconnected"
        detail = {"company_name": record.company_name, **_expiries(record)}
        if existing is not None:
            detail["previous_status"] = existing.status
        self._store.events.record(realm_id, event, self.actor, detail)
        self._store.alerts.resolve(realm_id, "disconnected")
        logger.info("realm %s %s by %s", realm_id, event, self.actor)
        return self._store.connections.get(realm_id) or record

    def revoke(self, realm_id: str) -> None:
        """Revoke the grant at Intuit and mark the connection revoked."""
        with self._realm_lock(realm_id), self._locked(realm_id) as locked:
            refresh_token = self._decrypt(locked.record, "refresh")
            try:
                self._app.revoke(refresh_token, realm_id=realm_id)
            except AuthError as exc:  # already gone at Intuit: still ours to mark revoked
                logger.warning("realm %s: revoke refused (%s); marking revoked", realm_id, exc.code)
            previous = locked.record.status
            locked.save(replace(locked.record, status="revoked", status_reason="revoked"))
            locked.event(realm_id, "revoked", self.actor, {"previous_status": previous})
        logger.info("realm %s revoked by %s", realm_id, self.actor)

    def expiring(
        self, within_days: int = settings.REFRESH_TOKEN_WARN_DAYS
    ) -> list[ConnectionRecord]:
        """Connected realms whose refresh token (rolling or hard) expires within the window."""
        horizon = self._clock() + timedelta(days=within_days)
        return [
            record
            for record in self._store.connections.list()
            if record.status == "connected"
            and (deadline := refresh_deadline(record)) is not None
            and deadline <= horizon
        ]

    # -- refresh -------------------------------------------------------------------------------

    def _refresh(self, realm_id: str, rejected: str | None) -> str:
        """Refresh under the thread lock, then the row lock; re-check before each."""
        with self._realm_lock(realm_id):
            record = _usable(self._store.connections.get(realm_id), realm_id)
            current = self._decrypt(record, "access")
            if self._still_good(record, current, rejected):
                return current
            failure: QBOError
            with self._locked(realm_id) as locked:
                record = _usable(locked.record, realm_id)
                current = self._decrypt(record, "access")
                if self._still_good(record, current, rejected):
                    return current  # another process refreshed while we waited
                try:
                    tokens = self._app.refresh(
                        self._decrypt(record, "refresh"), realm_id=realm_id, now=self._clock()
                    )
                except RealmDisconnected as exc:
                    self._mark_disconnected(locked, record)
                    failure = exc
                except QBOError as exc:
                    failure = exc  # nothing changed: the row lock is released untouched
                else:
                    self._save_rotated(locked, record, tokens)
                    return tokens.access_token  # returned only after the block commits
        if not isinstance(failure, RealmDisconnected):
            detail = {"error": type(failure).__name__, "code": failure.code}
            self._store.events.record(realm_id, "refresh_failed", self.actor, detail)
            logger.warning("realm %s: token refresh failed (%s)", realm_id, type(failure).__name__)
        raise failure

    def _save_rotated(
        self, locked: LockedConnection, old: ConnectionRecord, tokens: TokenSet
    ) -> None:
        realm_id = old.realm_id
        rotated = tokens.refresh_token != self._decrypt(old, "refresh")
        record = replace(
            old,
            key_id=self._cipher.current_key_id,
            access_token_ct=self._cipher.encrypt(realm_id, tokens.access_token),
            refresh_token_ct=self._cipher.encrypt(realm_id, tokens.refresh_token),
            access_expires_at=tokens.access_expires_at,
            refresh_expires_at=tokens.refresh_expires_at or old.refresh_expires_at,
            refresh_hard_expires_at=tokens.refresh_hard_expires_at or old.refresh_hard_expires_at,
            status_reason="",
        )
        locked.save(record)
        detail = {**_expiries(record), "refresh_token_rotated": rotated}
        locked.event(realm_id, "refreshed", self.actor, detail)
        logger.info("realm %s: access token refreshed by %s", realm_id, self.actor)

    def _mark_disconnected(self, locked: LockedConnection, record: ConnectionRecord) -> None:
        realm_id, reason = record.realm_id, "refresh token rejected (invalid_grant)"
        locked.save(replace(record, status="disconnected", status_reason=reason))
        locked.event(realm_id, "refresh_failed", self.actor, {"error": "invalid_grant"})
        locked.event(realm_id, "disconnected", self.actor, {"reason": reason})
        message = f"realm {realm_id} is disconnected: {reason}; reconnect with qb-pipeline connect"
        locked.alert(realm_id, "disconnected", message)
        logger.warning("realm %s disconnected: %s", realm_id, reason)

    # -- helpers -------------------------------------------------------------------------------

    def _fresh(self, record: ConnectionRecord) -> bool:
        return record.access_expires_at - self._margin > self._clock()

    def _still_good(self, record: ConnectionRecord, current: str, rejected: str | None) -> bool:
        """Fresh, and (after a 401) not the token that was just rejected."""
        return self._fresh(record) and (rejected is None or current != rejected)

    def _decrypt(self, record: ConnectionRecord, which: str) -> str:
        sealed = record.access_token_ct if which == "access" else record.refresh_token_ct
        return self._cipher.decrypt(record.realm_id, record.key_id, sealed)

    def _realm_lock(self, realm_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(realm_id, threading.Lock())

    @contextmanager
    def _locked(self, realm_id: str) -> Iterator[LockedConnection]:
        """The store's row lock; a realm with no row is not connected."""
        with ExitStack() as stack:
            try:
                locked = stack.enter_context(self._store.connections.locked(realm_id))
            except KeyError:
                raise _not_connected(realm_id) from None
            yield locked


def refresh_deadline(record: ConnectionRecord) -> datetime | None:
    """When the refresh token stops working: the earlier of the rolling and the hard expiry."""
    known = [t for t in (record.refresh_expires_at, record.refresh_hard_expires_at) if t]
    return min(known) if known else None


def _expiries(record: ConnectionRecord) -> dict[str, str | None]:
    deadline = refresh_deadline(record)
    return {
        "access_expires_at": record.access_expires_at.isoformat(),
        "refresh_expires_at": deadline.isoformat() if deadline else None,
    }


def _not_connected(realm_id: str) -> RealmDisconnected:
    return RealmDisconnected("not connected: run `qb-pipeline connect`", realm_id=realm_id)


def _usable(record: ConnectionRecord | None, realm_id: str) -> ConnectionRecord:
    """The record if connected; RealmDisconnected (no Intuit call) otherwise."""
    if record is None:
        raise _not_connected(realm_id)
    if record.status != "connected":
        why = f" ({record.status_reason})" if record.status_reason else ""
        raise RealmDisconnected(
            f"connection is {record.status}{why}: reconnect with `qb-pipeline connect`",
            realm_id=realm_id,
            code=record.status,
        )
    return record
