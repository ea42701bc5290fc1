-- Rewrite one entity's stored rows the fold changed but whose payload it keeps (a tombstone on a
-- known row): the payload column is not touched, so it is neither read nor rewritten.
UPDATE {table} AS cur SET
    sync_token = decided.new_sync_token,
    last_updated_at = decided.new_updated_at,
    deleted = decided.new_deleted,
    deleted_at = decided.new_deleted_at,
    batch_id = decided.new_batch_id,
    loaded_at = $loaded_at
FROM merge_decided AS decided
WHERE decided.entity = $entity AND cur.realm_id = $realm_id AND cur.id = decided.id
  AND decided.changed AND decided.existed AND NOT decided.take_incoming;
