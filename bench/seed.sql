-- 10,000 documents (:ndocs) of the bootstrap organisation with ids doc_<32 hex of i>, each
-- with a ~10-field metadata object and a ~2 KB excerpt, so responses weigh what the peer's do
-- (its documents carry ~2 KB of content).
DELETE FROM document_relations; DELETE FROM idempotency_keys;
DELETE FROM analysis_jobs; DELETE FROM documents;
INSERT INTO documents (id, organisation_id, owner_id, filename, original_filename, stored_path, size_bytes,
                       media_type, sha256, status, metadata, version, created_at, updated_at)
SELECT 'doc_' || lpad(to_hex(i), 32, '0'), u.organisation_id, u.id,
       'contract-' || i || '.pdf', 'contract-' || i || '.pdf',
       'originals/00/' || lpad(to_hex(i), 64, '0'), 100000 + i, 'application/pdf',
       lpad(to_hex(i), 64, '0'), 'uploaded',
       jsonb_build_object(
         'contract_type', (ARRAY['MSA','NDA','SOW','DPA','Lease','Employment','License','Supply','Reseller','SLA'])[1 + i % 10],
         'client', (ARRAY['Acme Corp','Globex Ltd','Initech LLC','Umbrella plc','Hooli Inc','Stark GmbH'])[1 + i % 6],
         'parties', jsonb_build_array('Acme Corp', 'Globex Ltd'),
         'jurisdiction', (ARRAY['NY','DE','CA','England & Wales'])[1 + i % 4],
         'effective_date', '2025-01-01', 'term_months', 12 * (1 + i % 5), 'value_usd', 1000 + i * 37,
         'tags', jsonb_build_array('indemnity', 'auto-renewal'), 'language', 'en', 'pages', 2 + i % 80,
         'excerpt', repeat('The Supplier shall indemnify and hold harmless the Customer against all losses. ', 26)),
       1, now() - (i || ' seconds')::interval, now()
FROM generate_series(1, :ndocs) AS i, (SELECT id, organisation_id FROM users WHERE is_platform_admin LIMIT 1) AS u;
ANALYZE documents;
