-- Complete listings' Ids by entity (a re-baseline, see tombstone_missing.sql), as a temp table.
-- Each entity's Ids arrive as one text joined by $separator (a character no Id contains), split
-- here: no pandas, no registered Python object, and one string per entity converts ~10x faster
-- than a list parameter of every Id.
CREATE OR REPLACE TEMP TABLE merge_live AS
SELECT entity, unnest(string_split(ids, $separator)) AS id
FROM (SELECT unnest($entities::VARCHAR[]) AS entity, unnest($ids::VARCHAR[]) AS ids);
