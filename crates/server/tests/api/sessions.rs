//! Accounts and browser sessions: sign-in to an HttpOnly cookie, sliding and absolute expiry,
//! sign-out here and everywhere, revocation when a role changes or a user is disabled (on two
//! instances sharing one Redis and one PostgreSQL), sign-in limits, CSRF, fixation, tampered
//! tokens, and Redis down (cookie routes fail closed, API keys and sign-in limits hold).

use redis::AsyncCommands;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::in_both_modes;

async fn get_with(app: &TestApp, session: &Session, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).header("cookie", session.cookie()).send().await.expect("request")
}

async fn post_with(app: &TestApp, session: &Session, path: &str, body: Value, csrf: bool) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).header("cookie", session.cookie());
    if csrf {
        request = request.header("x-csrf-token", &session.csrf);
    }
    request.json(&body).send().await.expect("request")
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    cr_store::with_pool!(app.state.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_logs WHERE action = $1"
    )
    .bind(action)
    .fetch_one(p)
    .await)
    .expect("count")
}

/// A second instance sharing the first one's database and Redis.
async fn twin(first: &TestApp) -> TestApp {
    let database_url = first.state.config.database_url.clone();
    let (prefix, admin) = (first.key_prefix.clone(), first.admin_key.clone());
    spawn_app_with(Mode::Server, move |config| {
        config.database_url = database_url;
        config.cache.key_prefix = prefix;
        config.bootstrap_api_key = Some(cr_server::config::Secret::new(admin));
    })
    .await
}

async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url()).expect("client").get_multiplexed_async_connection().await.expect("redis")
}

async fn sign_in_sets_an_http_only_cookie_that_authenticates(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { id: user_id, email } = app.add_member(&org.key, "reviewer").await;
    let response = app.try_sign_in(&email, MEMBER_PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"), "{cookie}");
    let session = app.sign_in(&email).await;
    let me: Value = get_with(&app, &session, "/api/auth/me").await.json().await.expect("json");
    assert_eq!(me["user"]["id"], user_id.as_str());
    assert_eq!(me["permissions"], json!(["read", "analyze"]));
    assert_eq!(get_with(&app, &session, "/api/documents").await.status(), 200);
}
in_both_modes!(sign_in_sets_an_http_only_cookie_that_authenticates);

async fn a_wrong_password_is_refused_and_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let response = app.try_sign_in(&email, "not the password").await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_credentials");
    assert_eq!(audit_count(&app, "auth.login_failed").await, 1);
    assert_eq!(app.try_sign_in("nobody@example.com", MEMBER_PASSWORD).await.status(), 401);
}
in_both_modes!(a_wrong_password_is_refused_and_audited);

