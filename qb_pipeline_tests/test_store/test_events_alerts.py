"""Token events and alerts on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qb_pipeline.store import Store


def test_events_are_listed_in_order_per_realm(store: Store) -> None:
    before = datetime.now(UTC)
    store.events.record("1", "connected", actor="connect-cli", detail={"company": "Cool Cars"})
    store.events.record("2", "connected", actor="connect-cli")
    store.events.record("1", "refreshed", actor="token-manager", detail={"rotated": True})
    assert [(e.realm_id, e.event) for e in store.events.list()] == [
        ("1", "connected"),
        ("2", "connected"),
        ("1", "refreshed"),
    ]
    realm_one = store.events.list("1")
    assert [e.event for e in realm_one] == ["connected", "refreshed"]
    assert realm_one[0].detail == {"company": "Cool Cars"}
    assert realm_one[1].detail == {"rotated": True}
    assert realm_one[0].actor == "connect-cli"
    assert realm_one[0].at >= before and realm_one[0].at.tzinfo == UTC
    assert store.events.list("2")[0].detail == {}


def test_unknown_event_and_secret_detail_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown token event"):
        store.events.record("1", "refreshd", actor="typo")
    with pytest.raises(ValueError, match="secrets") as caught:
        store.events.record("1", "refreshed", actor="x", detail={"refresh_token": "RT-SECRET-1"})
    assert "RT-SECRET-1" not in str(caught.value)
    assert store.events.list() == []


def test_alert_raise_open_resolve(store: Store) -> None:
    first = store.alerts.raise_("1", "disconnected", "reconnect Cool Cars")
    other = store.alerts.raise_("2", "refresh_expiring", "10 days left", severity="warning")
    assert first != other
    open_alerts = store.alerts.open()
    assert [(a.realm_id, a.kind, a.severity) for a in open_alerts] == [
        ("1", "disconnected", "error"),
        ("2", "refresh_expiring", "warning"),
    ]
    assert open_alerts[0].resolved_at is None and open_alerts[0].created_at.tzinfo == UTC
    assert [a.kind for a in store.alerts.open("2")] == ["refresh_expiring"]
    assert store.alerts.resolve("1", "disconnected") == 1
    assert store.alerts.resolve("1", "disconnected") == 0
    assert [a.realm_id for a in store.alerts.open()] == ["2"]


def test_raising_an_open_alert_again_refreshes_it(store: Store) -> None:
    first = store.alerts.raise_("1", "disconnected", "first message")
    again = store.alerts.raise_("1", "disconnected", "second message", severity="critical")
    assert again == first
    [alert] = store.alerts.open("1")
    assert (alert.message, alert.severity) == ("second message", "critical")
    store.alerts.resolve("1", "disconnected")
    reopened = store.alerts.raise_("1", "disconnected", "third message")
    assert reopened != first  # a resolved alert stays resolved; a new one opens
    assert [a.message for a in store.alerts.open("1")] == ["third message"]


def test_bad_severity_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="severity"):
        store.alerts.raise_("1", "disconnected", "m", severity="loud")
    assert store.alerts.open() == []
