"""Sensors of the sync: connected realms become partitions (with a first sync), and the
declarative-automation sensor that keeps the marts following their upstreams."""

from datetime import datetime

import dagster as dg

from qb_pipeline.defs.partitions import REALM_TAG, realms
from qb_pipeline.defs.sync.jobs import sync_job
from qb_pipeline.resources import QboResource


@dg.sensor(
    job=sync_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def realm_partitions_sensor(
    context: dg.SensorEvaluationContext, qbo: QboResource
) -> dg.SensorResult | dg.SkipReason:
    """Adds a partition for every realm connected in the store and requests its sync once per
    connection (the run key carries the connection time, so a reconnect syncs again)."""
    connected = sorted(
        (r for r in qbo.connections() if r.status == "connected"), key=lambda r: r.realm_id
    )
    if not connected:
        return dg.SkipReason("no connected realm in the store: run `qb-pipeline connect`")
    known = set(context.instance.get_dynamic_partitions(realms.name))
    new = [r.realm_id for r in connected if r.realm_id not in known]
    requests = [
        dg.RunRequest(
            run_key=f"connected:{r.realm_id}:{_stamp(r.connected_at)}",
            partition_key=r.realm_id,
            tags={REALM_TAG: r.realm_id},
        )
        for r in connected
    ]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[realms.build_add_request(new)] if new else [],
    )


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


automation_sensor = dg.AutomationConditionSensorDefinition(
    "qbo_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
