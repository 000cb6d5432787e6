//! The review judged as a lawyer would: a gold set (TOML, `eval/gold.toml`) says for each
//! document its kind, parties and their roles, dates, term, renewal and notice, law and venue,
//! cap and carve-outs, and — for a named side — the risks a reviewer must raise and the ones
//! that must not be raised. [`score`] compares reviews with it: accuracy per key-term field,
//! risk precision and recall, and the count of false HIGH findings.
//!
//! A field left out of a document's entry is not judged; `"none"` means the document does not
//! have it (and the review must not invent one).

use serde::{Deserialize, Serialize};

use crate::playbook::Severity;
use crate::review::Review;

/// A gold set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gold {
    pub document: Vec<GoldDocument>,
}

/// What a lawyer reads in one document, and the risks for one side.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldDocument {
    /// Path below the data folder given to `eval-review`.
    pub file: String,
    /// `customer`, `vendor`, `disclosing` or `receiving`.
    pub side: String,
    /// Why the entry reads as it does, for the next reader of the gold.
    #[serde(default)]
    pub note: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Each party: its legal name (or the start of it) and, when the contract names it by a
    /// role, that role word.
    pub parties: Option<Vec<GoldParty>>,
    /// Whether the parties are left to a cover page the document does not contain.
    pub cover_page: Option<bool>,
    pub agreement_date: Option<String>,
    pub effective_date: Option<String>,
    /// ISO date, `"perpetual"` or `"none"`.
    pub expiration_date: Option<String>,
    /// `"yes"`, `"evergreen"` or `"none"`.
    pub auto_renewal: Option<String>,
    /// As the engine writes periods: `"1 year"`, `"30 days"`, `"6 months"`; or `"none"`.
    pub renewal_term: Option<String>,
    pub non_renewal_notice: Option<String>,
    pub termination_notice: Option<String>,
    pub governing_law: Option<String>,
    pub venue: Option<String>,
    /// `fees_paid`, `fixed_amount`, `greater_of`, `lesser_of`, `multiple`, `named` or `"none"`.
    pub cap_basis: Option<String>,
    pub cap_months: Option<u32>,
    /// Kinds of uncapped carve-outs (`wording/liability.toml`), in any order.
    pub uncapped: Option<Vec<String>>,
    /// Whether the document leaves blanks unfilled.
    pub placeholders: Option<bool>,
    /// Rule ids a reviewer for `side` must raise.
    #[serde(default)]
    pub must_raise: Vec<String>,
    /// Rule ids that must not be raised for `side`.
    #[serde(default)]
    pub must_not_raise: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldParty {
    pub name: String,
    pub role: Option<String>,
}

impl Gold {
    pub fn from_toml(text: &str) -> Result<Gold, String> {
        let gold: Gold = toml::from_str(text).map_err(|e| e.to_string())?;
        for doc in &gold.document {
            crate::playbook::Side::parse(&doc.side).map_err(|e| format!("{}: {e}", doc.file))?;
            if let Some(rule) = doc.must_raise.iter().find(|r| doc.must_not_raise.contains(r)) {
                return Err(format!("{}: {rule} is both to raise and not to raise", doc.file));
            }
        }
        Ok(gold)
    }
}

/// One field's accuracy.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FieldScore {
    pub field: String,
    pub judged: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// A miss, for the report: which document, which field or rule, expected and found.
