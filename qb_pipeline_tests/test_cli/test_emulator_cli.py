"""`qb-pipeline emulator` serves generated companies until it is told to stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

CLI = Path(sys.executable).with_name("qb-pipeline")


def test_emulator_command_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    proc = subprocess.Popen(
        [
            str(CLI),
            "emulator",
            "--port",
            "0",
            "--companies",
            "2",
            "--size",
            "tiny",
            "--info-file",
            str(info_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not info_file.exists():
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.1)
        time.sleep(0.1)
        info = json.loads(info_file.read_text())
        assert len(info["realms"]) == 2
        realm = info["realms"][0]
        token = httpx.post(f"{info['url']}/_emulator/realms/{realm}/tokens", json={}).json()
        answer = httpx.get(
            f"{info['api_base']}/company/{realm}/query",
            params={"query": "select count(*) from Invoice"},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert answer.status_code == 200
        assert answer.json()["QueryResponse"]["totalCount"] > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "realm" in out
