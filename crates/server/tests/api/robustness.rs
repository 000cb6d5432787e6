//! Bad input gets a typed error and a clear 4xx, never a panic or half-stored state.

use serde_json::Value;

use crate::helpers::{fixtures, spawn_app, spawn_app_with, Mode};
use crate::in_both_modes;

/// Uploads of the robustness corpus that are refused, with their status and error code; every
/// other file is stored (201): what cannot be read inside it fails its analysis, not its upload.
const REFUSED: &[(&str, u16, &str)] = &[
    ("poi_bug53475-password-is-pass.docx", 415, "unsupported_media_type"),
    ("poi_clusterfuzz-5313273089884160.docx", 400, "corrupt_file"),
    ("poi_crash-517626e8.docx", 400, "corrupt_file"),
];

async fn every_robustness_file_gets_its_expected_answer(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let files = fixtures("robustness");
    assert!(files.len() >= 25, "fixtures present");
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
        let bytes = std::fs::read(&path).expect("read");
        let response = app.upload(&org.key, &name, bytes, None, None).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("every answer is JSON");
        match REFUSED.iter().find(|(file, _, _)| *file == name) {
            Some((_, expected, code)) => {
                assert_eq!((status, body["error"]["code"].as_str()), (*expected, Some(*code)), "{name}: {body}")
            }
            None => assert_eq!(status, 201, "{name}: {body}"),
        }
    }
    assert_eq!(app.staging_files(), 0, "no staging file is left behind");
    let (rows, files) = app.stored_counts().await;
    assert_eq!(rows as usize, files, "every row has its file and every file its row");
}
in_both_modes!(every_robustness_file_gets_its_expected_answer);

async fn hostile_filenames_are_sanitised_or_refused(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let cases: [(&str, Option<&str>); 5] = [
        ("../../etc/passwd", Some("passwd")),
        ("..\\..\\windows\\system.ini", Some("system.ini")),
        ("invoice\u{202E}fdp.exe", Some("invoicefdp.exe")),
        ("'; DROP TABLE documents; --.txt", Some("'; DROP TABLE documents; --.txt")),
        ("résumé 契約.txt", Some("résumé 契約.txt")),
    ];
    for (i, (name, expected)) in cases.iter().enumerate() {
        let response = app.upload(&org.key, name, format!("Agreement {i}.").into_bytes(), None, None).await;
        assert_eq!(response.status(), 201, "{name}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["filename"].as_str(), *expected, "{name}");
    }
    let long = "a".repeat(10_000) + ".txt";
    let response = app.upload(&org.key, &long, b"Long name agreement.".to_vec(), None, None).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "filename_too_long");
    let (rows, files) = app.stored_counts().await;
    assert_eq!((rows, files), (5, 5));
    assert_eq!(app.staging_files(), 0);
    // The stored files are named by content hash only.
    for entry in std::fs::read_dir(app.data_dir.join("files/originals")).expect("dir").flatten() {
        for file in std::fs::read_dir(entry.path()).expect("dir").flatten() {
            let name = file.file_name().into_string().expect("utf8");
            assert!(name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        }
    }
}
in_both_modes!(hostile_filenames_are_sanitised_or_refused);

async fn oversized_uploads_are_refused_and_nothing_is_stored(mode: Mode) {
    let app = spawn_app_with(mode, |config| config.max_upload_bytes = 64 * 1024).await;
    let org = app.new_org().await;
    let just_fits = vec![b'a'; 64 * 1024];
    assert_eq!(app.upload(&org.key, "fits.txt", just_fits, None, None).await.status(), 201);
    let too_big = vec![b'b'; 64 * 1024 + 1];
    let response = app.upload(&org.key, "big.txt", too_big, None, None).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "payload_too_large");
    // Refused as soon as the limit is passed: the client sees the 413, or, when the server
    // closes the connection before the client has written the rest, a broken write.
    let far_too_big = vec![b'c'; 4 * 1024 * 1024];
    match app.try_upload(&org.key, "huge.txt", far_too_big, None, None).await {
        Ok(response) => assert_eq!(response.status(), 413),
        Err(error) => assert!(error.is_request(), "not a cut-off write: {error}"),
    }
    assert_eq!(app.stored_counts().await, (1, 1));
    assert_eq!(app.staging_files(), 0);
}
in_both_modes!(oversized_uploads_are_refused_and_nothing_is_stored);

