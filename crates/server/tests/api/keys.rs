//! API keys: created (shown once) with scopes and an expiry, listed without secrets, rotated
//! and revoked — a revoked key refused on the next request on every instance — each audited.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::in_both_modes;

async fn create_key(app: &TestApp, key: &str, body: Value) -> Value {
    let response = app.post_json(key, "/api/keys", body).await;
    assert_eq!(response.status(), 201);
    response.json().await.expect("json")
}

async fn audited(app: &TestApp, action: &str, key_id: &str) -> i64 {
    cr_store::with_pool!(app.state.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_logs WHERE action = $1 AND target_id = $2"
    )
    .bind(action)
    .bind(key_id)
    .fetch_one(p)
    .await)
    .expect("count")
}

async fn a_new_key_works_and_is_never_listed_with_its_secret(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created = create_key(&app, &org.key, json!({ "name": "CI pipeline" })).await;
    let secret = created["api_key"].as_str().expect("secret").to_owned();
    assert_eq!(app.get(&secret, "/api/documents").await.status(), 200);
    let listed = app.get(&org.key, "/api/keys").await.text().await.expect("text");
    assert!(listed.contains("CI pipeline") && !listed.contains(&secret), "{listed}");
    assert_eq!(audited(&app, "api_key.create", created["key"]["id"].as_str().expect("id")).await, 1);
}
in_both_modes!(a_new_key_works_and_is_never_listed_with_its_secret);

async fn a_read_only_key_cannot_upload_or_make_keys(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created = create_key(&app, &org.key, json!({ "name": "dashboard", "scopes": ["read"] })).await;
    let read_only = created["api_key"].as_str().expect("secret");
    assert_eq!(app.get(read_only, "/api/documents").await.status(), 200);
    let upload = app.upload(read_only, "a.txt", b"An agreement.".to_vec(), None, None).await;
    assert_eq!(upload.status(), 403);
    let body: Value = upload.json().await.expect("json");
    assert!(body["error"]["message"].as_str().expect("message").contains("analyze"), "{body}");
    assert_eq!(app.post_json(read_only, "/api/keys", json!({ "name": "escalate" })).await.status(), 403);
}

async fn a_request_refused_for_its_scope_is_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created = create_key(&app, &org.key, json!({ "name": "dashboard", "scopes": ["read"] })).await;
    let read_only = created["api_key"].as_str().expect("secret");
    assert_eq!(app.post_json(read_only, "/api/keys", json!({ "name": "escalate" })).await.status(), 403);
    assert_eq!(audited(&app, "api_key.refused", created["key"]["id"].as_str().expect("id")).await, 1);
}
in_both_modes!(a_request_refused_for_its_scope_is_audited);
in_both_modes!(a_read_only_key_cannot_upload_or_make_keys);

async fn a_key_cannot_be_made_with_an_unknown_scope_or_a_past_expiry(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let unknown = app.post_json(&org.key, "/api/keys", json!({ "name": "x", "scopes": ["root"] })).await;
    assert_eq!(unknown.status(), 400);
    let past = app.post_json(&org.key, "/api/keys", json!({ "name": "x", "expires_at": "2001-01-01T00:00:00Z" })).await;
    assert_eq!(past.status(), 400);
}
in_both_modes!(a_key_cannot_be_made_with_an_unknown_scope_or_a_past_expiry);

async fn a_revoked_key_is_refused_on_the_next_request(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created = create_key(&app, &org.key, json!({ "name": "temp" })).await;
    let (secret, id) = (created["api_key"].as_str().expect("secret"), created["key"]["id"].as_str().expect("id"));
    assert_eq!(app.get(secret, "/api/documents").await.status(), 200);
    assert_eq!(app.delete(&org.key, &format!("/api/keys/{id}")).await.status(), 204);
    assert_eq!(app.get(secret, "/api/documents").await.status(), 401);
    assert_eq!(audited(&app, "api_key.revoke", id).await, 1);
}
in_both_modes!(a_revoked_key_is_refused_on_the_next_request);

