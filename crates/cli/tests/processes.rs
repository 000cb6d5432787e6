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
}

impl Deployment {
    async fn new(max_attempts: u32) -> Self {
        Self {
            database: Database::create().await,
            data_dir: tempfile::tempdir().expect("temp dir"),
            prefix: unique("proc:") + ":",
            key: unique("cr_test_process_key_0123456789abcdef_"),
            max_attempts,
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
        let large = text.repeat(2_500_000 / text.len() + 1);
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
