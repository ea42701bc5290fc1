-- The entities of which tombstone_missing.sql would mark some of the rows merge_decided is about
-- to write, as it would after the write. The merge asks only about entities the realm had no row
-- of (its first load): their rows are exactly these, so an entity not listed here has nothing to
-- tombstone, and its table is not scanned again.
SELECT DISTINCT decided.entity
FROM merge_decided AS decided
WHERE NOT decided.new_deleted
  AND decided.new_updated_at <= $at
  AND NOT EXISTS (
      SELECT 1 FROM merge_live AS live
      WHERE live.entity = decided.entity AND live.id = decided.id
  );
