-- Write the rows the fold changed (and only those: re-merging the same data writes nothing).
INSERT INTO {table} (
    realm_id, id, sync_token, last_updated_at, deleted, deleted_at, payload, batch_id, loaded_at
)
SELECT
    $realm_id, id, new_sync_token, new_updated_at, new_deleted, new_deleted_at, new_payload,
    new_batch_id, $loaded_at
FROM merge_decided
WHERE changed
ON CONFLICT (realm_id, id) DO UPDATE SET
    sync_token = excluded.sync_token,
    last_updated_at = excluded.last_updated_at,
    deleted = excluded.deleted,
    deleted_at = excluded.deleted_at,
    payload = excluded.payload,
    batch_id = excluded.batch_id,
    loaded_at = excluded.loaded_at;
