"""Emulator benchmarks: start-up with demo companies, and query paging on a bench-size realm.

Target (issue 2): the emulator pages >= 20,000 records/s on one core, so it is never the
bottleneck of later benchmarks. The emulator runs in its own process pinned to CPU 0; this
process (the client, parsing with orjson so that it is not the bottleneck) runs beside it.
"""

from __future__ import annotations

import time

import httpx
import orjson

from bench.common import emulator_process, report

PAGE = 1000


def _token(base: str, realm: str) -> str:
    return httpx.post(f"{base}/_emulator/realms/{realm}/tokens", json={}).json()["access_token"]


def _page_all(base: str, realm: str, token: str, entity: str) -> tuple[int, int, float]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "Content-Type": "application/text",
    }
    rows = pages = 0
    started = time.perf_counter()
    with httpx.Client(base_url=f"{base}/v3/company/{realm}", headers=headers, timeout=120) as http:
        start = 1
        while True:
            sql = (
                f"SELECT * FROM {entity} ORDERBY MetaData.LastUpdatedTime, Id "
                f"STARTPOSITION {start} MAXRESULTS {PAGE}"
            )
            body = orjson.loads(http.post("/query", content=sql).content)["QueryResponse"]
            got = len(body.get(entity, []))
            rows, pages = rows + got, pages + 1
            if got < PAGE:
                break
            start += PAGE
    return rows, pages, time.perf_counter() - started


def startup() -> dict:
    with emulator_process("--companies", "3", "--size", "demo", cpu=None) as info:
        return {
            "benchmark": "emulator start, 3 demo companies",
            "seconds": info["wall_ready_seconds"],
            "target": "<= 15 s",
            "ok": info["wall_ready_seconds"] <= 15,
        }


def paging() -> list[dict]:
    rows_out = []
    with emulator_process(
        "--companies", "1", "--size", "bench", "--no-limits", "--multi-currency", "0"
    ) as info:
        base, realm = info["url"], info["realms"][0]
        token = _token(base, realm)
        for entity in ("Invoice", "Purchase", "Payment"):
            rows, pages, seconds = _page_all(base, realm, token, entity)
            rate = rows / seconds if seconds else 0.0
            rows_out.append(
                {
                    "benchmark": f"query paging {entity}",
                    "rows": rows,
                    "pages": pages,
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(rate),
                    "target": ">= 20000 rows/s",
                    "ok": rate >= 20_000,
                }
            )
        rows_out.append(
            {"benchmark": "emulator start, 1 bench company", "seconds": info["wall_ready_seconds"]}
        )
    return rows_out


def main() -> None:
    rows = [startup(), *paging()]
    path = report("emulator", rows)
    print(f"written {path}")
