-- Fold the incoming rows of one entity into the current raw rows of one realm.
-- Live versions: newest (last_updated_at, sync_token) wins; among equal keys the later extraction,
-- then the later batch and row. SyncToken alone is not enough: QBO bumps LastUpdatedTime but not
-- SyncToken when a side effect changes a customer's Balance or an account's CurrentBalance.
-- Against the stored row an exact key tie is taken only if the payload differs and the incoming
-- row was extracted after the stored one was loaded (a fresher look at the same version).
-- Tombstones: the latest delete time wins; the row is deleted when that time is not older than
-- the kept payload's, and the last payload is kept.
CREATE OR REPLACE TEMP TABLE merge_decided AS
WITH live AS (
    SELECT * FROM merge_incoming
    WHERE batch_entity = $entity AND NOT deleted
    QUALIFY row_number() OVER (
        PARTITION BY id
        ORDER BY last_updated_at DESC, coalesce(sync_token, -1) DESC, extracted_at DESC,
                 batch_ord DESC, row_ord DESC
    ) = 1
),
tomb AS (
    SELECT id, max(last_updated_at) AS deleted_at, arg_max(batch_id, last_updated_at) AS batch_id
    FROM merge_incoming
    WHERE batch_entity = $entity AND deleted
    GROUP BY id
),
joined AS (
    SELECT
        coalesce(live.id, tomb.id) AS id,
        live.sync_token AS in_sync_token,
        live.last_updated_at AS in_updated_at,
        live.payload AS in_payload,
        live.extracted_at AS in_extracted_at,
        live.batch_id AS in_batch_id,
        tomb.deleted_at AS in_deleted_at,
        tomb.batch_id AS tomb_batch_id,
        cur.id IS NOT NULL AS existed,
        cur.sync_token,
        cur.last_updated_at,
        cur.deleted,
        cur.deleted_at,
        cur.payload,
        cur.batch_id,
        cur.loaded_at
    FROM live
    FULL OUTER JOIN tomb ON live.id = tomb.id
    LEFT JOIN {table} AS cur
        ON cur.realm_id = $realm_id AND cur.id = coalesce(live.id, tomb.id)
),
chosen AS (
    SELECT
        *,
        in_payload IS NOT NULL AND (
            payload IS NULL
            OR in_updated_at > last_updated_at
            OR (in_updated_at = last_updated_at
                AND coalesce(in_sync_token, -1) > coalesce(sync_token, -1))
            OR (in_updated_at = last_updated_at
                AND coalesce(in_sync_token, -1) = coalesce(sync_token, -1)
                AND in_payload IS DISTINCT FROM payload
                AND in_extracted_at >= loaded_at)
        ) AS take_incoming,
        greatest(deleted_at, in_deleted_at) AS tomb_at
    FROM joined
),
resolved AS (
    SELECT
        *,
        CASE WHEN take_incoming THEN in_sync_token ELSE sync_token END AS new_sync_token,
        CASE WHEN take_incoming THEN in_updated_at
             WHEN existed THEN last_updated_at
             ELSE in_deleted_at END AS new_updated_at,
        CASE WHEN take_incoming THEN in_payload ELSE payload END AS new_payload
    FROM chosen
),
final AS (
    SELECT
        *,
        tomb_at IS NOT NULL AND (new_payload IS NULL OR tomb_at >= new_updated_at) AS new_deleted
    FROM resolved
)
SELECT
    id,
    existed,
    coalesce(deleted, false) AS was_deleted,
    new_sync_token,
    new_updated_at,
    new_deleted,
    CASE WHEN new_deleted THEN tomb_at END AS new_deleted_at,
    new_payload,
    CASE WHEN new_deleted AND tomb_at IS NOT DISTINCT FROM in_deleted_at
              AND in_deleted_at IS DISTINCT FROM deleted_at THEN tomb_batch_id
         WHEN take_incoming THEN in_batch_id
         ELSE batch_id END AS new_batch_id,
    NOT existed
        OR new_sync_token IS DISTINCT FROM sync_token
        OR new_updated_at IS DISTINCT FROM last_updated_at
        OR new_deleted IS DISTINCT FROM deleted
        OR (CASE WHEN new_deleted THEN tomb_at END) IS DISTINCT FROM deleted_at
        OR new_payload IS DISTINCT FROM payload AS changed
FROM final;
