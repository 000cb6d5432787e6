//! The analysis pipeline through the REST API: an upload becomes a stored review, with live
//! events, reports and portfolio queries, on PostgreSQL + Redis and embedded alike.

use std::time::Duration;

use cr_server::Config;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::helpers::{fixtures, spawn_app_with, Mode, TestApp};
use crate::in_both_modes;

pub fn with_workers(config: &mut Config) {
    config.worker.in_serve = true;
    config.worker.poll_interval_ms = 200;
}

fn cuad_contract() -> std::path::PathBuf {
    fixtures("cuad-mini/contracts")
        .into_iter()
        .find(|p| p.to_string_lossy().contains("Outsourcing_Agreement"))
        .expect("CUAD fixture")
}

impl TestApp {
    /// Polls the document until its status is `analysed`, `failed` (or 60 s pass).
    pub async fn wait_until_analysed(&self, key: &str, document_id: &str) -> Value {
        for _ in 0..600 {
            let document: Value =
                self.get(key, &format!("/api/documents/{document_id}")).await.json().await.expect("json");
            if matches!(document["status"].as_str(), Some("analysed" | "failed")) {
                return document;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("document {document_id} was not analysed within 60 s");
    }

    /// Rows of `table` (tests only: the table name is a constant).
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        cr_store::with_pool!(self.state.db, |p| sqlx::query_scalar::<_, i64>(&sql).fetch_one(p).await).expect("count")
    }
}

/// The review the CLI prints for the same file (`review --json`, built-in model, playbook auto).
fn cli_review(path: &std::path::Path, name: &str) -> Value {
    let bytes = std::fs::read(path).expect("fixture");
    let extracted = cr_analysis::extract(&bytes, name, &cr_analysis::Limits::default()).expect("extract");
    let model = cr_analysis::classify::Model::from_bytes(cr_analysis::classify::BUILT_IN_MODEL).expect("model");
    let playbook = cr_analysis::review::resolve_playbook("auto", &extracted.text).expect("playbook");
    // Through the JSON text, as the CLI prints it (f32 confidences as written, not widened).
    let text = serde_json::to_string(&cr_analysis::review(&extracted, &model, &playbook, None)).expect("json");
    serde_json::from_str(&text).expect("json")
}

async fn an_upload_is_analysed_with_its_events_in_order_and_the_clauses_of_the_cli_review(mode: Mode) {
    // Workers start only once the event stream is open, so every event can be seen.
    let app = spawn_app_with(mode, |c| c.worker.poll_interval_ms = 200).await;
    let org = app.new_org().await;
    let path = cuad_contract();
    let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
    let response = app.upload(&org.key, &name, std::fs::read(&path).expect("read"), None, None).await;
    assert_eq!(response.status(), 201);
    let document: Value = response.json().await.expect("json");
    let id = document["id"].as_str().expect("id").to_owned();
    assert_eq!(document["status"], "queued");

    let events = app.get(&org.key, &format!("/api/documents/{id}/events")).await;
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"].to_str().expect("ascii").starts_with("text/event-stream"));
    let background = cr_service::analysis::Background::start(&app.state.analysis, true);
    let mut seen = Vec::new();
    let mut body = events.bytes_stream();
    let mut buffer = String::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(chunk) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                if let Some(name) = frame.lines().find_map(|l| l.strip_prefix("event: ")) {
                    seen.push(name.to_owned());
                    if name == "completed" || name == "failed" {
                        return;
                    }
                }
            }
        }
    })
    .await;
    background.shutdown().await;
    assert!(read.is_ok(), "no final event within 60 s; saw {seen:?}");
    assert_eq!(seen, ["queued", "extracting", "classifying", "checking_playbook", "writing_results", "completed"]);

    let analysis: Value = app.get(&org.key, &format!("/api/documents/{id}/analysis")).await.json().await.expect("json");
    let expected = cli_review(&path, &name);
    assert_eq!(analysis["review"]["clauses"], expected["clauses"], "stored clauses differ from the CLI review");
    assert_eq!(analysis["review"]["risks"], expected["risks"]);
    assert_eq!(app.count_rows("analysis_clauses").await, expected["clauses"].as_array().map_or(0, Vec::len) as i64);
    let document: Value = app.get(&org.key, &format!("/api/documents/{id}")).await.json().await.expect("json");
    assert_eq!(document["status"], "analysed");
}
in_both_modes!(an_upload_is_analysed_with_its_events_in_order_and_the_clauses_of_the_cli_review);

