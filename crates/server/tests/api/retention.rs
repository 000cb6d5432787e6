//! Relations that stay consistent with their documents, private files, the purge of a
//! document for good, and the sweeper of originals no row names.

use std::time::Duration;

use serde_json::{json, Value};

use crate::analysis::with_workers;
use crate::helpers::{spawn_app, spawn_app_with, Mode, TestApp};
use crate::in_both_modes;

async fn relate(app: &TestApp, key: &str, source: &str, target: &str, kind: &str) -> (u16, Value) {
    let response = app
        .post_json(key, &format!("/api/documents/{source}/relations"), json!({ "kind": kind, "target_id": target }))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

fn id_of(doc: &Value) -> String {
    doc["id"].as_str().expect("id").to_owned()
}

async fn a_deleted_document_leaves_its_partners_relation_lists(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let (a, b) = (id_of(&app.upload_text(&org.key, None).await), id_of(&app.upload_text(&org.key, None).await));
    assert_eq!(relate(&app, &org.key, &a, &b, "amends").await.0, 201);
    assert_eq!(app.delete(&org.key, &format!("/api/documents/{b}")).await.status(), 204);
    let relations: Value =
        app.get(&org.key, &format!("/api/documents/{a}/relations")).await.json().await.expect("json");
    assert_eq!(relations["items"], json!([]), "{relations}");
}
in_both_modes!(a_deleted_document_leaves_its_partners_relation_lists);

async fn a_relation_cannot_be_deleted_through_a_deleted_document(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let (a, b) = (id_of(&app.upload_text(&org.key, None).await), id_of(&app.upload_text(&org.key, None).await));
    let (_, relation) = relate(&app, &org.key, &a, &b, "amends").await;
    assert_eq!(app.delete(&org.key, &format!("/api/documents/{a}")).await.status(), 204);
    let path = format!("/api/documents/{a}/relations/{}", relation["id"].as_str().expect("relation id"));
    assert_eq!(app.delete(&org.key, &path).await.status(), 404);
}
in_both_modes!(a_relation_cannot_be_deleted_through_a_deleted_document);

async fn the_reverse_of_a_relation_is_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let (a, b) = (id_of(&app.upload_text(&org.key, None).await), id_of(&app.upload_text(&org.key, None).await));
    assert_eq!(relate(&app, &org.key, &a, &b, "amends").await.0, 201);
    let (status, body) = relate(&app, &org.key, &b, &a, "amends").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("relation_contradicts")), "{body}");
    let (status, body) = relate(&app, &org.key, &a, &b, "amends").await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("relation_exists")), "{body}");
    assert_eq!(relate(&app, &org.key, &b, &a, "supersedes").await.0, 201, "another kind is another relation");
}
in_both_modes!(the_reverse_of_a_relation_is_refused);

