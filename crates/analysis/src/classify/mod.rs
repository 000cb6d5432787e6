//! Clause classification into the 41 CUAD categories: one logistic-regression scorer per
//! category over hashed word unigrams and bigrams of a segment, trained from labelled
//! contracts by [`train`] and shipped as a small file (weights quantised to 8 bits).
//!
//! This is the lexical baseline the engine starts from; every prediction carries the
//! segment's offsets as evidence and a probability as confidence.

use serde::Serialize;

use crate::segment::Segment;

mod anchors;
mod features;
mod filters;
mod model_file;
mod prediction;
mod training;
mod wording;

use anchors::*;
use filters::*;
use prediction::*;
use training::*;
use wording::*;

pub use features::{features, segment_features, DIMENSIONS};
pub use filters::section_headings;
pub use training::{train, Example};

/// The 41 CUAD categories, spelled as in `category_descriptions.csv`.
pub const CATEGORIES: [&str; 41] = [
    "Document Name",
    "Parties",
    "Agreement Date",
    "Effective Date",
    "Expiration Date",
    "Renewal Term",
    "Notice Period to Terminate Renewal",
    "Governing Law",
    "Most Favored Nation",
    "Non-Compete",
    "Exclusivity",
    "No-Solicit of Customers",
    "Competitive Restriction Exception",
    "No-Solicit of Employees",
    "Non-Disparagement",
    "Termination for Convenience",
    "Rofr/Rofo/Rofn",
    "Change of Control",
    "Anti-Assignment",
    "Revenue/Profit Sharing",
    "Price Restrictions",
    "Minimum Commitment",
    "Volume Restriction",
    "IP Ownership Assignment",
    "Joint IP Ownership",
    "License Grant",
    "Non-Transferable License",
    "Affiliate License-Licensor",
    "Affiliate License-Licensee",
    "Unlimited/All-You-Can-Eat-License",
    "Irrevocable or Perpetual License",
    "Source Code Escrow",
    "Post-Termination Services",
    "Audit Rights",
    "Uncapped Liability",
    "Cap on Liability",
    "Liquidated Damages",
    "Warranty Duration",
    "Insurance",
    "Covenant Not to Sue",
    "Third Party Beneficiary",
];

/// The model trained by `contract-reviewer train ../shared/data/cuad-dev` (see
/// `models/README.md`), built into the binary so a review needs no set-up.
pub static BUILT_IN_MODEL: &[u8] = include_bytes!("../../../../models/clauses.bin");

/// Why a model file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("not a Contract Reviewer model file of this version (retrain with `contract-reviewer train`)")]
    NotAModel,
    #[error("model has {categories}×{dimensions}; this engine expects {expected}×{DIMENSIONS}", expected = CATEGORIES.len())]
    WrongShape { categories: usize, dimensions: usize },
    #[error("model file is truncated")]
    Truncated,
    #[error("model file is damaged ({0})")]
    Damaged(&'static str),
}

/// One scorer per category.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    /// Probability above which a segment is evidence of the category.
    pub thresholds: Vec<f32>,
    /// Score a contract needs before the category is reported at all (tuned for
    /// contract-level presence F1): its best segment's probability, mixed with the
    /// whole-document model's by [`Model::document_mix`].
    pub presence_thresholds: Vec<f32>,
    /// Whole-document scorers, one per category: whether the contract has the category at
    /// all, read from all of its words. A clause that no single segment gives away (an
    /// exception to a restriction, a customer no-solicit) is often clear from the contract
    /// as a whole, and the contracts that have a category tend to be of a kind.
    pub document_weights: Vec<Vec<f32>>,
    pub document_bias: Vec<f32>,
    /// Weight of the whole-document probability in the presence score (0: best segment
    /// only, 1: document only), chosen per category out of fold.
    pub document_mix: Vec<f32>,
    /// Fingerprints ([`crate::eval::contract_fingerprint`]) of the contracts the model was
    /// trained on, ascending: `eval` refuses to report a held-out figure on contracts the
    /// model has seen, whichever folder they come from.
    pub trained_on: Vec<u32>,
}

/// A segment scored for one category.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub category: &'static str,
    pub segment: Segment,
    pub confidence: f32,
}

/// One category's presence inputs for one contract: see [`Model::predict_explained`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PresenceScore {
    pub category: &'static str,
    pub best: f32,
    pub model: f32,
    /// The three best segments' scores combined, 1 − Π(1 − pᵢ), phrases and rules counted.
    pub segments: f32,
    pub document: f32,
    pub present: bool,
}

#[cfg(test)]
mod tests;
