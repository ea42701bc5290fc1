-- Remove one entity's stored rows whose payload the fold replaces; merge_insert.sql writes them
-- again. Delete + insert, not UPDATE: an updated payload makes the next checkpoint rewrite the whole
-- payload column of the row group (every payload of the entity), a delete only marks the row.
DELETE FROM {table} AS cur
USING merge_decided AS decided
WHERE decided.entity = $entity AND cur.realm_id = $realm_id AND cur.id = decided.id
  AND decided.changed AND decided.existed AND decided.take_incoming;
