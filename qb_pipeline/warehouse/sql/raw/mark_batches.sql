-- Record landing batches as merged (same transaction as the rows they carried).
INSERT INTO meta.landing_batch (batch_id, realm_id, entity, path, rows, created_at, merged_at)
SELECT batch_id, $realm_id, entity, path, rows, created_at, $merged_at
FROM (
    SELECT
        unnest($batch_ids::VARCHAR[]) AS batch_id,
        unnest($entities::VARCHAR[]) AS entity,
        unnest($paths::VARCHAR[]) AS path,
        unnest($rows::BIGINT[]) AS rows,
        unnest($created_ats::TIMESTAMPTZ[]) AS created_at
)
ON CONFLICT (batch_id) DO UPDATE SET merged_at = excluded.merged_at;
