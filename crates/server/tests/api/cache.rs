//! The cache patterns: hits skip the database, misses are loaded once, writes are never
//! followed by stale reads, and a dead or frozen Redis only costs speed.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{redis_url, spawn_app, spawn_app_with, Mode};
use crate::in_both_modes;

async fn a_cache_hit_does_not_touch_the_database(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    assert_eq!(app.get(&org.key, &path).await.status(), 200); // miss: fills
    assert_eq!(app.get(&org.key, "/api/documents").await.status(), 200);
    let before = app.db_queries();
    for _ in 0..20 {
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body, doc);
        assert_eq!(app.get(&org.key, "/api/documents").await.status(), 200);
    }
    assert_eq!(app.db_queries(), before, "hits must not query the database");
}
in_both_modes!(a_cache_hit_does_not_touch_the_database);

async fn a_hundred_concurrent_misses_on_one_key_make_one_query(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    let _ = app.get(&org.key, "/api/documents").await; // the key is authenticated and cached
    let before = app.db_queries();
    let requests = (0..100).map(|_| app.get(&org.key, &path));
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.db_queries() - before, 1, "one loader per key");
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

/// A Redis of this test only, on a spare port, that the test can stop and freeze.
struct PrivateRedis {
    child: std::process::Child,
    port: u16,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("spare port").local_addr().expect("addr").port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the tests (see .ci/run)");
        let redis = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "private redis did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
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
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.signal_quietly("-CONT");
        self.stop();
    }
}

impl PrivateRedis {
    fn signal_quietly(&self, signal: &str) {
        let _ = std::process::Command::new("kill").args([signal, &self.child.id().to_string()]).status();
    }
}

/// An app on `redis` with one organisation and one document, read once so it is cached.
async fn app_with_a_cached_document(
    redis: &PrivateRedis,
) -> (crate::helpers::TestApp, crate::helpers::Org, Value, String) {
    let app = spawn_app_with(Mode::Server, |config| {
        config.redis_url = Some(cr_server::config::Secret::new(redis.url()));
    })
    .await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    assert_eq!(app.get(&org.key, &path).await.status(), 200);
    (app, org, doc, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_mid_test_every_request_is_still_answered_correctly() {
    let mut redis = PrivateRedis::start();
    let (app, org, doc, path) = app_with_a_cached_document(&redis).await;

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
async fn after_redis_comes_back_empty_no_stale_value_is_served() {
    let mut redis = PrivateRedis::start();
    let port = redis.port;
    let (app, org, _doc, path) = app_with_a_cached_document(&redis).await;
    redis.stop();
    let patched =
        app.patch_json(&org.key, &path, json!({ "metadata": { "state": "changed while Redis was down" } })).await;
    assert_eq!(patched.status(), 200);
    // Same port, empty, as after a restart without persistence.
    let restarted = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("restart redis");
    redis.child = restarted;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !app.state.cache.stats().available {
        assert!(Instant::now() < deadline, "the cache did not recover: {:?}", app.state.cache.stats());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..3 {
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body["metadata"]["state"], "changed while Redis was down");
    }
    assert!(app.state.cache.stats().hits > 0, "the cache is used again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_costs_a_bounded_delay_not_an_outage() {
    let redis = PrivateRedis::start();
    let (app, org, _doc, path) = app_with_a_cached_document(&redis).await;
    redis.signal("-STOP");
    let started = Instant::now();
    for n in 0..30 {
        assert_eq!(app.get(&org.key, &path).await.status(), 200);
        let patched = app.patch_json(&org.key, &path, json!({ "metadata": { "n": n } })).await;
        assert_eq!(patched.status(), 200);
        let body: Value = app.get(&org.key, &path).await.json().await.expect("json");
        assert_eq!(body["metadata"]["n"], n);
    }
    // 90 requests; the breaker means only a few pay the 50 ms timeout. A generous bound
    // (this is a correctness check; speed is measured by the benchmarks).
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    redis.signal("-CONT");
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
    let key = format!("{prefix}document:{}:{}", org.id, doc["id"].as_str().expect("id"));
    let cached: Option<String> = redis::cmd("GET").arg(&key).query_async(&mut connection).await.expect("get");
    let cached: Value = serde_json::from_str(&cached.expect("document is cached under its scoped key")).expect("json");
    assert_eq!(cached, doc);
}

/// The generation guard on the real Redis: a fill that raced an invalidation is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_a_fill_that_raced_an_invalidation_is_refused() {
    use cr_store::cache::{Cache, CacheSettings, Lookup};
    let settings =
        CacheSettings { key_prefix: format!("test:{}:", uuid::Uuid::now_v7().simple()), ..CacheSettings::default() };
    let cache = Cache::redis(&redis_url(), settings).expect("url");
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
    assert_eq!(now, seen + 1);
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
