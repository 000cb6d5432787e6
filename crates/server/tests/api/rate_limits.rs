//! Rate limits: per API key and per client address, shared by instances through Redis, held
//! in process when Redis is unreachable, with the `RateLimit-*` and `Retry-After` headers.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;
use crate::in_both_modes;

fn quota(per_key: u32, per_ip: u32) -> impl FnOnce(&mut cr_server::Config) {
    move |config| {
        config.rate_limit.per_key_requests = per_key;
        config.rate_limit.per_ip_requests = per_ip;
        config.rate_limit.period_secs = 600.0;
    }
}

async fn the_request_past_the_per_key_limit_gets_429_with_retry_after(mode: Mode) {
    let app = spawn_app_with(mode, quota(3, 1000)).await;
    for _ in 0..3 {
        assert_eq!(app.get(&app.admin_key, "/api/documents").await.status(), 200);
    }
    let refused = app.get(&app.admin_key, "/api/documents").await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=600).contains(&retry_after), "{retry_after}");
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
}
in_both_modes!(the_request_past_the_per_key_limit_gets_429_with_retry_after);

async fn answers_report_the_limit_and_what_remains(mode: Mode) {
    let app = spawn_app_with(mode, quota(5, 1000)).await;
    let first = app.get(&app.admin_key, "/api/documents").await;
    let header = |name: &str| first.headers()[name].to_str().expect("ascii").parse::<u64>().expect("number");
    assert_eq!((header("ratelimit-limit"), header("ratelimit-remaining")), (5, 4));
    assert!(header("ratelimit-reset") <= 600);
}
in_both_modes!(answers_report_the_limit_and_what_remains);

async fn another_key_has_its_own_limit(mode: Mode) {
    let app = spawn_app_with(mode, quota(2, 1000)).await;
    let org = app.new_org().await;
    for _ in 0..2 {
        app.get(&org.key, "/api/documents").await;
    }
    assert_eq!(app.get(&org.key, "/api/documents").await.status(), 429);
    assert_eq!(app.get(&app.admin_key, "/api/documents").await.status(), 200);
}
in_both_modes!(another_key_has_its_own_limit);

async fn made_up_keys_past_the_address_limit_cost_no_database_query(mode: Mode) {
    let app = spawn_app_with(mode, quota(1000, 5)).await;
    let before = app.db_queries();
    let mut statuses = Vec::new();
    for i in 0..20 {
        statuses.push(app.get(&format!("cr_made_up_{i}"), "/api/documents").await.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
    // One lookup per request let through, plus the refusal audited once for the address
    // (finding the key among dead ones, writing the row).
    assert!(app.db_queries() - before <= 5 + 2, "{} queries", app.db_queries() - before);
}
in_both_modes!(made_up_keys_past_the_address_limit_cost_no_database_query);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis_share_the_limit() {
    let prefix = format!("test:{}:", uuid::Uuid::now_v7().simple());
    let shared = |config: &mut cr_server::Config| {
        quota(1000, 4)(config);
        config.cache.key_prefix = prefix.clone();
    };
    let first = spawn_app_with(Mode::Server, shared).await;
    let second = spawn_app_with(Mode::Server, |config: &mut cr_server::Config| {
        quota(1000, 4)(config);
        config.cache.key_prefix = first.key_prefix.clone();
    })
    .await;
    for app in [&first, &second, &first, &second] {
        assert_eq!(app.get(&app.admin_key, "/api/documents").await.status(), 200);
    }
    assert_eq!(second.get(&second.admin_key, "/api/documents").await.status(), 429);
    assert_eq!(first.get(&first.admin_key, "/api/documents").await.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_the_limit_still_holds() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let app = spawn_app_without_waiting(Mode::Server, |config| {
        quota(3, 1000)(config);
        config.redis_url = Some(cr_server::config::Secret::new(format!("redis://127.0.0.1:{closed_port}")));
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.get(&app.admin_key, "/api/documents").await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    assert!(app.state.limiter.counters.fallbacks.load(std::sync::atomic::Ordering::Relaxed) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bucket_refills_after_its_interval() {
    let app = spawn_app_with(Mode::Server, |config| {
        config.rate_limit.per_key_requests = 2;
        config.rate_limit.per_ip_requests = 1000;
        config.rate_limit.period_secs = 1.0;
    })
    .await;
    for _ in 0..2 {
        app.get(&app.admin_key, "/api/documents").await;
    }
    assert_eq!(app.get(&app.admin_key, "/api/documents").await.status(), 429);
    // One request's interval is half a second; wait it out rather than assert a timing.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(app.get(&app.admin_key, "/api/documents").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_key_with_a_large_quota_is_decided_by_leases_not_one_call_per_request() {
    let app = spawn_app_with(Mode::Server, quota(100_000, 100_000)).await;
    let before = app.state.limiter.counters.redis_calls.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..200 {
        assert_eq!(app.get(&app.admin_key, "/api/documents").await.status(), 200);
    }
    let calls = app.state.limiter.counters.redis_calls.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(calls < 50, "{calls} Redis calls for 200 requests");
}

async fn get_from(app: &TestApp, forwarded_for: &str) -> u16 {
    let request = app.client.get(app.url("/api/documents")).header("X-API-Key", &app.admin_key);
    request.header("x-forwarded-for", forwarded_for).send().await.expect("request").status().as_u16()
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(mode: Mode) {
    let app = spawn_app_with(mode, |config| {
        quota(1000, 2)(config);
        config.http.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    assert_eq!(get_from(&app, "203.0.113.7").await, 200);
    // Whatever the client puts left of what the proxy adds is not believed.
    assert_eq!(get_from(&app, "198.51.100.1, 203.0.113.7").await, 200);
    assert_eq!(get_from(&app, "203.0.113.7").await, 429);
    assert_eq!(get_from(&app, "203.0.113.8").await, 200);
}
in_both_modes!(behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit);

async fn without_trusted_proxies_a_forwarded_address_is_ignored(mode: Mode) {
    let app = spawn_app_with(mode, quota(1000, 2)).await;
    assert_eq!(get_from(&app, "203.0.113.7").await, 200);
    assert_eq!(get_from(&app, "203.0.113.8").await, 200);
    assert_eq!(get_from(&app, "203.0.113.9").await, 429);
}
in_both_modes!(without_trusted_proxies_a_forwarded_address_is_ignored);

async fn a_users_keys_share_the_per_user_limit(mode: Mode) {
    let app = spawn_app_with(mode, |config| {
        quota(1000, 1000)(config);
        config.rate_limit.per_user_requests = 3;
    })
    .await;
    let org = app.new_org().await;
    let created = app.post_json(&org.key, "/api/keys", serde_json::json!({ "name": "second" })).await;
    let second = created.json::<serde_json::Value>().await.expect("json")["api_key"].as_str().expect("key").to_owned();
    // (Making the key was the user's first request.)
    assert_eq!(app.get(&org.key, "/api/documents").await.status(), 200);
    assert_eq!(app.get(&second, "/api/documents").await.status(), 200);
    assert_eq!(app.get(&second, "/api/documents").await.status(), 429);
}
in_both_modes!(a_users_keys_share_the_per_user_limit);
