-- Twin of the PostgreSQL migration (min/max of two arguments are SQLite's LEAST/GREATEST).
DELETE FROM document_relations
 WHERE EXISTS (SELECT 1 FROM document_relations o
                WHERE o.source_id = document_relations.target_id AND o.target_id = document_relations.source_id
                  AND o.kind = document_relations.kind AND o.id < document_relations.id);
CREATE UNIQUE INDEX document_relations_pair_key
    ON document_relations (min(source_id, target_id), max(source_id, target_id), kind);

DELETE FROM document_relations
 WHERE EXISTS (SELECT 1 FROM documents d
                WHERE d.id IN (document_relations.source_id, document_relations.target_id)
                  AND d.deleted_at IS NOT NULL);

CREATE INDEX documents_stored_path_idx ON documents (stored_path);
