//! Analysis workers, the outbox relay and the reconciler: everything that moves a job from
//! `queued` to an end, in `contract-reviewer worker` and inside `serve` alike.
//!
//! A worker claims a job from the database (the id the stream gave it, or the oldest due one),
//! renews its lease while the engine runs on a blocking thread, and completes the job with its
//! result in one fenced transaction. A worker that dies stops renewing; the reconciler queues
//! the job again once the lease expires, and after `max_attempts` claims marks it `dead`.
//! Faults of the document fail the job at once; faults around it (a file that cannot be read,
//! a database that does not answer) are retried with exponential backoff and jitter.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cr_store::jobs::{self, Claim, Ending, Transition};
use cr_store::{analyses, Database};
use rand::Rng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::RedisStream;
use super::engine::{self, Stage};
use super::events::AnalysisEvent;
use super::isolated;
use super::AnalysisService;

/// How workers, relay and reconciler behave; defaults in `cr-server`'s configuration.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Jobs analysed at once by one process.
    pub concurrency: usize,
    /// How long a claim holds without renewal.
    pub lease: Duration,
    /// Claims of one job before it is `dead`.
    pub max_attempts: i32,
    /// How often an idle worker looks in the database (the stream or an in-process wakeup
    /// usually comes first).
    pub poll_interval: Duration,
    /// First retry delay of a transient failure; doubles with each attempt, ± 50 % jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long SIGTERM waits for in-flight jobs before releasing them.
    pub shutdown_grace: Duration,
    /// How often the reconciler runs.
    pub reconcile_interval: Duration,
    /// A queued job whose stream entry is older than this is sent again.
    pub redispatch_after: Duration,
    /// Where analyses run: on the worker's engine thread, or each in a child process.
    pub isolation: Option<super::isolated::ProcessIsolation>,
}

/// The background tasks of one process: workers (when `workers` is true), relay, reconciler,
/// webhook deliverer.
pub struct Background {
    tasks: JoinSet<()>,
    /// Results being stored after their engine run.
    storing: TaskTracker,
    shutdown: CancellationToken,
}

impl Background {
    /// Starts relay, reconciler and webhook deliverer, and `settings.concurrency` workers when
    /// `workers`.
    pub fn start(service: &AnalysisService, workers: bool) -> Self {
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let storing = TaskTracker::new();
        tasks.spawn(relay(service.clone(), shutdown.clone()));
        tasks.spawn(reconciler(service.clone(), shutdown.clone()));
        tasks.spawn(service.inner.webhooks.clone().run_deliverer(shutdown.clone()));
        if workers {
            let (sender, receiver) = async_channel();
            if let Some(stream) = service.inner.stream.clone() {
                tasks.spawn(stream_reader(service.clone(), stream, sender, shutdown.clone()));
            }
            let worker_prefix = format!("{}-{}", hostname(), std::process::id());
            let permits = Arc::new(tokio::sync::Semaphore::new(service.inner.settings.concurrency.max(1)));
            for n in 0..service.inner.settings.concurrency.max(1) {
                let worker = Worker {
                    service: service.clone(),
                    // The random tail of a UUIDv7, so two processes of one host never share an id.
                    id: format!("{worker_prefix}-{n}-{}", &cr_store::ids::new_id("w")[26..]),
                    deliveries: receiver.clone(),
                    storing: permits.clone(),
                    tracker: storing.clone(),
                    engine: EngineThread::default(),
                };
                tasks.spawn(worker.run(shutdown.clone()));
            }
        }
        Self { tasks, storing, shutdown }
    }

    /// Stops claiming, lets in-flight jobs finish within the grace period (releasing those
    /// that do not), and waits for every task.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.storing.close();
        self.storing.wait().await;
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "worker".into())
}

fn async_channel() -> (tokio::sync::mpsc::Sender<String>, Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<String>>>)
{
    let (sender, receiver) = tokio::sync::mpsc::channel(64);
    (sender, Arc::new(tokio::sync::Mutex::new(receiver)))
}

struct Worker {
    service: AnalysisService,
    id: String,
    deliveries: Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<String>>>,
    /// Results being stored, shared by the process's workers.
    storing: Arc<tokio::sync::Semaphore>,
    engine: EngineThread,
    tracker: TaskTracker,
}

