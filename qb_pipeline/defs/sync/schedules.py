"""The hourly sync of every connected realm (a fan-out schedule: dynamic partitions cannot use
``build_schedule_from_partitioned_job``)."""

from collections.abc import Iterator

import dagster as dg

from qb_pipeline.defs.partitions import REALM_TAG, realms
from qb_pipeline.defs.sync.jobs import sync_job
from qb_pipeline.resources import QboResource


@dg.schedule(
    job=sync_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def hourly_sync(
    context: dg.ScheduleEvaluationContext, qbo: QboResource
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    """One sync run per connected realm that has its partition (the realm sensor adds them);
    disconnected realms are left out, so they are never retried until reconnected."""
    known = set(context.instance.get_dynamic_partitions(realms.name))
    connected = sorted(r.realm_id for r in qbo.connections() if r.status == "connected")
    waiting = [realm for realm in connected if realm not in known]
    if waiting:
        context.log.info("realms without a partition yet (the sensor adds them): %s", waiting)
    due = [realm for realm in connected if realm in known]
    if not due:
        yield dg.SkipReason("no connected realm has a partition yet")
        return
    stamp = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
    for realm_id in due:
        yield dg.RunRequest(
            run_key=f"hourly:{realm_id}:{stamp}", partition_key=realm_id, tags={REALM_TAG: realm_id}
        )
