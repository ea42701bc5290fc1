"""The code location loads and the instance config is valid Dagster configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config_schema

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_object_loads() -> None:
    from qb_pipeline.definitions import defs

    assert isinstance(defs, dg.Definitions)


def test_dagster_yaml_is_valid_instance_config(monkeypatch) -> None:
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "USER": "postgres",
        "PASSWORD": "x",
        "DB": "test",
    }.items():
        monkeypatch.setenv(f"DAGSTER_PG_{name}", value)
    raw = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    result = process_config(dagster_instance_config_schema(), raw)
    assert result.success, result.errors
    assert raw["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    # one run at a time per realm: sync and push-back runs (qb/realm) and the automation
    # sensor's runs (only dagster/partition, the realm id)
    per_value = {
        limit["key"]: limit["limit"]
        for limit in raw["concurrency"]["runs"]["tag_concurrency_limits"]
        if limit["value"] == {"applyLimitPerUniqueValue": True}
    }
    assert per_value == {"qb/realm": 1, "dagster/partition": 1}


def test_workspace_loads_with_dagster_cli(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
