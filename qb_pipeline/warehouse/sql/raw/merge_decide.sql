-- Fold the incoming rows of a realm's entities (merge_incoming) into its current raw rows.
-- Rows are folded per (entity, id), the entity being their batch's, all entities in one pass.
-- Live versions: newest (last_updated_at, sync_token) wins; among equal keys the later extraction,
-- then the later batch and row. SyncToken alone is not enough: QBO bumps LastUpdatedTime but not
-- SyncToken when a side effect changes a customer's Balance or an account's CurrentBalance.
-- Against the stored row an exact key tie is taken only if the payload differs and the incoming
-- row was extracted after the stored one was loaded (a fresher look at the same version).
-- Tombstones: the latest delete time wins; the row is deleted when that time is not older than
-- the kept payload's, and the last payload is kept.
--
-- ``cur`` is the realm's stored rows of the entities that have any (merge_current.sql, one
-- SELECT per such entity, UNION ALL); an entity the realm has no row of yet (its first load) is
-- not scanned at all, and if no entity has one, ``cur`` is empty (merge_current_none.sql).
--
-- Payloads are not read here: a live landed row always has one (a row without one fails the
-- write), ``has_payload`` reads only the stored column's validity, and the one rule that compares
-- payloads (the exact key tie) reads them from ``merge_differs``: the (entity, id) of tied rows
-- whose payloads differ. The merge runs this once with ``merge_differs`` empty; if it reports
-- ``tie`` rows, it fills ``merge_differs`` (merge_differs.sql) and runs it again.
-- ``take_incoming``: the stored payload is replaced by the winner's (batch_ord, row_ord).
CREATE OR REPLACE TEMP TABLE merge_decided AS
WITH live AS (
    SELECT
        batch_entity AS entity, id, sync_token, last_updated_at, extracted_at, batch_id,
        batch_ord, row_ord
    FROM merge_incoming
    WHERE NOT deleted
    QUALIFY row_number() OVER (
        PARTITION BY batch_entity, id
        ORDER BY last_updated_at DESC, coalesce(sync_token, -1) DESC, extracted_at DESC,
                 batch_ord DESC, row_ord DESC
    ) = 1
),
tomb AS (
    SELECT
        batch_entity AS entity, id, max(last_updated_at) AS deleted_at,
        arg_max(batch_id, last_updated_at) AS batch_id
    FROM merge_incoming
    WHERE deleted
    GROUP BY batch_entity, id
),
cur AS ({current}),
joined AS (
    SELECT
        coalesce(live.entity, tomb.entity) AS entity,
        coalesce(live.id, tomb.id) AS id,
        live.id IS NOT NULL AS has_live,
        live.sync_token AS in_sync_token,
        live.last_updated_at AS in_updated_at,
        live.extracted_at AS in_extracted_at,
        live.batch_id AS in_batch_id,
        live.batch_ord AS in_batch_ord,
        live.row_ord AS in_row_ord,
        tomb.deleted_at AS in_deleted_at,
        tomb.batch_id AS tomb_batch_id,
        cur.id IS NOT NULL AS existed,
        coalesce(cur.has_payload, false) AS has_payload,
        cur.sync_token,
        cur.last_updated_at,
        cur.deleted,
        cur.deleted_at,
        cur.batch_id,
        cur.loaded_at,
        differs.id IS NOT NULL AS payload_differs
    FROM live
    FULL OUTER JOIN tomb ON live.entity = tomb.entity AND live.id = tomb.id
    LEFT JOIN cur
        ON cur.entity = coalesce(live.entity, tomb.entity) AND cur.id = coalesce(live.id, tomb.id)
    LEFT JOIN merge_differs AS differs ON differs.entity = live.entity AND differs.id = live.id
),
tied AS (
    SELECT
        *,
        coalesce(
            has_live AND has_payload
            AND in_updated_at = last_updated_at
            AND coalesce(in_sync_token, -1) = coalesce(sync_token, -1)
            AND in_extracted_at >= loaded_at,
            false
        ) AS tie
    FROM joined
),
chosen AS (
    SELECT
        *,
        coalesce(
            has_live AND (
                NOT has_payload
                OR in_updated_at > last_updated_at
                OR (in_updated_at = last_updated_at
                    AND coalesce(in_sync_token, -1) > coalesce(sync_token, -1))
                OR (tie AND payload_differs)
            ),
            false
        ) AS take_incoming,
        greatest(deleted_at, in_deleted_at) AS tomb_at
    FROM tied
),
resolved AS (
    SELECT
        *,
        CASE WHEN take_incoming THEN in_sync_token ELSE sync_token END AS new_sync_token,
        CASE WHEN take_incoming THEN in_updated_at
             WHEN existed THEN last_updated_at
             ELSE in_deleted_at END AS new_updated_at,
        take_incoming OR has_payload AS new_has_payload
    FROM chosen
),
final AS (
    SELECT
        *,
        tomb_at IS NOT NULL AND (NOT new_has_payload OR tomb_at >= new_updated_at) AS new_deleted
    FROM resolved
)
SELECT
    entity,
    id,
    existed,
    coalesce(deleted, false) AS was_deleted,
    tie,
    take_incoming,
    in_batch_ord,
    in_row_ord,
    new_sync_token,
    new_updated_at,
    new_deleted,
    CASE WHEN new_deleted THEN tomb_at END AS new_deleted_at,
    CASE WHEN new_deleted AND tomb_at IS NOT DISTINCT FROM in_deleted_at
              AND in_deleted_at IS DISTINCT FROM deleted_at THEN tomb_batch_id
         WHEN take_incoming THEN in_batch_id
         ELSE batch_id END AS new_batch_id,
    -- the payload changes exactly when the incoming one is taken (see the tie rule)
    NOT existed
        OR take_incoming
        OR new_sync_token IS DISTINCT FROM sync_token
        OR new_updated_at IS DISTINCT FROM last_updated_at
        OR new_deleted IS DISTINCT FROM deleted
        OR (CASE WHEN new_deleted THEN tomb_at END) IS DISTINCT FROM deleted_at AS changed
FROM final;