#[derive(Clone, Debug, Serialize)]
pub struct Miss {
    pub file: String,
    pub what: String,
    pub expected: String,
    pub found: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ReviewScore {
    pub documents: usize,
    pub fields: Vec<FieldScore>,
    /// Correct over judged, every field together.
    pub key_term_accuracy: f64,
    /// Raised rules that were to be raised, over raised rules judged (to raise, not to raise,
    /// or HIGH).
    pub risk_precision: f64,
    /// Raised rules that were to be raised, over rules to raise.
    pub risk_recall: f64,
    /// HIGH findings a reviewer would not raise (not in `must_raise`).
    pub false_high: usize,
    pub misses: Vec<Miss>,
}

/// Scores reviews against the gold documents (in the same order).
pub fn score(gold: &[GoldDocument], reviews: &[Review]) -> ReviewScore {
    let mut fields: Vec<FieldScore> = Vec::new();
    let mut misses = Vec::new();
    let (mut true_positive, mut false_positive, mut to_raise, mut false_high) = (0, 0, 0, 0);
    for (doc, review) in gold.iter().zip(reviews) {
        let mut judge = |field: &str, expected: String, found: String| {
            let entry = match fields.iter_mut().position(|f| f.field == field) {
                Some(at) => &mut fields[at],
                None => {
                    fields.push(FieldScore { field: field.to_owned(), ..FieldScore::default() });
                    let last = fields.len() - 1;
                    &mut fields[last]
                }
            };
            entry.judged += 1;
            if same(&expected, &found) {
                entry.correct += 1;
            } else {
                misses.push(Miss { file: doc.file.clone(), what: field.to_owned(), expected, found });
            }
        };
        let t = &review.terms;
        let none = || "none".to_owned();
        let value = |term: &Option<crate::terms::Term>| term.as_ref().map_or_else(none, |t| t.value.clone());
        let period = |p: &Option<crate::terms::Period>| p.as_ref().map_or_else(none, |p| p.value.clone());
        if let Some(kind) = &doc.kind {
            judge("type", kind.clone(), review.document_type.id.clone());
        }
        if let Some(parties) = &doc.parties {
            judge("parties", describe_gold_parties(parties), describe_found_parties(parties, t));
        }
        if let Some(cover) = doc.cover_page {
            judge("cover_page", cover.to_string(), t.cover_page.is_some().to_string());
        }
        for (field, expected, found) in [
            ("agreement_date", &doc.agreement_date, value(&t.agreement_date)),
            ("effective_date", &doc.effective_date, value(&t.effective_date)),
            ("expiration_date", &doc.expiration_date, value(&t.expiration_date)),
            ("auto_renewal", &doc.auto_renewal, value(&t.auto_renewal)),
            ("renewal_term", &doc.renewal_term, period(&t.renewal_term)),
            ("non_renewal_notice", &doc.non_renewal_notice, period(&t.non_renewal_notice)),
            ("termination_notice", &doc.termination_notice, period(&t.termination_notice)),
            ("governing_law", &doc.governing_law, value(&t.governing_law)),
            ("venue", &doc.venue, value(&t.venue)),
        ] {
            if let Some(expected) = expected {
                judge(field, expected.clone(), found);
            }
        }
        if let Some(basis) = &doc.cap_basis {
            let found = t.liability_cap.as_ref().map_or_else(none, |cap| {
                serde_json::to_value(cap.basis).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            });
            judge("cap_basis", basis.clone(), found);
        }
        if let Some(months) = doc.cap_months {
            let found = t.liability_cap.as_ref().and_then(|c| c.months_of_fees).map_or_else(none, |m| m.to_string());
            judge("cap_months", months.to_string(), found);
        }
        if let Some(uncapped) = &doc.uncapped {
            let mut found: Vec<String> =
                t.cap_carve_outs.iter().filter(|c| !c.capped).flat_map(|c| c.kinds.clone()).collect();
            found.sort();
            found.dedup();
            let mut expected = uncapped.clone();
            expected.sort();
            judge("uncapped", expected.join(", "), found.join(", "));
        }
        if let Some(blanks) = doc.placeholders {
            judge("placeholders", blanks.to_string(), (!t.placeholders.is_empty()).to_string());
        }
        // Risks.
        let raised: Vec<&crate::playbook::Finding> = review.risks.iter().collect();
        to_raise += doc.must_raise.len();
        for rule in &doc.must_raise {
            if raised.iter().any(|f| &f.rule == rule) {
                true_positive += 1;
            } else {
                misses.push(Miss {
                    file: doc.file.clone(),
                    what: "risk not raised".into(),
                    expected: rule.clone(),
                    found: String::new(),
                });
            }
        }
        for finding in &raised {
            let wrong = doc.must_not_raise.contains(&finding.rule);
            let high = finding.severity == Severity::High && !doc.must_raise.contains(&finding.rule);
            if high {
                false_high += 1;
            }
            if wrong || high {
                false_positive += 1;
                misses.push(Miss {
                    file: doc.file.clone(),
                    what: if high { "false HIGH".into() } else { "risk wrongly raised".into() },
                    expected: String::new(),
                    found: format!("{}: {}", finding.rule, finding.detail),
                });
            }
        }
    }
    for field in &mut fields {
        field.accuracy = ratio(field.correct, field.judged);
    }
    let (correct, judged) = fields.iter().fold((0, 0), |(c, j), f| (c + f.correct, j + f.judged));
    ReviewScore {
        documents: gold.len().min(reviews.len()),
        key_term_accuracy: ratio(correct, judged),
        risk_precision: ratio(true_positive, true_positive + false_positive),
        risk_recall: ratio(true_positive, to_raise),
        false_high,
        fields,
        misses,
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

fn same(expected: &str, found: &str) -> bool {
    crate::terms::normalise(expected) == crate::terms::normalise(found) || expected == found
}

fn describe_gold_parties(parties: &[GoldParty]) -> String {
    let described: Vec<String> = parties
        .iter()
        .map(|p| match &p.role {
            Some(role) => format!("{} ({role})", p.name),
            None => p.name.clone(),
        })
        .collect();
    if described.is_empty() {
        "none".into()
    } else {
        described.join("; ")
    }
}

/// The found parties in the gold's terms: each gold party matched by name (the found name
/// starts with the gold name, case and punctuation aside) and its role; the gold's own
/// description when every one matches, so that a match compares equal.
fn describe_found_parties(gold: &[GoldParty], terms: &crate::terms::Terms) -> String {
    let found: Vec<String> = terms
        .parties
        .iter()
        .map(|p| match &p.role {
            Some(role) => format!("{} ({role})", p.name),
            None => p.name.clone(),
        })
        .collect();
    let all_match = gold.len() == terms.parties.len()
        && gold.iter().all(|g| {
            terms.parties.iter().any(|p| {
                crate::terms::normalise(&p.name).starts_with(&crate::terms::normalise(&g.name))
                    && match &g.role {
                        Some(role) => p.role.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(role)),
                        None => true,
                    }
            })
        });
    if all_match {
        describe_gold_parties(gold)
    } else if found.is_empty() {
        "none".into()
    } else {
        found.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review_of(text: &str, side: crate::playbook::Side) -> Review {
        let extracted = crate::extract(text.as_bytes(), "a.txt", &crate::Limits::default()).expect("text");
        let model = crate::classify::Model::from_bytes(crate::classify::BUILT_IN_MODEL).expect("model");
        let playbook = crate::playbook::Playbook::built_in("default").expect("playbook");
        crate::review(&extracted, &model, &playbook, Some(side))
    }

    const TEXT: &str = "SERVICES AGREEMENT\n\nThis Agreement is made as of January 1, 2020 between Acme Inc. \
                        (\"Vendor\") and Beta LLC (\"Customer\").\n\n1. Law. This Agreement is governed by the laws \
                        of the State of New York.\n2. Vendor may suspend the Services at any time.\n";

    fn gold(extra: &str) -> Gold {
        Gold::from_toml(&format!(
            "[[document]]\nfile = \"a.txt\"\nside = \"customer\"\ntype = \"services\"\n\
             agreement_date = \"2020-01-01\"\ngoverning_law = \"New York\"\n{extra}"
        ))
        .expect("gold")
    }

    #[test]
    fn key_terms_and_risks_are_scored_against_the_gold() {
        let review = review_of(TEXT, crate::playbook::Side::Customer);
        let gold = gold("venue = \"Delaware\"\nmust_raise = [\"suspension\", \"unilateral-amendment\"]\nmust_not_raise = [\"governing-law\"]\n");
        let score = score(&gold.document, &[review]);
        // type, agreement date, law right; venue wrong (none found).
        assert_eq!(score.key_term_accuracy, 0.75);
        assert_eq!((score.risk_recall, score.risk_precision, score.false_high), (0.5, 1.0, 0));
        assert!(score.misses.iter().any(|m| m.what == "venue" && m.found == "none"));
    }

    #[test]
    fn a_high_finding_not_to_raise_is_a_false_high() {
        let review = review_of(TEXT, crate::playbook::Side::Vendor);
        assert!(review.risks.iter().any(|r| r.rule == "cap-missing"));
        let score = score(&gold("").document, &[review]);
        assert_eq!(score.false_high, 1);
        assert!(score.risk_precision < 1.0);
    }

    #[test]
    fn a_gold_set_that_contradicts_itself_is_refused() {
        let text = "[[document]]\nfile = \"a\"\nside = \"customer\"\nmust_raise = [\"x\"]\nmust_not_raise = [\"x\"]\n";
        assert!(Gold::from_toml(text).is_err());
        assert!(Gold::from_toml("[[document]]\nfile = \"a\"\nside = \"landlord\"\n").is_err());
        assert!(Gold::from_toml("[[document]]\nfile = \"a\"\nside = \"customer\"\nvenu = \"x\"\n").is_err());
    }
}
