//! Analysis jobs: the state machine PostgreSQL (or SQLite) holds for every analysis.
//!
//! `queued → running (worker, lease, attempt) → completed | failed`, and `dead` once a job
//! has been claimed `max_attempts` times without finishing (its worker kept dying). Every
//! transition that a worker makes is *fenced*: it names the worker and the attempt it claimed,
//! so a worker whose lease expired and whose job was claimed again can no longer change it.
//! The document's `status` follows its newest job in the same transaction (`queued`,
//! `analysing`, `analysed`, `failed`); callers invalidate its caches after the commit.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Database, Pool};
use crate::ids::new_id;
use crate::{in_transaction, with_pool};

/// A job as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub organisation_id: String,
    pub document_id: String,
    pub requested_by: Option<String>,
    pub playbook: String,
    pub side: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub worker_id: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub run_after: DateTime<Utc>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub analysis_id: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub(crate) const JOB_COLUMNS: &str =
    "id, organisation_id, document_id, requested_by, playbook, side, state, attempts, \
     max_attempts, worker_id, lease_until, run_after, error_code, error, analysis_id, dispatched_at, created_at, \
     updated_at, started_at, finished_at";

/// What a new job asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub id: String,
    pub playbook: String,
    pub side: Option<String>,
    pub max_attempts: i32,
    pub requested_by: Option<String>,
}

impl NewJob {
    pub fn new(
        playbook: impl Into<String>,
        side: Option<String>,
        max_attempts: i32,
        requested_by: Option<&str>,
    ) -> Self {
        Self {
            id: new_id("job"),
            playbook: playbook.into(),
            side,
            max_attempts,
            requested_by: requested_by.map(str::to_owned),
        }
    }
}

