-- Exact key ties (merge_decide.sql) whose landed payload differs from the stored one.
CREATE OR REPLACE TEMP TABLE merge_differs AS
SELECT decided.id
FROM merge_decided AS decided
JOIN ({payload}) AS landed
    ON landed.batch_ord = decided.in_batch_ord AND landed.row_ord = decided.in_row_ord
JOIN {table} AS cur ON cur.realm_id = $realm_id AND cur.id = decided.id
WHERE decided.tie AND landed.payload::JSON IS DISTINCT FROM cur.payload;
