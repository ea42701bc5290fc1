"""All Dagster code of qb-pipeline, by domain (``sync/`` ...); ``definitions.py`` lists it."""
