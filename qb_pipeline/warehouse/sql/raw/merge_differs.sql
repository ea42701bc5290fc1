-- One entity's exact key ties (merge_decide.sql) whose landed payload differs from the stored one.
INSERT INTO merge_differs (entity, id)
SELECT decided.entity, decided.id
FROM merge_decided AS decided
JOIN ({payload}) AS landed
    ON landed.batch_ord = decided.in_batch_ord AND landed.row_ord = decided.in_row_ord
JOIN {table} AS cur ON cur.realm_id = $realm_id AND cur.id = decided.id
WHERE decided.entity = $entity
  AND decided.tie
  AND landed.payload::JSON IS DISTINCT FROM cur.payload;
