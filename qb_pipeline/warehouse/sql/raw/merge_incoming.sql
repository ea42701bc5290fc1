-- The rows of all landing batches of one merge, with where each came from. $paths, $batch_ids
-- and $entities are parallel lists in merge order (oldest batch first).
CREATE OR REPLACE TEMP TABLE merge_incoming AS
SELECT
    realm_id,
    entity,
    ($entities::VARCHAR[])[list_position($paths::VARCHAR[], filename)] AS batch_entity,
    id,
    sync_token,
    last_updated_at,
    deleted,
    payload::JSON AS payload,
    extracted_at,
    list_position($paths::VARCHAR[], filename) AS batch_ord,
    ($batch_ids::VARCHAR[])[list_position($paths::VARCHAR[], filename)] AS batch_id,
    file_row_number AS row_ord
FROM read_parquet($paths::VARCHAR[], filename = true, file_row_number = true);
