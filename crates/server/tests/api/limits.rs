//! What a careless or hostile client can make the service spend is bounded, and whatever it
//! sends is answered in the one JSON error shape.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app, spawn_app_with, Mode, TestApp};
use crate::in_both_modes;

async fn upload_form(app: &TestApp, key: &str, form: reqwest::multipart::Form) -> (u16, Value) {
    let response =
        app.client.post(app.url("/api/documents")).header("X-API-Key", key).multipart(form).send().await.expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON error"))
}

fn file_part(text: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(text.as_bytes().to_vec()).file_name("a.txt")
}

async fn a_metadata_field_larger_than_its_bound_is_refused_unread(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    // Valid JSON, so only a bound on the field itself (not the JSON parser) refuses it. Past the
    // 64 KiB bound, yet small enough for the client to finish sending before the server
    // answers and closes (a larger body meets a reset connection instead of the answer).
    let huge = format!("{{\"note\":\"{}\"}}", "x".repeat(100 * 1024));
    let form = reqwest::multipart::Form::new().text("metadata", huge).part("file", file_part("Agreement one."));
    let (status, body) = upload_form(&app, &org.key, form).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("field_too_large")), "{body}");
    assert_eq!(app.stored_counts().await, (0, 0));
}
in_both_modes!(a_metadata_field_larger_than_its_bound_is_refused_unread);

async fn a_second_metadata_field_is_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let form = reqwest::multipart::Form::new()
        .text("metadata", r#"{"a":"1"}"#)
        .text("metadata", r#"{"a":"2"}"#)
        .part("file", file_part("Agreement two."));
    let (status, body) = upload_form(&app, &org.key, form).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("duplicate_field")), "{body}");
}
in_both_modes!(a_second_metadata_field_is_refused);

async fn a_nul_in_a_query_filter_is_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    app.upload_text(&org.key, None).await;
    let response = app.get(&org.key, "/api/documents?q=%00").await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_text")), "{body}");
}
in_both_modes!(a_nul_in_a_query_filter_is_refused);

async fn a_nul_in_metadata_is_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    let response = app.patch_json(&org.key, &path, json!({ "metadata": { "note": "a\u{0}b" } })).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("invalid_text")), "{body}");
    let form = reqwest::multipart::Form::new()
        .text("metadata", r#"{"note":"a\u0000b"}"#)
        .part("file", file_part("Agreement with a NUL in its metadata."));
    let (status, body) = upload_form(&app, &org.key, form).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_text")), "{body}");
}
in_both_modes!(a_nul_in_metadata_is_refused);

async fn a_json_body_over_its_limit_gets_413_in_the_json_shape(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    let response = app.patch_json(&org.key, &path, json!({ "metadata": { "n": "x".repeat(100 * 1024) } })).await;
    assert_eq!(response.status(), 413);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("application/json"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
}
in_both_modes!(a_json_body_over_its_limit_gets_413_in_the_json_shape);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_headers_get_431_in_the_json_shape() {
    let app = spawn_app(Mode::Embedded).await;
    let mut request = app.client.get(app.url("/healthz"));
    for i in 0..100 {
        request = request.header(format!("x-filler-{i}"), "v");
    }
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), 431);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "headers_too_large", "{body}");
}

async fn the_same_json_with_other_spacing_is_a_replay_not_a_new_request(mode: Mode) {
    let app = spawn_app(mode).await;
    let send = |body: &'static str| {
        app.client
            .post(app.url("/api/organisations"))
            .bearer_auth(&app.admin_key)
            .header("Idempotency-Key", "spacing-1")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let first = send(r#"{"name":"Spacing Org","admin_email":"spacing@example.com"}"#).await.expect("request");
    assert_eq!(first.status(), 201);
    let retry = send("{\n  \"admin_email\": \"spacing@example.com\",\n  \"name\": \"Spacing Org\"\n}\n")
        .await
        .expect("request");
    assert_eq!(retry.status(), 201, "same request, other spacing and key order");
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
}
in_both_modes!(the_same_json_with_other_spacing_is_a_replay_not_a_new_request);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_nosniff_and_api_answers_no_store() {
    let app = spawn_app(Mode::Embedded).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let id = doc["id"].as_str().expect("id");
    let health = app.client.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    for path in [format!("/api/documents/{id}"), format!("/api/documents/{id}/original"), "/api/nope".to_owned()] {
        let response = app.get(&org.key, &path).await;
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
}

/// An app whose HTTP deadlines are short enough to watch.
async fn app_with_short_deadlines() -> TestApp {
    spawn_app_with(Mode::Embedded, |config| {
        config.http.header_read_timeout_secs = 0.5;
        config.http.body_idle_timeout_secs = 0.5;
        config.http.request_timeout_secs = 1.5;
    })
    .await
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(within.saturating_sub(started.elapsed()), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&received).into_owned(), started.elapsed()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("the connection was still open after {within:?}; received {received:?}"),
        }
    }
}

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let app = app_with_short_deadlines().await;
    let mut stream = tokio::net::TcpStream::connect(host_port(&app)).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    read_until_closed(&mut stream, Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = app_with_short_deadlines().await;
    let mut stream = tokio::net::TcpStream::connect(host_port(&app)).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let (received, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_at_a_time_is_cut_off_at_the_request_deadline() {
    let app = app_with_short_deadlines().await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let mut stream = tokio::net::TcpStream::connect(host_port(&app)).await.expect("connect");
    let head = format!(
        "PATCH /api/documents/{} HTTP/1.1\r\nHost: x\r\nX-API-Key: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n",
        doc["id"].as_str().expect("id"),
        org.key
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    // A byte every 200 ms keeps the body-idle deadline (500 ms) from firing; the request
    // deadline (1.5 s) must end it.
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("\r\n\r\n{") {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    trickle.abort();
    assert!(read.is_ok(), "no answer within 10 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_within_its_grace_even_with_a_connection_stuck_in_its_headers() {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = cr_server::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        bootstrap_api_key: Some(cr_server::config::Secret::new(format!(
            "cr_test_admin_{}",
            uuid::Uuid::now_v7().simple()
        ))),
        ..cr_server::Config::default()
    };
    config.worker.in_serve = false;
    config.http.header_read_timeout_secs = 600.0;
    config.http.shutdown_grace_secs = 0.5;
    let app = cr_server::Application::build(config).await.expect("builds");
    let address = format!("127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = stop.send(());
    let ended = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(ended.is_ok(), "the server was still running 10 s after shutdown began");
}
