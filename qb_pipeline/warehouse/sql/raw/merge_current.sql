-- One entity's stored rows of the realm, as merge_decide.sql compares them (no payload: only
-- whether there is one). {entity} is the entity's catalogue name, {table} its raw table.
SELECT
    '{entity}' AS entity, id, sync_token, last_updated_at, deleted, deleted_at,
    payload IS NOT NULL AS has_payload, batch_id, loaded_at
FROM {table}
WHERE realm_id = $realm_id
