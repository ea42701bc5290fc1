-- Current state of one QBO entity across realms. payload is the full QBO object as last seen
-- (kept after a delete); last_updated_at is that payload's MetaData.LastUpdatedTime, or the
-- delete time for a tombstone whose object we never saw (payload NULL).
CREATE TABLE IF NOT EXISTS {table} (
    realm_id VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    sync_token BIGINT,
    last_updated_at TIMESTAMPTZ NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT false,
    deleted_at TIMESTAMPTZ,
    payload JSON USING COMPRESSION zstd,
    batch_id VARCHAR NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (realm_id, id)
);
