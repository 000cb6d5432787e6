//! The audit log API: organisation admins read their organisation's rows only, filtered, in
//! keyset pages, or as a CSV export; downloads are audited like changes.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::in_both_modes;

async fn page(app: &TestApp, key: &str, query: &str) -> Value {
    let response = app.get(key, &format!("/api/audit{query}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|r| r["action"].as_str().expect("action").to_owned()).collect()
}

async fn an_admin_reads_its_organisations_rows_newest_first(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let other = app.new_org().await;
    app.post_json(&org.key, "/api/keys", json!({ "name": "first" })).await;
    app.post_json(&other.key, "/api/keys", json!({ "name": "elsewhere" })).await;
    app.upload_text(&org.key, None).await;
    let rows = page(&app, &org.key, "").await;
    let seen = actions(&rows);
    assert_eq!(seen.first().map(String::as_str), Some("document.create"), "{seen:?}");
    assert_eq!(seen.iter().filter(|a| *a == "api_key.create").count(), 1, "only this organisation's rows: {seen:?}");
}
in_both_modes!(an_admin_reads_its_organisations_rows_newest_first);

async fn pages_follow_the_cursor_without_gaps_or_repeats(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    for i in 0..5 {
        app.post_json(&org.key, "/api/keys", json!({ "name": format!("key {i}") })).await;
    }
    let whole: Vec<String> = page(&app, &org.key, "").await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_owned(),
        };
        let body = page(&app, &org.key, &query).await;
        walked
            .extend(body["items"].as_array().expect("items").iter().map(|r| r["id"].as_str().expect("id").to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, whole);
}
in_both_modes!(pages_follow_the_cursor_without_gaps_or_repeats);

async fn rows_filter_by_action_and_actor(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    app.post_json(&org.key, "/api/keys", json!({ "name": "one" })).await;
    app.upload_text(&org.key, None).await;
    let only = page(&app, &org.key, "?action=api_key.create").await;
    assert_eq!(actions(&only), ["api_key.create"]);
    let actor = only["items"][0]["actor_id"].as_str().expect("actor").to_owned();
    assert_eq!(actions(&page(&app, &org.key, &format!("?actor={actor}&action=document.create")).await).len(), 1);
    assert!(actions(&page(&app, &org.key, "?actor=usr_nobody").await).is_empty());
}
in_both_modes!(rows_filter_by_action_and_actor);

async fn only_admins_read_the_audit_log(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created: Value = app
        .post_json(&org.key, "/api/keys", json!({ "name": "ro", "scopes": ["read"] }))
        .await
        .json()
        .await
        .expect("json");
    let read_only = created["api_key"].as_str().expect("key");
    assert_eq!(app.get(read_only, "/api/audit").await.status(), 403);
}
in_both_modes!(only_admins_read_the_audit_log);

async fn the_csv_export_has_a_header_and_a_line_per_row(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    app.post_json(&org.key, "/api/keys", json!({ "name": "=cmd|' /C calc'!A0" })).await;
    let json_rows = page(&app, &org.key, "").await["items"].as_array().expect("items").len();
    let response = app.get(&org.key, "/api/audit?format=csv").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/csv"));
    let text = response.text().await.expect("text");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "id,created_at,actor_id,action,target_type,target_id,details");
    assert_eq!(lines.len(), json_rows + 1);
}
in_both_modes!(the_csv_export_has_a_header_and_a_line_per_row);

async fn a_download_of_an_original_is_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let id = doc["id"].as_str().expect("id");
    assert_eq!(app.get(&org.key, &format!("/api/documents/{id}/original")).await.status(), 200);
    let rows = page(&app, &org.key, &format!("?action=document.download&target={id}")).await;
    assert_eq!(actions(&rows), ["document.download"]);
}
in_both_modes!(a_download_of_an_original_is_audited);

async fn a_made_up_cursor_is_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    assert_eq!(app.get(&org.key, "/api/audit?cursor=' OR 1=1").await.status(), 400);
    assert_eq!(app.get(&org.key, "/api/audit?limit=100000").await.status(), 400);
}
in_both_modes!(a_made_up_cursor_is_refused);

async fn audit_rows_cannot_be_changed_or_removed_even_in_sql(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    app.post_json(&org.key, "/api/keys", json!({ "name": "k" })).await;
    for statement in ["UPDATE audit_logs SET action = 'nothing'", "DELETE FROM audit_logs"] {
        let result = cr_store::with_pool!(app.state.db, |p| sqlx::query(statement).execute(p).await.map(|_| ()));
        assert!(result.is_err(), "{statement} went through");
    }
    assert!(!actions(&page(&app, &org.key, "?action=api_key.create").await).is_empty());
}
in_both_modes!(audit_rows_cannot_be_changed_or_removed_even_in_sql);
