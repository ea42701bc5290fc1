"""qb-pipeline benchmarks: ``make bench`` (python -m bench)."""
