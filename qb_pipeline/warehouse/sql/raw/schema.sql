-- Schemas and the warehouse's bookkeeping tables (idempotent).
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS meta;

-- Where each realm's sync of each entity stands; moved only by the transaction that merged data.
CREATE TABLE IF NOT EXISTS meta.sync_cursor (
    realm_id VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    cursor_at TIMESTAMPTZ NOT NULL,
    mode VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (realm_id, entity)
);

-- Landing batches that have been merged (a batch on disk but not here is pending).
CREATE TABLE IF NOT EXISTS meta.landing_batch (
    batch_id VARCHAR PRIMARY KEY,
    realm_id VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    merged_at TIMESTAMPTZ
);
