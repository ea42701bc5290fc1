"""qb-pipeline: QuickBooks Online data in Python."""

from qb_pipeline.memory import limit_malloc_arenas

__version__ = "0.1.0"

limit_malloc_arenas()  # before any of our threads allocate (see qb_pipeline.memory)