async fn wrong_content_types_and_malformed_bodies_get_clear_errors(mode: Mode) {
    let app = spawn_app(mode).await;
    let org = app.new_org().await;
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or_default().to_owned();

    let raw = app
        .client
        .post(app.url("/api/documents"))
        .header("X-API-Key", &org.key)
        .body("just bytes")
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), 415);

    let binary =
        app.upload(&org.key, "tool.pdf", vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0], None, None).await;
    assert_eq!(binary.status(), 415);
    assert_eq!(code(&binary.json().await.expect("json")), "unsupported_media_type");

    let zip = app.upload(&org.key, "archive.docx", minimal_zip(), None, None).await;
    assert_eq!(zip.status(), 415, "a ZIP that is not a Word document");

    let empty = app.upload(&org.key, "empty.txt", Vec::new(), None, None).await;
    assert_eq!(empty.status(), 400);
    assert_eq!(code(&empty.json().await.expect("json")), "empty_file");

    let bad_metadata = app.upload(&org.key, "a.txt", b"Agreement.".to_vec(), Some("{not json"), None).await;
    assert_eq!(bad_metadata.status(), 400);
    assert_eq!(code(&bad_metadata.json().await.expect("json")), "malformed_json");

    let array_metadata = app.upload(&org.key, "a.txt", b"Agreement.".to_vec(), Some("[1,2]"), None).await;
    assert_eq!(array_metadata.status(), 400);

    let doc = app.upload_text(&org.key, None).await;
    let path = format!("/api/documents/{}", doc["id"].as_str().expect("id"));
    let malformed = app
        .client
        .patch(app.url(&path))
        .header("X-API-Key", &org.key)
        .header("content-type", "application/json")
        .body("{\"metadata\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(malformed.status(), 400);
    assert_eq!(code(&malformed.json().await.expect("json")), "malformed_json");
    let not_json = app
        .client
        .patch(app.url(&path))
        .header("X-API-Key", &org.key)
        .body("metadata=1")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 415);

    let bad_query = app.get(&org.key, "/api/documents?limit=-1").await;
    assert_eq!(bad_query.status(), 400);
    let bad_cursor = app.get(&org.key, "/api/documents?cursor=x'%20OR%20'1'='1").await;
    assert_eq!(bad_cursor.status(), 400);
    let sql_filter: Value =
        app.get(&org.key, "/api/documents?client='%20OR%201=1%20--").await.json().await.expect("json");
    assert_eq!(sql_filter["items"].as_array().map(Vec::len), Some(0));

    let unknown = app.get(&org.key, "/api/nothing-here").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(code(&unknown.json().await.expect("json")), "not_found");
    let wrong_method =
        app.client.put(app.url("/api/documents")).header("X-API-Key", &org.key).send().await.expect("request");
    assert_eq!(wrong_method.status(), 405);

    let bad_key = app.upload(&org.key, "a.txt", b"Agreement with bad key.".to_vec(), None, Some("ключ")).await;
    assert_eq!(bad_key.status(), 400);
    assert_eq!(app.stored_counts().await.0, 1);
    assert_eq!(app.staging_files(), 0);
}
in_both_modes!(wrong_content_types_and_malformed_bodies_get_clear_errors);

/// A ZIP with one stored file `hello.txt`, built by hand (no test-only zip dependency).
fn minimal_zip() -> Vec<u8> {
    let name = b"hello.txt";
    let data = b"hi";
    let crc: u32 = 0xD8932AAC; // crc32("hi")
    let mut out = Vec::new();
    out.extend_from_slice(b"PK\x03\x04");
    out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(name);
    out.extend_from_slice(data);
    let central = out.len() as u32;
    out.extend_from_slice(b"PK\x01\x02");
    out.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(name);
    let central_size = out.len() as u32 - central;
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}
