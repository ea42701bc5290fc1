-- Re-baseline: rows of a realm that a complete listing taken at $at no longer contains were hard
-- deleted (CDC can no longer report them). Rows changed after $at are spared: the listing could
-- not have seen them. $live_ids is the listing (a VARCHAR[] parameter: no pandas, no registered
-- Python object).
UPDATE {table} AS cur
SET deleted = true, deleted_at = $at, batch_id = $batch_id, loaded_at = $loaded_at
WHERE cur.realm_id = $realm_id
  AND NOT cur.deleted
  AND cur.last_updated_at <= $at
  AND NOT EXISTS (
      SELECT 1 FROM (SELECT unnest($live_ids::VARCHAR[]) AS id) AS live WHERE live.id = cur.id
  );