impl Worker {
    async fn run(self, shutdown: CancellationToken) {
        let settings = self.service.inner.settings.clone();
        let mut failures = 0u32;
        let mut given: Option<String> = None;
        while !shutdown.is_cancelled() {
            let claimed = self.claim(given.take().as_deref()).await;
            match claimed {
                Ok(Some(claim)) => {
                    failures = 0;
                    self.process(claim, &shutdown).await;
                    continue;
                }
                Ok(None) => failures = 0,
                Err(err) => {
                    failures += 1;
                    let wait = backoff(settings.backoff_base, settings.backoff_max, failures);
                    tracing::warn!(worker = %self.id, error = %format!("{err:#}"), retry_in_ms = wait.as_millis() as u64, "could not claim a job");
                    tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(wait) => {} }
                    continue;
                }
            }
            // Nothing to do: wait for a delivery, a wakeup or the poll interval.
            let wakeup = self.service.inner.wakeups.workers.notified();
            tokio::select! {
                _ = shutdown.cancelled() => return,
                id = async { self.deliveries.lock().await.recv().await } => given = id,
                _ = wakeup => {}
                _ = tokio::time::sleep(settings.poll_interval) => {}
            }
        }
    }

    async fn claim(&self, only: Option<&str>) -> anyhow::Result<Option<Claim>> {
        let inner = &self.service.inner;
        let lease_until = cr_store::ids::now() + chrono::Duration::from_std(inner.settings.lease)?;
        if let Some(id) = only {
            if let Some(claim) = jobs::claim(&inner.background_db, &self.id, lease_until, Some(id)).await? {
                return Ok(Some(claim));
            }
        }
        Ok(jobs::claim(&inner.background_db, &self.id, lease_until, None).await?)
    }

    /// Runs the engine on a claimed job, then hands the result to a storing task and returns,
    /// so the next engine run overlaps with this one's reports, commit and events.
    async fn process(&self, claim: Claim, shutdown: &CancellationToken) {
        let started = std::time::Instant::now();
        let inner = &self.service.inner;
        let job = &claim.job;
        tracing::debug!(worker = %self.id, job = %job.id, attempt = claim.attempt, "claimed");
        // Off the engine's path: the status is committed; readers need only not wait for it.
        let (service, org, doc) = (self.service.clone(), job.organisation_id.clone(), job.document_id.clone());
        tokio::spawn(async move { service.invalidate_document(&org, &doc).await });
        let lost = CancellationToken::new();
        let renewer =
            tokio::spawn(renew(inner.background_db.clone(), claim.clone(), inner.settings.lease, lost.clone()));
        let outcome = {
            let work = self.analyse(&claim);
            tokio::pin!(work);
            tokio::select! {
                outcome = &mut work => Some(outcome),
                _ = lost.cancelled() => None,
                _ = async {
                    shutdown.cancelled().await;
                    tokio::time::sleep(inner.settings.shutdown_grace).await;
                } => {
                    // Past the grace period: hand the job back; the engine thread's result is
                    // discarded by the fence.
                    let _ = jobs::end(&inner.background_db, &claim, &Ending::Released).await;
                    inner.wakeups.relay.notify_one();
                    None
                }
            }
        };
        let ending = match outcome {
            None => {
                renewer.abort();
                tracing::warn!(worker = %self.id, job = %job.id, "lost or released the lease before finishing");
                return;
            }
            Some(Ok((Analysed::Done(output), stages))) => {
                // Bounded: at most `concurrency` results wait to be stored (memory).
                let permit = self.storing.clone().acquire_owned().await;
                let service = self.service.clone();
                self.tracker.spawn(async move {
                    // The stage events go out before the final one.
                    let _ = stages.await;
                    store(&service, &claim, *output, started).await;
                    renewer.abort();
                    drop(permit);
                });
                return;
            }
            Some(Ok((Analysed::Failed(failure), stages))) => {
                let _ = stages.await;
                Ending::Failed { code: failure.code, message: failure.message }
            }
            Some(Err(err)) => transient(&inner.settings, &claim, "transient", &format!("{err:#}")),
        };
        renewer.abort();
        conclude(&self.service, &claim, &ending).await;
    }

    /// Reads the original and runs the engine on the worker's engine thread. Also returns the
    /// task publishing the stage events, to await before the job's final event.
    async fn analyse(&self, claim: &Claim) -> anyhow::Result<(Analysed, tokio::task::JoinHandle<()>)> {
        let inner = &self.service.inner;
        let job = &claim.job;
        let Some(document) =
            cr_store::documents::find_live(&inner.background_db, &job.organisation_id, &job.document_id).await?
        else {
            let failure = engine::DocumentFailure {
                code: "document_deleted".into(),
                message: "the document was deleted before it was analysed".into(),
            };
            return Ok((Analysed::Failed(failure), tokio::spawn(async {})));
        };
        let path = inner.files.absolute(&document.stored_path);
        // (A file that cannot be read is a transient failure: the attempt is retried.)
        tokio::fs::metadata(&path).await.with_context(|| format!("reading the original {}", path.display()))?;
        let analysis_id = cr_store::ids::new_id("ana");
        let model = inner.model.clone();
        let (playbook, side, filename) = (job.playbook.clone(), job.side.clone(), document.filename.clone());
        // Stages go out in order through one publisher, which has sent them all before the
        // job's final event can be.
        let (stages, mut pending) = tokio::sync::mpsc::unbounded_channel::<Stage>();
        let events = inner.events.clone();
        let template = AnalysisEvent::new("", &job.organisation_id, &job.document_id, &job.id, 0);
        let publisher = tokio::spawn(async move {
            while let Some(stage) = pending.recv().await {
                let mut event = template.clone();
                event.event = stage.name().to_owned();
                event.percent = stage.percent();
                event.at = cr_store::ids::now();
                events.publish(event).await;
            }
        });
        let result = match &inner.settings.isolation {
            Some(isolation) => {
                let job = isolated::JobArgs {
                    input: path,
                    filename,
                    playbook,
                    side,
                    analysis_id: analysis_id.clone(),
                    out: std::env::temp_dir().join(format!("cr-analysis-{analysis_id}")),
                };
                isolated::analyse(isolation, job, stages).await?
            }
            None => {
                let (id, bytes) = (
                    analysis_id.clone(),
                    tokio::fs::read(&path).await.with_context(|| format!("reading the original {}", path.display()))?,
                );
                self.engine
                    .run(move || {
                        engine::analyse(
                            &id,
                            &bytes,
                            &filename,
                            &playbook,
                            side.as_deref(),
                            &model,
                            &mut |stage: Stage| {
                                let _ = stages.send(stage);
                            },
                        )
                    })
                    .await?
            }
        };
        let analysed = match result {
            Ok(output) => Analysed::Done(Box::new(output)),
            Err(failure) => Analysed::Failed(failure),
        };
        Ok((analysed, publisher))
    }
}

