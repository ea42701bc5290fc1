"""The realm partitions: one dynamic partition per connected QuickBooks company (realm_id).

The realm sensor (``sync/sensors.py``) adds a partition for every realm connected in the store;
partitions are never removed automatically, so a disconnected realm keeps its history and its
runs are skipped with a reason until it is reconnected.
"""

import dagster as dg

REALM_TAG = "qb/realm"  # every run that calls QBO for a realm carries it (one such run at a time)

realms = dg.DynamicPartitionsDefinition(name="realm")
