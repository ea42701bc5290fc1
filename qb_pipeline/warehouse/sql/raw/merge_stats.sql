-- What the fold found, per entity, in one query: rows read, rows landed in a batch of another
-- realm or entity (the merge refuses those), and the counts of merge_decided's outcomes.
WITH incoming AS (
    SELECT
        batch_entity AS entity,
        count(*) AS rows_read,
        count(*) FILTER (
            WHERE realm_id IS DISTINCT FROM $realm_id OR entity IS DISTINCT FROM batch_entity
        ) AS strays
    FROM merge_incoming
    GROUP BY batch_entity
),
decided AS (
    SELECT
        entity,
        count(*) FILTER (WHERE changed AND NOT existed) AS inserted,
        count(*) FILTER (WHERE changed AND existed AND take_incoming) AS updated_payload,
        count(*) FILTER (WHERE changed AND existed AND NOT take_incoming) AS updated_keys,
        count(*) FILTER (WHERE changed AND new_deleted AND NOT was_deleted) AS tombstoned,
        count(*) FILTER (WHERE tie) AS ties
    FROM merge_decided
    GROUP BY entity
)
SELECT
    incoming.entity,
    incoming.rows_read,
    incoming.strays,
    coalesce(decided.inserted, 0),
    coalesce(decided.updated_payload, 0),
    coalesce(decided.updated_keys, 0),
    coalesce(decided.tombstoned, 0),
    coalesce(decided.ties, 0)
FROM incoming
LEFT JOIN decided USING (entity);
