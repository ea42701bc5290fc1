"""Emulator benchmarks: start-up with demo companies, and query paging on a bench-size realm.

Target (issue 2): the emulator pages >= 20,000 records/s on one core, so it is never the
bottleneck of later benchmarks. The emulator runs in its own process pinned to CPU 0; this
process (the client) runs beside it. Paging is measured twice: one client parsing page after
page with orjson (client time included; checks every row arrives once), and WORKERS pages in
flight with the client reading only each page's maxResults, so that the emulator's one core is
what is measured (the target applies to that row).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson

from bench.common import emulator_process, report

PAGE = 1000
WORKERS = 4
PAGE_SQL = (
    "SELECT * FROM {entity} ORDERBY MetaData.LastUpdatedTime, Id "
    "STARTPOSITION {start} MAXRESULTS {page}"
)


def _token(base: str, realm: str) -> str:
    return httpx.post(f"{base}/_emulator/realms/{realm}/tokens", json={}).json()["access_token"]


def _client(base: str, realm: str, token: str) -> httpx.Client:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "Content-Type": "application/text",
    }
    limits = httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS)
    return httpx.Client(
        base_url=f"{base}/v3/company/{realm}", headers=headers, timeout=120, limits=limits
    )


def _page_body(http: httpx.Client, entity: str, start: int) -> bytes:
    answer = http.post("/query", content=PAGE_SQL.format(entity=entity, start=start, page=PAGE))
    answer.raise_for_status()
    return answer.content


def _page_sequential(http: httpx.Client, entity: str) -> tuple[int, float]:
    """One client parsing every page, one after the other; every row must arrive once."""
    ids: list[str] = []
    start, started = 1, time.perf_counter()
    while True:
        page = orjson.loads(_page_body(http, entity, start))["QueryResponse"].get(entity, [])
        ids.extend(row["Id"] for row in page)
        if len(page) < PAGE:
            break
        start += PAGE
    seconds = time.perf_counter() - started
    if len(ids) != len(set(ids)):
        raise AssertionError(f"{entity}: {len(ids) - len(set(ids))} rows served twice")
    return len(ids), seconds


def _rows_in_page(http: httpx.Client, entity: str, start: int) -> int:
    """The page's trailing maxResults, read without parsing the rows."""
    body = _page_body(http, entity, start)
    marker = b'"maxResults":'
    tail = body[body.rfind(marker) + len(marker) :]
    return int(tail[: tail.index(b"}")])


def _page_concurrent(http: httpx.Client, entity: str) -> tuple[int, float]:
    """WORKERS pages in flight: the emulator's one core is the limit, not the client."""
    started = time.perf_counter()
    answer = http.post("/query", content=f"SELECT COUNT(*) FROM {entity}")
    total = orjson.loads(answer.content)["QueryResponse"]["totalCount"]
    with ThreadPoolExecutor(WORKERS) as pool:
        starts = range(1, total + 1, PAGE)
        rows = sum(pool.map(lambda start: _rows_in_page(http, entity, start), starts))
    if rows != total:
        raise AssertionError(f"{entity}: {rows} rows served, {total} expected")
    return rows, time.perf_counter() - started


def startup() -> dict:
    with emulator_process("--companies", "3", "--size", "demo", cpu=None) as info:
        seconds = info["wall_ready_seconds"]
        return {
            "benchmark": "emulator start, 3 demo companies",
            "seconds": seconds,
            "target": "<= 15 s",
            "ok": seconds <= 15,
        }


def _paging_row(entity: str, mode: str, rows: int, seconds: float, target: bool) -> dict:
    rate = rows / seconds if seconds else 0.0
    row = {
        "benchmark": f"query paging {entity} ({mode})",
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rate),
    }
    if target:
        row.update(target=">= 20000 rows/s", ok=rate >= 20_000)
    return row


def paging() -> list[dict]:
    rows_out = []
    args = ("--companies", "1", "--size", "bench", "--no-limits", "--multi-currency", "0")
    with emulator_process(*args) as info:
        base, realm = info["url"], info["realms"][0]
        with _client(base, realm, _token(base, realm)) as http:
            for entity in ("Invoice", "Purchase", "Payment"):
                rows, seconds = _page_sequential(http, entity)
                rows_out.append(_paging_row(entity, "1 parsing client", rows, seconds, False))
                rows, seconds = _page_concurrent(http, entity)
                mode = f"{WORKERS} in flight"
                rows_out.append(_paging_row(entity, mode, rows, seconds, True))
        bench_start = {"benchmark": "emulator start, 1 bench company"}
        rows_out.append({**bench_start, "seconds": info["wall_ready_seconds"]})
    return rows_out


def main() -> None:
    rows = [startup(), *paging()]
    path = report("emulator", rows)
    print(f"written {path}")
