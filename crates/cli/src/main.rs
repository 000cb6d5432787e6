//! `contract-reviewer`: the one binary. `main` only parses arguments and hands over.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cr_server::{Application, Config};

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
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration (secrets redacted) and exit.
    Config,
    /// Extract the text of a PDF, DOCX, TXT or Markdown contract (the first stage of a review).
    Extract {
        /// The contract.
        file: PathBuf,
        /// Print JSON: text, page spans (byte offsets), headers/footers kept apart, warnings.
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    match cli.command {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let app = Application::build(config).await?;
            if let Some(key) = &app.bootstrap_api_key {
                eprintln!("Created the platform admin. API key (shown once, also in the data dir): {key}");
            }
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Migrate => {
            let db = cr_store::Database::connect(&config.effective_database_url(), 2).await?;
            db.migrate().await?;
            println!("migrations applied ({})", db.backend_name());
            Ok(())
        }
        Command::Config => {
            println!("{config:#?}");
            Ok(())
        }
        Command::Extract { file, json } => extract(&file, json),
    }
    .context("contract-reviewer failed")
}

fn extract(file: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let extracted = cr_analysis::extract(&bytes, &name, &cr_analysis::Limits::default())
        .with_context(|| format!("extracting {}", file.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&extracted)?);
    } else {
        print!("{}", extracted.text);
        for warning in &extracted.warnings {
            eprintln!("warning: {warning}");
        }
    }
    Ok(())
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
