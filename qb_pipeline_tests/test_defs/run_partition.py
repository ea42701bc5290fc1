"""Materialize one realm partition in this process (as a Dagster run process would); exit 0 on
success. Used by test_sync to run realms in parallel processes: Dagster's in-process execution
sets up logging per run and is not safe to start from several threads of one process."""

from __future__ import annotations

import sys

import dagster as dg

from qb_pipeline.definitions import RESOURCES
from qb_pipeline.defs.partitions import REALM_TAG, realms
from qb_pipeline.defs.sync.assets import MARTS_ASSETS, SYNC_ASSETS
from qb_pipeline.defs.sync.checks import SYNC_CHECKS


def materialize_realm(
    instance: dg.DagsterInstance, realm_id: str, *, checks: bool = True
) -> dg.ExecuteInJobResult:
    """Every sync asset (and every check) for one realm partition, run tag qb/realm set."""
    instance.add_dynamic_partitions(realms.name, [realm_id])
    return dg.materialize(
        [*SYNC_ASSETS, *MARTS_ASSETS, *(SYNC_CHECKS if checks else [])],
        partition_key=realm_id,
        instance=instance,
        resources=RESOURCES,
        tags={REALM_TAG: realm_id},
        raise_on_error=False,
    )


def main(realm_id: str, *options: str) -> int:
    """``--no-checks``; ``--early-merge-rows=N``: merge listings of N rows or more early."""
    for option in options:
        if option.startswith("--early-merge-rows="):
            from qb_pipeline.warehouse import extract

            extract.EARLY_MERGE_ROWS = int(option.split("=", 1)[1])
    with dg.instance_for_test() as instance:
        result = materialize_realm(instance, realm_id, checks="--no-checks" not in options)
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    sys.stdout.write(f"{realm_id} success={result.success} failed_checks={failed}\n")
    return 0 if result.success and not failed else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