/// Writes both reports and completes the job with its result.
async fn store(service: &AnalysisService, claim: &Claim, output: engine::Output, started: std::time::Instant) {
    let inner = &service.inner;
    let job = &claim.job;
    let analysed = started.elapsed();
    let written: anyhow::Result<()> = async {
        inner.files.write_report(&output.analysis.id, "json", &output.json_report).await?;
        inner.files.write_report(&output.analysis.id, "pdf", &output.pdf_report).await
    }
    .await;
    let ending = match written {
        Err(err) => transient(&inner.settings, claim, "transient", &format!("{err:#}")),
        Ok(()) => match analyses::complete(&inner.background_db, claim, &output.analysis).await {
            Ok(Transition::Done(_)) => {
                let stored = started.elapsed();
                service.finished(claim, "completed", Some(&output.analysis.id), None).await;
                tracing::debug!(
                    job = %job.id,
                    engine_ms = output.analysis.processing_time_ms,
                    analysed_ms = analysed.as_secs_f64() * 1e3,
                    stored_ms = stored.as_secs_f64() * 1e3,
                    total_ms = started.elapsed().as_secs_f64() * 1e3,
                    "completed"
                );
                return;
            }
            Ok(Transition::Fenced) => {
                tracing::warn!(job = %job.id, "the job was taken over before its result was stored; result discarded");
                return;
            }
            Err(err) => transient(&inner.settings, claim, "database", &format!("storing the result: {err}")),
        },
    };
    conclude(service, claim, &ending).await;
}

