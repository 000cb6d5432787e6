//! Accounts as an operator meets them on the embedded default: the first `serve` creates the
//! local admin and says where its credentials are (on stdout, the secrets only in a 0600
//! file, never in the logs), and `admin create-user / reset-password / create-api-key` work
//! on the same data directory while it serves.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_contract-reviewer"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CR_WORKER__IN_SERVE", "false")
        .env("CR_AUTH__ARGON2_MEMORY_KIB", "64")
        .env("CR_AUTH__ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "info");
    command
}

/// Runs an `admin` command, feeding `stdin`; its stdout.
fn admin(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = binary(data_dir)
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn admin");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("admin output");
    assert!(output.status.success(), "admin {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf8")
}

fn shown_once(output: &str, label: &str) -> String {
    output.lines().find_map(|l| l.strip_prefix(label)).expect(label).trim().to_owned()
}

async fn login(base: &str, email: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_admin_and_the_admin_commands_work_on_the_embedded_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let log = dir.path().join("serve.log");
    let mut child = binary(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let _serve = Process(child);
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).expect("serve says how to sign in");
    assert!(first_line.contains("admin@localhost") && first_line.contains("admin-credentials"), "{first_line}");
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let credentials = std::fs::read_to_string(dir.path().join("admin-credentials")).expect("credentials");
    let password = shown_once(&credentials, "password = ");
    assert!(!first_line.contains(&password), "the password went to the terminal");
    assert!(!std::fs::read_to_string(&log).expect("log").contains(&password), "the password reached the logs");
    assert_eq!(login(&base, "admin@localhost", &password).await, 200);

    let created = admin(
        dir.path(),
        &["create-user", "--email", "Ana@Example.com", "--role", "viewer", "--password-stdin"],
        Some("chosen password 1\n"),
    );
    assert!(created.contains("ana@example.com") && created.contains("viewer"), "{created}");
    assert_eq!(login(&base, "ana@example.com", "chosen password 1").await, 200);

    let reset = admin(dir.path(), &["reset-password", "--email", "ana@example.com"], None);
    let new_password = shown_once(&reset, "Password (shown once): ");
    assert_eq!(login(&base, "ana@example.com", "chosen password 1").await, 401);
    assert_eq!(login(&base, "ana@example.com", &new_password).await, 200);

    let key_output = admin(dir.path(), &["create-api-key", "--email", "ana@example.com", "--name", "report"], None);
    let key = shown_once(&key_output, "API key (shown once): ");
    let client = reqwest::Client::new();
    let read = client.get(format!("{base}/api/documents")).bearer_auth(&key).send().await.expect("request");
    assert_eq!(read.status(), 200);
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"An agreement.".to_vec()).file_name("a.txt"));
    let upload = client.post(format!("{base}/api/documents")).bearer_auth(&key).multipart(form).send().await;
    assert_eq!(upload.expect("request").status(), 403, "a viewer's key cannot upload");
}
