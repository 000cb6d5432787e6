//! The permission matrix, generated from the route table (`cr_server::access::routes()`):
//! every route × every role × (own organisation, other organisation). A route the role allows
//! is let through (whatever the handler then says of the body or the id); one it does not is
//! refused with 403; nothing of another organisation is ever answered with success. Shares
//! add to a role on one document, and stop when removed.

use cr_server::access::{self, Access, Permission};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::in_both_modes;

const ROLES: [&str; 3] = ["admin", "reviewer", "viewer"];

async fn call(app: &TestApp, session: &Session, method: &axum::http::Method, path: &str) -> u16 {
    let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("method");
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .header("cookie", session.cookie())
        .header("x-csrf-token", &session.csrf);
    if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
        request = request.json(&json!({}));
    }
    request.send().await.expect("request").status().as_u16()
}

/// These tests sign in afresh for every call.
fn many_sign_ins(config: &mut cr_server::Config) {
    config.auth.login_per_account = 1000;
    config.auth.login_per_ip = 10_000;
}

fn made_up(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// `template` with its ids filled: the document's (when it names one) and made-up others.
fn fill(template: &str, document: &str, organisation: &str) -> String {
    template
        .replace("/api/documents/{id}", &format!("/api/documents/{document}"))
        .replace("/api/organisations/{id}", &format!("/api/organisations/{organisation}"))
        .replace("/api/keys/{id}", &format!("/api/keys/{}", made_up("key")))
        .replace("/api/users/{id}", &format!("/api/users/{}", made_up("usr")))
        .replace("/api/analyses/{id}", &format!("/api/analyses/{}", made_up("ana")))
        .replace("/api/webhooks/deliveries/{id}", &format!("/api/webhooks/deliveries/{}", made_up("dlv")))
        .replace("/api/webhooks/{id}", &format!("/api/webhooks/{}", made_up("whk")))
        .replace("{relation_id}", &made_up("rel"))
        .replace("{share_id}", &made_up("shr"))
}

/// The roles' permissions as the product promises them, written apart from the code that
/// enforces them: an admin everything in its organisation, a reviewer reads and analyses, a
/// viewer reads.
fn role_grants_expected(role: &str, permission: Permission) -> bool {
    match role {
        "admin" => true,
        "reviewer" => matches!(permission, Permission::Read | Permission::Analyze),
        _ => permission == Permission::Read,
    }
}

fn role_allows(role: &str, access: Access) -> bool {
    match access {
        Access::Public | Access::Member => true,
        Access::Organisation(permission) | Access::Document(permission) => {
            permission != Permission::PlatformAdmin && role_grants_expected(role, permission)
        }
    }
}

async fn every_route_allows_exactly_what_each_role_may_in_its_own_organisation(mode: Mode) {
    let app = spawn_app_with(mode, many_sign_ins).await;
    let org = app.new_org().await;
    let mut members = Vec::new();
    for role in ROLES {
        members.push((role, app.add_member(&org.key, role).await));
    }
    let mut wrong = Vec::new();
    for rule in access::routes().iter().filter(|rule| rule.access != Access::Public) {
        for (role, member) in &members {
            let document = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
            let session = app.sign_in(&member.email).await;
            let status = call(&app, &session, &rule.method, &fill(rule.path, &document, &org.id)).await;
            let allowed = role_allows(role, rule.access);
            let as_expected = if allowed { status != 401 && status != 403 } else { status == 403 };
            if !as_expected {
                wrong.push(format!("{} {} as {role}: {status} (allowed: {allowed})", rule.method, rule.path));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
in_both_modes!(every_route_allows_exactly_what_each_role_may_in_its_own_organisation);

async fn no_route_answers_a_member_with_another_organisations_data(mode: Mode) {
    let app = spawn_app_with(mode, many_sign_ins).await;
    let org = app.new_org().await;
    let other = app.new_org().await;
    let mut members = Vec::new();
    for role in ROLES {
        members.push((role, app.add_member(&org.key, role).await));
    }
    let mut wrong = Vec::new();
    let about_another = access::routes()
        .iter()
        .filter(|rule| matches!(rule.access, Access::Document(_)) || rule.path.starts_with("/api/organisations/{id}"));
    for rule in about_another {
        for (role, member) in &members {
            let theirs = app.upload_text(&other.key, None).await["id"].as_str().expect("id").to_owned();
            let session = app.sign_in(&member.email).await;
            let status = call(&app, &session, &rule.method, &fill(rule.path, &theirs, &other.id)).await;
            // Refused, not found, or a body refused on its merits: never an answer, never a crash.
            if (200..300).contains(&status) || status >= 500 {
                wrong.push(format!("{} {} as {role}: {status}", rule.method, rule.path));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
in_both_modes!(no_route_answers_a_member_with_another_organisations_data);

async fn a_share_lets_a_viewer_analyse_one_document_until_it_is_removed(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let viewer = app.add_member(&org.key, "viewer").await;
    let shared = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
    let unshared = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
    let session = app.sign_in(&viewer.email).await;
    let patch = |id: &str| format!("/api/documents/{id}");
    assert_eq!(call(&app, &session, &axum::http::Method::PATCH, &patch(&shared)).await, 403);
    let share = app
        .post_json(
            &org.key,
            &format!("/api/documents/{shared}/shares"),
            json!({ "user_id": viewer.id, "permission": "analyze" }),
        )
        .await;
    assert_eq!(share.status(), 201);
    let share_id = share.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    // Allowed now (the handler then refuses the empty patch on its merits, not for access).
    assert_ne!(call(&app, &session, &axum::http::Method::PATCH, &patch(&shared)).await, 403);
    assert_eq!(call(&app, &session, &axum::http::Method::PATCH, &patch(&unshared)).await, 403);
    assert_eq!(call(&app, &session, &axum::http::Method::DELETE, &patch(&shared)).await, 403, "analyze is not manage");
    let removed = app.delete(&org.key, &format!("/api/documents/{shared}/shares/{share_id}")).await;
    assert_eq!(removed.status(), 204);
    assert_eq!(call(&app, &session, &axum::http::Method::PATCH, &patch(&shared)).await, 403);
}
in_both_modes!(a_share_lets_a_viewer_analyse_one_document_until_it_is_removed);

async fn a_share_with_a_role_reaches_every_member_of_it(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let reviewer = app.add_member(&org.key, "reviewer").await;
    let document = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
    let session = app.sign_in(&reviewer.email).await;
    let path = format!("/api/documents/{document}/shares");
    assert_eq!(call(&app, &session, &axum::http::Method::POST, &path).await, 403, "reviewers do not manage");
    let body = json!({ "role": "reviewer", "permission": "manage" });
    assert_eq!(app.post_json(&org.key, &path, body).await.status(), 201);
    assert_eq!(call(&app, &session, &axum::http::Method::DELETE, &format!("/api/documents/{document}")).await, 204);
}
in_both_modes!(a_share_with_a_role_reaches_every_member_of_it);

async fn shares_are_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let viewer = app.add_member(&org.key, "viewer").await;
    let document = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
    let body = json!({ "user_id": viewer.id, "permission": "read" });
    assert_eq!(app.post_json(&org.key, &format!("/api/documents/{document}/shares"), body).await.status(), 201);
    let rows: Value = app.get(&org.key, "/api/audit?action=share.create").await.json().await.expect("json");
    assert_eq!(rows["items"][0]["target_id"], document.as_str());
}
in_both_modes!(shares_are_audited);
