//! The review engine of Contract Reviewer, as a pure library: bytes in, a review out.
//! No network, no database, no async, so it can be fuzzed, benchmarked and run in the CLI,
//! the server's workers and tests alike.
//!
//! Stages: [`extract`](mod@extract) (one text per document with a map back to the source), [`segment`],
//! [`structure`], [`classify`] (CUAD categories), [`terms`] (key terms), [`playbook`]
//! (risks), and [`review`](mod@review), which runs them all.

pub mod classify;
pub mod doctype;
pub mod eval;
pub mod extract;
mod fnv;
pub mod gold;
pub mod playbook;
pub mod report;
pub mod review;
pub mod roles;
pub mod segment;
pub mod structure;
pub mod terms;
pub mod wording;

/// The largest char boundary of `text` at or before `index` (clamped to the text), so a
/// window of fixed byte width can be cut from text with multi-byte characters.
pub fn floor_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

pub use extract::{extract, ExtractError, Extracted, Format, Limits};
pub use review::{review, Review};
