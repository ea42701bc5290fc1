-- The keys of one entity's landing batches in one merge, with where each row came from: no
-- payload (the fold needs none; the write reads payloads straight from the files, see
-- merge_payload.sql), so this stays small however large the payloads are. $paths and $batch_ids
-- are parallel lists in merge order (oldest batch first). No hive partitioning: the
-- directories' entity=<Entity> would silently replace the rows' own entity column, which the
-- merge checks against the batch's.
CREATE OR REPLACE TEMP TABLE merge_incoming AS
SELECT
    realm_id,
    entity,
    id,
    sync_token,
    last_updated_at,
    deleted,
    extracted_at,
    list_position($paths::VARCHAR[], filename) AS batch_ord,
    ($batch_ids::VARCHAR[])[list_position($paths::VARCHAR[], filename)] AS batch_id,
    file_row_number AS row_ord
FROM read_parquet(
    $paths::VARCHAR[], filename = true, file_row_number = true, hive_partitioning = false
);
