//! Analyses in a child process (`worker.isolation = "process"`): one `contract-reviewer
//! analyse-job` per analysis, with an address-space limit (RLIMIT_AS, set by `ulimit -v` in
//! the shell that execs it, so it holds from the child's first allocation) and a deadline,
//! so that a document that makes the engine use unbounded memory or time costs that child,
//! not the worker.
//!
//! The child reads the original, runs the engine, prints `stage <name>` lines as it goes and
//! writes `analysis.json` (the rows to store), `report.json` and `report.pdf` into a folder the
//! parent made; a document failure is printed as `failure <json>` with exit code 3. A child
//! that dies otherwise (killed, out of memory past its limit) is a transient failure of the
//! attempt, so a document that kills every child ends `dead` after `max_attempts`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use cr_store::analyses::NewAnalysis;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

use super::engine::{self, DocumentFailure, Output, Stage};

/// Exit code of a child whose document could not be analysed.
const EXIT_DOCUMENT_FAILURE: i32 = 3;
/// Bytes of a child's stderr kept for the job's error.
const STDERR_KEPT: u64 = 4096;

/// How children are started.
#[derive(Clone, Debug)]
pub struct ProcessIsolation {
    /// The `contract-reviewer` binary.
    pub program: PathBuf,
    /// Address space of a child (RLIMIT_AS), bytes.
    pub memory_limit_bytes: u64,
    /// A child still running after this is killed and the document fails with `timeout`.
    pub timeout: Duration,
}

/// One analysis, as the parent describes it to the child (its command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobArgs {
    pub input: PathBuf,
    pub filename: String,
    pub playbook: String,
    pub side: Option<String>,
    pub analysis_id: String,
    pub out: PathBuf,
}

impl JobArgs {
    fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec![
            "analyse-job".into(),
            "--input".into(),
            self.input.clone().into(),
            "--filename".into(),
            self.filename.clone().into(),
            "--playbook".into(),
            self.playbook.clone().into(),
            "--analysis-id".into(),
            self.analysis_id.clone().into(),
            "--out".into(),
            self.out.clone().into(),
        ];
        if let Some(side) = &self.side {
            args.extend(["--side".into(), side.clone().into()]);
        }
        args
    }
}

/// The child's side: runs one analysis in this process and returns its exit code.
pub fn run_child(job: &JobArgs) -> i32 {
    use std::io::Write;
    let result = (|| -> anyhow::Result<Result<(), DocumentFailure>> {
        let bytes = std::fs::read(&job.input).with_context(|| format!("reading {}", job.input.display()))?;
        let model = cr_analysis::classify::Model::from_bytes(cr_analysis::classify::BUILT_IN_MODEL)
            .map_err(|e| anyhow::anyhow!("the built-in model does not load: {e}"))?;
        let mut stdout = std::io::stdout();
        let analysed = engine::analyse(
            &job.analysis_id,
            &bytes,
            &job.filename,
            &job.playbook,
            job.side.as_deref(),
            &model,
            &mut |stage| {
                let _ = writeln!(stdout, "stage {}", stage.name());
                let _ = stdout.flush();
            },
        );
        let output = match analysed {
            Ok(output) => output,
            Err(failure) => return Ok(Err(failure)),
        };
        std::fs::write(job.out.join("analysis.json"), serde_json::to_vec(&output.analysis)?)?;
        std::fs::write(job.out.join("report.json"), &output.json_report)?;
        std::fs::write(job.out.join("report.pdf"), &output.pdf_report)?;
        Ok(Ok(()))
    })();
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(failure)) => {
            let json = serde_json::json!({ "code": failure.code, "message": failure.message });
            println!("failure {json}");
            EXIT_DOCUMENT_FAILURE
        }
        Err(err) => {
            eprintln!("{err:#}");
            1
        }
    }
}

/// The parent's side: runs the analysis of `input` in a child, forwarding its stages.
pub async fn analyse(
    isolation: &ProcessIsolation,
    job: JobArgs,
    stages: tokio::sync::mpsc::UnboundedSender<Stage>,
) -> anyhow::Result<Result<Output, DocumentFailure>> {
    tokio::fs::create_dir_all(&job.out).await.with_context(|| format!("creating {}", job.out.display()))?;
    let result = run(isolation, &job, stages).await;
    let _ = tokio::fs::remove_dir_all(&job.out).await;
    result
}

async fn run(
    isolation: &ProcessIsolation,
    job: &JobArgs,
    stages: tokio::sync::mpsc::UnboundedSender<Stage>,
) -> anyhow::Result<Result<Output, DocumentFailure>> {
    // `sh -c 'ulimit -v KB && exec "$@"' KB program args…`: the limit, then the child itself.
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"ulimit -v "$0" && exec "$@""#)
        .arg((isolation.memory_limit_bytes / 1024).to_string())
        .arg(&isolation.program)
        .args(job.to_args())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", isolation.program.display()))?;
    let stdout = child.stdout.take().context("the child's stdout")?;
    let mut stderr = child.stderr.take().context("the child's stderr")?.take(STDERR_KEPT);
    let mut failure = None;
    let talk = async {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await? {
            if let Some(name) = line.strip_prefix("stage ") {
                if let Some(stage) = Stage::from_name(name) {
                    let _ = stages.send(stage);
                }
            } else if let Some(json) = line.strip_prefix("failure ") {
                failure = serde_json::from_str::<serde_json::Value>(json).ok();
            }
        }
        let mut kept = String::new();
        stderr.read_to_string(&mut kept).await?;
        let status = child.wait().await?;
        anyhow::Ok((status, kept))
    };
    let (status, stderr) = match tokio::time::timeout(isolation.timeout, talk).await {
        Ok(finished) => finished.context("talking to the analysis child")?,
        Err(_) => {
            return Ok(Err(DocumentFailure {
                code: "timeout".into(),
                message: format!("the analysis took longer than {} s and was stopped", isolation.timeout.as_secs()),
            }))
        }
    };
    match status.code() {
        Some(0) => Ok(Ok(read_output(&job.out).await?)),
        Some(EXIT_DOCUMENT_FAILURE) => {
            let failure = failure.unwrap_or_default();
            Ok(Err(DocumentFailure {
                code: failure["code"].as_str().unwrap_or("internal").to_owned(),
                message: failure["message"].as_str().unwrap_or("the analysis failed").to_owned(),
            }))
        }
        _ if stderr.contains("memory allocation") => Ok(Err(DocumentFailure {
            code: "memory_limit".into(),
            message: format!(
                "the analysis needed more than the {} MiB a document may use",
                isolation.memory_limit_bytes / (1024 * 1024)
            ),
        })),
        // Killed, or died some other way: the attempt failed, not (yet) the document.
        _ => anyhow::bail!("the analysis child ended with {status}: {}", stderr.trim()),
    }
}

async fn read_output(dir: &Path) -> anyhow::Result<Output> {
    let analysis: NewAnalysis = serde_json::from_slice(
        &tokio::fs::read(dir.join("analysis.json")).await.context("reading the child's result")?,
    )
    .context("parsing the child's result")?;
    Ok(Output {
        analysis,
        json_report: tokio::fs::read(dir.join("report.json")).await.context("reading the child's JSON report")?,
        pdf_report: tokio::fs::read(dir.join("report.pdf")).await.context("reading the child's PDF report")?,
    })
}
