-- Re-baseline: rows of a realm that a complete listing taken at $at no longer contains were hard
-- deleted (CDC can no longer report them). Rows changed after $at are spared: the listing could
-- not have seen them. The listing is the temp table merge_live (merge_live.sql).
UPDATE {table} AS cur
SET deleted = true, deleted_at = $at, batch_id = $batch_id, loaded_at = $loaded_at
WHERE cur.realm_id = $realm_id
  AND NOT cur.deleted
  AND cur.last_updated_at <= $at
  AND NOT EXISTS (
      SELECT 1 FROM merge_live AS live WHERE live.entity = $entity AND live.id = cur.id
  );
