-- "A amends B" and "B amends A" contradict each other: one relation of a kind per pair,
-- whichever way round. Existing reverse duplicates keep their older row.
DELETE FROM document_relations r
 WHERE EXISTS (SELECT 1 FROM document_relations o
                WHERE o.source_id = r.target_id AND o.target_id = r.source_id AND o.kind = r.kind AND o.id < r.id);
CREATE UNIQUE INDEX document_relations_pair_key
    ON document_relations (LEAST(source_id, target_id), GREATEST(source_id, target_id), kind);

-- Relations of deleted documents relate nothing.
DELETE FROM document_relations r
 WHERE EXISTS (SELECT 1 FROM documents d WHERE d.id IN (r.source_id, r.target_id) AND d.deleted_at IS NOT NULL);

-- The sweeper of unreferenced originals asks whether any row names a file.
CREATE INDEX documents_stored_path_idx ON documents (stored_path);