/// A delete committed while a relation is being inserted: the insert must wait for it and
/// then see the document gone (PostgreSQL; SQLite has one writer at a time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relation_insert_racing_a_delete_does_not_relate_a_deleted_document() {
    let app = std::sync::Arc::new(spawn_app(Mode::Server).await);
    let org = app.new_org().await;
    let (a, b) = (id_of(&app.upload_text(&org.key, None).await), id_of(&app.upload_text(&org.key, None).await));
    let cr_store::db::Pool::Postgres(pool) = &app.state.db.pool else { panic!("server mode runs on PostgreSQL") };
    let mut deleting = pool.begin().await.expect("begin");
    sqlx::query("UPDATE documents SET deleted_at = now() WHERE id = $1")
        .bind(&b)
        .execute(&mut *deleting)
        .await
        .expect("delete in an open transaction");
    let insert = {
        let (app, key, a, b) = (app.clone(), org.key.clone(), a.clone(), b.clone());
        tokio::spawn(async move { relate(&app, &key, &a, &b, "amends").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    deleting.commit().await.expect("commit the delete");
    let (status, body) = insert.await.expect("insert");
    assert_eq!(status, 404, "{body}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_originals_and_their_directories_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(Mode::Embedded).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let sha = doc["sha256"].as_str().expect("sha");
    let mode = |path: std::path::PathBuf| {
        std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
    };
    for dir in ["files", "files/originals", &format!("files/originals/{}", &sha[..2]), "files/staging"] {
        assert_eq!(mode(app.data_dir.join(dir)), 0o700, "{dir}");
    }
    assert_eq!(mode(app.data_dir.join(format!("files/originals/{}/{sha}", &sha[..2]))), 0o600);
    assert_eq!(mode(app.data_dir.join("contract-reviewer.db")), 0o600);
}

async fn a_purged_document_and_everything_made_from_it_are_gone(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let id = id_of(&doc);
    app.wait_until_analysed(&org.key, &id).await;
    let analysis: Value = app.get(&org.key, &format!("/api/documents/{id}/analysis")).await.json().await.expect("json");
    let analysis_id = analysis["id"].as_str().expect("analysis id").to_owned();
    let sha = doc["sha256"].as_str().expect("sha").to_owned();
    let original = app.data_dir.join(format!("files/originals/{}/{sha}", &sha[..2]));
    let report = app.data_dir.join(format!("files/reports/{analysis_id}.pdf"));
    assert!(original.is_file() && report.is_file());
    assert_eq!(app.get(&org.key, &format!("/api/analyses/{analysis_id}")).await.status(), 200); // cached

    assert_eq!(app.delete(&org.key, &format!("/api/documents/{id}?purge=true")).await.status(), 204);
    for path in [
        format!("/api/documents/{id}"),
        format!("/api/documents/{id}/analysis"),
        format!("/api/analyses/{analysis_id}"),
        format!("/api/analyses/{analysis_id}/report.json"),
    ] {
        assert_eq!(app.get(&org.key, &path).await.status(), 404, "{path}");
    }
    assert!(!original.exists() && !report.exists(), "the files are removed");
    let rows: i64 = cr_store::with_pool!(app.state.db, |p| sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM documents WHERE id = $1) + (SELECT COUNT(*) FROM analyses WHERE document_id = $1) \
         + (SELECT COUNT(*) FROM analysis_jobs WHERE document_id = $1)"
    )
    .bind(&id)
    .fetch_one(p)
    .await)
    .expect("count");
    assert_eq!(rows, 0, "no row of the document, its analyses or its jobs is left");
    let purges: i64 = cr_store::with_pool!(app.state.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_logs WHERE target_id = $1 AND action = 'document.purge'"
    )
    .bind(&id)
    .fetch_one(p)
    .await)
    .expect("count");
    assert_eq!(purges, 1, "the purge is audited");
}
in_both_modes!(a_purged_document_and_everything_made_from_it_are_gone);

async fn an_analysis_is_not_readable_once_its_document_is_deleted(mode: Mode) {
    let app = spawn_app_with(mode, with_workers).await;
    let org = app.new_org().await;
    let id = id_of(&app.upload_text(&org.key, None).await);
    app.wait_until_analysed(&org.key, &id).await;
    let analysis: Value = app.get(&org.key, &format!("/api/documents/{id}/analysis")).await.json().await.expect("json");
    let path = format!("/api/analyses/{}", analysis["id"].as_str().expect("analysis id"));
    assert_eq!(app.get(&org.key, &path).await.status(), 200); // now in every cache layer
    assert_eq!(app.delete(&org.key, &format!("/api/documents/{id}")).await.status(), 204);
    assert_eq!(app.get(&org.key, &path).await.status(), 404);
}
in_both_modes!(an_analysis_is_not_readable_once_its_document_is_deleted);

async fn the_sweeper_removes_only_originals_no_row_names(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let doc = app.upload_text(&org.key, None).await;
    let sha = doc["sha256"].as_str().expect("sha").to_owned();
    let kept = app.data_dir.join(format!("files/originals/{}/{sha}", &sha[..2]));
    let stray_sha = "ab".repeat(32);
    let stray = app.data_dir.join(format!("files/originals/ab/{stray_sha}"));
    std::fs::create_dir_all(stray.parent().expect("parent")).expect("dir");
    std::fs::write(&stray, b"left by an insert that failed").expect("write");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let removed = app.state.documents.sweep_unreferenced_originals(Duration::from_millis(10)).await.expect("sweep");
    assert_eq!(removed, 1);
    assert!(!stray.exists() && kept.is_file());
}
in_both_modes!(the_sweeper_removes_only_originals_no_row_names);
