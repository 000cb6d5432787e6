//! The pipeline as separate processes, as it is deployed: `contract-reviewer serve` (API only)
//! and `contract-reviewer worker` children on a real PostgreSQL and Redis, killed with
//! SIGKILL or stopped with SIGTERM mid-job.
//!
//! `TEST_DATABASE_URL` / `TEST_REDIS_URL` name the servers, as for the API tests.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::Connection;

fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}{nanos:x}{:x}", std::process::id())
}

/// A database of this test, dropped at its end.
struct Database {
    name: String,
    url: String,
}

// (A test that points `url` at a private server leaves the created database on the shared
// one to `Drop`, which still removes it by name.)

impl Database {
    async fn create() -> Self {
        let admin = postgres_url();
        let name = unique("cr_proc_");
        let mut connection = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL must be running");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await.expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("database URL has a path");
        Self { url: format!("{base}/{name}"), name }
    }

    async fn query_jobs(&self) -> Vec<(String, i32)> {
        let mut connection = sqlx::PgConnection::connect(&self.url).await.expect("connect");
        sqlx::query_as("SELECT state, attempts FROM analysis_jobs ORDER BY id")
            .fetch_all(&mut connection)
            .await
            .expect("jobs")
    }

    async fn count(&self, table: &str) -> i64 {
        let mut connection = sqlx::PgConnection::connect(&self.url).await.expect("connect");
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut connection).await.expect("count")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_url()).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await;
                }
            });
        })
        .join();
    }
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One deployment: its database, Redis key prefix, data directory and API key.
struct Deployment {
    database: Database,
    data_dir: tempfile::TempDir,
    prefix: String,
    key: String,
    max_attempts: u32,
    /// Extra settings of every process of the deployment.
    settings: Vec<(&'static str, String)>,
}

impl Deployment {
    async fn new(max_attempts: u32) -> Self {
        Self {
            database: Database::create().await,
            data_dir: tempfile::tempdir().expect("temp dir"),
            prefix: unique("proc:") + ":",
            key: unique("cr_test_process_key_0123456789abcdef_"),
            max_attempts,
            settings: Vec::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_contract-reviewer"));
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .env("DATABASE_URL", &self.database.url)
            .env("REDIS_URL", redis_url())
            .env("CR_CACHE__KEY_PREFIX", &self.prefix)
            .env("CR_BOOTSTRAP_API_KEY", &self.key)
            .env("CR_WORKER__IN_SERVE", "false")
            .env("CR_WORKER__CONCURRENCY", "1")
            .env("CR_WORKER__LEASE_SECS", "2")
            .env("CR_WORKER__MAX_ATTEMPTS", self.max_attempts.to_string())
            .env("CR_WORKER__POLL_INTERVAL_MS", "200")
            .env("CR_WORKER__RECONCILE_INTERVAL_MS", "300")
            .env("RUST_LOG", "warn")
            .envs(self.settings.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// `serve` on a free port, once it answers.
    async fn serve(&self) -> (Process, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let address = format!("127.0.0.1:{port}");
        let child = self.command(&["serve", "--listen", &address]).spawn().expect("spawn serve");
        let process = Process(child);
        let base = format!("http://{address}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "serve did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (process, base)
    }

    fn worker(&self) -> Process {
        Process(self.command(&["worker"]).spawn().expect("spawn worker"))
    }

    async fn document_status(&self, base: &str, id: &str) -> String {
        let response = reqwest::Client::new()
            .get(format!("{base}/api/documents/{id}"))
            .header("X-API-Key", &self.key)
            .send()
            .await
            .expect("request");
        let document: Value = response.json().await.expect("json");
        document["status"].as_str().unwrap_or_default().to_owned()
    }

    async fn wait_for_status(&self, base: &str, id: &str, wanted: &[&str], within: Duration) -> String {
        let started = Instant::now();
        loop {
            let status = self.document_status(base, id).await;
            if wanted.contains(&status.as_str()) {
                return status;
            }
            assert!(started.elapsed() < within, "document still {status}, wanted one of {wanted:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Uploads a contract large enough that analysing it takes seconds.
    async fn upload_large_contract(&self, base: &str) -> String {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/cuad-mini/contracts")
            .join("GluMobileInc_20070319_S-1A_EX-10.09_436630_EX-10.09_Content_License_Agreement4.txt");
        let text = std::fs::read_to_string(fixture).expect("fixture");
        // A distinct first line, so that each upload is a new document.
        let large = format!("{}\n{}", unique("CONTRACT "), text.repeat(2_500_000 / text.len() + 1));
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(large.into_bytes()).file_name("large.txt"));
        let response = reqwest::Client::new()
            .post(format!("{base}/api/documents"))
            .header("X-API-Key", &self.key)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), 201);
        let document: Value = response.json().await.expect("json");
        document["id"].as_str().expect("id").to_owned()
    }
}

fn signal(process: &Process, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(process.0.id().to_string()).status().expect("kill");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_loses_its_lease_and_another_completes_the_job_once() {
    let deployment = Deployment::new(3).await;
    let (_serve, base) = deployment.serve().await;
    let id = deployment.upload_large_contract(&base).await;

    let first = deployment.worker();
    deployment.wait_for_status(&base, &id, &["analysing"], Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(&first, "KILL");
    drop(first);
    assert_eq!(deployment.database.query_jobs().await, [("running".to_owned(), 1)], "killed mid-job");

    let _second = deployment.worker();
    let status = deployment.wait_for_status(&base, &id, &["analysed", "failed"], Duration::from_secs(120)).await;
    assert_eq!(status, "analysed");
    assert_eq!(deployment.database.query_jobs().await, [("completed".to_owned(), 2)]);
    assert_eq!(deployment.database.count("analyses").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_that_kills_every_worker_ends_dead_after_its_attempts() {
    let deployment = Deployment::new(2).await;
    let (_serve, base) = deployment.serve().await;
    let id = deployment.upload_large_contract(&base).await;
    for attempt in 1..=2 {
        let worker = deployment.worker();
        let started = Instant::now();
        while deployment.database.query_jobs().await != [("running".to_owned(), attempt)] {
            assert!(started.elapsed() < Duration::from_secs(30), "attempt {attempt} never started");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        signal(&worker, "KILL");
    }
    let status = deployment.wait_for_status(&base, &id, &["failed"], Duration::from_secs(30)).await;
    assert_eq!(status, "failed");
    assert_eq!(deployment.database.query_jobs().await, [("dead".to_owned(), 2)]);
    assert_eq!(deployment.database.count("analyses").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_worker_finish_its_job_and_exit() {
    let deployment = Deployment::new(3).await;
    let (_serve, base) = deployment.serve().await;
    let id = deployment.upload_large_contract(&base).await;
    let mut worker = deployment.worker();
    deployment.wait_for_status(&base, &id, &["analysing"], Duration::from_secs(30)).await;
    signal(&worker, "TERM");
    let started = Instant::now();
    let exit = loop {
        if let Some(status) = worker.0.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the worker did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    assert_eq!(deployment.database.query_jobs().await, [("completed".to_owned(), 1)], "finished, not abandoned");
    assert_eq!(deployment.document_status(&base, &id).await, "analysed");
}

/// A PostgreSQL of this test alone, on a spare port, that it can stop and start again.
struct PrivatePostgres {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries (Debian's postgresql package)")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists())
            .max()
            .expect("a PostgreSQL version with pg_ctl");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let postgres = Self { bin, dir, port };
        // PostgreSQL refuses to run as root: as root, its files belong to the postgres user.
        if Self::as_root() {
            let status = Command::new("chown").arg("postgres").arg(postgres.dir.path()).status().expect("chown");
            assert!(status.success());
        }
        let data = postgres.data();
        let initdb = postgres.run(postgres.bin.join("initdb"), &["-A", "trust", "-U", "postgres", "-D", &data]);
        assert!(initdb, "initdb failed");
        postgres.pg_ctl("start");
        postgres
    }

    fn as_root() -> bool {
        Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, program: std::path::PathBuf, args: &[&str]) -> bool {
        let mut command = if Self::as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let data = self.data();
        let args: Vec<&str> = match action {
            "start" => vec!["start", "-w", "-D", &data, "-o", &options, "-l", "/dev/null"],
            _ => vec!["stop", "-w", "-m", "immediate", "-D", &data],
        };
        assert!(self.run(self.bin.join("pg_ctl"), &args), "pg_ctl {action} failed");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        self.run(self.bin.join("pg_ctl"), &["stop", "-m", "immediate", "-D", &data]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgresql_is_down_the_api_answers_503_and_every_job_completes_after_it_returns() {
    let postgres = PrivatePostgres::start();
    let mut deployment = Deployment::new(5).await;
    // This deployment's database is the private server's.
    deployment.database.url = postgres.url();
    let (_serve, base) = deployment.serve().await;
    let _worker = deployment.worker();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(deployment.upload_large_contract(&base).await);
    }
    deployment.wait_for_status(&base, &ids[0], &["analysing"], Duration::from_secs(30)).await;

    postgres.pg_ctl("stop");
    let client = reqwest::Client::new();
    let answer = client
        .get(format!("{base}/api/documents/{}", ids[2]))
        .header("X-API-Key", &deployment.key)
        .send()
        .await
        .expect("the API answers while the database is down");
    assert_eq!(answer.status(), 503);
    let body: Value = answer.json().await.expect("a JSON error");
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("database")), "{body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    postgres.pg_ctl("start");

    for id in &ids {
        let status = deployment.wait_for_status(&base, id, &["analysed", "failed"], Duration::from_secs(180)).await;
        assert_eq!(status, "analysed", "{id}");
    }
    let jobs = deployment.database.query_jobs().await;
    assert!(jobs.iter().all(|(state, _)| state == "completed"), "none left running: {jobs:?}");
    assert_eq!(deployment.database.count("analyses").await, 3, "one result per job");
}

/// Jobs of the deployment with their error codes.
async fn job_errors(database: &Database) -> Vec<(String, i32, Option<String>)> {
    let mut connection = sqlx::PgConnection::connect(&database.url).await.expect("connect");
    sqlx::query_as("SELECT state, attempts, error_code FROM analysis_jobs ORDER BY id")
        .fetch_all(&mut connection)
        .await
        .expect("jobs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_analysis_in_a_child_process_stores_its_result() {
    let mut deployment = Deployment::new(3).await;
    deployment.settings.push(("CR_WORKER__ISOLATION", "process".into()));
    let (_serve, base) = deployment.serve().await;
    let _worker = deployment.worker();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/contracts/bonterms_Mutual-NDA-Version-1.pdf");
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(std::fs::read(&fixture).expect("fixture")).file_name("nda.pdf"));
    let response = reqwest::Client::new()
        .post(format!("{base}/api/documents"))
        .header("X-API-Key", &deployment.key)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let id = response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    let status = deployment.wait_for_status(&base, &id, &["analysed", "failed"], Duration::from_secs(60)).await;
    assert_eq!(status, "analysed");
    let analysis: Value = reqwest::Client::new()
        .get(format!("{base}/api/documents/{id}/analysis"))
        .header("X-API-Key", &deployment.key)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let cli = Command::new(env!("CARGO_BIN_EXE_contract-reviewer"))
        .arg("review")
        .arg("--json")
        .arg(&fixture)
        .output()
        .expect("review");
    let expected: Value = serde_json::from_slice(&cli.stdout).expect("review JSON");
    assert_eq!(analysis["review"]["clauses"], expected["clauses"], "the child's clauses are the CLI's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_analysis_past_its_memory_limit_fails_with_memory_limit() {
    let mut deployment = Deployment::new(3).await;
    deployment.settings.push(("CR_WORKER__ISOLATION", "process".into()));
    // Enough to start, not to analyse the large contract (about 110 MB resident).
    deployment.settings.push(("CR_WORKER__MEMORY_LIMIT_MIB", "200".into()));
    let (_serve, base) = deployment.serve().await;
    let _worker = deployment.worker();
    let id = deployment.upload_large_contract(&base).await;
    let status = deployment.wait_for_status(&base, &id, &["analysed", "failed"], Duration::from_secs(60)).await;
    assert_eq!(status, "failed");
    assert_eq!(job_errors(&deployment.database).await, [("failed".to_owned(), 1, Some("memory_limit".to_owned()))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_analysis_past_its_deadline_is_stopped_and_fails_with_timeout() {
    let mut deployment = Deployment::new(3).await;
    deployment.settings.push(("CR_WORKER__ISOLATION", "process".into()));
    deployment.settings.push(("CR_WORKER__ANALYSIS_TIMEOUT_SECS", "1".into()));
    let (_serve, base) = deployment.serve().await;
    let _worker = deployment.worker();
    let id = deployment.upload_large_contract(&base).await;
    let status = deployment.wait_for_status(&base, &id, &["analysed", "failed"], Duration::from_secs(60)).await;
    assert_eq!(status, "failed");
    assert_eq!(job_errors(&deployment.database).await, [("failed".to_owned(), 1, Some("timeout".to_owned()))]);
}

/// A Redis of this test alone, on a spare port, that it can kill and start again empty.
struct PrivateRedis {
    port: u16,
    process: Option<Process>,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let mut redis = Self { port, process: None };
        redis.restart();
        redis
    }

    /// Kills the server (if running) and starts an empty one on the same port.
    fn restart(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.0.kill();
            let _ = process.0.wait();
        }
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server package)");
        self.process = Some(Process(child));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_queued_before_redis_restarted_empty_all_complete_once() {
    let mut redis = PrivateRedis::start();
    let mut deployment = Deployment::new(3).await;
    deployment.settings.push(("REDIS_URL", redis.url()));
    // Workers hear of jobs only through the stream and the reconciler's re-sends.
    deployment.settings.push(("CR_WORKER__POLL_INTERVAL_MS", "600000".into()));
    deployment.settings.push(("CR_WORKER__REDISPATCH_AFTER_SECS", "1".into()));
    let (_serve, base) = deployment.serve().await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for n in 0..50 {
        let text = format!("SUPPLY AGREEMENT {n}\n\nThis Agreement is governed by the laws of England and Wales.\n");
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(text.into_bytes()).file_name(format!("s{n}.txt")));
        let response = client
            .post(format!("{base}/api/documents"))
            .header("X-API-Key", &deployment.key)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), 201);
        ids.push(response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned());
    }
    let started = Instant::now();
    while deployment.database.count("analysis_dispatch_outbox").await > 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the jobs never reached the stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.restart();

    let _worker = deployment.worker();
    for id in &ids {
        let status = deployment.wait_for_status(&base, id, &["analysed", "failed"], Duration::from_secs(120)).await;
        assert_eq!(status, "analysed");
    }
    let jobs = deployment.database.query_jobs().await;
    assert!(jobs.iter().all(|job| job == &("completed".to_owned(), 1)), "each once: {jobs:?}");
    assert_eq!(deployment.database.count("analyses").await, 50);
}