async fn a_rotated_key_gives_way_to_its_successor(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created = create_key(&app, &org.key, json!({ "name": "nightly", "scopes": ["read"] })).await;
    let (old, id) = (created["api_key"].as_str().expect("secret"), created["key"]["id"].as_str().expect("id"));
    assert_eq!(app.get(old, "/api/documents").await.status(), 200);
    let rotated = app.post_json(&org.key, &format!("/api/keys/{id}/rotate"), json!({})).await;
    assert_eq!(rotated.status(), 201);
    let rotated: Value = rotated.json().await.expect("json");
    assert_eq!((rotated["key"]["name"].as_str(), rotated["key"]["scopes"].as_str()), (Some("nightly"), Some("read")));
    assert_eq!(app.get(old, "/api/documents").await.status(), 401);
    assert_eq!(app.get(rotated["api_key"].as_str().expect("new"), "/api/documents").await.status(), 200);
}
in_both_modes!(a_rotated_key_gives_way_to_its_successor);

async fn an_expired_key_is_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created = create_key(&app, &org.key, json!({ "name": "short", "expires_at": "2999-01-01T00:00:00Z" })).await;
    let id = created["key"]["id"].as_str().expect("id");
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    cr_store::with_pool!(app.state.db, |p| sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2")
        .bind(past)
        .bind(id)
        .execute(p)
        .await
        .map(|_| ()))
    .expect("expire");
    assert_eq!(app.get(created["api_key"].as_str().expect("secret"), "/api/documents").await.status(), 401);
}
in_both_modes!(an_expired_key_is_refused);

async fn the_bearer_scheme_is_case_insensitive_and_401_says_how_to_authenticate(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let lower = app.client.get(app.url("/api/documents")).header("Authorization", format!("bearer {}", org.key));
    assert_eq!(lower.send().await.expect("request").status(), 200);
    let refused = app.client.get(app.url("/api/documents")).send().await.expect("request");
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
}
in_both_modes!(the_bearer_scheme_is_case_insensitive_and_401_says_how_to_authenticate);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_instance_is_refused_on_the_other_at_once() {
    let first = spawn_app(Mode::Server).await;
    let database_url = first.state.config.database_url.clone();
    let (prefix, admin) = (first.key_prefix.clone(), first.admin_key.clone());
    let second = spawn_app_with(Mode::Server, move |config| {
        config.database_url = database_url;
        config.cache.key_prefix = prefix;
        config.bootstrap_api_key = Some(cr_server::config::Secret::new(admin));
    })
    .await;
    let org = first.new_org().await;
    let created = create_key(&first, &org.key, json!({ "name": "shared" })).await;
    let (secret, id) = (created["api_key"].as_str().expect("secret"), created["key"]["id"].as_str().expect("id"));
    // The second instance resolves the key and remembers it.
    assert_eq!(second.get(secret, "/api/documents").await.status(), 200);
    assert_eq!(first.delete(&org.key, &format!("/api/keys/{id}")).await.status(), 204);
    assert_eq!(second.get(secret, "/api/documents").await.status(), 401);
}

async fn an_admin_makes_a_key_for_a_member_that_acts_as_the_member(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let member = app.add_member(&org.key, "viewer").await;
    let member_id = member.id.as_str();
    let created = create_key(&app, &org.key, json!({ "name": "for the viewer", "user_id": member_id })).await;
    assert_eq!(created["key"]["user_id"], member_id);
    assert_eq!(created["key"]["scopes"], "read", "by default what the member's role allows");
    let secret = created["api_key"].as_str().expect("secret");
    assert_eq!(app.get(secret, "/api/documents").await.status(), 200);
    let upload = app.upload(secret, "a.txt", b"An agreement.".to_vec(), None, None).await;
    assert_eq!(upload.status(), 403);
}
in_both_modes!(an_admin_makes_a_key_for_a_member_that_acts_as_the_member);

async fn only_an_admin_makes_keys_for_others(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let me: Value = app.get(&org.key, "/api/auth/me").await.json().await.expect("json");
    let admin_id = me["user"]["id"].as_str().expect("id").to_owned();
    let reviewer = app.add_member(&org.key, "reviewer").await;
    let reviewer_key = create_key(&app, &org.key, json!({ "name": "r", "user_id": reviewer.id })).await;
    let secret = reviewer_key["api_key"].as_str().expect("secret");
    let refused = app.post_json(secret, "/api/keys", json!({ "name": "x", "user_id": admin_id })).await;
    assert_eq!(refused.status(), 403);
}
in_both_modes!(only_an_admin_makes_keys_for_others);
