-- The payloads of one entity's landing batches, addressed like merge_incoming's rows
-- (batch_ord, row_ord): read from the files only by the statements that need them, so a merge
-- never holds more than one entity's payloads. The id comes along to check that the row found
-- is the row the fold chose (it also makes this side look wider than the fold's, so DuckDB builds
-- its join hash table on the fold and streams the payloads past it).
SELECT
    list_position($paths::VARCHAR[], filename) AS batch_ord,
    file_row_number AS row_ord,
    id,
    payload
FROM read_parquet(
    $paths::VARCHAR[], filename = true, file_row_number = true, hive_partitioning = false
)
