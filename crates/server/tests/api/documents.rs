//! The document lifecycle through the REST API.

use serde_json::{json, Value};

use crate::helpers::{fixtures, spawn_app, Mode};
use crate::in_both_modes;

async fn health_and_readiness_report_the_storage_in_use(mode: Mode) {
    let app = spawn_app(mode).await;
    let health = app.client.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(health.status(), 200);
    let ready: Value = app.client.get(app.url("/readyz")).send().await.expect("request").json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    let (db, cache, mode_name) = match mode {
        Mode::Server => ("postgres", "redis", "server"),
        Mode::Embedded => ("sqlite", "memory", "embedded"),
    };
    assert_eq!(ready["database"]["backend"], db);
    assert_eq!(ready["cache"]["backend"], cache);
    assert_eq!(ready["mode"], mode_name);
}
in_both_modes!(health_and_readiness_report_the_storage_in_use);

async fn an_uploaded_contract_can_be_read_listed_and_downloaded(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let path =
        fixtures("contracts").into_iter().find(|p| p.extension().is_some_and(|e| e == "pdf")).expect("pdf fixture");
    let bytes = std::fs::read(&path).expect("read");
    let response = app
        .upload(&org.key, "NDA.pdf", bytes.clone(), Some(r#"{"client":"ACME Corp","contract_type":"NDA"}"#), None)
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let created: Value = response.json().await.expect("json");
    assert_eq!(location, format!("/api/documents/{}", created["id"].as_str().expect("id")));
    assert_eq!(created["media_type"], "application/pdf");
    assert_eq!(created["size_bytes"], bytes.len());
    assert_eq!(created["metadata"]["client"], "ACME Corp");
    assert_eq!(created["status"], "queued");

    let fetched: Value = app.get(&org.key, &location).await.json().await.expect("json");
    assert_eq!(fetched, created);

    let page: Value = app.get(&org.key, "/api/documents").await.json().await.expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["items"][0]["id"], created["id"]);

    let download = app.get(&org.key, &format!("{location}/original")).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert!(download.headers()["content-disposition"].to_str().expect("ascii").contains("NDA.pdf"));
    assert_eq!(download.bytes().await.expect("body").as_ref(), bytes.as_slice());
}
in_both_modes!(an_uploaded_contract_can_be_read_listed_and_downloaded);

async fn types_are_detected_from_content_not_from_the_extension(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let cases = [
        (
            "contracts/openagreements_common-paper-mutual-nda.docx",
            "nda.txt",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("contracts/bonterms_Mutual-NDA-Version-1.pdf", "nda.docx", "application/pdf"),
        ("contracts/bonterms_Mutual-NDA.md", "nda.md", "text/markdown"),
    ];
    for (fixture, name, expected) in cases {
        let bytes =
            std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(fixture))
                .expect("fixture");
        let response = app.upload(&org.key, name, bytes, None, None).await;
        assert_eq!(response.status(), 201, "{fixture}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["media_type"], expected, "{fixture}");
    }
    let response =
        app.upload(&org.key, "plain.pdf", b"This Agreement is made on 1 May 2024.".to_vec(), None, None).await;
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["media_type"], "text/plain");
}
in_both_modes!(types_are_detected_from_content_not_from_the_extension);

async fn the_same_content_uploaded_twice_is_one_document(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let first = app.upload(&org.key, "a.txt", b"Same agreement text.".to_vec(), None, None).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let second = app.upload(&org.key, "b.txt", b"Same agreement text.".to_vec(), None, None).await;
    assert_eq!(second.status(), 200, "a duplicate answers 200 with the existing document");
    let second: Value = second.json().await.expect("json");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(app.stored_counts().await, (1, 1));

    // Another organisation uploading the same bytes gets its own document.
    let other = app.new_org().await;
    let third = app.upload(&other.key, "c.txt", b"Same agreement text.".to_vec(), None, None).await;
    assert_eq!(third.status(), 201);
    assert_eq!(app.stored_counts().await, (2, 1), "content is stored once on disk");
}
in_both_modes!(the_same_content_uploaded_twice_is_one_document);

async fn a_retried_upload_with_the_same_idempotency_key_gets_the_first_answer(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let first = app.upload(&org.key, "a.txt", b"Agreement one.".to_vec(), None, Some("retry-1")).await;
    assert_eq!(first.status(), 201);
    let first_body = first.text().await.expect("body");
    let retry = app.upload(&org.key, "a.txt", b"Agreement one.".to_vec(), None, Some("retry-1")).await;
    assert_eq!(retry.status(), 201, "the replay keeps the first status");
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.text().await.expect("body"), first_body);
    assert_eq!(app.stored_counts().await.0, 1);

    let misuse = app.upload(&org.key, "a.txt", b"A different agreement.".to_vec(), None, Some("retry-1")).await;
    assert_eq!(misuse.status(), 422);
    let error: Value = misuse.json().await.expect("json");
    assert_eq!(error["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.stored_counts().await.0, 1);
}
in_both_modes!(a_retried_upload_with_the_same_idempotency_key_gets_the_first_answer);

async fn concurrent_retries_with_one_idempotency_key_create_one_document(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let attempts =
        (0..8).map(|_| app.upload(&org.key, "a.txt", b"Concurrent agreement.".to_vec(), None, Some("same-key")));
    let responses = futures::future::join_all(attempts).await;
    let mut ids = std::collections::BTreeSet::new();
    for response in responses {
        assert!(response.status() == 201, "status {}", response.status());
        let body: Value = response.json().await.expect("json");
        ids.insert(body["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.stored_counts().await.0, 1);
}
in_both_modes!(concurrent_retries_with_one_idempotency_key_create_one_document);

async fn lists_filter_and_page_with_a_keyset_cursor(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    for i in 0..7 {
        let (client, kind) = if i % 2 == 0 { ("ACME", "NDA") } else { ("Globex", "MSA") };
        let metadata = json!({ "client": client, "contract_type": kind }).to_string();
        let name = format!("contract-{i}{}.txt", if i == 3 { "_special%" } else { "" });
        let response =
            app.upload(&org.key, &name, format!("Agreement number {i}.").into_bytes(), Some(&metadata), None).await;
        assert_eq!(response.status(), 201);
    }
    let ids = |page: &Value| -> Vec<String> {
        page["items"].as_array().expect("items").iter().map(|d| d["id"].as_str().expect("id").to_owned()).collect()
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/documents?limit=3&cursor={c}"),
            None => "/api/documents?limit=3".to_owned(),
        };
        let page: Value = app.get(&org.key, &path).await.json().await.expect("json");
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no duplicates across pages");

    let acme: Value = app.get(&org.key, "/api/documents?client=acme").await.json().await.expect("json");
    assert_eq!(ids(&acme).len(), 4);
    let msa: Value =
        app.get(&org.key, "/api/documents?contract_type=MSA&client=Globex").await.json().await.expect("json");
    assert_eq!(ids(&msa).len(), 3);
    let special: Value = app.get(&org.key, "/api/documents?q=SPECIAL%25").await.json().await.expect("json");
    assert_eq!(ids(&special).len(), 1, "LIKE wildcards in q are matched literally");
    let wildcard: Value = app.get(&org.key, "/api/documents?q=%25").await.json().await.expect("json");
    assert_eq!(ids(&wildcard).len(), 1);
    let status: Value = app.get(&org.key, "/api/documents?status=queued").await.json().await.expect("json");
    assert_eq!(ids(&status).len(), 7);
    let none: Value = app.get(&org.key, "/api/documents?status=completed").await.json().await.expect("json");
    assert_eq!(ids(&none).len(), 0);
}
in_both_modes!(lists_filter_and_page_with_a_keyset_cursor);

async fn metadata_updates_are_merge_patches_and_are_audited(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, Some(r#"{"client":"ACME","region":"EU"}"#)).await;
    let id = doc["id"].as_str().expect("id");
    let path = format!("/api/documents/{id}");
    let _ = app.get(&org.key, &path).await; // cache it
    let response = app
        .patch_json(
            &org.key,
            &path,
            json!({ "metadata": { "region": null, "contract_type": "MSA" }, "filename": "../Renamed.txt" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.expect("json");
    assert_eq!(updated["metadata"], json!({ "client": "ACME", "contract_type": "MSA" }));
    assert_eq!(updated["filename"], "Renamed.txt");
    assert_eq!(updated["version"], 2);
    let fetched: Value = app.get(&org.key, &path).await.json().await.expect("json");
    assert_eq!(fetched, updated, "the cached copy was replaced");
    let listed: Value = app.get(&org.key, "/api/documents?contract_type=msa").await.json().await.expect("json");
    assert_eq!(listed["items"][0]["id"], doc["id"]);

    let audit = cr_store::documents::count_audit_rows(&app.state.db, id).await.expect("count");
    assert_eq!(audit, 2, "create and update are audited");

    let bad = app.patch_json(&org.key, &path, json!({ "metadata": { "client": 42 } })).await;
    assert_eq!(bad.status(), 400);
    let unknown = app.patch_json(&org.key, &path, json!({ "owner_id": "usr_x" })).await;
    assert_eq!(unknown.status(), 422);
    let empty = app.patch_json(&org.key, &path, json!({})).await;
    assert_eq!(empty.status(), 400);
}
in_both_modes!(metadata_updates_are_merge_patches_and_are_audited);

async fn a_deleted_document_is_gone_from_every_read(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let id = doc["id"].as_str().expect("id");
    let path = format!("/api/documents/{id}");
    assert_eq!(app.get(&org.key, &path).await.status(), 200);
    let _ = app.get(&org.key, "/api/documents").await;
    assert_eq!(app.delete(&org.key, &path).await.status(), 204);
    assert_eq!(app.get(&org.key, &path).await.status(), 404);
    assert_eq!(app.get(&org.key, &format!("{path}/original")).await.status(), 404);
    let page: Value = app.get(&org.key, "/api/documents").await.json().await.expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(app.delete(&org.key, &path).await.status(), 404);
    assert_eq!(cr_store::documents::count_audit_rows(&app.state.db, id).await.expect("count"), 2);
}
in_both_modes!(a_deleted_document_is_gone_from_every_read);

async fn documents_can_be_related_within_an_organisation(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let msa = app.upload_text(&org.key, None).await;
    let sow = app.upload_text(&org.key, None).await;
    let (msa_id, sow_id) = (msa["id"].as_str().expect("id"), sow["id"].as_str().expect("id"));
    let created = app
        .post_json(
            &org.key,
            &format!("/api/documents/{sow_id}/relations"),
            json!({ "kind": "sow_of", "target_id": msa_id }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let relation: Value = created.json().await.expect("json");
    let again = app
        .post_json(
            &org.key,
            &format!("/api/documents/{sow_id}/relations"),
            json!({ "kind": "sow_of", "target_id": msa_id }),
        )
        .await;
    assert_eq!(again.status(), 409);
    let listed: Value =
        app.get(&org.key, &format!("/api/documents/{msa_id}/relations")).await.json().await.expect("json");
    assert_eq!(listed["items"][0]["id"], relation["id"]);
    assert_eq!(listed["items"][0]["source_id"], sow_id);

    let bad_kind = app
        .post_json(
            &org.key,
            &format!("/api/documents/{sow_id}/relations"),
            json!({ "kind": "likes", "target_id": msa_id }),
        )
        .await;
    assert_eq!(bad_kind.status(), 400);
    let to_self = app
        .post_json(
            &org.key,
            &format!("/api/documents/{sow_id}/relations"),
            json!({ "kind": "amends", "target_id": sow_id }),
        )
        .await;
    assert_eq!(to_self.status(), 400);

    let removed = app
        .delete(&org.key, &format!("/api/documents/{msa_id}/relations/{}", relation["id"].as_str().expect("id")))
        .await;
    assert_eq!(removed.status(), 204);
    let listed: Value =
        app.get(&org.key, &format!("/api/documents/{msa_id}/relations")).await.json().await.expect("json");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0));
}
in_both_modes!(documents_can_be_related_within_an_organisation);

/// Every operation of the served OpenAPI document reaches a handler (not the fallback that
/// answers unknown routes, nor 405). Routes and documentation are registered together, so the
/// converse holds by construction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served() {
    let app = spawn_app(Mode::Embedded).await;
    let doc: Value =
        app.client.get(app.url("/api/openapi.json")).send().await.expect("request").json().await.expect("json");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path.replace("{id}", "x").replace("{relation_id}", "x");
        for method in item.as_object().expect("operations").keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .bearer_auth(&app.admin_key)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = response.status();
            let text = response.text().await.expect("body");
            assert_ne!(status, 405, "{method} {path}: {text}");
            assert!(!text.contains("no such route"), "{method} {path} is documented but not served");
            operations += 1;
        }
    }
    assert!(operations >= 27, "{operations} operations documented");
}

async fn every_post_honours_the_idempotency_key(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let a = app.upload_text(&org.key, None).await;
    let b = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}/relations", a["id"].as_str().expect("id"));
    let body = json!({ "kind": "amends", "target_id": b["id"] });
    let send = |key: &'static str, body: Value| {
        app.client.post(app.url(&path)).header("X-API-Key", &org.key).header("Idempotency-Key", key).json(&body).send()
    };
    let first = send("rel-1", body.clone()).await.expect("request");
    assert_eq!(first.status(), 201);
    let first_body = first.text().await.expect("body");
    let retry = send("rel-1", body.clone()).await.expect("request");
    assert_eq!(retry.status(), 201, "a retry gets the first answer, not 409");
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.text().await.expect("body"), first_body);
    let other = send("rel-1", json!({ "kind": "supersedes", "target_id": b["id"] })).await.expect("request");
    assert_eq!(other.status(), 422);

    let org_body = json!({ "name": "Retry Org", "admin_email": "retry@example.com" });
    let create = |body: Value| {
        app.client
            .post(app.url("/api/organisations"))
            .bearer_auth(&app.admin_key)
            .header("Idempotency-Key", "org-1")
            .json(&body)
            .send()
    };
    let first = create(org_body.clone()).await.expect("request");
    assert_eq!(first.status(), 201);
    let first_body: Value = first.json().await.expect("json");
    let retry = create(org_body).await.expect("request");
    assert_eq!(retry.status(), 201);
    let retry_body: Value = retry.json().await.expect("json");
    assert_eq!(retry_body["organisation"]["id"], first_body["organisation"]["id"], "one organisation, not two");
    assert!(first_body["api_key"].as_str().is_some_and(|k| k.starts_with("cr_")));
    assert_ne!(retry_body["api_key"], first_body["api_key"], "the plaintext key is never stored for replays");
}
in_both_modes!(every_post_honours_the_idempotency_key);