async fn reports_are_served_from_the_file_store_and_a_rerun_adds_to_the_history(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let org = app.new_org().await;
    let path = cuad_contract();
    let response = app.upload(&org.key, "outsourcing.txt", std::fs::read(&path).expect("read"), None, None).await;
    let id = response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    app.wait_until_analysed(&org.key, &id).await;
    let first: Value = app.get(&org.key, &format!("/api/documents/{id}/analysis")).await.json().await.expect("json");
    let analysis_id = first["id"].as_str().expect("analysis id").to_owned();

    let pdf = app.get(&org.key, &format!("/api/analyses/{analysis_id}/report.pdf")).await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.expect("body").starts_with(b"%PDF-"));
    let report: Value =
        app.get(&org.key, &format!("/api/analyses/{analysis_id}/report.json")).await.json().await.expect("json");
    assert_eq!(report, first["review"]);
    assert!(app.data_dir.join(format!("files/reports/{analysis_id}.pdf")).is_file());

    let rerun = app.post_json(&org.key, &format!("/api/documents/{id}/analyses"), json!({ "side": "vendor" })).await;
    assert_eq!(rerun.status(), 202);
    let job: Value = rerun.json().await.expect("json");
    assert_eq!(job["state"], "queued");
    assert_eq!(job["side"], "vendor");
    for _ in 0..600 {
        let latest: Value =
            app.get(&org.key, &format!("/api/documents/{id}/analysis")).await.json().await.expect("json");
        if latest["id"] != first["id"] {
            assert_eq!(latest["job_id"], job["id"]);
            assert_eq!(latest["side"], "vendor");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let history: Value = app.get(&org.key, &format!("/api/documents/{id}/analyses")).await.json().await.expect("json");
    let items = history["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_ne!(items[0]["id"], first["id"], "newest first");
}
in_both_modes!(reports_are_served_from_the_file_store_and_a_rerun_adds_to_the_history);

async fn analyses_of_another_organisation_are_not_found(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let (owner, other) = (app.new_org().await, app.new_org().await);
    let id = app.upload_text(&owner.key, None).await["id"].as_str().expect("id").to_owned();
    app.wait_until_analysed(&owner.key, &id).await;
    let analysis: Value =
        app.get(&owner.key, &format!("/api/documents/{id}/analysis")).await.json().await.expect("json");
    let analysis_id = analysis["id"].as_str().expect("id");
    for path in [
        format!("/api/analyses/{analysis_id}"),
        format!("/api/analyses/{analysis_id}/report.pdf"),
        format!("/api/analyses/{analysis_id}/report.json"),
        format!("/api/documents/{id}/analysis"),
        format!("/api/documents/{id}/analyses"),
        format!("/api/documents/{id}/events"),
    ] {
        assert_eq!(app.get(&other.key, &path).await.status(), 404, "{path}");
    }
    let rerun = app.post_json(&other.key, &format!("/api/documents/{id}/analyses"), json!({})).await;
    assert_eq!(rerun.status(), 404);
}
in_both_modes!(analyses_of_another_organisation_are_not_found);

async fn an_encrypted_pdf_and_an_empty_document_fail_once_with_their_reasons(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let org = app.new_org().await;
    for (fixture, code) in [("opf_encryption_openpassword.pdf", "encrypted"), ("mammoth_empty.docx", "empty_document")]
    {
        let path = fixtures("robustness").into_iter().find(|p| p.ends_with(fixture)).expect("fixture");
        let response = app.upload(&org.key, fixture, std::fs::read(&path).expect("read"), None, None).await;
        assert_eq!(response.status(), 201, "{fixture}");
        let id = response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
        let document = app.wait_until_analysed(&org.key, &id).await;
        assert_eq!(document["status"], "failed", "{fixture}");
        let answer = app.get(&org.key, &format!("/api/documents/{id}/analysis")).await;
        assert_eq!(answer.status(), 404);
        let error: Value = answer.json().await.expect("json");
        assert_eq!(error["error"]["code"], "not_analysed");
        let job =
            app.state.analysis.latest_job(&principal(&app, &org.id).await, &id).await.expect("job").expect("a job");
        assert_eq!(
            (job.state.as_str(), job.error_code.as_deref(), job.attempts),
            ("failed", Some(code), 1),
            "{fixture}"
        );
    }
}
in_both_modes!(an_encrypted_pdf_and_an_empty_document_fail_once_with_their_reasons);

/// The admin principal of an organisation, for calling services directly.
async fn principal(app: &TestApp, org_id: &str) -> cr_store::identity::Principal {
    let (user_id,): (String,) =
        cr_store::with_pool!(app.state.db, |p| sqlx::query_as("SELECT id FROM users WHERE organisation_id = $1")
            .bind(org_id)
            .fetch_one(p)
            .await)
        .expect("user");
    cr_store::identity::Principal {
        user_id,
        organisation_id: org_id.to_owned(),
        role: "admin".into(),
        is_platform_admin: false,
        key_id: Some("key_test".into()),
        scopes: "read,analyze,admin".into(),
        expires_at: None,
    }
}

async fn two_hundred_uploads_from_twenty_clients_make_two_hundred_results(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let org = app.new_org().await;
    let clients = (0..20).map(|client| {
        let (app, key) = (&app, org.key.clone());
        async move {
            for n in 0..10 {
                let text = format!(
                    "SERVICES AGREEMENT {client}-{n}\n\nThis Agreement is governed by the laws of the State of New York.\n"
                );
                let response = app.upload(&key, &format!("c{client}-{n}.txt"), text.into_bytes(), None, None).await;
                assert_eq!(response.status(), 201);
            }
        }
    });
    futures::future::join_all(clients).await;
    for _ in 0..1200 {
        let states = cr_store::jobs::count_by_state(&app.state.db).await.expect("states");
        if states.iter().all(|(state, _)| state == "completed") && states.iter().map(|(_, n)| n).sum::<i64>() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cr_store::jobs::count_by_state(&app.state.db).await.expect("states"), [("completed".to_owned(), 200)]);
    assert_eq!(app.count_rows("analyses").await, 200);
    assert_eq!(app.count_rows("analysis_terms").await, 200);
    let analysed: Value =
        app.get(&org.key, "/api/documents?status=analysed&limit=100").await.json().await.expect("json");
    assert_eq!(analysed["items"].as_array().map(Vec::len), Some(100));
}
in_both_modes!(two_hundred_uploads_from_twenty_clients_make_two_hundred_results);

/// A contract whose term ends on `end`, renews itself and needs `notice_days` of notice.
fn renewing_contract(title: &str, law: &str, end: chrono::NaiveDate, notice_days: u32) -> Vec<u8> {
    format!(
        "{title}\n\nThis Services Agreement is entered into as of January 1, 2024 by and between Alpha Corp. (\"Customer\") \
         and Beta LLC (\"Vendor\").\n\n1. Term. The term of this Agreement shall commence on January 1, 2024 and end on {}. \
         This Agreement shall automatically renew for successive one (1) year terms unless either party gives written \
         notice of non-renewal at least {notice_days} days prior to the end of the then-current term.\n\n2. Governing Law. \
         This Agreement shall be governed by the laws of the State of {law}.\n",
        end.format("%B %-d, %Y")
    )
    .into_bytes()
}

async fn portfolio_queries_return_exactly_the_expected_contracts_and_never_another_organisations(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let (org, other) = (app.new_org().await, app.new_org().await);
    let today = chrono::Utc::now().date_naive();
    let days = |n: u64| today + chrono::Days::new(n);
    let mut ids = std::collections::HashMap::new();
    // Deadlines (end − notice): soon = today + 20, later = today + 200, past = none in window.
    for (name, key, law, end, notice) in [
        ("soon", &org.key, "New York", days(50), 30),
        ("later", &org.key, "Delaware", days(290), 90),
        ("other-org-soon", &other.key, "New York", days(50), 30),
    ] {
        let response =
            app.upload(key, &format!("{name}.txt"), renewing_contract(name, law, end, notice), None, None).await;
        assert_eq!(response.status(), 201);
        let id = response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
        app.wait_until_analysed(key, &id).await;
        ids.insert(name, id);
    }
    let found = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["document_id"].as_str().expect("id").to_owned())
            .collect()
    };
    let soon: Value = app.get(&org.key, "/api/portfolio?renewal_within_days=30").await.json().await.expect("json");
    assert_eq!(found(&soon), [ids["soon"].clone()], "{soon}");
    assert_eq!(soon["items"][0]["non_renewal_deadline"], days(20).to_string());
    let both: Value = app.get(&org.key, "/api/portfolio?renewal_within_days=365").await.json().await.expect("json");
    assert_eq!(found(&both), [ids["soon"].clone(), ids["later"].clone()], "soonest first");
    let york: Value = app.get(&org.key, "/api/portfolio?governing_law=new%20york").await.json().await.expect("json");
    assert_eq!(found(&york), [ids["soon"].clone()]);
    let with_law: Value =
        app.get(&org.key, "/api/portfolio?clause=Governing%20Law&limit=1").await.json().await.expect("json");
    assert_eq!(found(&with_law).len(), 1);
    let cursor = with_law["next_cursor"].as_str().expect("a second page");
    let rest: Value = app
        .get(&org.key, &format!("/api/portfolio?clause=Governing%20Law&limit=1&cursor={cursor}"))
        .await
        .json()
        .await
        .expect("json");
    let mut all = [found(&with_law), found(&rest)].concat();
    all.sort();
    let mut expected = vec![ids["soon"].clone(), ids["later"].clone()];
    expected.sort();
    assert_eq!(all, expected);
    let missing: Value =
        app.get(&org.key, "/api/portfolio?missing_clause=Governing%20Law").await.json().await.expect("json");
    assert_eq!(found(&missing), Vec::<String>::new());
    let bad = app.get(&org.key, "/api/portfolio?clause=Not%20A%20Category").await;
    assert_eq!(bad.status(), 400);
}
in_both_modes!(portfolio_queries_return_exactly_the_expected_contracts_and_never_another_organisations);

