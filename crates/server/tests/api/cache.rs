//! The cache patterns: hits skip the database, misses are loaded once, writes are never
//! followed by stale reads, and a dead or frozen Redis only costs speed.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{redis_url, spawn_app, spawn_app_with, Mode};
use crate::in_both_modes;

async fn a_cache_hit_does_not_touch_the_database(mode: Mode) {
    // No linger: a finished load is never handed on, so only the cache can answer the reads.
    let app = spawn_app_with(mode, |config| {
        config.cache.load_linger_ms = 0;
        config.cache.timeout_ms = 2000;
    })
    .await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    assert_eq!(app.get(&org.key, &path).await.status(), 200); // miss: fills
    assert_eq!(app.get(&org.key, "/api/documents").await.status(), 200);
    let (queries, stats) = (app.db_queries(), app.state.cache.stats());
    for _ in 0..20 {
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body, doc);
        assert_eq!(app.get(&org.key, "/api/documents").await.status(), 200);
    }
    let after = app.state.cache.stats();
    assert_eq!((after.hits - stats.hits, after.misses - stats.misses), (40, 0), "every read is a cache hit");
    assert_eq!(app.db_queries(), queries, "hits must not query the database");
}
in_both_modes!(a_cache_hit_does_not_touch_the_database);

/// Takes every connection of the app's pool, so a database load waits until they are dropped.
async fn hold_every_connection(db: &cr_store::Database) -> Vec<Box<dyn std::any::Any + Send>> {
    let mut held: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    loop {
        let wait = Duration::from_millis(300);
        let taken: Option<Box<dyn std::any::Any + Send>> = match &db.pool {
            cr_store::db::Pool::Postgres(p) => {
                tokio::time::timeout(wait, p.acquire()).await.ok().and_then(Result::ok).map(|c| Box::new(c) as _)
            }
            cr_store::db::Pool::Sqlite(p) => {
                tokio::time::timeout(wait, p.acquire()).await.ok().and_then(Result::ok).map(|c| Box::new(c) as _)
            }
        };
        match taken {
            Some(connection) => held.push(connection),
            None => return held,
        }
    }
}

async fn a_hundred_concurrent_misses_on_one_key_make_one_query(mode: Mode) {
    let app = Arc::new(
        spawn_app_with(mode, |config| {
            config.database_max_connections = 3;
            // A Redis timeout on a busy test machine would send a request past the loader.
            config.cache.timeout_ms = 2000;
        })
        .await,
    );
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    let _ = app.get(&org.key, "/api/documents").await; // the key is authenticated and cached
    let (queries, misses) = (app.db_queries(), app.state.cache.stats().misses);
    // The load cannot finish while the test holds the pool, so all hundred requests overlap.
    let held = hold_every_connection(&app.state.db).await;
    let requests: Vec<_> = (0..100)
        .map(|_| {
            let (app, key, path) = (app.clone(), org.key.clone(), path.clone());
            tokio::spawn(async move { app.get(&key, &path).await.status() })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.cache.stats().misses - misses < 100 {
        assert!(Instant::now() < deadline, "the requests did not all miss: {:?}", app.state.cache.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(held);
    for request in requests {
        assert_eq!(request.await.expect("request"), 200);
    }
    assert_eq!(app.state.cache.stats().misses - misses, 100, "all hundred missed together");
    assert_eq!(app.db_queries() - queries, 1, "and were answered by one load");
}
in_both_modes!(a_hundred_concurrent_misses_on_one_key_make_one_query);

async fn missing_documents_are_negatively_cached(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let _ = app.get(&org.key, "/api/documents").await;
    let ghost = format!("/api/documents/{}", cr_store::ids::new_id("doc"));
    assert_eq!(app.get(&org.key, &ghost).await.status(), 404);
    let before = app.db_queries();
    for _ in 0..10 {
        assert_eq!(app.get(&org.key, &ghost).await.status(), 404);
    }
    assert_eq!(app.db_queries(), before);
    // Ids of the wrong shape never reach the database or the cache.
    assert_eq!(app.get(&org.key, "/api/documents/1%20OR%201=1").await.status(), 404);
    assert_eq!(app.db_queries(), before);
}
in_both_modes!(missing_documents_are_negatively_cached);

/// One writer patches a document `ITERATIONS` times; readers running all along check that
/// nothing older than the last acknowledged write is ever served, by get or by list.
async fn a_write_is_never_followed_by_a_stale_read(mode: Mode) {
    const ITERATIONS: i64 = 150;
    let app = Arc::new(spawn_app(mode).await);
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, Some(r#"{"n":0}"#)).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    let acknowledged = Arc::new(AtomicI64::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for reader in 0..4 {
        let (app, key, path, acknowledged, done) =
            (app.clone(), org.key.clone(), path.clone(), acknowledged.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) {
                let floor = acknowledged.load(Ordering::SeqCst);
                let seen = if reader % 2 == 0 {
                    let body: Value = app.get(&key, &path).await.json().await.expect("json");
                    body["metadata"]["n"].as_i64().expect("n")
                } else {
                    let body: Value = app.get(&key, "/api/documents").await.json().await.expect("json");
                    body["items"][0]["metadata"]["n"].as_i64().expect("n")
                };
                assert!(seen >= floor, "stale read: saw {seen} after write {floor} was acknowledged");
                reads += 1;
            }
            reads
        }));
    }
    for n in 1..=ITERATIONS {
        let response = app.patch_json(&org.key, &path, json!({ "metadata": { "n": n } })).await;
        assert_eq!(response.status(), 200);
        acknowledged.store(n, Ordering::SeqCst);
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body["metadata"]["n"], n, "read-your-write");
    }
    done.store(true, Ordering::SeqCst);
    let mut total = 0;
    for reader in readers {
        total += reader.await.expect("reader");
    }
    assert!(total > ITERATIONS, "readers ran concurrently ({total} reads)");
}
in_both_modes!(a_write_is_never_followed_by_a_stale_read);

