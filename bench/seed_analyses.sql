-- Copies the analyses of the benchmark database (each with a job of its own, bodies unchanged)
-- until there are :n of them. Run by bench/analyses.sh with psql -v n=N.
CREATE TEMP TABLE originals AS SELECT * FROM analyses;
CREATE TEMP TABLE copies AS
    SELECT o.id AS original, g AS copy, 'ana_' || md5(o.id || ':' || g) AS id, 'job_' || md5(o.job_id || ':' || g) AS job_id
    FROM originals o, generate_series(1, (:n / GREATEST((SELECT COUNT(*) FROM originals), 1)) + 1) g
    ORDER BY g, o.id
    LIMIT GREATEST(:n - (SELECT COUNT(*) FROM originals), 0);
INSERT INTO analysis_jobs (id, organisation_id, document_id, requested_by, playbook, side, state, attempts, max_attempts,
                           run_after, analysis_id, created_at, updated_at, started_at, finished_at)
    SELECT c.job_id, j.organisation_id, j.document_id, j.requested_by, j.playbook, j.side, 'completed', 1, j.max_attempts,
           j.run_after, c.id, j.created_at, j.updated_at, j.started_at, j.finished_at
    FROM copies c JOIN originals o ON o.id = c.original JOIN analysis_jobs j ON j.id = o.job_id;
INSERT INTO analyses (id, organisation_id, document_id, job_id, engine_name, engine_version, classifier, llm_model,
                      playbook, side, format, review, processing_time_ms, created_at)
    SELECT c.id, o.organisation_id, o.document_id, c.job_id, o.engine_name, o.engine_version, o.classifier, o.llm_model,
           o.playbook, o.side, o.format, o.review, o.processing_time_ms, o.created_at
    FROM copies c JOIN originals o ON o.id = c.original;
