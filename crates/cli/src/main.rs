//! `contract-reviewer`: the one binary. `main` only parses arguments and hands over.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cr_server::{Application, Config};

mod admin;
mod engine;
mod llm;

// The request paths allocate many small buffers across threads; mimalloc measured faster
// than glibc malloc on the cache-miss benchmark (see bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Contract Reviewer: self-hosted contract review.
///
/// With no configuration it runs embedded (SQLite, in-process cache, files under ./data).
/// Set DATABASE_URL=postgres://… and REDIS_URL=redis://… for server mode. Every setting can
/// also come from a TOML file (--config) or CR_… variables (CR_CACHE__TIMEOUT_MS=20).
#[derive(Parser)]
#[command(name = "contract-reviewer", version, propagate_version = true)]
struct Cli {
    /// TOML configuration file (optional; environment variables override it).
    #[arg(long, global = true, env = "CR_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database and originals); overrides CR_DATA_DIR.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (applies migrations first).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides CR_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run analysis workers (with the dispatch relay and the reconciler) until SIGTERM.
    Worker {
        /// Analyses at once; overrides CR_WORKER__CONCURRENCY (default: one per core).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Queue a new analysis of every document whose latest analysis came from another
    /// engine version (an older one, after an upgrade).
    Reanalyze {
        /// Re-run documents whose latest analysis has an engine version other than this one
        /// (default: the version of this binary).
        #[arg(long, value_name = "VERSION")]
        engine_older_than: Option<String>,
        /// Re-run every analysed document, whatever its engine version.
        #[arg(long, conflicts_with = "engine_older_than")]
        all: bool,
    },
    /// Manage accounts from the command line (on the instance's own database).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Apply database migrations and exit.
    Migrate,
    /// One isolated analysis, as a worker with `worker.isolation = "process"` runs it.
    #[command(hide = true)]
    AnalyseJob {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        filename: String,
        #[arg(long)]
        playbook: String,
        #[arg(long)]
        side: Option<String>,
        #[arg(long)]
        analysis_id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the effective configuration (secrets redacted) and exit.
    Config,
    /// Review a PDF, DOCX, TXT or Markdown contract: clauses by CUAD category with evidence.
    Review {
        /// The contract(s).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the review as JSON (schema_version 4, see docs/review-schema.md).
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print the review as Markdown.
        #[arg(long)]
        markdown: bool,
        /// Write the review as a PDF report to this file (one contract at a time).
        #[arg(long, conflicts_with_all = ["json", "markdown", "out"])]
        pdf: Option<PathBuf>,
        /// Playbook: "auto" (the NDA playbook for NDAs, else the default), "default", "nda",
        /// or a TOML file of your own (see playbooks/default.toml).
        #[arg(long, default_value = "auto")]
        playbook: String,
        /// Your side, for the playbook: customer, vendor, disclosing or receiving (default:
        /// no side, every rule applies).
        #[arg(long)]
        side: Option<String>,
        /// OpenAI-compatible endpoint for the optional LLM pass (summary rewrite and
        /// redlines), e.g. http://127.0.0.1:11434 for Ollama; overrides CR_LLM__URL. Off by
        /// default.
        #[arg(long)]
        llm_url: Option<String>,
        /// Model for the LLM pass; overrides CR_LLM__MODEL.
        #[arg(long)]
        llm_model: Option<String>,
        /// Write one `<file stem>.json` per contract into this folder (implies --json); a file
        /// that fails gets its error in its JSON and the run goes on.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Clause model file (default: the model built into the binary).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Extract the text of a contract as the engine sees it (the first stage of a review).
    Extract {
        /// The contract.
        file: PathBuf,
        /// Print JSON: text, page spans (byte offsets), headers/footers kept apart, warnings.
        #[arg(long)]
        json: bool,
    },
    /// Train the clause model on a CUAD-format folder (labels.jsonl + contracts/), leaving
    /// out its held-out part (one contract in five, chosen by id) unless `--all`.
    Train {
        /// The folder, e.g. ../shared/data/cuad-dev
        dir: PathBuf,
        /// Where to write the model.
        #[arg(long, default_value = engine::DEFAULT_MODEL)]
        out: PathBuf,
        /// Most L-BFGS steps per logistic regression (each stops earlier once converged).
        #[arg(long, default_value_t = engine::ITERATIONS)]
        iterations: usize,
        /// Train on every contract, the held-out part too: the model to ship, once the
        /// held-out figures have been read from one trained without it.
        #[arg(long)]
        all: bool,
    },
    /// Score reviews against a gold set a lawyer wrote (eval/gold.toml): key-term accuracy
    /// per field, risk precision and recall for the side named, false HIGH findings.
    EvalReview {
        /// The gold set, e.g. eval/gold.toml
        gold: PathBuf,
        /// The folder the gold's `file` paths are under.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Score the engine on a CUAD-format folder: presence macro-F1 and evidence P/R/F1.
    Eval {
        /// The folder, e.g. ../shared/data/cuad-dev
        dir: PathBuf,
        /// Score every contract, including those the model was trained on.
        #[arg(long, conflicts_with = "trained")]
        all: bool,
        /// Score only the contracts the model was trained on (to develop against without
        /// looking at the held-out part).
        #[arg(long, conflicts_with = "cv")]
        trained: bool,
        /// Score the training part 5-fold cross-validated (trains five models; ten to twenty
        /// minutes on two cores on the CUAD dev split): steadier than the held-out part for
        /// development.
        #[arg(long, conflicts_with = "all")]
        cv: bool,
        #[arg(long)]
        json: bool,
        /// Clause model file (default: the model built into the binary, which was trained on
        /// the whole CUAD dev split and so gives no held-out figure on it).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Also write each scored contract's predicted spans and presence scores to
        /// `DIR/<contract id>.json`, for error analysis.
        #[arg(long, value_name = "DIR")]
        predictions: Option<PathBuf>,
        /// With --cv: keep the five fold models in `DIR/fold-<k>.crmodel` and reuse those
        /// found there, so that a change to how a review reads the scores is measured in a
        /// minute rather than retrained. Empty the folder after changing the features or
        /// the training.
        #[arg(long, value_name = "DIR", requires = "cv")]
        fold_models: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Add a user to an organisation. Prints a generated password unless --password-stdin.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// admin, reviewer or viewer.
        #[arg(long, default_value = "reviewer")]
        role: String,
        /// The organisation's id (default: the instance's only organisation).
        #[arg(long)]
        organisation: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password and end its sessions. Prints a generated password unless
    /// --password-stdin.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make an API key for a user (in its home organisation); prints the key once.
    CreateApiKey {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "command line")]
        name: String,
        /// Comma-separated: read, analyze, admin (default: all the user's role allows).
        #[arg(long)]
        scopes: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries the JSON and Markdown reviews.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    // An isolated analysis runs without a runtime: its address-space limit need not make room
    // for threads it does not use.
    if let Command::AnalyseJob { input, filename, playbook, side, analysis_id, out } = cli.command {
        let job = cr_service::analysis::isolated::JobArgs { input, filename, playbook, side, analysis_id, out };
        std::process::exit(cr_service::analysis::isolated::run_child(&job));
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Only the commands that run the service read (and validate) its configuration.
    let server_config = || -> anyhow::Result<Config> {
        let mut config = Config::load(cli.config.as_deref())?;
        if let Some(dir) = cli.data_dir.clone() {
            config.data_dir = dir;
        }
        Ok(config)
    };
    match cli.command {
        Command::Serve { listen } => {
            let mut config = server_config()?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let app = Application::build(config).await?;
            if let Some(admin) = &app.bootstrap {
                // On the terminal, apart from the logs; the secrets themselves stay in the file.
                println!(
                    "Created the local admin {}. Its password and API key are in {} (readable by you only).",
                    admin.email,
                    admin.credentials.display()
                );
            }
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Worker { concurrency } => {
            let mut config = server_config()?;
            if let Some(concurrency) = concurrency {
                config.worker.concurrency = concurrency;
            }
            let services = cr_server::startup::Services::build(&config).await?;
            services.run_workers_until_stopped(shutdown_signal()).await;
            Ok(())
        }
        Command::Reanalyze { engine_older_than, all } => {
            let config = server_config()?;
            let services = cr_server::startup::Services::build(&config).await?;
            let version = match (all, engine_older_than) {
                (true, _) => None,
                (false, Some(version)) => Some(version),
                (false, None) => Some(env!("CARGO_PKG_VERSION").to_owned()),
            };
            let queued = services.analysis.reanalyze(version.as_deref()).await?;
            println!("{queued} documents queued for a new analysis");
            Ok(())
        }
        Command::AnalyseJob { .. } => anyhow::bail!("analyse-job runs without a runtime (see main)"),
        Command::Admin(command) => admin::run(&server_config()?, command).await,
        Command::Migrate => {
            let config = server_config()?;
            let db = cr_store::Database::connect(&config.effective_database_url(), 2).await?;
            db.migrate().await?;
            println!("migrations applied ({})", db.backend_name());
            Ok(())
        }
        Command::Config => {
            println!("{:#?}", server_config()?);
            Ok(())
        }
        Command::Review { files, json, markdown, pdf, playbook, side, llm_url, llm_model, out, model } => {
            let mut llm = cr_server::config::LlmConfig::load(cli.config.as_deref())?;
            if let Some(url) = llm_url {
                llm.url = Some(url);
            }
            if let Some(name) = llm_model {
                llm.model = name;
            }
            llm.validate()?;
            let options = engine::ReviewOptions::load(model.as_deref(), Some(&playbook), side.as_deref(), &llm)?;
            if let Some(pdf) = pdf {
                let [file] = files.as_slice() else {
                    anyhow::bail!("--pdf writes one report: give one contract (use --out DIR for many)");
                };
                return engine::review_pdf(file, &pdf, &options).context("contract-reviewer failed");
            }
            let output = match (json, markdown) {
                (true, _) => engine::Output::Json,
                (_, true) => engine::Output::Markdown,
                _ => engine::Output::Terminal,
            };
            match out {
                Some(out) => engine::review_batch(&files, &out, &options),
                None => engine::review_command(&files, output, &options),
            }
        }
        Command::Extract { file, json } => engine::extract_command(&file, json),
        Command::Train { dir, out, iterations, all } => engine::train_command(&dir, &out, iterations, all),
        Command::EvalReview { gold, data, json } => engine::eval_review_command(&gold, &data, json),
        Command::Eval { dir, all, trained, cv, json, model, predictions, fold_models } => {
            let part = match (all, trained, cv) {
                (true, _, _) => engine::Part::All,
                (_, true, _) => engine::Part::Trained,
                (_, _, true) => engine::Part::CrossValidated,
                _ => engine::Part::HeldOut,
            };
            engine::eval_command(&dir, part, json, model.as_deref(), predictions.as_deref(), fold_models.as_deref())
        }
    }
    .context("contract-reviewer failed")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