/// Uploads `count` small contracts and returns their ids.
async fn upload_many(app: &TestApp, key: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..count {
        let text = format!("SUPPLY AGREEMENT {n}\n\nThis Agreement is governed by the laws of England and Wales.\n");
        let response = app.upload(key, &format!("s{n}.txt"), text.into_bytes(), None, None).await;
        assert_eq!(response.status(), 201);
        ids.push(response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned());
    }
    ids
}

/// Waits until every job is completed (60 s at most) and returns the job counts by state.
async fn wait_for_completion(app: &TestApp, jobs: i64) -> Vec<(String, i64)> {
    for _ in 0..600 {
        let states = cr_store::jobs::count_by_state(&app.state.db).await.expect("states");
        if states == [("completed".to_owned(), jobs)] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cr_store::jobs::count_by_state(&app.state.db).await.expect("states")
}

/// Workers that only hear of jobs through the stream (or the reconciler's re-sends).
fn stream_only(config: &mut Config) {
    config.worker.poll_interval_ms = 600_000;
    config.worker.reconcile_interval_ms = 200;
    config.worker.redispatch_after_secs = 1.0;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_the_stream_lost_when_redis_was_flushed_are_sent_again_and_complete_once() {
    // The app's own relay and reconciler run; its workers are off until the flush is done.
    let app = spawn_app_with(Mode::Server, stream_only).await;
    let org = app.new_org().await;
    upload_many(&app, &org.key, 50).await;
    for _ in 0..100 {
        if app.count_rows("analysis_dispatch_outbox").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.count_rows("analysis_dispatch_outbox").await, 0, "every job reached the stream");
    let mut redis = redis::Client::open(crate::helpers::redis_url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let stream = format!("{}analysis:jobs", app.key_prefix);
    let length = |mut redis: redis::aio::MultiplexedConnection| {
        let stream = stream.clone();
        async move { redis::cmd("XLEN").arg(&stream).query_async::<i64>(&mut redis).await.expect("xlen") }
    };
    // (At least: a job whose entry grew stale while the others were uploaded is re-sent; a
    // duplicate entry costs one failed claim.)
    assert!(length(redis.clone()).await >= 50);
    // Redis loses everything of this deployment.
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", app.key_prefix)).query_async(&mut redis).await.expect("keys");
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await.expect("del");
    assert_eq!(length(redis.clone()).await, 0);

    // The reconciler finds the queued jobs whose entries are stale and sends them again.
    for _ in 0..100 {
        if length(redis.clone()).await >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(length(redis.clone()).await >= 50, "the lost jobs are back on the stream");

    let background = cr_service::analysis::Background::start(&app.state.analysis, true);
    let states = wait_for_completion(&app, 50).await;
    background.shutdown().await;
    assert_eq!(states, [("completed".to_owned(), 50)]);
    assert_eq!(app.count_rows("analyses").await, 50, "one result per job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_analysed_while_redis_is_down_for_the_whole_test() {
    let app = crate::helpers::spawn_app_without_waiting(Mode::Server, |config| {
        with_workers(config);
        // Nothing listens there.
        config.redis_url = Some(cr_server::config::Secret::new("redis://127.0.0.1:9"));
    })
    .await;
    let org = app.new_org().await;
    let ids = upload_many(&app, &org.key, 5).await;
    for id in &ids {
        assert_eq!(app.wait_until_analysed(&org.key, id).await["status"], "analysed");
    }
    assert_eq!(app.count_rows("analyses").await, 5);
}

async fn a_worker_that_lost_its_lease_cannot_store_a_second_result(mode: Mode) {
    let app = spawn_app_with(mode, |_| {}).await;
    let org = app.new_org().await;
    let id = upload_many(&app, &org.key, 1).await.remove(0);
    let db = &app.state.db;
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    // (SKIP LOCKED passes over the row while the app's relay marks it dispatched.)
    let mut first = None;
    for _ in 0..100 {
        first = cr_store::jobs::claim(db, "worker-a", past, None).await.expect("claim");
        if first.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = first.expect("a job");
    // The lease is already over: the reconciler queues the job again and B claims it.
    let requeued = cr_store::jobs::reclaim_expired(db, 10).await.expect("reclaim");
    assert_eq!(requeued.len(), 1);
    let future = chrono::Utc::now() + chrono::Duration::seconds(60);
    let second = cr_store::jobs::claim(db, "worker-b", future, None).await.expect("claim").expect("the job again");
    assert_eq!((second.job.id.as_str(), second.attempt), (first.job.id.as_str(), 2));

    let analysis = |analysis_id: &str| {
        let text = b"SUPPLY AGREEMENT\n\nThis Agreement is governed by the laws of England and Wales.\n";
        cr_service::analysis::engine::analyse(analysis_id, text, "s.txt", "auto", None, &model(), &mut |_| {})
            .expect("analysis")
            .analysis
    };
    let late =
        cr_store::analyses::complete(db, &first, &analysis(&cr_store::ids::new_id("ana"))).await.expect("complete");
    assert_eq!(late, cr_store::jobs::Transition::Fenced);
    let done =
        cr_store::analyses::complete(db, &second, &analysis(&cr_store::ids::new_id("ana"))).await.expect("complete");
    assert_eq!(done, cr_store::jobs::Transition::Done("completed".into()));
    let again =
        cr_store::analyses::complete(db, &second, &analysis(&cr_store::ids::new_id("ana"))).await.expect("complete");
    assert_eq!(again, cr_store::jobs::Transition::Fenced, "a second run of a completed job");
    assert_eq!(app.count_rows("analyses").await, 1);
    let document: Value = app.get(&org.key, &format!("/api/documents/{id}")).await.json().await.expect("json");
    assert_eq!(document["status"], "analysed");
}
in_both_modes!(a_worker_that_lost_its_lease_cannot_store_a_second_result);

fn model() -> cr_analysis::classify::Model {
    cr_analysis::classify::Model::from_bytes(cr_analysis::classify::BUILT_IN_MODEL).expect("model")
}

async fn an_analysis_read_again_is_served_without_the_database(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let org = app.new_org().await;
    let id = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
    app.wait_until_analysed(&org.key, &id).await;
    let latest: Value = app.get(&org.key, &format!("/api/documents/{id}/analysis")).await.json().await.expect("json");
    let path = format!("/api/analyses/{}", latest["id"].as_str().expect("id"));
    let first = app.get(&org.key, &path).await.text().await.expect("body");
    let queries = app.db_queries();
    for _ in 0..20 {
        assert_eq!(app.get(&org.key, &path).await.text().await.expect("body"), first);
    }
    assert_eq!(app.db_queries(), queries, "cached reads made database queries");
}
in_both_modes!(an_analysis_read_again_is_served_without_the_database);

async fn an_upload_naming_no_playbook_or_side_takes_the_organisations_defaults(mode: Mode) {
    let app = spawn_app_with(mode, |_| {}).await;
    let (org, other) = (app.new_org().await, app.new_org().await);
    let path = format!("/api/organisations/{}/analysis-defaults", org.id);
    let client = &app.client;
    let set = client
        .put(app.url(&path))
        .header("X-API-Key", &org.key)
        .json(&json!({ "playbook": "nda", "side": "receiving" }))
        .send()
        .await
        .expect("request");
    assert_eq!(set.status(), 200);
    let foreign = client
        .put(app.url(&path))
        .header("X-API-Key", &other.key)
        .json(&json!({ "playbook": "default" }))
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status(), 404, "another organisation's admin cannot change them");
    let bad = client
        .put(app.url(&path))
        .header("X-API-Key", &org.key)
        .json(&json!({ "playbook": "mine" }))
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), 400);

    let id = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
    let job = app.state.analysis.latest_job(&principal(&app, &org.id).await, &id).await.expect("job").expect("a job");
    assert_eq!((job.playbook.as_str(), job.side.as_deref()), ("nda", Some("receiving")));
    let elsewhere = app.upload_text(&other.key, None).await["id"].as_str().expect("id").to_owned();
    let job = app
        .state
        .analysis
        .latest_job(&principal(&app, &other.id).await, &elsewhere)
        .await
        .expect("job")
        .expect("a job");
    assert_eq!((job.playbook.as_str(), job.side.as_deref()), ("auto", None), "other organisations keep theirs");
}
in_both_modes!(an_upload_naming_no_playbook_or_side_takes_the_organisations_defaults);