/// Ends a claimed job without a result, then updates caches, events and the relay.
async fn conclude(service: &AnalysisService, claim: &Claim, ending: &Ending) {
    let inner = &service.inner;
    let job = &claim.job;
    match jobs::end(&inner.background_db, claim, ending).await {
        Ok(Transition::Done(state)) => {
            let error = match ending {
                Ending::Failed { code, message } | Ending::Retry { code, message, .. } => {
                    Some((code.as_str(), message.as_str()))
                }
                Ending::Released => None,
            };
            if state == "queued" {
                tracing::info!(job = %job.id, attempt = claim.attempt, error = ?error, "transient failure; retrying later");
                service.invalidate_document(&job.organisation_id, &job.document_id).await;
                inner.wakeups.relay.notify_one();
            } else {
                service.finished(claim, &state, None, error).await;
            }
        }
        Ok(Transition::Fenced) => {}
        // The database is gone: the lease will expire and the reconciler will queue it.
        Err(err) => tracing::warn!(job = %job.id, error = %err, "could not record the end of a job"),
    }
}

/// The thread a worker runs the engine on, kept for the worker's life: the engine is
/// CPU-bound and synchronous, so it runs off the async runtime, and always on the same
/// thread (its allocations reuse that thread's memory instead of faulting in fresh pages on
/// whichever blocking-pool thread comes next).
#[derive(Default)]
struct EngineThread {
    sender: std::sync::Mutex<Option<std::sync::mpsc::Sender<EngineJob>>>,
}

type EngineJob = Box<dyn FnOnce() + Send>;

impl EngineThread {
    /// Runs `work` on the thread (started, or started again after a panic, on demand).
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: EngineJob = Box::new(move || {
            let _ = done.send(work());
        });
        {
            let mut sender = self.sender.lock().map_err(|_| anyhow::anyhow!("engine thread lock poisoned"))?;
            let job = match sender.as_ref() {
                Some(live) => live.send(job).err().map(|std::sync::mpsc::SendError(job)| job),
                None => Some(job),
            };
            if let Some(job) = job {
                let (new_sender, jobs) = std::sync::mpsc::channel::<EngineJob>();
                std::thread::Builder::new()
                    .name("analysis-engine".into())
                    .spawn(move || {
                        while let Ok(job) = jobs.recv() {
                            job();
                        }
                    })
                    .context("starting an engine thread")?;
                new_sender.send(job).map_err(|_| anyhow::anyhow!("the engine thread stopped at once"))?;
                *sender = Some(new_sender);
            }
        }
        result.await.context("the engine thread stopped during an analysis")
    }
}

enum Analysed {
    Done(Box<engine::Output>),
    Failed(engine::DocumentFailure),
}

fn transient(settings: &WorkerSettings, claim: &Claim, code: &str, message: &str) -> Ending {
    let delay = backoff(settings.backoff_base, settings.backoff_max, u32::try_from(claim.attempt).unwrap_or(1));
    let retry_at =
        cr_store::ids::now() + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::seconds(1));
    Ending::Retry { code: code.to_owned(), message: message.to_owned(), retry_at }
}

/// `base · 2^(n−1)`, capped at `max`, times a jitter factor in [0.5, 1.5).
pub fn backoff(base: Duration, max: Duration, n: u32) -> Duration {
    let exponential = base.saturating_mul(1u32 << n.saturating_sub(1).min(20)).min(max);
    exponential.mul_f64(rand::thread_rng().gen_range(0.5..1.5))
}

/// Renews the lease every third of its length; cancels `lost` when the claim is gone.
async fn renew(db: Database, claim: Claim, lease: Duration, lost: CancellationToken) {
    loop {
        tokio::time::sleep(lease / 3).await;
        let Ok(until) = chrono::Duration::from_std(lease).map(|l| cr_store::ids::now() + l) else { return };
        match jobs::renew_lease(&db, &claim, until).await {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // The database may come back before the lease runs out; keep trying.
            Err(err) => tracing::warn!(job = %claim.job.id, error = %err, "could not renew a lease"),
        }
    }
}

