"""The sync job: one realm partition through extract, load, staging, marts and publication."""

import dagster as dg

from qb_pipeline.defs.sync.assets import MARTS_GROUP, SYNC_GROUP

sync_job = dg.define_asset_job(
    "qbo_sync_job",
    selection=dg.AssetSelection.groups(SYNC_GROUP, MARTS_GROUP),
    description="Sync one realm (the partition) and rebuild what depends on it, checks included.",
)
