//! Webhooks through the REST API: signed, retried until accepted, recorded, redeliverable.

use std::time::Duration;

use serde_json::{json, Value};

use crate::analysis::with_workers;
use crate::helpers::{spawn_app_with, Mode};
use crate::in_both_modes;

/// An HTTP receiver of webhooks that answers 500 to the first `failures` requests, then 200,
/// and keeps every request (headers and body).
async fn webhook_receiver(
    failures: usize,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let mut seen = kept.lock().expect("lock");
                seen.push((headers, body));
                if seen.len() <= failures {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn webhooks_are_signed_retried_until_accepted_recorded_and_redeliverable(mode: Mode) {
    let app = spawn_app_with(mode, |config| {
        with_workers(config);
        config.webhooks.backoff_base_ms = 50;
        config.webhooks.backoff_max_ms = 200;
    })
    .await;
    let org = app.new_org().await;
    let (url, seen) = webhook_receiver(2).await;
    let created =
        app.post_json(&org.key, "/api/webhooks", json!({ "url": url, "events": ["analysis.completed"] })).await;
    assert_eq!(created.status(), 201);
    let endpoint: Value = created.json().await.expect("json");
    let secret = endpoint["secret"].as_str().expect("the secret, shown once").to_owned();
    let listed: Value = app.get(&org.key, "/api/webhooks").await.json().await.expect("json");
    assert!(listed["items"][0].get("secret").is_none(), "the secret is not shown again");

    let id = app.upload_text(&org.key, None).await["id"].as_str().expect("id").to_owned();
    app.wait_until_analysed(&org.key, &id).await;
    for _ in 0..100 {
        if seen.lock().expect("lock").len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(requests.len(), 3, "two refusals, then accepted");
    let header = |i: usize, name: &str| requests[i].0[name].to_str().expect("ascii").to_owned();
    assert_eq!(header(0, "webhook-id"), header(2, "webhook-id"), "one message, retried");
    let (body, timestamp) = (&requests[2].1, header(2, "webhook-timestamp"));
    let expected =
        cr_service::webhooks::sign(&secret, &header(2, "webhook-id"), timestamp.parse().expect("seconds"), body);
    assert_eq!(Ok(header(2, "webhook-signature")), expected, "the signature verifies");
    let event: Value = serde_json::from_str(body).expect("JSON body");
    assert_eq!(event["type"], "analysis.completed");
    assert_eq!(event["data"]["document_id"], id.as_str());
    assert!(event["data"]["analysis_id"].as_str().is_some_and(|a| a.starts_with("ana_")));

    let endpoint_id = endpoint["id"].as_str().expect("id");
    // (The receiver answered before the deliverer recorded the answer.)
    let mut delivery = Value::Null;
    for _ in 0..100 {
        let deliveries: Value =
            app.get(&org.key, &format!("/api/webhooks/{endpoint_id}/deliveries")).await.json().await.expect("json");
        delivery = deliveries["items"][0].clone();
        if delivery["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (delivery["state"].as_str(), delivery["attempts"].as_i64(), delivery["last_status"].as_i64()),
        (Some("delivered"), Some(3), Some(200))
    );
    let delivery_id = delivery["id"].as_str().expect("id");
    let again = app.post_json(&org.key, &format!("/api/webhooks/deliveries/{delivery_id}/redeliver"), json!({})).await;
    assert_eq!(again.status(), 202);
    for _ in 0..100 {
        if seen.lock().expect("lock").len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(requests.len(), 4, "redelivered");
    assert_eq!(requests[3].1, requests[2].1, "the same event");

    let other = app.new_org().await;
    assert_eq!(
        app.get(&other.key, &format!("/api/webhooks/{endpoint_id}/deliveries"))
            .await
            .json::<Value>()
            .await
            .expect("json")["items"],
        json!([])
    );
    let bad = app.post_json(&org.key, "/api/webhooks", json!({ "url": "ftp://example.com/x" })).await;
    assert_eq!(bad.status(), 400);
}
in_both_modes!(webhooks_are_signed_retried_until_accepted_recorded_and_redeliverable);