/// Moves the dispatch outbox to the Redis stream (server mode) or wakes the local workers.
async fn relay(service: AnalysisService, shutdown: CancellationToken) {
    let inner = &service.inner;
    loop {
        let ids = jobs::outbox(&inner.background_db, 500).await;
        let drained = match ids {
            Ok(ids) if ids.is_empty() => true,
            Ok(ids) => {
                let sent = match &inner.stream {
                    Some(stream) => stream
                        .publish(&ids)
                        .await
                        .map_err(|e| tracing::debug!(error = %e, "XADD failed; the outbox keeps the jobs"))
                        .is_ok(),
                    None => true,
                };
                if sent {
                    if let Err(err) = jobs::mark_dispatched(&inner.background_db, &ids).await {
                        tracing::warn!(error = %err, "could not empty the dispatch outbox");
                    }
                    inner.wakeups.workers.notify_waiters();
                }
                !sent || ids.len() < 500
            }
            Err(err) => {
                tracing::debug!(error = %err, "could not read the dispatch outbox");
                true
            }
        };
        if drained {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = inner.wakeups.relay.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        } else if shutdown.is_cancelled() {
            return;
        }
    }
}

/// Queues again the jobs whose worker died, and re-sends queued jobs the stream lost.
async fn reconciler(service: AnalysisService, shutdown: CancellationToken) {
    let inner = &service.inner;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(inner.settings.reconcile_interval) => {}
        }
        match jobs::reclaim_expired(&inner.background_db, 100).await {
            Ok(changed) => {
                for job in changed {
                    tracing::info!(job = %job.id, state = %job.state, attempts = job.attempts, "reclaimed a job whose worker stopped");
                    if job.state == "dead" {
                        let claim = Claim { worker_id: String::new(), attempt: job.attempts, job };
                        let error = ("worker_lost", "the worker stopped during every attempt");
                        service.finished(&claim, "dead", None, Some(error)).await;
                    } else {
                        service.invalidate_document(&job.organisation_id, &job.document_id).await;
                        inner.wakeups.relay.notify_one();
                    }
                }
            }
            Err(err) => tracing::debug!(error = %err, "reconciler: database not answering"),
        }
        if let Some(stream) = &inner.stream {
            let stale = chrono::Duration::from_std(inner.settings.redispatch_after)
                .unwrap_or_else(|_| chrono::Duration::seconds(30));
            match jobs::undispatched(&inner.background_db, cr_store::ids::now() - stale, 500).await {
                Ok(ids) if !ids.is_empty() => {
                    if stream.publish(&ids).await.is_ok() {
                        tracing::info!(jobs = ids.len(), "re-sent queued jobs the stream had lost");
                        let _ = jobs::mark_dispatched(&inner.background_db, &ids).await;
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::debug!(error = %err, "reconciler: database not answering"),
            }
        }
    }
}

/// Reads job ids from the stream for this process's workers.
async fn stream_reader(
    service: AnalysisService,
    stream: Arc<RedisStream>,
    deliveries: tokio::sync::mpsc::Sender<String>,
    shutdown: CancellationToken,
) {
    let consumer = format!("{}-{}", hostname(), std::process::id());
    let block = Duration::from_secs(2);
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        let mut connection = match stream.reader(block).await {
            Ok(connection) => connection,
            Err(err) => {
                failures += 1;
                tracing::debug!(error = %err, "stream reader: Redis not reachable; workers poll the database");
                let wait = backoff(Duration::from_millis(200), Duration::from_secs(5), failures);
                tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(wait) => {} }
                continue;
            }
        };
        loop {
            let read = tokio::select! {
                _ = shutdown.cancelled() => return,
                read = stream.read(&mut connection, &consumer, service.inner.settings.concurrency.max(1), block) => read,
            };
            match read {
                Ok(batch) => {
                    failures = 0;
                    let entry_ids: Vec<String> = batch.iter().map(|d| d.entry_id.clone()).collect();
                    for delivery in batch {
                        if deliveries.send(delivery.job_id).await.is_err() {
                            return;
                        }
                    }
                    // The database decides who runs a job; the entry has done its work.
                    if let Err(err) = stream.ack(&mut connection, &entry_ids).await {
                        tracing::debug!(error = %err, "could not acknowledge stream entries");
                    }
                }
                Err(err) => {
                    tracing::debug!(error = %err, "stream reader: read failed; reconnecting");
                    break;
                }
            }
        }
    }
}
