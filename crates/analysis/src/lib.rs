//! The review engine of Contract Reviewer, as a pure library: bytes in, a review out.
//! No network, no database, no async, so it can be fuzzed, benchmarked and run in the CLI,
//! the server's workers and tests alike.
//!
//! The first stage is [`extract`]: one text per document with a map back to the source.

pub mod classify;
pub mod eval;
pub mod extract;
pub mod playbook;
pub mod review;
pub mod segment;
pub mod terms;

pub use extract::{extract, ExtractError, Extracted, Format, Limits};
pub use review::{review, Review};
