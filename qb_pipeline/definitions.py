"""The one Dagster code location of qb-pipeline: lists what ``defs/`` builds, nothing else.

Resources read their settings (the ``QB_*`` variables) when a run starts; the in-process
executor runs a realm's steps one after another in the run's process (each step is I/O bound,
and a subprocess per step would cost more than the step).
"""

import dagster as dg

from qb_pipeline.defs.sync.assets import MARTS_ASSETS, SYNC_ASSETS
from qb_pipeline.defs.sync.checks import SYNC_CHECKS
from qb_pipeline.defs.sync.jobs import sync_job
from qb_pipeline.defs.sync.schedules import hourly_sync
from qb_pipeline.defs.sync.sensors import automation_sensor, realm_partitions_sensor
from qb_pipeline.resources import QboResource, WarehouseResource

RESOURCES = {"qbo": QboResource(), "warehouse": WarehouseResource()}

defs = dg.Definitions(
    assets=[*SYNC_ASSETS, *MARTS_ASSETS],
    asset_checks=SYNC_CHECKS,
    jobs=[sync_job],
    schedules=[hourly_sync],
    sensors=[realm_partitions_sensor, automation_sensor],
    resources=RESOURCES,
    executor=dg.in_process_executor,
)
