"""The one Dagster code location of qb-pipeline: lists what ``defs/`` builds, nothing else.

The sync, webhook, write-back, ML and health definitions land in ``qb_pipeline/defs/`` with
their issues; until then the location loads empty.
"""

import dagster as dg

defs = dg.Definitions()
