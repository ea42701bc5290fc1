"""qb-pipeline: QuickBooks Online data in Python."""

__version__ = "0.1.0"
