//! The services of Contract Reviewer: the data flows of DESIGN.md on top of the storage roles.
//!
//! Handlers in `cr-server` are thin calls into these. Everything here is independent of HTTP,
//! so the same flows serve the REST API, the web pages and the CLI.

pub mod accounts;
pub mod analysis;
pub mod audit;
pub mod content;
pub mod documents;
pub mod error;
pub mod filename;
pub mod idempotency;
pub mod identity;
pub mod passwords;
pub mod shares;
pub mod singleflight;
pub mod webhooks;

pub use error::ServiceError;
