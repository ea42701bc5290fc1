"""The realm sensor, the hourly schedule and the shape of the code location.

Real: the store under a temp QB_HOME with realms connected through TokenManager.connect (grants
from the emulator), a test Dagster instance holding the dynamic partitions, the definitions'
own resources. Faked: time (the schedule's tick is given), the OAuth consent (see sync_env).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest

from qb_pipeline.definitions import RESOURCES, defs
from qb_pipeline.defs.partitions import REALM_TAG, realms
from qb_pipeline.defs.sync.assets import CATALOGUE_KEY, LANDING_KEY, MART_KEYS, RAW_KEYS
from qb_pipeline.defs.sync.schedules import hourly_sync
from qb_pipeline.defs.sync.sensors import realm_partitions_sensor
from qb_pipeline_tests.test_defs.sync_env import SyncEnv, sync_env


@pytest.fixture
def env(tmp_path) -> Iterator[SyncEnv]:
    with sync_env(tmp_path) as running:
        yield running


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def evaluate_sensor(instance: dg.DagsterInstance) -> dg.SensorResult | dg.SkipReason:
    with dg.build_sensor_context(instance=instance, resources=RESOURCES) as context:
        return realm_partitions_sensor(context)


def test_sensor_skips_with_a_reason_when_no_realm_is_connected(
    env: SyncEnv, instance: dg.DagsterInstance
) -> None:
    result = evaluate_sensor(instance)
    assert isinstance(result, dg.SkipReason)
    assert "no connected realm" in (result.skip_message or "")


def test_sensor_adds_a_partition_per_connected_realm_and_requests_its_sync(
    env: SyncEnv, instance: dg.DagsterInstance
) -> None:
    connected = sorted(env.new_realm(size=None).realm_id for _ in range(2))
    for realm_id in connected:
        env.connect(realm_id)
    revoked = env.new_realm(size=None).realm_id
    env.connect(revoked)
    with env.manager() as manager:
        manager.revoke(revoked)

    result = evaluate_sensor(instance)
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [connected]
    assert [r.partition_key for r in result.run_requests] == connected
    assert all(r.tags[REALM_TAG] == r.partition_key for r in result.run_requests)

    instance.add_dynamic_partitions(realms.name, connected)
    again = evaluate_sensor(instance)
    assert isinstance(again, dg.SensorResult)
    assert again.dynamic_partitions_requests == []
    # Same connection, same run key: Dagster launches each realm's first sync only once.
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in result.run_requests]


def test_hourly_schedule_requests_one_run_per_connected_realm_with_a_partition(
    env: SyncEnv, instance: dg.DagsterInstance
) -> None:
    realm_ids = sorted(env.new_realm(size=None).realm_id for _ in range(3))
    for realm_id in realm_ids:
        env.connect(realm_id)
    instance.add_dynamic_partitions(realms.name, realm_ids[:2])  # the third awaits the sensor
    tick = datetime(2026, 11, 27, 13, tzinfo=UTC)
    with dg.build_schedule_context(
        instance=instance, resources=RESOURCES, scheduled_execution_time=tick
    ) as context:
        requests = list(hourly_sync(context))
    assert [r.partition_key for r in requests] == realm_ids[:2]
    assert all(r.tags[REALM_TAG] == r.partition_key for r in requests)
    assert {r.run_key for r in requests} == {
        f"hourly:{realm_id}:20261127T1300" for realm_id in realm_ids[:2]
    }
    assert hourly_sync.cron_schedule == "0 * * * *"


def test_code_location_shape() -> None:
    keys = defs.resolve_all_asset_keys()
    assert {LANDING_KEY, CATALOGUE_KEY, *RAW_KEYS.values(), *MART_KEYS.values()} <= set(keys)
    assert dg.AssetKey(["qbo", "raw", "invoice"]) in keys
    graph = defs.resolve_asset_graph()
    assert graph.get(LANDING_KEY).pools == {"qbo_api"}
    assert graph.get(RAW_KEYS["Invoice"]).pools == {"warehouse"}
    assert graph.get(MART_KEYS["general_ledger"]).automation_condition is not None
    groups = {graph.get(k).group_name for k in keys}
    assert groups == {"qbo_sync", "qbo_marts"}
    assert all(graph.get(k).partitions_def == realms for k in keys)
