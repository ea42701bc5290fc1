"""``qb-pipeline demo``: the emulator with demo companies, connected through real OAuth.

For now (the sync lands with its own issue) it shows what the emulator serves: it starts the
emulator with three demo companies (one multi-currency), connects each through Intuit's
authorization-code flow over HTTP, counts every entity through the query API, and prints a
summary. Everything goes over real HTTP, as a QBO app would.
"""

from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from qb_pipeline import settings
from qb_pipeline.emulator import Emulator, EmulatorServer

REDIRECT_URI = "http://127.0.0.1:8399/callback"
COUNTED = (
    "Customer",
    "Vendor",
    "Item",
    "Account",
    "Invoice",
    "Payment",
    "Bill",
    "BillPayment",
    "Purchase",
    "JournalEntry",
    "Estimate",
    "CreditMemo",
    "SalesReceipt",
    "Deposit",
)


def connect(base_url: str, realm_id: str, client_id: str, client_secret: str) -> dict:
    """Run the authorization-code flow for one realm; the token response."""
    state = secrets.token_urlsafe(16)
    with httpx.Client(base_url=base_url, timeout=30) as http:
        answer = http.get(
            "/connect/oauth2",
            params={
                "client_id": client_id,
                "response_type": "code",
                "state": state,
                "scope": "com.intuit.quickbooks.accounting",
                "redirect_uri": REDIRECT_URI,
                "realm_id": realm_id,
            },
        )
        if answer.status_code != 302:
            raise RuntimeError(f"authorize failed for realm {realm_id}: {answer.status_code}")
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        if query["state"] != [state] or query["realmId"] != [realm_id]:
            raise RuntimeError("authorize redirect did not carry our state and realm")
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        token = http.post(
            "/oauth2/v1/tokens/bearer",
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": REDIRECT_URI,
            },
        )
        token.raise_for_status()
        return token.json()


def count_entities(base_url: str, realm_id: str, access_token: str) -> dict[str, int]:
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "Content-Type": "application/text",
    }
    counts = {}
    with httpx.Client(base_url=f"{base_url}/v3/company/{realm_id}", headers=headers) as http:
        for entity in COUNTED:
            where = " WHERE Active IN (true, false)" if entity in COUNTED[:4] else ""
            answer = http.post(
                "/query",
                params={"minorversion": settings.MINOR_VERSION},
                content=f"SELECT COUNT(*) FROM {entity}{where}",
            )
            answer.raise_for_status()
            counts[entity] = answer.json()["QueryResponse"]["totalCount"]
    return counts


def run(companies: int = 3, size: str = "demo") -> int:
    started = time.monotonic()
    emulator = Emulator()
    emulator.config.limits.enabled = False
    client = emulator.config.clients[0]
    with EmulatorServer(emulator) as server:
        print(f"[demo] emulator serving at {server.url}", flush=True)
        table = []
        for index in range(companies):
            tick = time.monotonic()
            books = emulator.create_realm(size=size, seed=index, multi_currency=index == 0)
            name = books.read("CompanyInfo", "1")["CompanyName"]
            print(
                f"[demo] generated realm {books.realm_id} ({name}) in "
                f"{time.monotonic() - tick:.1f} s",
                flush=True,
            )
            token = connect(server.url, books.realm_id, client.client_id, client.client_secret)
            print(
                f"[demo] connected realm {books.realm_id} through OAuth "
                f"(access token valid {token['expires_in']} s)",
                flush=True,
            )
            table.append(
                (
                    books.realm_id,
                    name,
                    books.home_currency,
                    count_entities(server.url, books.realm_id, token["access_token"]),
                )
            )
        _print_summary(table, emulator, time.monotonic() - started)
    return 0


def _print_summary(table: list, emulator: Emulator, seconds: float) -> None:
    print(
        "\nrealm              company                                  "
        + " ".join(f"{e[:8]:>8}" for e in COUNTED)
    )
    for realm_id, name, _currency, counts in table:
        print(f"{realm_id:<18} {name[:40]:<40} " + " ".join(f"{counts[e]:>8}" for e in COUNTED))
    calls = sum(v.get("total", 0) for v in emulator.request_counts.values())
    print(
        f"\n{len(table)} companies, {calls} API calls, {seconds:.1f} s in all. "
        "Next: the sync into DuckDB (issue 4)."
    )
