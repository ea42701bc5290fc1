-- The keys of landing batches in one merge, with where each row came from: no payload (the fold
-- needs none; the write reads payloads straight from the files, see merge_payload.sql), so this
-- stays small however large the payloads are. $paths, $batch_ids, $entities (each batch's
-- canonical entity) and $batch_ords (its position among that entity's batches, oldest first) are
-- parallel lists covering every entity of the merge. No hive partitioning: the directories'
-- entity=<Entity> would silently replace the rows' own entity column, which the merge checks
-- against the batch's.
CREATE OR REPLACE TEMP TABLE merge_incoming AS
WITH batch AS (
    SELECT
        unnest($paths::VARCHAR[]) AS filename,
        unnest($batch_ids::VARCHAR[]) AS batch_id,
        unnest($entities::VARCHAR[]) AS batch_entity,
        unnest($batch_ords::BIGINT[]) AS batch_ord
)
SELECT
    landed.realm_id,
    landed.entity,
    landed.id,
    landed.sync_token,
    landed.last_updated_at,
    landed.deleted,
    landed.extracted_at,
    batch.batch_entity,
    batch.batch_ord,
    batch.batch_id,
    landed.file_row_number AS row_ord
FROM read_parquet(
    $paths::VARCHAR[], filename = true, file_row_number = true, hive_partitioning = false
) AS landed
JOIN batch ON batch.filename = landed.filename;
