//! Tenant isolation: a user of organisation A can do nothing to a document of B, through
//! cached or uncached paths, by id guessing or by list filters.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, Mode};
use crate::in_both_modes;

async fn another_organisation_cannot_reach_a_document_by_any_route(mode: Mode) {
    let app = spawn_app(mode).await;
    let owner = app.new_org().await;
    let intruder = app.new_org().await;
    let doc = app.upload_text(&owner.key, Some(r#"{"client":"Secret Client"}"#)).await;
    let id = doc["id"].as_str().expect("id");
    let path = format!("/api/documents/{id}");
    let own_doc = app.upload_text(&intruder.key, None).await;
    let own_id = own_doc["id"].as_str().expect("id");

    // Twice: first uncached, then with the owner's copies (document and list) in the cache.
    for round in ["uncached", "cached"] {
        if round == "cached" {
            assert_eq!(app.get(&owner.key, &path).await.status(), 200);
            let _ = app.get(&owner.key, "/api/documents?client=Secret%20Client").await;
        }
        assert_eq!(app.get(&intruder.key, &path).await.status(), 404, "{round} get");
        assert_eq!(app.get(&intruder.key, &format!("{path}/original")).await.status(), 404, "{round} download");
        assert_eq!(app.get(&intruder.key, &format!("{path}/relations")).await.status(), 404, "{round} relations");
        let listed: Value =
            app.get(&intruder.key, "/api/documents?client=Secret%20Client").await.json().await.expect("json");
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(0), "{round} list filter");
        let all: Value = app.get(&intruder.key, "/api/documents?limit=100").await.json().await.expect("json");
        assert!(all["items"].as_array().expect("items").iter().all(|d| d["id"] != id), "{round} list");
        let patch = app.patch_json(&intruder.key, &path, json!({ "metadata": { "client": "pwned" } })).await;
        assert_eq!(patch.status(), 404, "{round} update");
        let relate = app
            .post_json(
                &intruder.key,
                &format!("/api/documents/{own_id}/relations"),
                json!({ "kind": "amends", "target_id": id }),
            )
            .await;
        assert_eq!(relate.status(), 404, "{round} relation to a foreign target");
        assert_eq!(app.delete(&intruder.key, &path).await.status(), 404, "{round} delete");
    }
    // The owner's document is untouched.
    let fetched: Value = app.get(&owner.key, &path).await.json().await.expect("json");
    assert_eq!(fetched, doc);
}
in_both_modes!(another_organisation_cannot_reach_a_document_by_any_route);

async fn requests_without_a_valid_key_are_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let none = app.client.get(app.url("/api/documents")).send().await.expect("request");
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated");
    let wrong = app.get("cr_not_a_key", "/api/documents").await;
    assert_eq!(wrong.status(), 401);
    let member = app.new_org().await;
    let create =
        app.post_json(&member.key, "/api/organisations", json!({ "name": "x", "admin_email": "x@example.com" })).await;
    assert_eq!(create.status(), 403, "only platform admins create organisations");
}
in_both_modes!(requests_without_a_valid_key_are_refused);
