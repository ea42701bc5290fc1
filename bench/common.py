"""Shared benchmark plumbing: run the emulator CLI in a subprocess, print and save results."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CLI = Path(sys.executable).with_name("qb-pipeline")


@contextmanager
def emulator_process(*args: str, cpu: int | None = 0, timeout: float = 600.0):
    """Start ``qb-pipeline emulator`` (pinned to one CPU when taskset exists); yield its info."""
    work = Path(tempfile.mkdtemp(prefix="qb-bench-"))
    info_file = work / "info.json"
    command = [str(CLI), "emulator", "--port", "0", "--info-file", str(info_file), *args]
    if cpu is not None and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        command = ["taskset", "-c", str(cpu), *command]
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while not info_file.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"emulator exited: {proc.stdout.read() if proc.stdout else ''}")
            if time.monotonic() - started > timeout:
                raise TimeoutError("emulator did not start")
            time.sleep(0.05)
        time.sleep(0.05)
        info = json.loads(info_file.read_text())
        info["wall_ready_seconds"] = round(time.monotonic() - started, 2)
        yield info
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def report(name: str, rows: list[dict[str, Any]]) -> Path:
    """Print a table and write bench/results/<name>-<timestamp>.json."""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    widths = {k: max(len(k), *(len(str(row.get(k, ""))) for row in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for row in rows:
        print("  ".join(str(row.get(k, "")).ljust(widths[k]) for k in keys))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": name,
                "at": stamp,
                "machine": platform.node(),
                "cpus": os.cpu_count(),
                "results": rows,
            },
            indent=2,
        )
    )
    return path