/// Inserts a queued job and its dispatch outbox row through `$tx` (any backend).
macro_rules! insert_job {
    ($tx:expr, $job:expr, org = $org:expr, document = $doc:expr, at = $now:expr) => {{
        sqlx::query(
            "INSERT INTO analysis_jobs (id, organisation_id, document_id, requested_by, playbook, side, state, \
             attempts, max_attempts, run_after, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8, $8, $8)",
        )
        .bind(&$job.id)
        .bind($org)
        .bind($doc)
        .bind(&$job.requested_by)
        .bind(&$job.playbook)
        .bind(&$job.side)
        .bind($job.max_attempts)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("INSERT INTO analysis_dispatch_outbox (job_id, created_at) VALUES ($1, $2)")
            .bind(&$job.id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use insert_job;

/// Sets the document's status when `job` is its newest job, through `$tx`.
macro_rules! follow_status {
    ($tx:expr, document = $doc:expr, job = $job:expr, status = $status:expr, at = $now:expr) => {
        sqlx::query(
            "UPDATE documents SET status = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM analysis_jobs j WHERE j.document_id = $3 AND j.id > $4)",
        )
        .bind($status)
        .bind($now)
        .bind($doc)
        .bind($job)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use follow_status;

/// The worker and attempt a job was claimed with: what fences every later transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub job: JobRow,
    pub worker_id: String,
    pub attempt: i32,
}

/// What [`enqueue`] did.
#[derive(Debug)]
pub enum EnqueueOutcome {
    Queued(Box<JobRow>),
    DocumentMissing,
}

/// Queues a new analysis of a live document (a re-run), with its audit row.
pub async fn enqueue(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
    job: &NewJob,
) -> Result<EnqueueOutcome, sqlx::Error> {
    let now = crate::ids::now();
    let details = serde_json::json!({ "job_id": job.id, "playbook": job.playbook, "side": job.side });
    let sql = format!("SELECT {JOB_COLUMNS} FROM analysis_jobs WHERE id = $1");
    in_transaction!(db, |tx| {
        let live = sqlx::query("UPDATE documents SET status = 'queued', updated_at = $1 WHERE id = $2 AND organisation_id = $3 AND deleted_at IS NULL")
            .bind(now)
            .bind(document_id)
            .bind(organisation_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if live != 1 {
            return Ok(EnqueueOutcome::DocumentMissing);
        }
        insert_job!(tx, job, org = organisation_id, document = document_id, at = now);
        crate::documents::audit!(
            tx,
            org = organisation_id,
            actor = &job.requested_by,
            action = "analysis.request",
            target = ("document", document_id),
            details = &details,
            at = now
        );
        let row = sqlx::query_as::<_, JobRow>(&sql).bind(&job.id).fetch_one(&mut *tx).await?;
        Ok::<_, sqlx::Error>(EnqueueOutcome::Queued(Box::new(row)))
    })
}

/// Claims the oldest due queued job (any, or `only` that one) for `worker_id` until
/// `lease_until`, counting an attempt. `None` when there is nothing to claim.
pub async fn claim(
    db: &Database,
    worker_id: &str,
    lease_until: DateTime<Utc>,
    only: Option<&str>,
) -> Result<Option<Claim>, sqlx::Error> {
    let now = crate::ids::now();
    let pick = match (&db.pool, only) {
        (_, Some(_)) => "SELECT id FROM analysis_jobs WHERE id = $4 AND state = 'queued' AND run_after <= $3",
        (Pool::Postgres(_), None) => {
            "SELECT id FROM analysis_jobs WHERE state = 'queued' AND run_after <= $3 \
             ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        }
        // SQLite has one writer at a time, so the sub-select and the update are atomic.
        (Pool::Sqlite(_), None) => {
            "SELECT id FROM analysis_jobs WHERE state = 'queued' AND run_after <= $3 ORDER BY run_after, id LIMIT 1"
        }
    };
    let sql = format!(
        "UPDATE analysis_jobs SET state = 'running', worker_id = $1, lease_until = $2, attempts = attempts + 1, \
         started_at = COALESCE(started_at, $3), updated_at = $3 \
         WHERE state = 'queued' AND id = ({pick}) RETURNING {JOB_COLUMNS}"
    );
    let claimed: Option<JobRow> = in_transaction!(db, |tx| {
        let mut query = sqlx::query_as::<_, JobRow>(&sql).bind(worker_id).bind(lease_until).bind(now);
        if let Some(id) = only {
            query = query.bind(id);
        }
        let row = query.fetch_optional(&mut *tx).await?;
        if let Some(job) = &row {
            follow_status!(tx, document = &job.document_id, job = &job.id, status = "analysing", at = now);
        }
        Ok::<_, sqlx::Error>(row)
    })?;
    Ok(claimed.map(|job| Claim { attempt: job.attempts, worker_id: worker_id.to_owned(), job }))
}

/// The fence every worker transition carries (`$f1`, `$f2`, `$f3` = job, worker, attempt);
/// [`fenced`] numbers them from `first`.
pub(crate) const FENCE: &str = "id = $f1 AND state = 'running' AND worker_id = $f2 AND attempts = $f3";

pub(crate) fn fenced(sql: &str, first: usize) -> String {
    sql.replace("$f1", &format!("${first}"))
        .replace("$f2", &format!("${}", first + 1))
        .replace("$f3", &format!("${}", first + 2))
}

/// Extends the lease of a claimed job; false when the claim is no longer ours.
pub async fn renew_lease(db: &Database, claim: &Claim, lease_until: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let sql = fenced(&format!("UPDATE analysis_jobs SET lease_until = $1 WHERE {FENCE}"), 2);
    let affected = with_pool!(db, |p| sqlx::query(&sql)
        .bind(lease_until)
        .bind(&claim.job.id)
        .bind(&claim.worker_id)
        .bind(claim.attempt)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(affected == 1)
}

/// How a claimed job ended without a result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The document cannot be analysed (encrypted, no text, corrupt): final after one attempt.
    Failed { code: String, message: String },
    /// A passing fault: queued again after `retry_at`, or `dead` when no attempt is left.
    Retry { code: String, message: String, retry_at: DateTime<Utc> },
    /// Put back untouched (shutdown): the attempt is not counted.
    Released,
}

/// What a fenced transition found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Done; the job is now in this state.
    Done(String),
    /// The claim is no longer ours (lease lost and the job claimed again, or finished).
    Fenced,
}

/// Ends a claimed job without a result (see [`Ending`]).
pub async fn end(db: &Database, claim: &Claim, ending: &Ending) -> Result<Transition, sqlx::Error> {
    let now = crate::ids::now();
    let job = &claim.job;
    let out_of_attempts = claim.attempt >= job.max_attempts;
    let (state, code, message, run_after, document_status, attempts_delta) = match ending {
        Ending::Failed { code, message } => ("failed", Some(code.as_str()), Some(message.as_str()), now, "failed", 0),
        Ending::Retry { code, message, .. } if out_of_attempts => {
            ("dead", Some(code.as_str()), Some(message.as_str()), now, "failed", 0)
        }
        Ending::Retry { code, message, retry_at } => {
            ("queued", Some(code.as_str()), Some(message.as_str()), *retry_at, "queued", 0)
        }
        Ending::Released => ("queued", None, None, now, "queued", 1),
    };
    let finished = matches!(state, "failed" | "dead").then_some(now);
    let sql = fenced(
        &format!(
            "UPDATE analysis_jobs SET state = $1, error_code = COALESCE($2, error_code), error = COALESCE($3, error), \
             run_after = $4, finished_at = $5, updated_at = $6, attempts = attempts - $7, worker_id = NULL, \
             lease_until = NULL, dispatched_at = NULL WHERE {FENCE}"
        ),
        8,
    );
    in_transaction!(db, |tx| {
        let affected = sqlx::query(&sql)
            .bind(state)
            .bind(code)
            .bind(message)
            .bind(run_after)
            .bind(finished)
            .bind(now)
            .bind(attempts_delta)
            .bind(&job.id)
            .bind(&claim.worker_id)
            .bind(claim.attempt)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if affected != 1 {
            return Ok(Transition::Fenced);
        }
        follow_status!(tx, document = &job.document_id, job = &job.id, status = document_status, at = now);
        if state == "queued" {
            sqlx::query(
                "INSERT INTO analysis_dispatch_outbox (job_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&job.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        } else {
            crate::documents::audit!(
                tx,
                org = &job.organisation_id,
                actor = None::<&str>,
                action = format!("analysis.{state}"),
                target = ("analysis_job", &job.id),
                details = &serde_json::json!({ "document_id": job.document_id, "error_code": code, "attempts": claim.attempt }),
                at = now
            );
            let payload =
                crate::webhooks::analysis_payload("analysis.failed", now, &job.document_id, &job.id, None, code);
            crate::webhooks::enqueue!(
                tx,
                org = &job.organisation_id,
                event = "analysis.failed",
                payload = &payload,
                at = now
            );
        }
        Ok::<_, sqlx::Error>(Transition::Done(state.to_owned()))
    })
}

/// Jobs whose worker stopped renewing its lease: queued again (with a dispatch outbox row)
/// while attempts remain, else `dead` with their document `failed`. Returns the jobs changed.
pub async fn reclaim_expired(db: &Database, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    let now = crate::ids::now();
    let select = format!(
        "SELECT {JOB_COLUMNS} FROM analysis_jobs WHERE state = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT $2"
    );
    let expired: Vec<JobRow> =
        with_pool!(db, |p| sqlx::query_as::<_, JobRow>(&select).bind(now).bind(limit).fetch_all(p).await)?;
    let mut changed = Vec::new();
    for job in expired {
        let (Some(worker_id), attempt) = (job.worker_id.clone(), job.attempts) else { continue };
        let claim = Claim { job, worker_id, attempt };
        let ending = Ending::Retry {
            code: "worker_lost".into(),
            message: format!("the worker stopped during attempt {attempt} (crash, kill or lost connection)"),
            retry_at: now,
        };
        if let Transition::Done(state) = end(db, &claim, &ending).await? {
            let mut job = claim.job;
            job.state = state;
            changed.push(job);
        }
    }
    Ok(changed)
}

/// Ids of due queued jobs that were never put on the stream, or not for `stale_after`
/// (the stream lost them: Redis restarted empty, XADD failed).
pub async fn undispatched(db: &Database, stale_before: DateTime<Utc>, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "SELECT id FROM analysis_jobs WHERE state = 'queued' AND run_after <= $1 \
                       AND (dispatched_at IS NULL OR dispatched_at < $2) ORDER BY run_after, id LIMIT $3";
    with_pool!(db, |p| sqlx::query_scalar::<_, String>(SQL)
        .bind(crate::ids::now())
        .bind(stale_before)
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// Job ids waiting in the dispatch outbox, oldest first.
pub async fn outbox(db: &Database, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "SELECT job_id FROM analysis_dispatch_outbox ORDER BY created_at, job_id LIMIT $1";
    with_pool!(db, |p| sqlx::query_scalar::<_, String>(SQL).bind(limit).fetch_all(p).await)
}

/// Marks jobs as put on the stream now, and removes them from the outbox.
pub async fn mark_dispatched(db: &Database, job_ids: &[String]) -> Result<(), sqlx::Error> {
    if job_ids.is_empty() {
        return Ok(());
    }
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        for id in job_ids {
            sqlx::query("DELETE FROM analysis_dispatch_outbox WHERE job_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE analysis_jobs SET dispatched_at = $1 WHERE id = $2 AND state = 'queued'")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Ok::<_, sqlx::Error>(())
    })
}

/// Empties the outbox without a stream (embedded mode: workers claim from the database).
pub async fn clear_outbox(db: &Database) -> Result<u64, sqlx::Error> {
    with_pool!(db, |p| sqlx::query("DELETE FROM analysis_dispatch_outbox").execute(p).await.map(|r| r.rows_affected()))
}

/// A job of the organisation.
pub async fn find(db: &Database, organisation_id: &str, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM analysis_jobs WHERE id = $1 AND organisation_id = $2");
    with_pool!(db, |p| sqlx::query_as::<_, JobRow>(&sql).bind(id).bind(organisation_id).fetch_optional(p).await)
}

/// The newest job of a document.
pub async fn latest_of_document(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM analysis_jobs WHERE document_id = $1 AND organisation_id = $2 ORDER BY id DESC LIMIT 1"
    );
    with_pool!(db, |p| sqlx::query_as::<_, JobRow>(&sql)
        .bind(document_id)
        .bind(organisation_id)
        .fetch_optional(p)
        .await)
}

/// Number of jobs in each state (tests, monitoring).
pub async fn count_by_state(db: &Database) -> Result<Vec<(String, i64)>, sqlx::Error> {
    with_pool!(db, |p| sqlx::query_as::<_, (String, i64)>(
        "SELECT state, COUNT(*) FROM analysis_jobs GROUP BY state ORDER BY state"
    )
    .fetch_all(p)
    .await)
}
