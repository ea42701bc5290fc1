-- Write one entity's rows the fold found new or whose payload it replaces (merge_replace.sql
-- removed those first), and only those: re-merging the same data writes nothing. A plain INSERT:
-- the write lock is held, so "existed" cannot change before commit (and the primary key would
-- refuse a duplicate rather than keep it). $paths are that entity's batches (see merge_payload).
INSERT INTO {table} (
    realm_id, id, sync_token, last_updated_at, deleted, deleted_at, payload, batch_id, loaded_at
)
SELECT
    $realm_id, decided.id, decided.new_sync_token, decided.new_updated_at, decided.new_deleted,
    decided.new_deleted_at,
    CASE WHEN NOT decided.take_incoming THEN NULL
         WHEN landed.id IS DISTINCT FROM decided.id
             THEN error('landed ' || $entity || ' ' || decided.id || ' is not in batch '
                        || decided.new_batch_id || ' any more')
         WHEN landed.payload IS NULL
             THEN error('landed ' || $entity || ' ' || decided.id || ' in batch '
                        || decided.new_batch_id || ' has no payload')
         ELSE landed.payload::JSON END,
    decided.new_batch_id, $loaded_at
FROM merge_decided AS decided
LEFT JOIN ({payload}) AS landed
    ON landed.batch_ord = decided.in_batch_ord AND landed.row_ord = decided.in_row_ord
WHERE decided.entity = $entity
  AND decided.changed AND (decided.take_incoming OR NOT decided.existed);
