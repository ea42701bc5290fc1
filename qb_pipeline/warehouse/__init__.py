"""The DuckDB warehouse: landing batches, the raw merge with its cursors, staging and marts.

Plain Python, no Dagster (the Dagster glue in ``qb_pipeline.defs`` calls these). Data flow:
``LandingWriter`` streams extracted pages to immutable Parquet batches; ``merge`` folds a realm's
batches into ``raw.<entity>`` and moves its cursors in one transaction; ``pending_batches``
finds what a crashed run landed but never merged.
"""

from qb_pipeline.warehouse.compare import Difference, compare_raw_with_objects
from qb_pipeline.warehouse.cursors import SyncCursor, cursor, cursors
from qb_pipeline.warehouse.landing import (
    LandingBatch,
    LandingError,
    LandingWriter,
    landed_batches,
    pending_batches,
)
from qb_pipeline.warehouse.merge import (
    EntityMerge,
    MergeError,
    MergeResult,
    merge,
    tombstone_missing,
)
from qb_pipeline.warehouse.schema import RAW_ENTITIES, raw_table, table_name
from qb_pipeline.warehouse.warehouse import Warehouse, WarehouseBusyError

__all__ = [
    "RAW_ENTITIES",
    "Difference",
    "EntityMerge",
    "LandingBatch",
    "LandingError",
    "LandingWriter",
    "MergeError",
    "MergeResult",
    "SyncCursor",
    "Warehouse",
    "WarehouseBusyError",
    "compare_raw_with_objects",
    "cursor",
    "cursors",
    "landed_batches",
    "merge",
    "pending_batches",
    "raw_table",
    "table_name",
    "tombstone_missing",
]
