//! Storage roles of Contract Reviewer, each behind the smallest interface its callers need.
//!
//! - [`db::Database`]: the authoritative relational store, PostgreSQL (server mode) or SQLite
//!   (embedded mode). Every fact lives here first.
//! - [`cache::Cache`]: the derived, ephemeral layer, Redis (server mode) or in-process
//!   (embedded mode). It may lose everything at any moment; callers treat every failure as a miss.
//! - [`files::FileStore`]: originals, content-addressed by SHA-256, written and synced before
//!   the row that names them.
//! - [`jobs`] and [`analyses`]: the analysis state machine and its results, as rows.

pub mod accounts;
pub mod analyses;
pub mod api_keys;
pub mod audit;
pub mod cache;
pub mod db;
pub mod documents;
pub mod files;
pub mod identity;
pub mod ids;
pub mod jobs;
pub mod rate_limit;
pub mod redis_link;
pub mod retention;
pub mod sessions;
pub mod shares;
pub mod webhooks;

pub use cache::Cache;
pub use db::Database;
pub use files::FileStore;
