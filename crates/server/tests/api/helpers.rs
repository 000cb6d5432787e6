//! Spawning the application for tests: on port 0, against a fresh PostgreSQL database cloned
//! from a migrated template and a random Redis key prefix (server mode), or against a fresh
//! SQLite file and in-process cache in a temporary directory (embedded mode).
//!
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) name the servers; `.ci/run` starts them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cr_server::config::Secret;
use cr_server::{AppState, Application, Config};
use serde_json::Value;
use sqlx::Connection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// PostgreSQL + Redis.
    Server,
    /// SQLite + in-process cache.
    Embedded,
}

pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{database}")
}

/// Runs `sql`, retrying for up to five seconds while it fails: "database is being accessed by
/// other users" passes by itself (a closed pool's backend outlives `close` by a moment, and
/// other tests copy the template at the same time).
async fn execute_retrying(admin: &mut sqlx::PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let mut attempts = 0;
    loop {
        match sqlx::query(sql).execute(&mut *admin).await {
            Ok(_) => return Ok(()),
            Err(_) if attempts < 50 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// A PostgreSQL database of this test, dropped when the test ends.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = postgres_url();
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL must be running for the tests (see .ci/run)");
        let template = template_name();
        // One test process at a time builds the template; the others wait for it.
        sqlx::query("SELECT pg_advisory_lock(727001)").execute(&mut admin).await.expect("lock");
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .expect("query pg_database");
        if !exists {
            let building = format!("{template}_building");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .expect("drop");
            sqlx::query(&format!("CREATE DATABASE {building}")).execute(&mut admin).await.expect("create template");
            let db =
                cr_store::Database::connect(&with_database(&admin_url, &building), 1).await.expect("connect template");
            db.migrate().await.expect("migrate template");
            db.close().await;
            // Nothing may be connected to a database being renamed: end whatever still is (a
            // closed pool's backend on its way out, an autovacuum worker on the new tables).
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&building)
            .execute(&mut admin)
            .await
            .expect("end the sessions on the template");
            let rename = format!("ALTER DATABASE {building} RENAME TO {template}");
            execute_retrying(&mut admin, &rename).await.unwrap_or_else(|err| panic!("rename the template: {err}"));
        }
        sqlx::query("SELECT pg_advisory_unlock(727001)").execute(&mut admin).await.expect("unlock");
        let name = format!("cr_test_{}", uuid::Uuid::now_v7().simple());
        execute_retrying(&mut admin, &format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .unwrap_or_else(|err| panic!("could not create the test database: {err}"));
        let _ = admin.close().await;
        Self { url: with_database(&admin_url, &name), name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async; use a thread with its own runtime.
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

/// Template named after the migrations, so a changed migration gets a new template.
fn template_name() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("migrations dir").map(|e| e.expect("entry").path()).collect();
    files.sort();
    for file in files {
        std::fs::read(&file).expect("read migration").hash(&mut hasher);
    }
    format!("cr_template_{:016x}", hasher.finish())
}

pub struct TestApp {
    pub address: String,
    /// The key prefix of this app's Redis keys.
    pub key_prefix: String,
    pub client: reqwest::Client,
    /// API key of the platform admin (organisation "Default organisation").
    pub admin_key: String,
    pub state: AppState,
    pub data_dir: PathBuf,
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub async fn spawn_app(mode: Mode) -> TestApp {
    spawn_app_with(mode, |_| {}).await
}

/// Spawns the app after `adjust` has changed its configuration.
pub async fn spawn_app_with(mode: Mode, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_app_without_waiting(mode, adjust).await;
    app.wait_until_cache_ready().await;
    app
}

/// [`spawn_app_with`], without waiting for the cache (for a Redis that is meant to be down).
pub async fn spawn_app_without_waiting(mode: Mode, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("address"),
        bootstrap_api_key: Some(Secret::new(format!("cr_test_admin_{}", uuid::Uuid::now_v7().simple()))),
        ..Config::default()
    };
    config.cache.key_prefix = format!("test:{}:", uuid::Uuid::now_v7().simple());
    // Tests of the analysis flow turn the workers on; the others keep documents still.
    config.worker.in_serve = false;
    // Tests send many requests from one address and key; the rate-limit tests set their own.
    config.rate_limit.per_key_requests = 1_000_000;
    config.rate_limit.per_ip_requests = 1_000_000;
    config.rate_limit.per_user_requests = 1_000_000;
    // Password hashing at production cost would dominate test time; the cost is a setting.
    config.auth.argon2_memory_kib = 64;
    config.auth.argon2_iterations = 1;
    let database = match mode {
        Mode::Server => {
            let database = TestDatabase::create().await;
            config.database_url = Some(Secret::new(database.url.clone()));
            config.redis_url = Some(Secret::new(redis_url()));
            Some(database)
        }
        Mode::Embedded => None,
    };
    adjust(&mut config);
    let key_prefix = config.cache.key_prefix.clone();
    let admin_key = config.bootstrap_api_key.as_ref().map(|k| k.expose().to_owned()).expect("admin key");
    let app = Application::build(config).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let test_app = TestApp {
        address,
        key_prefix,
        client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        admin_key,
        state,
        data_dir: dir.path().to_path_buf(),
        _dir: dir,
        _database: database,
        shutdown: Some(shutdown),
    };
    test_app
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// An organisation made for a test, with its admin's key.
pub struct Org {
    pub id: String,
    pub key: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Waits until Redis (server mode) is connected, so tests start from a known state.
    async fn wait_until_cache_ready(&self) {
        for _ in 0..100 {
            if self.state.cache.stats().available {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the cache did not become available; is Redis running?");
    }

    /// Round trips made to the database so far.
    pub fn db_queries(&self) -> u64 {
        self.state.db.queries()
    }

    pub async fn new_org(&self) -> Org {
        let name = format!("Org {}", uuid::Uuid::now_v7().simple());
        let response = self
            .client
            .post(self.url("/api/organisations"))
            .bearer_auth(&self.admin_key)
            .json(&serde_json::json!({ "name": name, "admin_email": format!("{}@example.com", uuid::Uuid::now_v7().simple()) }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "organisation creation failed");
        let body: Value = response.json().await.expect("json");
        Org {
            id: body["organisation"]["id"].as_str().expect("org id").to_owned(),
            key: body["api_key"].as_str().expect("api key").to_owned(),
        }
    }

    /// Uploads `bytes` as `filename`, with optional metadata JSON and idempotency key.
    pub async fn upload(
        &self,
        key: &str,
        filename: &str,
        bytes: Vec<u8>,
        metadata: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        self.try_upload(key, filename, bytes, metadata, idempotency_key).await.expect("upload request")
    }

    /// [`TestApp::upload`], with the client's own error when the request could not be sent
    /// whole (a server that refuses a body early may close the connection under the client).
    pub async fn try_upload(
        &self,
        key: &str,
        filename: &str,
        bytes: Vec<u8>,
        metadata: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()));
        if let Some(metadata) = metadata {
            form = form.text("metadata", metadata.to_owned());
        }
        let mut request = self.client.post(self.url("/api/documents")).header("X-API-Key", key).multipart(form);
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        request.send().await
    }

    /// Uploads a small unique text contract and returns its JSON.
    pub async fn upload_text(&self, key: &str, metadata: Option<&str>) -> Value {
        let text = format!(
            "MASTER SERVICES AGREEMENT\n\nThis Agreement ({}) is made between A and B.\n",
            uuid::Uuid::now_v7()
        );
        let response = self.upload(key, "msa.txt", text.into_bytes(), metadata, None).await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("json")
    }

    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).header("X-API-Key", key).send().await.expect("request")
    }

    pub async fn patch_json(&self, key: &str, path: &str, body: Value) -> reqwest::Response {
        self.client.patch(self.url(path)).header("X-API-Key", key).json(&body).send().await.expect("request")
    }

    pub async fn post_json(&self, key: &str, path: &str, body: Value) -> reqwest::Response {
        self.client.post(self.url(path)).header("X-API-Key", key).json(&body).send().await.expect("request")
    }

    pub async fn delete(&self, key: &str, path: &str) -> reqwest::Response {
        self.client.delete(self.url(path)).header("X-API-Key", key).send().await.expect("request")
    }

    /// Number of documents rows (any state) and of originals on disk.
    pub async fn stored_counts(&self) -> (i64, usize) {
        let rows: i64 = cr_store::with_pool!(self.state.db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM documents")
            .fetch_one(p)
            .await)
        .expect("count");
        (rows, count_files(&self.data_dir.join("files/originals")))
    }

    /// Files left in the staging directory.
    pub fn staging_files(&self) -> usize {
        count_files(&self.data_dir.join("files/staging"))
    }
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(Result::ok).map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum()
}

/// Every file in `tests/fixtures/<sub>` (recursively).
pub fn fixtures(sub: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(sub);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture dir").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Generates a `#[tokio::test]` per mode from an `async fn name(mode: Mode)`.
#[macro_export]
macro_rules! in_both_modes {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres_and_redis() {
                super::$name(Mode::Server).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name(Mode::Embedded).await
            }
        }
    };
}

/// The password of members made by [`TestApp::add_member`].
pub const MEMBER_PASSWORD: &str = "a long enough password";

/// A member made for a test.
pub struct Member {
    pub id: String,
    pub email: String,
}

/// A signed-in session: its token (from the `cr_session` cookie) and CSRF token.
pub struct Session {
    pub token: String,
    pub csrf: String,
}

impl Session {
    /// The `Cookie` header that presents it.
    pub fn cookie(&self) -> String {
        format!("cr_session={}", self.token)
    }
}

impl TestApp {
    /// A member of the organisation of `admin_key`, with `role` and [`MEMBER_PASSWORD`].
    pub async fn add_member(&self, admin_key: &str, role: &str) -> Member {
        let email = format!("{}@example.com", uuid::Uuid::now_v7().simple());
        let body = serde_json::json!({ "email": email, "name": "Pat", "password": MEMBER_PASSWORD, "role": role });
        let response = self.post_json(admin_key, "/api/users", body).await;
        assert_eq!(response.status(), 201, "adding a {role}");
        let id = response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
        Member { id, email }
    }

    pub async fn try_sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request")
    }

    /// A new session of `email` (signed in with [`MEMBER_PASSWORD`]).
    pub async fn sign_in(&self, email: &str) -> Session {
        let response = self.try_sign_in(email, MEMBER_PASSWORD).await;
        assert_eq!(response.status(), 200, "sign-in of {email}");
        let token = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("cr_session="))
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_owned();
        let body: Value = response.json().await.expect("json");
        Session { token, csrf: body["csrf_token"].as_str().expect("csrf").to_owned() }
    }
}
