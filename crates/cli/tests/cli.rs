//! The binary as a user runs it: review, extract, train and eval on real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_contract-reviewer")).args(args).output().expect("run the binary")
}

fn json_of(output: &Output) -> Value {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// `text` without the `<span …>` and `</span>` tags Common Paper's Markdown carries.
fn without_html(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = [rest.find("<span"), rest.find("</span>")].into_iter().flatten().min() {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

#[test]
fn review_json_follows_the_schema_and_offsets_index_the_file() {
    let path = repo("examples/contracts/commonpaper_CSA.md");
    let file = std::fs::read_to_string(&path).expect("example");
    let review = json_of(&run(&["review", "--json", path.to_str().expect("utf8")]));
    assert_eq!(review["schema_version"], 4);
    assert_eq!(review["format"], "markdown");
    assert!(review["engine"]["version"].is_string());
    let clauses = review["clauses"].as_array().expect("clauses");
    assert!(!clauses.is_empty(), "a cloud service agreement has recognisable clauses");
    for clause in clauses {
        let (start, end) =
            (clause["start"].as_u64().expect("start") as usize, clause["end"].as_u64().expect("end") as usize);
        // Offsets index the file; the quoted text is the file's, without Markdown's inline
        // HTML (Common Paper wraps its headings in <span> tags).
        assert_eq!(clause["text"].as_str(), Some(without_html(&file[start..end]).as_str()), "offsets index the file");
        assert!(cr_analysis::classify::CATEGORIES.contains(&clause["category"].as_str().expect("category")));
        let confidence = clause["confidence"].as_f64().expect("confidence");
        assert!((0.0..=1.0).contains(&confidence));
    }
    let categories: Vec<&str> = clauses.iter().filter_map(|c| c["category"].as_str()).collect();
    for expected in ["Anti-Assignment", "Cap on Liability"] {
        assert!(categories.contains(&expected), "{expected} not in {categories:?}");
    }
}

#[test]
fn library_warnings_never_reach_the_json_on_stdout() {
    // lopdf logs warnings about this file's fonts while it is read.
    let path = repo("tests/fixtures/robustness/pdf/pypdf_google-doc-document.pdf");
    let output = run(&["review", "--json", path.to_str().expect("utf8")]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("WARN"), "the file still makes lopdf warn");
    let review = json_of(&output);
    assert!(review["clauses"].is_array());
}

#[test]
fn a_pdf_review_cites_pages() {
    let path = repo("examples/contracts/bonterms_Mutual-NDA-Version-1.pdf");
    let review = json_of(&run(&["review", "--json", path.to_str().expect("utf8")]));
    let clauses = review["clauses"].as_array().expect("clauses");
    assert!(clauses.iter().all(|c| c["page"] == 1), "a one-page PDF");
}

#[test]
fn the_terminal_review_is_readable() {
    let path = repo("examples/contracts/openagreements_common-paper-cloud-service-agreement.docx");
    let output = run(&["review", path.to_str().expect("utf8")]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Clauses found in"), "{text}");
    assert!(text.contains("Not found:"));
}

#[test]
fn a_weak_citation_is_shown_as_a_guess() {
    // Common Paper's cloud service agreement template leaves its parties blank: the engine
    // still expects parties and cites its best, weak, guess.
    let path = repo("examples/contracts/openagreements_common-paper-cloud-service-agreement.docx");
    for format in [None, Some("--markdown")] {
        let mut args = vec!["review", path.to_str().expect("utf8")];
        args.extend(format);
        let output = run(&args);
        assert!(output.status.success());
        let text = String::from_utf8_lossy(&output.stdout);
        let line = |category: &str| text.lines().find(|l| l.contains(category)).unwrap_or_default().to_owned();
        assert!(line("Parties").contains("weak guess"), "{text}");
        assert!(line("Governing Law").contains("0.90") && !line("Governing Law").contains("weak"), "{text}");
    }
}

#[test]
fn standard_terms_say_their_parties_are_on_the_cover_page() {
    // The Bonterms NDA names its parties and dates on a cover page it does not contain: the
    // review says so rather than citing a guess.
    let path = repo("examples/contracts/bonterms_Mutual-NDA-Version-1.pdf");
    let review = json_of(&run(&["review", "--json", path.to_str().expect("utf8")]));
    assert_eq!(review["terms"]["cover_page"]["value"], "Cover Page");
    let clauses = review["clauses"].as_array().expect("clauses");
    assert!(clauses.iter().all(|c| c["confidence"].as_f64().unwrap_or(0.0) >= 0.2), "no weak guesses: {clauses:?}");
    assert!(clauses.iter().all(|c| c["category"] != "Parties"), "{clauses:?}");
    let rows = review["summary"]["key_terms"].as_array().expect("key terms");
    assert!(
        rows.iter().any(|r| r["term"] == "Parties" && r["value"].as_str().unwrap_or("").contains("Cover Page")),
        "{rows:?}"
    );
    let output = run(&["review", path.to_str().expect("utf8")]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("on the Cover Page") && !text.contains("weak guess"), "{text}");
}

#[test]
fn a_protected_document_fails_with_a_clear_message() {
    let path = repo("tests/fixtures/robustness/docx/poi_bug53475-password-is-pass.docx");
    let output = run(&["review", path.to_str().expect("utf8")]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("password"), "{message}");
    assert!(!message.contains("panicked"));
}

#[test]
fn training_is_reproducible_and_eval_scores_the_held_out_part() {
    let dir = tempfile::tempdir().expect("dir");
    let data = repo("tests/fixtures/cuad-mini");
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    for out in [&a, &b] {
        let output =
            run(&["train", data.to_str().expect("utf8"), "--out", out.to_str().expect("utf8"), "--iterations", "20"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"), "same data, same model");
    let report = json_of(&run(&["eval", data.to_str().expect("utf8"), "--json", "--model", a.to_str().expect("utf8")]));
    assert_eq!(report["contracts"], 2, "only the held-out contracts are scored");
    assert_eq!(report["categories"].as_array().map(Vec::len), Some(41));
    for key in ["presence_macro_f1", "evidence_precision", "evidence_recall", "evidence_f1"] {
        let value = report[key].as_f64().expect(key);
        assert!((0.0..=1.0).contains(&value), "{key} = {value}");
    }
}

#[test]
fn a_model_trained_on_everything_gives_no_held_out_figure() {
    let dir = tempfile::tempdir().expect("dir");
    let data = repo("tests/fixtures/cuad-mini");
    let everything = dir.path().join("all.bin");
    let output = run(&[
        "train",
        data.to_str().expect("utf8"),
        "--all",
        "--out",
        everything.to_str().expect("utf8"),
        "--iterations",
        "20",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = run(&["eval", data.to_str().expect("utf8"), "--model", everything.to_str().expect("utf8")]);
    assert!(!output.status.success(), "held-out contracts it was trained on");
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("2 of the 2 held-out contracts are in this model's training data"), "{message}");
    // Scoring all of them is allowed, and says how many were trained on.
    let output =
        run(&["eval", data.to_str().expect("utf8"), "--all", "--json", "--model", everything.to_str().expect("utf8")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("were trained on"));
    // The shipped model was trained on every contract of the dev split, these included.
    let output = run(&["eval", data.to_str().expect("utf8")]);
    assert!(!output.status.success(), "the built-in model has seen the dev split");
}

#[test]
fn cross_validated_eval_scores_the_training_part_with_models_trained_without_each_fold() {
    let data = repo("tests/fixtures/cuad-mini");
    let report = json_of(&run(&["eval", data.to_str().expect("utf8"), "--cv", "--json"]));
    let trained = json_of(&run(&["eval", data.to_str().expect("utf8"), "--trained", "--json"]));
    let count = |r: &Value| r["contracts"].as_u64().expect("contracts");
    assert_eq!(count(&report), count(&trained), "the training part, all of it");
    assert!((0.0..=1.0).contains(&report["presence_macro_f1"].as_f64().expect("f1")));
    // Fold models kept and reused: the same figures, whether trained or read back.
    let dir = tempfile::tempdir().expect("dir");
    let folds = dir.path().join("folds");
    let cv_keeping_folds = || {
        json_of(&run(&[
            "eval",
            data.to_str().expect("utf8"),
            "--cv",
            "--json",
            "--fold-models",
            folds.to_str().expect("utf8"),
        ]))
    };
    assert_eq!(cv_keeping_folds(), report, "trained and kept");
    let kept = std::fs::read_dir(&folds).expect("fold models written").count();
    assert_eq!(kept, 5, "one model per fold");
    assert_eq!(cv_keeping_folds(), report, "read back");
    std::fs::write(folds.join("fold-2.crmodel"), b"not a model").expect("write");
    let output = run(&["eval", data.to_str().expect("utf8"), "--cv", "--fold-models", folds.to_str().expect("utf8")]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid model file"));
}

#[test]
fn eval_writes_each_contracts_predictions_for_error_analysis() {
    let dir = tempfile::tempdir().expect("dir");
    let data = repo("tests/fixtures/cuad-mini");
    let out = dir.path().join("predictions");
    let report = json_of(&run(&[
        "eval",
        data.to_str().expect("utf8"),
        "--all",
        "--json",
        "--predictions",
        out.to_str().expect("utf8"),
    ]));
    let files: Vec<_> =
        std::fs::read_dir(&out).expect("predictions written").map(|e| e.expect("entry").path()).collect();
    assert_eq!(Some(files.len() as u64), report["contracts"].as_u64(), "one file per scored contract");
    for file in files {
        let record: Value = serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        let presence = record["presence"].as_array().expect("presence");
        assert_eq!(presence.len(), 41);
        for judged in presence {
            let (best, combined) = (judged["best"].as_f64(), judged["segments"].as_f64());
            // (1 − Π(1 − p) in f32 rounds a tiny best score a little down.)
            let at_least_best = best.is_some_and(|best| combined.is_some_and(|c| c >= best - 1e-5));
            assert!(at_least_best, "three segments combined score at least the best one: {judged}");
        }
        let clauses = record["clauses"].as_array().expect("clauses");
        assert!(!clauses.is_empty(), "{}", file.display());
        for clause in clauses {
            let category = &clause["category"];
            let judged = presence.iter().find(|p| &p["category"] == category).expect("category scored");
            assert_eq!(judged["present"], true, "a cited category was judged present: {category}");
            assert!(clause["start"].as_u64() < clause["end"].as_u64());
        }
    }
    // Explaining the decisions does not change them.
    let plain = json_of(&run(&["eval", data.to_str().expect("utf8"), "--all", "--json"]));
    assert_eq!(plain, report);
}

#[test]
fn help_lists_the_commands() {
    let output = run(&["--help"]);
    let text = String::from_utf8_lossy(&output.stdout);
    // The entries of the Commands section, not words of the description above it.
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    for command in ["serve", "worker", "migrate", "review", "reanalyze", "extract", "train", "eval"] {
        assert!(listed.contains(&command), "{command} missing from the commands of --help: {listed:?}");
    }
}

#[test]
fn many_files_are_reviewed_into_a_folder_and_a_bad_one_does_not_stop_the_run() {
    let dir = tempfile::tempdir().expect("dir");
    let good = repo("examples/contracts/commonpaper_CSA.md");
    let bad = repo("tests/fixtures/robustness/pdf/pypdf_libreoffice-writer-password.pdf");
    let scan = repo("tests/fixtures/robustness/pdf/pdfjs_scan-bad.pdf");
    let output = run(&[
        "review",
        "--json",
        "--out",
        dir.path().to_str().expect("utf8"),
        good.to_str().expect("utf8"),
        bad.to_str().expect("utf8"),
        scan.to_str().expect("utf8"),
    ]);
    assert!(!output.status.success(), "the run reports that files failed");
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).expect(name)).expect("json")
    };
    assert!(read("commonpaper_CSA.json")["clauses"].is_array());
    assert_eq!(read("pypdf_libreoffice-writer-password.json")["error"]["code"], "encrypted");
    assert_eq!(read("pdfjs_scan-bad.json")["error"]["code"], "no_text_layer");
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(progress.contains("[3/3]") && progress.contains("1 reviewed, 2 failed"), "{progress}");
}

#[test]
fn risks_cite_the_text_and_the_summary_recommends_fallbacks() {
    let path = repo("examples/contracts/commonpaper_CSA.md");
    let file = std::fs::read_to_string(&path).expect("example");
    let review = json_of(&run(&["review", "--json", "--side", "customer", path.to_str().expect("utf8")]));
    assert_eq!(review["playbook"]["name"], "Default commercial playbook");
    assert_eq!(review["playbook"]["side"], "customer");
    let risks = review["risks"].as_array().expect("risks");
    assert!(!risks.is_empty());
    let severities: Vec<&str> = risks.iter().filter_map(|r| r["severity"].as_str()).collect();
    let rank = |s: &str| ["high", "medium", "low"].iter().position(|x| *x == s).expect("severity");
    assert!(severities.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "most severe first: {severities:?}");
    for risk in risks {
        assert!(risk["fallback"].as_str().is_some_and(|f| !f.is_empty()));
        if let Some(citation) = risk["citation"].as_object() {
            let (start, end) =
                (citation["start"].as_u64().expect("start") as usize, citation["end"].as_u64().expect("end") as usize);
            assert_eq!(citation["text"].as_str(), Some(without_html(&file[start..end]).as_str()));
        } else {
            assert!(
                risk["detail"].as_str().is_some_and(|d| d.contains("No ")),
                "a risk without a citation says what is missing"
            );
        }
    }
    assert_eq!(review["summary"]["recommendations"].as_array().map(Vec::len), Some(risks.len()));
    assert!(review["summary"]["key_terms"].as_array().is_some_and(|rows| !rows.is_empty()));
    // The vendor's reading of the same contract applies other rules.
    let vendor = json_of(&run(&["review", "--json", "--side", "vendor", path.to_str().expect("utf8")]));
    assert_ne!(vendor["risks"], review["risks"]);
}

#[test]
fn an_nda_is_read_with_the_nda_playbook_and_markdown_is_offered() {
    let path = repo("examples/contracts/bonterms_Mutual-NDA-Version-1.pdf");
    let review = json_of(&run(&["review", "--json", path.to_str().expect("utf8")]));
    assert_eq!(review["playbook"]["name"], "NDA playbook");
    let structure = &review["structure"];
    assert_eq!(structure["title"]["text"], "Bonterms Mutual NDA (Version 1.0)");
    let headings: Vec<&str> =
        structure["sections"].as_array().expect("sections").iter().filter_map(|s| s["heading"].as_str()).collect();
    assert!(headings.contains(&"Governing Law and Courts"), "{headings:?}");
    let defined: Vec<&str> =
        structure["definitions"].as_array().expect("definitions").iter().filter_map(|d| d["term"].as_str()).collect();
    assert!(defined.contains(&"Confidential Information"), "{defined:?}");
    let output = run(&["review", "--markdown", "--playbook", "default", path.to_str().expect("utf8")]);
    assert!(output.status.success());
    let markdown = String::from_utf8_lossy(&output.stdout);
    for heading in ["# Review: ", "## Key terms", "## Top risks", "## Findings", "## Clauses", "*Propose:*"] {
        assert!(markdown.contains(heading), "{heading} missing from\n{markdown}");
    }
    assert!(markdown.contains("Default commercial playbook"));
    assert!(!markdown.contains("\x1b["), "no colours outside a terminal");
}

#[test]
fn a_bad_playbook_or_side_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let playbook = dir.path().join("mine.toml");
    let text = std::fs::read_to_string(repo("playbooks/default.toml")).expect("default playbook");
    std::fs::write(&playbook, text.replacen("category = \"Non-Compete\"", "category = \"Non Compete\"", 1))
        .expect("write");
    let contract = repo("examples/contracts/commonpaper_CSA.md");
    let output = run(&["review", "--playbook", playbook.to_str().expect("utf8"), contract.to_str().expect("utf8")]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("Non Compete") && message.contains("\"non-compete\""), "{message}");
    let output = run(&["review", "--side", "landlord", contract.to_str().expect("utf8")]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown side"));
    let missing = run(&["review", "--playbook", "no-such-playbook.toml", contract.to_str().expect("utf8")]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("built-in playbooks"));
}

#[test]
fn the_pdf_report_is_a_real_multi_page_pdf_with_the_findings_and_cited_text() {
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("report.pdf");
    let contract = repo("examples/contracts/commonpaper_CSA.md");
    let output = run(&[
        "review",
        "--side",
        "customer",
        "--pdf",
        target.to_str().expect("utf8"),
        contract.to_str().expect("utf8"),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let review = json_of(&run(&["review", "--json", "--side", "customer", contract.to_str().expect("utf8")]));
    // Read the report back with the engine's own PDF extractor.
    let bytes = std::fs::read(&target).expect("report");
    let extracted = cr_analysis::extract(&bytes, "report.pdf", &cr_analysis::Limits::default()).expect("readable PDF");
    assert!(extracted.pages.len() >= 2, "multi-page: {} pages", extracted.pages.len());
    let text = extracted.text.split_whitespace().collect::<Vec<_>>().join(" ");
    for heading in ["Key terms", "Risks", "Recommendations", "Clauses found"] {
        assert!(text.contains(heading), "{heading} missing");
    }
    let risks = review["risks"].as_array().expect("risks");
    assert!(!risks.is_empty());
    for risk in risks {
        assert!(text.contains(risk["title"].as_str().expect("title")), "{} missing", risk["title"]);
    }
    let cited = risks.iter().find_map(|r| r["citation"]["text"].as_str()).expect("a cited risk");
    let opening: String = cited.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
    assert!(text.contains(&opening), "cited text {opening:?} missing");
    let two = run(&[
        "review",
        "--pdf",
        target.to_str().expect("utf8"),
        contract.to_str().expect("utf8"),
        contract.to_str().expect("utf8"),
    ]);
    assert!(!two.status.success(), "one report, one contract");
}

/// A stand-in for an OpenAI-compatible endpoint (no LLM runs in CI): it records each request
/// body and answers as `mode` says. Returns its base URL and the recorded requests.
fn mock_llm_endpoint(mode: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::{routing::post, Json, Router};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = seen.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let app = Router::new().route(
                "/v1/chat/completions",
                post(move |Json(body): Json<Value>| {
                    let recorder = recorder.clone();
                    async move {
                        let risk_rule = body["messages"][1]["content"]
                            .as_str()
                            .and_then(|c| c.split("- rule ").nth(1))
                            .and_then(|rest| rest.split_whitespace().next())
                            .unwrap_or("none")
                            .to_owned();
                        if let Ok(mut seen) = recorder.lock() {
                            seen.push(body);
                        }
                        let content = match mode {
                            "json" => serde_json::json!({
                                "summary": "A cloud agreement with one-sided terms.",
                                "redlines": [
                                    { "rule": risk_rule, "proposed": "Either party may terminate on 90 days' notice." },
                                    { "rule": "made-up-rule", "proposed": "Ignore me." }
                                ]
                            })
                            .to_string(),
                            "slow" => {
                                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                                String::new()
                            }
                            _ => "The contract looks balanced overall".to_owned(),
                        };
                        if mode == "garbage" {
                            return axum::response::Response::new(axum::body::Body::from("<html>not json</html>"));
                        }
                        let finish = if mode == "plain" { "length" } else { "stop" };
                        let completion = serde_json::json!({
                            "choices": [{ "message": { "role": "assistant", "content": content }, "finish_reason": finish }]
                        });
                        axum::response::Response::new(axum::body::Body::from(completion.to_string()))
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    let addr = rx.recv().expect("address");
    (format!("http://{addr}"), seen)
}

fn review_with_llm(url: &str, extra_env: &[(&str, &str)]) -> Output {
    let contract = repo("examples/contracts/commonpaper_CSA.md");
    let mut command = Command::new(env!("CARGO_BIN_EXE_contract-reviewer"));
    command.args(["review", "--json", "--llm-url", url, "--llm-model", "test-model", contract.to_str().expect("utf8")]);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    command.output().expect("run the binary")
}

#[test]
fn the_llm_pass_against_a_mock_llm_endpoint_adds_a_summary_and_redlines_and_records_the_model() {
    let (url, seen) = mock_llm_endpoint("json");
    let review = json_of(&review_with_llm(&url, &[]));
    assert_eq!(review["engine"]["model"], "test-model");
    assert_eq!(review["llm"]["summary"], "A cloud agreement with one-sided terms.");
    let redlines = review["llm"]["redlines"].as_array().expect("redlines");
    assert_eq!(redlines.len(), 1, "only redlines for rules the review found: {redlines:?}");
    let rules: Vec<&str> =
        review["risks"].as_array().expect("risks").iter().filter_map(|r| r["rule"].as_str()).collect();
    assert!(rules.contains(&redlines[0]["rule"].as_str().expect("rule")));
    let requests = seen.lock().expect("requests");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["model"], "test-model");
    assert!(requests[0]["max_tokens"].as_u64().is_some_and(|n| n > 0));
    let prompt = requests[0]["messages"][1]["content"].as_str().expect("prompt");
    assert!(prompt.contains("Risks:") && prompt.contains("playbook fallback"), "{prompt}");
}

#[test]
fn a_mock_llm_endpoint_that_fails_or_stalls_leaves_the_review_whole_with_a_warning() {
    let plain_review =
        json_of(&run(&["review", "--json", repo("examples/contracts/commonpaper_CSA.md").to_str().expect("utf8")]));
    for (mode, env, expected) in [
        ("garbage", vec![], "not a chat completion"),
        ("slow", vec![("CR_LLM__TIMEOUT_MS", "300")], "did not answer in time"),
    ] {
        let (url, _) = mock_llm_endpoint(mode);
        // A stalled endpoint answers (with nothing) after 5 s; only the timeout gives this warning.
        let review = json_of(&review_with_llm(&url, &env));
        assert!(review["llm"].is_null(), "{mode}");
        assert!(review["engine"]["model"].is_null(), "{mode}: no model recorded when none was used");
        let warnings: Vec<&str> =
            review["warnings"].as_array().expect("warnings").iter().filter_map(Value::as_str).collect();
        assert!(warnings.iter().any(|w| w.contains(expected)), "{mode}: {warnings:?}");
        assert_eq!(review["risks"], plain_review["risks"], "{mode}: the deterministic review is unchanged");
    }
    // An answer that is prose, cut at max_tokens: kept as a plain summary, with both notes.
    let (url, _) = mock_llm_endpoint("plain");
    let review = json_of(&review_with_llm(&url, &[]));
    assert_eq!(review["llm"]["summary"], "The contract looks balanced overall");
    let warnings = review["warnings"].to_string();
    assert!(warnings.contains("max_tokens") && warnings.contains("plain summary"), "{warnings}");
    // Nothing listens: a clear warning, not a failure.
    let review = json_of(&review_with_llm("http://127.0.0.1:9", &[]));
    assert!(review["warnings"].to_string().contains("could not reach"));
    // An https endpoint is refused up front with the reason.
    let refused = review_with_llm("https://api.example.com", &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("http://"));
}

#[test]
fn the_offline_review_ignores_the_server_configuration() {
    let output = Command::new(env!("CARGO_BIN_EXE_contract-reviewer"))
        .args(["review", "--json", repo("examples/contracts/commonpaper_CSA.md").to_str().expect("utf8")])
        .env("CR_CACHE__TIMEOUT_MS", "not a number")
        .env("DATABASE_URL", "mysql://not-a-supported-database")
        .output()
        .expect("run the binary");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(json_of(&output)["clauses"].is_array());
}

#[test]
fn eval_review_scores_a_gold_set_per_field_and_for_risks() {
    let dir = tempfile::tempdir().expect("dir");
    let gold = dir.path().join("gold.toml");
    std::fs::write(
        &gold,
        "[[document]]\nfile = \"examples/contracts/commonpaper_CSA.md\"\nside = \"customer\"\ntype = \"cloud\"\n\
         cover_page = true\ngoverning_law = \"none\"\ncap_basis = \"named\"\nmust_raise = [\"customer-data-use\"]\n\
         must_not_raise = [\"cap-missing\", \"governing-law\"]\n",
    )
    .expect("write");
    let output =
        run(&["eval-review", gold.to_str().expect("utf8"), "--data", repo("").to_str().expect("utf8"), "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let score: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(score["documents"], 1);
    assert_eq!(score["key_term_accuracy"], 1.0, "{score}");
    assert_eq!(score["risk_recall"], 1.0, "{score}");
    assert_eq!(score["false_high"], 0);
}
