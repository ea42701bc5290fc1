-- Set a realm's cursors (one row per entity); a cursor whose value and mode are unchanged is not
-- rewritten, so merging the same batches twice changes nothing.
INSERT INTO meta.sync_cursor (realm_id, entity, cursor_at, mode, updated_at)
SELECT $realm_id, entity, cursor_at, $mode, $now
FROM (SELECT unnest($entities::VARCHAR[]) AS entity, unnest($cursor_ats::TIMESTAMPTZ[]) AS cursor_at)
ON CONFLICT (realm_id, entity) DO UPDATE SET
    cursor_at = excluded.cursor_at,
    mode = excluded.mode,
    updated_at = excluded.updated_at
WHERE meta.sync_cursor.cursor_at IS DISTINCT FROM excluded.cursor_at
   OR meta.sync_cursor.mode IS DISTINCT FROM excluded.mode;
