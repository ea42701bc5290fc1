-- No stored rows (the realm's first load of every entity merged): merge_current.sql's columns,
-- no row, so merge_decide.sql folds the landed rows among themselves only.
SELECT
    NULL::VARCHAR AS entity,
    NULL::VARCHAR AS id,
    NULL::BIGINT AS sync_token,
    NULL::TIMESTAMPTZ AS last_updated_at,
    NULL::BOOLEAN AS deleted,
    NULL::TIMESTAMPTZ AS deleted_at,
    NULL::BOOLEAN AS has_payload,
    NULL::VARCHAR AS batch_id,
    NULL::TIMESTAMPTZ AS loaded_at
WHERE false