async fn a_successful_sign_in_is_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "viewer").await;
    app.sign_in(&email).await;
    assert_eq!(audit_count(&app, "auth.login").await, 1);
}
in_both_modes!(a_successful_sign_in_is_audited);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_attempt_in_a_minute_is_refused_on_either_instance_even_with_the_right_password() {
    let first = spawn_app(Mode::Server).await;
    let second = twin(&first).await;
    let org = first.new_org().await;
    let Member { email, .. } = first.add_member(&org.key, "reviewer").await;
    for attempt in 0..5 {
        let app = if attempt % 2 == 0 { &first } else { &second };
        assert_eq!(app.try_sign_in(&email, "wrong password!").await.status(), 401);
    }
    let sixth = second.try_sign_in(&email, MEMBER_PASSWORD).await;
    assert_eq!(sixth.status(), 429);
    assert!(sixth.headers().contains_key("retry-after"));
    assert_eq!(first.try_sign_in(&email, MEMBER_PASSWORD).await.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_pushes_the_idle_expiry_back() {
    let app = spawn_app(Mode::Server).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let session = app.sign_in(&email).await;
    let key = format!("{}session:{}", app.key_prefix, cr_service::accounts::hash_token(&session.token));
    let mut redis = redis().await;
    let _: bool = redis.expire(&key, 5).await.expect("expire");
    assert_eq!(get_with(&app, &session, "/api/documents").await.status(), 200);
    let ttl: i64 = redis.ttl(&key).await.expect("ttl");
    assert!(ttl > 3000, "TTL {ttl} after activity");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_absolute_maximum_however_busy() {
    let app = spawn_app(Mode::Server).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let session = app.sign_in(&email).await;
    let key = format!("{}session:{}", app.key_prefix, cr_service::accounts::hash_token(&session.token));
    let mut redis = redis().await;
    let stored: String = redis.get(&key).await.expect("get");
    let mut data: Value = serde_json::from_str(&stored).expect("json");
    data["created_at"] = json!(data["created_at"].as_i64().expect("created") - 13 * 3600);
    let _: () =
        redis::cmd("SET").arg(&key).arg(data.to_string()).arg("KEEPTTL").query_async(&mut redis).await.expect("set");
    let response = get_with(&app, &session, "/api/documents").await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "session_ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_in_the_embedded_store_too() {
    let app = spawn_app(Mode::Embedded).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let session = app.sign_in(&email).await;
    let past = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    cr_store::with_pool!(app.state.db, |p| sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(past)
        .execute(p)
        .await
        .map(|_| ()))
    .expect("expire");
    assert_eq!(get_with(&app, &session, "/api/documents").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session_on_every_instance() {
    let first = spawn_app(Mode::Server).await;
    let second = twin(&first).await;
    let org = first.new_org().await;
    let Member { email, .. } = first.add_member(&org.key, "viewer").await;
    let session = first.sign_in(&email).await;
    assert_eq!(get_with(&second, &session, "/api/documents").await.status(), 200);
    let out = post_with(&first, &session, "/api/auth/logout", json!({}), true).await;
    assert_eq!(out.status(), 204);
    assert_eq!(get_with(&second, &session, "/api/documents").await.status(), 401);
    assert_eq!(audit_count(&first, "auth.logout").await, 1);
}

async fn sign_out_everywhere_ends_every_session_of_the_user(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "viewer").await;
    let laptop = app.sign_in(&email).await;
    let phone = app.sign_in(&email).await;
    let response = post_with(&app, &laptop, "/api/auth/logout-all", json!({}), true).await;
    assert_eq!(response.status(), 200);
    assert_eq!(get_with(&app, &phone, "/api/documents").await.status(), 401);
    assert_eq!(get_with(&app, &laptop, "/api/documents").await.status(), 401);
}
in_both_modes!(sign_out_everywhere_ends_every_session_of_the_user);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_on_one_instance_ends_the_session_on_the_other() {
    let first = spawn_app(Mode::Server).await;
    let second = twin(&first).await;
    let org = first.new_org().await;
    let Member { id: user_id, email } = first.add_member(&org.key, "reviewer").await;
    let session = first.sign_in(&email).await;
    assert_eq!(get_with(&second, &session, "/api/documents").await.status(), 200);
    let changed = first.patch_json(&org.key, &format!("/api/users/{user_id}"), json!({ "role": "viewer" })).await;
    assert_eq!(changed.status(), 200);
    assert_eq!(get_with(&second, &session, "/api/documents").await.status(), 401);
    assert_eq!(audit_count(&first, "membership.role").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_refuses_its_session_and_its_api_key_on_the_other_instance() {
    let first = spawn_app(Mode::Server).await;
    let second = twin(&first).await;
    let org = first.new_org().await;
    let Member { id: user_id, email } = first.add_member(&org.key, "reviewer").await;
    let session = first.sign_in(&email).await;
    let created = post_with(&first, &session, "/api/keys", json!({ "name": "script" }), true).await;
    assert_eq!(created.status(), 201);
    let key = created.json::<Value>().await.expect("json")["api_key"].as_str().expect("key").to_owned();
    assert_eq!(second.get(&key, "/api/documents").await.status(), 200);
    let disabled = first.patch_json(&org.key, &format!("/api/users/{user_id}"), json!({ "disabled": true })).await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(get_with(&second, &session, "/api/documents").await.status(), 401);
    assert_eq!(second.get(&key, "/api/documents").await.status(), 401);
    assert_eq!(second.try_sign_in(&email, MEMBER_PASSWORD).await.status(), 401);
}

async fn a_viewer_reads_but_cannot_upload(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "viewer").await;
    let session = app.sign_in(&email).await;
    assert_eq!(get_with(&app, &session, "/api/documents").await.status(), 200);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"An agreement.".to_vec()).file_name("a.txt"));
    let upload = app
        .client
        .post(app.url("/api/documents"))
        .header("cookie", session.cookie())
        .header("x-csrf-token", &session.csrf)
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_eq!(upload.status(), 403);
}
in_both_modes!(a_viewer_reads_but_cannot_upload);

async fn a_cookie_write_without_the_csrf_token_is_refused_and_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let session = app.sign_in(&email).await;
    let refused = post_with(&app, &session, "/api/auth/logout-all", json!({}), false).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(audit_count(&app, "auth.csrf_refused").await, 1);
    assert_eq!(get_with(&app, &session, "/api/documents").await.status(), 200, "the session still works");
}
in_both_modes!(a_cookie_write_without_the_csrf_token_is_refused_and_audited);

async fn a_token_held_before_sign_in_is_not_accepted_after(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let before = app.sign_in(&email).await;
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("cookie", format!("cr_session={}", before.token))
        .json(&json!({ "email": email, "password": MEMBER_PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(!set_cookie.contains(&before.token), "the old token was handed back");
    assert_eq!(get_with(&app, &before, "/api/documents").await.status(), 401);
}
in_both_modes!(a_token_held_before_sign_in_is_not_accepted_after);

async fn a_tampered_token_is_refused_and_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let session = app.sign_in(&email).await;
    let mut tampered = session.token.clone();
    tampered.pop();
    tampered.push(if session.token.ends_with('0') { '1' } else { '0' });
    let forged = Session { token: tampered, csrf: session.csrf.clone() };
    assert_eq!(get_with(&app, &forged, "/api/documents").await.status(), 401);
    assert_eq!(audit_count(&app, "auth.unknown_session").await, 1);
}
in_both_modes!(a_tampered_token_is_refused_and_audited);

async fn a_revoked_key_is_refused_and_audited_with_its_organisation(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let created: Value =
        app.post_json(&org.key, "/api/keys", json!({ "name": "old" })).await.json().await.expect("json");
    let (secret, id) = (created["api_key"].as_str().expect("key"), created["key"]["id"].as_str().expect("id"));
    assert_eq!(app.delete(&org.key, &format!("/api/keys/{id}")).await.status(), 204);
    assert_eq!(app.get(secret, "/api/documents").await.status(), 401);
    let audited: i64 = cr_store::with_pool!(app.state.db, |p| {
        sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_logs WHERE action = 'api_key.refused' AND target_id = $1 AND organisation_id = $2"
    )
    .bind(id)
    .bind(&org.id)
    .fetch_one(p)
    .await
    })
    .expect("count");
    assert_eq!(audited, 1);
}
in_both_modes!(a_revoked_key_is_refused_and_audited_with_its_organisation);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_cookies_get_503_keys_work_and_sign_in_stays_limited() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let app = spawn_app_without_waiting(Mode::Server, |config| {
        config.redis_url = Some(cr_server::config::Secret::new(format!("redis://127.0.0.1:{closed_port}")));
    })
    .await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let cookie = Session { token: "crs_anything".into(), csrf: String::new() };
    let response = get_with(&app, &cookie, "/api/documents").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert!(body["error"]["message"].as_str().expect("message").contains("API keys still work"), "{body}");
    assert_eq!(app.get(&org.key, "/api/documents").await.status(), 200);
    for _ in 0..5 {
        assert_eq!(app.try_sign_in(&email, "wrong password!").await.status(), 401);
    }
    assert_eq!(app.try_sign_in(&email, MEMBER_PASSWORD).await.status(), 429);
}

async fn an_invitation_makes_a_member_once(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let email = format!("{}@example.com", uuid::Uuid::now_v7().simple());
    let invited = app.post_json(&org.key, "/api/invitations", json!({ "email": email, "role": "viewer" })).await;
    assert_eq!(invited.status(), 201);
    let token = invited.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned();
    let accept = json!({ "token": token, "name": "Sam", "password": MEMBER_PASSWORD });
    let accepted = app.client.post(app.url("/api/invitations/accept")).json(&accept).send().await.expect("request");
    assert_eq!(accepted.status(), 201);
    let again = app.client.post(app.url("/api/invitations/accept")).json(&accept).send().await.expect("request");
    assert_eq!(again.status(), 404);
    let session = app.sign_in(&email).await;
    let me: Value = get_with(&app, &session, "/api/auth/me").await.json().await.expect("json");
    assert_eq!(me["user"]["role"], "viewer");
    assert_eq!(me["organisation_id"], org.id.as_str());
}
in_both_modes!(an_invitation_makes_a_member_once);

async fn only_an_admin_adds_members(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let session = app.sign_in(&email).await;
    let body = json!({ "email": "x@example.com", "password": MEMBER_PASSWORD, "role": "admin" });
    assert_eq!(post_with(&app, &session, "/api/users", body, true).await.status(), 403);
}
in_both_modes!(only_an_admin_adds_members);

async fn a_password_change_ends_the_sessions_and_the_new_password_works(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let Member { email, .. } = app.add_member(&org.key, "reviewer").await;
    let session = app.sign_in(&email).await;
    let new = "another long password";
    let wrong = json!({ "current_password": "not it at all", "new_password": new });
    assert_eq!(post_with(&app, &session, "/api/auth/password", wrong, true).await.status(), 401);
    let body = json!({ "current_password": MEMBER_PASSWORD, "new_password": new });
    assert_eq!(post_with(&app, &session, "/api/auth/password", body, true).await.status(), 204);
    assert_eq!(get_with(&app, &session, "/api/documents").await.status(), 401);
    assert_eq!(app.try_sign_in(&email, new).await.status(), 200);
}
in_both_modes!(a_password_change_ends_the_sessions_and_the_new_password_works);

async fn the_first_start_writes_the_admin_credentials_to_a_private_file(mode: Mode) {
    let app = spawn_app(mode).await;
    let path = app.data_dir.join("admin-credentials");
    let text = std::fs::read_to_string(&path).expect("credentials file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777, 0o600);
    }
    let password = text.lines().find_map(|l| l.strip_prefix("password = ")).expect("password line");
    assert_eq!(app.try_sign_in("admin@localhost", password).await.status(), 200);
}
in_both_modes!(the_first_start_writes_the_admin_credentials_to_a_private_file);

async fn a_made_up_invitation_token_is_refused_before_its_password_is_looked_at(mode: Mode) {
    let app = spawn_app(mode).await;
    // A password too short to hash: refused for the token, not for the password.
    let body = json!({ "token": "cri_made_up", "name": "Mallory", "password": "short" });
    let response = app.client.post(app.url("/api/invitations/accept")).json(&body).send().await.expect("request");
    assert_eq!(response.status(), 404);
}
in_both_modes!(a_made_up_invitation_token_is_refused_before_its_password_is_looked_at);