/// A Redis of this test only, on a spare port, that the test can stop, freeze and restart
/// (from its snapshot, when it has taken one).
struct PrivateRedis {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("spare port").local_addr().expect("addr").port();
        let dir = tempfile::tempdir().expect("redis dir");
        let child = Self::spawn(port, dir.path());
        let redis = Self { child, port, dir };
        redis.wait_until_listening();
        redis
    }

    fn spawn(port: u16, dir: &std::path::Path) -> std::process::Child {
        std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the tests (see .ci/run)")
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "private redis did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let status =
            std::process::Command::new("kill").args([signal, &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills Redis and starts it again on the same port and directory: empty, or with the
    /// data of its last `SAVE`.
    fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(self.port, self.dir.path());
        self.wait_until_listening();
    }

    async fn command(&self, name: &str) {
        let client = redis::Client::open(self.url()).expect("url");
        let mut connection = client.get_multiplexed_async_connection().await.expect("redis");
        let _: redis::Value = redis::cmd(name).query_async(&mut connection).await.expect("command");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-CONT", &self.child.id().to_string()]).status();
        self.stop();
    }
}

/// An app on `redis` with one organisation and one document, read once so it is cached.
async fn app_with_a_cached_document(
    redis_url: String,
) -> (crate::helpers::TestApp, crate::helpers::Org, Value, String) {
    let app = spawn_app_with(Mode::Server, |config| {
        config.redis_url = Some(cr_server::config::Secret::new(redis_url));
    })
    .await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    assert_eq!(app.get(&org.key, &path).await.status(), 200);
    assert!(app.state.cache.stats().misses > 0);
    (app, org, doc, path)
}

async fn wait_until_available(app: &crate::helpers::TestApp) {
    wait_until_reconnected(app, 0).await;
}

/// Waits until the cache has opened more than `connections` connections and may be read.
async fn wait_until_reconnected(app: &crate::helpers::TestApp, connections: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(app.state.cache.stats().available && app.state.cache.stats().connections > connections) {
        assert!(Instant::now() < deadline, "the cache did not recover: {:?}", app.state.cache.stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn metadata_state(app: &crate::helpers::TestApp, key: &str, path: &str) -> Value {
    let body: Value = app.get(key, path).await.json().await.expect("json");
    body["metadata"]["state"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_mid_test_every_request_is_still_answered_correctly() {
    let mut redis = PrivateRedis::start();
    let (app, org, doc, path) = app_with_a_cached_document(redis.url()).await;

    redis.stop();
    // Reads fall back to PostgreSQL, writes succeed and are visible at once.
    for n in 0..20 {
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body["id"], doc["id"]);
        let patched = app.patch_json(&org.key, &path, json!({ "metadata": { "n": n } })).await;
        assert_eq!(patched.status(), 200);
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body["metadata"]["n"], n);
        let page: Value = app.get(&org.key, "/api/documents").await.json().await.expect("json");
        assert_eq!(page["items"][0]["metadata"]["n"], n);
    }
    let created = app.upload_text(&org.key, None).await;
    assert_eq!(
        app.get(&org.key, &format!("/api/documents/{}", created["id"].as_str().expect("id"))).await.status(),
        200
    );
    let stats = app.state.cache.stats();
    assert!(!stats.available && stats.errors + stats.skipped > 0, "the outage is counted: {stats:?}");
    let ready: Value = app.client.get(app.url("/readyz")).send().await.expect("request").json().await.expect("json");
    assert_eq!(ready["status"], "ready", "Redis down is reported, not fatal");
    assert_eq!(ready["cache"]["available"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_restarts_empty_the_cache_is_used_again() {
    let mut redis = PrivateRedis::start();
    let (app, org, _doc, path) = app_with_a_cached_document(redis.url()).await;
    let hits = app.state.cache.stats().hits;
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.cache.stats().hits == hits {
        assert!(Instant::now() < deadline, "the cache is not used again: {:?}", app.state.cache.stats());
        assert_eq!(app.get(&org.key, &path).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The dangerous restart: Redis comes back with data older than the last write (its
/// snapshot), generations included. Nothing it holds from before may be served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_restarts_from_an_older_snapshot_no_stale_value_is_served() {
    let mut redis = PrivateRedis::start();
    let (app, org, _doc, path) = app_with_a_cached_document(redis.url()).await;
    assert!(app.patch_json(&org.key, &path, json!({ "metadata": { "state": "old" } })).await.status() == 200);
    assert_eq!(metadata_state(&app, &org.key, &path).await, "old"); // cached
    redis.command("SAVE").await;
    assert!(app.patch_json(&org.key, &path, json!({ "metadata": { "state": "new" } })).await.status() == 200);
    let connections = app.state.cache.stats().connections;
    redis.restart(); // loads the snapshot: "old" is cached there again, under its old generation
    wait_until_reconnected(&app, connections).await;
    for _ in 0..5 {
        assert_eq!(metadata_state(&app, &org.key, &path).await, "new");
    }
}

/// A Redis frozen while a write happens, then resumed with the value from before the write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_frozen_redis_resumes_no_stale_value_is_served() {
    let redis = PrivateRedis::start();
    let (app, org, _doc, path) = app_with_a_cached_document(redis.url()).await;
    assert!(app.patch_json(&org.key, &path, json!({ "metadata": { "state": "old" } })).await.status() == 200);
    assert_eq!(metadata_state(&app, &org.key, &path).await, "old"); // cached
    redis.signal("-STOP");
    assert!(app.patch_json(&org.key, &path, json!({ "metadata": { "state": "new" } })).await.status() == 200);
    redis.signal("-CONT");
    for _ in 0..20 {
        assert_eq!(metadata_state(&app, &org.key, &path).await, "new");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    wait_until_available(&app).await;
    assert_eq!(metadata_state(&app, &org.key, &path).await, "new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_is_skipped_by_the_breaker_not_waited_on_per_request() {
    let redis = PrivateRedis::start();
    let (app, org, _doc, path) = app_with_a_cached_document(redis.url()).await;
    redis.signal("-STOP");
    let before = app.state.cache.stats();
    let mut slowest = Duration::ZERO;
    for n in 0..30 {
        let started = Instant::now();
        assert_eq!(app.get(&org.key, &path).await.status(), 200);
        let patched = app.patch_json(&org.key, &path, json!({ "metadata": { "n": n } })).await;
        assert_eq!(patched.status(), 200);
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body["metadata"]["n"], n);
        slowest = slowest.max(started.elapsed());
    }
    let during = app.state.cache.stats();
    // Without the breaker every one of the ~90 cache operations would wait out its timeout.
    assert!(during.errors - before.errors <= 10, "operations sent to the frozen Redis: {during:?}");
    assert!(during.skipped > before.skipped, "{during:?}");
    // A hang guard, not a speed test (the benchmarks measure speed).
    assert!(slowest < Duration::from_secs(5), "one round of requests took {slowest:?}");
    redis.signal("-CONT");
    wait_until_available(&app).await;
    let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
    assert_eq!(body["metadata"]["n"], 29, "the last write is read once Redis is back");
}

/// A TCP relay to Redis that the test can cut, so that one instance loses Redis while
/// another keeps it.
struct CuttableRelay {
    port: u16,
    cut: Arc<std::sync::atomic::AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttableRelay {
    async fn to(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, list) = (cut.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if flag.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection closed
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                list.lock().expect("list").push(task.abort_handle());
            }
        });
        Self { port, cut, connections, accept }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().expect("list").drain(..) {
            connection.abort();
        }
    }
}

impl Drop for CuttableRelay {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// Two instances share PostgreSQL and Redis; the writer loses Redis and cannot invalidate.
/// The other instance must not keep serving the value the write replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_one_instance_could_not_apply_reaches_the_other() {
    let redis = PrivateRedis::start();
    let relay = CuttableRelay::to(format!("127.0.0.1:{}", redis.port)).await;
    let (writer, org, _doc, path) = app_with_a_cached_document(relay.url()).await;
    let database_url = writer.state.config.database_url.clone();
    let (prefix, admin) = (writer.key_prefix.clone(), writer.admin_key.clone());
    let reader = spawn_app_with(Mode::Server, |config| {
        config.database_url = database_url;
        config.redis_url = Some(cr_server::config::Secret::new(redis.url()));
        config.cache.key_prefix = prefix;
        config.bootstrap_api_key = Some(cr_server::config::Secret::new(admin));
    })
    .await;
    assert!(writer.patch_json(&org.key, &path, json!({ "metadata": { "state": "old" } })).await.status() == 200);
    assert_eq!(metadata_state(&reader, &org.key, &path).await, "old");
    let hits = reader.state.cache.stats().hits;
    assert_eq!(metadata_state(&reader, &org.key, &path).await, "old");
    assert!(reader.state.cache.stats().hits > hits, "the reader serves the document from Redis");

    relay.cut();
    assert!(writer.patch_json(&org.key, &path, json!({ "metadata": { "state": "new" } })).await.status() == 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while metadata_state(&reader, &org.key, &path).await != "new" {
        assert!(Instant::now() < deadline, "the reader still serves the replaced value");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..10 {
        assert_eq!(metadata_state(&reader, &org.key, &path).await, "new");
    }
    wait_until_available(&reader).await;
    assert_eq!(metadata_state(&reader, &org.key, &path).await, "new", "Redis itself no longer holds it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_test_redis_is_used_with_a_private_prefix() {
    let app = spawn_app(Mode::Server).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let _ = app.get(&org.key, &format!("/api/documents/{}", doc["id"].as_str().expect("id"))).await;
    let client = redis::Client::open(redis_url()).expect("url");
    let mut connection = client.get_multiplexed_async_connection().await.expect("redis");
    let prefix = app.state.config.cache.key_prefix.clone();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut connection).await.expect("keys");
    let suffix = format!(":document:{}:{}", org.id, doc["id"].as_str().expect("id"));
    let key = keys.iter().find(|k| k.ends_with(&suffix)).expect("the document is cached under its scoped key");
    assert!(keys.iter().any(|k| k.contains(":gen:")), "generation keys carry the prefix too: {keys:?}");
    let cached: Option<String> = redis::cmd("GET").arg(key).query_async(&mut connection).await.expect("get");
    let cached: Value = serde_json::from_str(&cached.expect("document is cached under its scoped key")).expect("json");
    assert_eq!(cached, doc);
}

/// The generation guard on the real Redis: a fill that raced an invalidation is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_a_fill_that_raced_an_invalidation_is_refused() {
    use cr_store::cache::{Cache, CacheSettings, Lookup};
    let settings = CacheSettings {
        key_prefix: format!("test:{}:", uuid::Uuid::now_v7().simple()),
        ..cr_server::Config::default().cache_settings()
    };
    let cache = Cache::redis(&redis_url(), settings, None).expect("url");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cache.stats().available {
        assert!(Instant::now() < deadline, "redis not reachable");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Lookup::Miss { generation: Some(seen) } = cache.lookup("document:o:d").await else {
        panic!("a fresh key misses with a generation");
    };
    cache.invalidate(&["document:o:d".to_owned()]).await; // a write committed meanwhile
    let stale = bytes::Bytes::from_static(b"old");
    assert!(!cache.fill("document:o:d", seen, stale, Duration::from_secs(60)).await);
    let Lookup::Miss { generation: Some(now) } = cache.lookup("document:o:d").await else {
        panic!("the refused fill left nothing behind");
    };
    assert_ne!(now, seen);
    assert!(cache.fill("document:o:d", now, bytes::Bytes::from_static(b"new"), Duration::from_secs(60)).await);
    assert_eq!(cache.lookup("document:o:d").await, Lookup::Hit(bytes::Bytes::from_static(b"new")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_starts_and_serves_while_redis_is_unreachable() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let test_db = crate::helpers::TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let key = format!("cr_test_admin_{}", uuid::Uuid::now_v7().simple());
    let config = cr_server::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        database_url: Some(cr_server::config::Secret::new(test_db.url.clone())),
        redis_url: Some(cr_server::config::Secret::new(format!("redis://127.0.0.1:{closed_port}"))),
        bootstrap_api_key: Some(cr_server::config::Secret::new(key.clone())),
        ..cr_server::Config::default()
    };
    let app = cr_server::Application::build(config).await.expect("starts without Redis");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let ready: Value = client.get(format!("{base}/readyz")).send().await.expect("readyz").json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["cache"]["available"], false);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"An agreement.".to_vec()).file_name("a.txt"));
    let created = client
        .post(format!("{base}/api/documents"))
        .header("X-API-Key", &key)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(created.status(), 201);
    let doc: Value = created.json().await.expect("json");
    let fetched = client
        .get(format!("{base}/api/documents/{}", doc["id"].as_str().expect("id")))
        .header("X-API-Key", &key)
        .send()
        .await
        .expect("get");
    assert_eq!(fetched.status(), 200);
    assert!(state.cache.stats().misses > 0);
}

/// Keys this app holds in the shared test Redis.
async fn redis_keys_of(app: &crate::helpers::TestApp) -> Vec<String> {
    let client = redis::Client::open(redis_url()).expect("url");
    let mut connection = client.get_multiplexed_async_connection().await.expect("redis");
    let prefix = app.state.config.cache.key_prefix.clone();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut connection).await.expect("keys");
    // (Rate-limit buckets come and go with each request, within their period.)
    keys.into_iter().filter(|key| !key.starts_with(&format!("{prefix}rl:"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_made_up_cursors_and_filters_adds_nothing_to_redis() {
    let app = spawn_app(Mode::Server).await;
    let org = app.new_org().await;
    app.upload_text(&org.key, None).await;
    assert_eq!(app.get(&org.key, "/api/documents").await.status(), 200);
    let before = redis_keys_of(&app).await.len();
    for i in 0..20 {
        let cursor = cr_store::ids::new_id("doc");
        assert_eq!(app.get(&org.key, &format!("/api/documents?cursor={cursor}")).await.status(), 200);
        assert_eq!(app.get(&org.key, &format!("/api/documents?q=made-up-{i}")).await.status(), 200);
    }
    assert_eq!(redis_keys_of(&app).await.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reached_by_a_cursor_the_api_gave_is_cached() {
    let app = spawn_app(Mode::Server).await;
    let org = app.new_org().await;
    for _ in 0..3 {
        app.upload_text(&org.key, None).await;
    }
    let first: Value = app.get(&org.key, "/api/documents?limit=1").await.json().await.expect("json");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let before = redis_keys_of(&app).await.len();
    assert_eq!(app.get(&org.key, &format!("/api/documents?limit=1&cursor={cursor}")).await.status(), 200);
    assert_eq!(redis_keys_of(&app).await.len(), before + 1);
}
