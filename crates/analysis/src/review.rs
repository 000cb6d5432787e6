//! A review: the extracted document, its clauses by CUAD category with evidence offsets, its
//! key terms, the playbook's findings (risks), a summary with recommendations, and the
//! engine that made it. Everything here is deterministic: the same bytes, model and playbook
//! give the same review.

use serde::Serialize;

use crate::classify::Model;
use crate::extract::{Extracted, Format};
use crate::playbook::{Finding, FoundClause, Playbook, Severity, Side};
use crate::segment::segments;
use crate::terms::Terms;

/// Version of the JSON schema of [`Review`] (documented in `docs/review-schema.md`).
pub const SCHEMA_VERSION: u32 = 4;

#[derive(Debug, Serialize)]
pub struct Engine {
    pub name: &'static str,
    pub version: &'static str,
    pub classifier: &'static str,
    /// The LLM used for the optional rewrite pass, when one was.
    pub model: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Clause {
    /// CUAD category, spelled as in `category_descriptions.csv`.
    pub category: &'static str,
    /// UTF-8 byte offsets into the extracted text (for TXT: into the file).
    pub start: usize,
    pub end: usize,
    /// 1-based page, for PDFs.
    pub page: Option<u32>,
    pub text: String,
    pub confidence: f32,
}

/// Which playbook the risks come from, and for which side.
#[derive(Debug, Serialize)]
pub struct PlaybookUsed {
    pub name: String,
    pub side: Option<Side>,
}

/// One row of the key-terms table.
#[derive(Debug, Serialize)]
pub struct KeyTermRow {
    pub term: &'static str,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    /// What the document is, between whom, and the position for the side reviewed for:
    /// "Supply / manufacturing between Acme Inc. (Supplier) and Beta LLC (Customer); for the
    /// customer (Beta LLC): not acceptable as drafted — 1 high, 2 medium, 0 low risks."
    pub headline: String,
    pub key_terms: Vec<KeyTermRow>,
    /// The most severe findings, most severe first: "high: title: detail".
    pub top_risks: Vec<String>,
    /// What to negotiate, most important first: "Must have (high): … — propose: …", then
    /// "Should have (medium)", then "Nice to have (low)".
    pub recommendations: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Review {
    pub schema_version: u32,
    pub format: Format,
    /// What kind of document this is, from its title.
    pub document_type: crate::doctype::DocumentType,
    pub clauses: Vec<Clause>,
    /// Title, recitals, sections, defined terms and their uses, signature blocks, exhibits.
    pub structure: crate::structure::Structure,
    /// Key terms with their normalised values and offsets.
    pub terms: Terms,
    /// Playbook findings, most severe first.
    pub risks: Vec<Finding>,
    pub playbook: PlaybookUsed,
    pub summary: Summary,
    /// The optional LLM pass: a rewritten summary and proposed redlines (absent unless an
    /// endpoint was configured and answered).
    pub llm: Option<LlmPass>,
    pub warnings: Vec<String>,
    pub engine: Engine,
}

/// What the optional LLM pass added. Everything else in the review stands without it.
#[derive(Debug, Serialize)]
pub struct LlmPass {
    pub model: String,
    pub summary: Option<String>,
    pub redlines: Vec<Redline>,
}

/// Replacement language the model proposes for one finding.
#[derive(Debug, Serialize)]
pub struct Redline {
    /// The id of the playbook rule of the finding.
    pub rule: String,
    pub proposed: String,
}

/// How many risks the summary lists.
const TOP_RISKS: usize = 5;

/// Reviews an extracted document with the clause model and a playbook, for a side.
pub fn review(extracted: &Extracted, model: &Model, playbook: &Playbook, side: Option<Side>) -> Review {
    review_with_progress(extracted, model, playbook, side, &mut |_| {})
}

/// The stages of a review after extraction, as [`review_with_progress`] reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Segments, structure, key terms and clause scores.
    Classifying,
    /// The playbook's rules against what was found.
    CheckingPlaybook,
}

/// [`review`], telling `progress` as each stage starts (a pipeline shows it live).
pub fn review_with_progress(
    extracted: &Extracted,
    model: &Model,
    playbook: &Playbook,
    side: Option<Side>,
    progress: &mut dyn FnMut(Stage),
) -> Review {
    progress(Stage::Classifying);
    let analysed = extracted.analysed_text();
    let text: &str = &analysed;
    let segments = segments(text);
    let terms = crate::terms::key_terms(text);
    let structure = crate::structure::structure(text);
    let mut clauses: Vec<Clause> = model
        .predict_with(text, &segments, &terms, &structure)
        .into_iter()
        .map(|p| Clause {
            category: p.category,
            start: p.segment.start,
            end: p.segment.end,
            page: extracted.page_of(p.segment.start),
            // In Markdown "8.2 Damages Waiver." rather than "<span class=…>Damages Waiver.</span>".
            text: extracted.quote(p.segment.start, p.segment.end),
            confidence: (p.confidence * 1000.0).round() / 1000.0,
        })
        .collect();
    clauses.sort_by(|a, b| a.start.cmp(&b.start).then(b.confidence.total_cmp(&a.confidence)));
    let found: Vec<FoundClause> =
        clauses.iter().map(|c| FoundClause { category: c.category, start: c.start, end: c.end }).collect();
    progress(Stage::CheckingPlaybook);
    let document_type = crate::doctype::document_type(text, &structure);
    let mut risks = playbook.check(text, &found, &terms, side);
    // An amendment or an order form leaves most clauses to the agreement it belongs to.
    if !document_type.missing_clause_rules {
        risks.retain(|risk| !playbook.rule(&risk.rule).is_some_and(|rule| rule.check.reports_a_missing_clause()));
    }
    for risk in &mut risks {
        if let Some(citation) = &mut risk.citation {
            citation.page = extracted.page_of(citation.start);
            citation.section = structure.section_label(text, citation.start);
            citation.text = extracted.quote(citation.start, citation.end);
        }
    }
    // Fallback language in the contract's own names ("Provider" rather than "Vendor").
    for risk in &mut risks {
        risk.fallback = in_the_contracts_names(&risk.fallback, &terms);
    }
    let mut summary = summarise(&terms, &risks);
    summary.headline = headline(&document_type, &terms, &risks, side);
    Review {
        schema_version: SCHEMA_VERSION,
        format: extracted.format,
        document_type,
        clauses,
        structure,
        terms,
        risks,
        playbook: PlaybookUsed { name: playbook.name.clone(), side },
        summary,
        llm: None,
        warnings: extracted.warnings.clone(),
        engine: Engine {
            name: "contract-reviewer",
            version: env!("CARGO_PKG_VERSION"),
            classifier: "hashed n-gram logistic regression (CUAD dev, train part)",
            model: None,
        },
    }
}

/// The key-terms table, top risks and recommendations.
/// The first line of a review: what, between whom, and the position for the side.
fn headline(
    document_type: &crate::doctype::DocumentType,
    terms: &Terms,
    risks: &[Finding],
    side: Option<Side>,
) -> String {
    let names: Vec<String> = terms
        .parties
        .iter()
        .take(2)
        .map(|p| match &p.role {
            Some(role) => format!("{} ({role})", p.name),
            None => p.name.clone(),
        })
        .collect();
    let between = match names.as_slice() {
        [] if terms.cover_page.is_some() => " (parties on the Cover Page)".to_owned(),
        [] => String::new(),
        [one] => format!(" with {one}"),
        [first, second, ..] => format!(" between {first} and {second}"),
    };
    let count = |severity: Severity| risks.iter().filter(|r| r.severity == severity).count();
    let (high, medium, low) = (count(Severity::High), count(Severity::Medium), count(Severity::Low));
    let position = if high > 0 {
        "not acceptable as drafted"
    } else if medium > 0 {
        "acceptable with changes"
    } else {
        "acceptable"
    };
    let reader = match side {
        Some(side) => {
            let word = format!("{side:?}").to_lowercase();
            let party = terms.parties.iter().find(|p| p.side == Some(side)).map(|p| p.name.clone());
            match party {
                Some(name) => format!("for the {word} ({name})"),
                None => format!("for the {word}"),
            }
        }
        None => "for either side".to_owned(),
    };
    format!("{}{between}; {reader}: {position} — {high} high, {medium} medium, {low} low risks.", document_type.name)
}

/// Playbook language with the contract's own short names for the generic roles.
fn in_the_contracts_names(fallback: &str, terms: &Terms) -> String {
    let mut out = fallback.to_owned();
    for (generic, side) in [("Vendor", Side::Vendor), ("Customer", Side::Customer)] {
        let own = terms.parties.iter().find(|p| p.side == Some(side)).and_then(|p| p.short_name.clone());
        if let Some(own) = own.filter(|own| own != generic) {
            out = replace_word(&out, generic, &own);
        }
    }
    out
}

/// `text` with whole-word `word` replaced (also in "Vendor's").
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before_ok = !rest[..at].chars().next_back().is_some_and(char::is_alphanumeric);
        let after_ok = !rest[at + word.len()..].chars().next().is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { by } else { word });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

pub fn summarise(terms: &Terms, risks: &[Finding]) -> Summary {
    let mut rows = Vec::new();
    let mut row = |term: &'static str, value: Option<String>| {
        if let Some(value) = value {
            rows.push(KeyTermRow { term, value });
        }
    };
    for (i, party) in terms.parties.iter().enumerate() {
        let label = if i == 0 { "Party" } else { "Other party" };
        let value = match &party.short_name {
            Some(short) => format!("{} (\"{short}\")", party.name),
            None => party.name.clone(),
        };
        row(label, Some(value));
    }
    if terms.parties.is_empty() {
        row(
            "Parties",
            terms.cover_page.as_ref().map(|_| "on the Cover Page, which this document does not contain".into()),
        );
    }
    row("Agreement date", terms.agreement_date.as_ref().map(|t| t.value.clone()));
    row("Effective date", terms.effective_date.as_ref().map(|t| t.value.clone()));
    // A contract that renews does not end on its expiration date: that is the initial term's end.
    let expiration = terms.expiration_date.as_ref().map(|t| match &terms.auto_renewal {
        Some(_) if t.date().is_some() => format!("{} (end of the initial term)", t.value),
        _ => t.value.clone(),
    });
    row("Expiration date", expiration);
    row("Initial term", terms.initial_term.as_ref().map(|p| p.value.clone()));
    row("Renewal term", terms.renewal_term.as_ref().map(|p| p.value.clone()));
    row(
        "Auto-renewal",
        terms.auto_renewal.as_ref().map(|renewal| match renewal.value.as_str() {
            "evergreen" => "runs on after the initial term until terminated on notice".to_owned(),
            _ => "yes".to_owned(),
        }),
    );
    row("Notice of non-renewal", terms.non_renewal_notice.as_ref().map(|p| p.value.clone()));
    row(
        "Non-renewal deadline",
        terms.non_renewal_deadline.as_ref().map(|deadline| match &terms.renewal_term {
            Some(every) => format!("{} (then every {})", deadline.value, every.value),
            None => deadline.value.clone(),
        }),
    );
    row("Termination notice", terms.termination_notice.as_ref().map(|p| p.value.clone()));
    row("Governing law", terms.governing_law.as_ref().map(|t| t.value.clone()));
    row("Venue", terms.venue.as_ref().map(|t| t.value.clone()));
    row("Liability cap", terms.liability_cap.as_ref().map(describe_cap));
    let uncapped: Vec<String> = terms
        .cap_carve_outs
        .iter()
        .filter(|c| !c.capped)
        .flat_map(|c| if c.kinds.is_empty() { c.named.iter().cloned().collect() } else { c.kinds.clone() })
        .collect();
    row("Uncapped", (!uncapped.is_empty()).then(|| dedup_joined(uncapped)));
    for cap in &terms.other_caps {
        let scope = cap.applies_to.as_deref().unwrap_or("some claims");
        row("Other cap", Some(format!("{scope}: {}", describe_cap(cap))));
    }
    row("Damages waiver", terms.damages_waiver.as_ref().map(|w| format!("indirect and consequential, {}", w.value)));
    if !terms.placeholders.is_empty() {
        row("Unfilled blanks", Some(format!("{} (e.g. {})", terms.placeholders.len(), terms.placeholders[0].value)));
    }
    row("Payment terms", terms.payment_terms.as_ref().map(|p| p.value.clone()));
    row("Non-compete", terms.non_compete.as_ref().map(|p| p.value.clone()));
    let largest = terms.amounts.iter().max_by(|a, b| a.amount.total_cmp(&b.amount));
    row("Largest amount", largest.map(|m| m.text.clone()));
    let top_risks =
        risks.iter().take(TOP_RISKS).map(|r| format!("{}: {}: {}", severity_word(r), r.title, r.detail)).collect();
    let recommendations = risks
        .iter()
        .map(|r| {
            let priority = match r.severity {
                Severity::High => "Must have (high)",
                Severity::Medium => "Should have (medium)",
                Severity::Low => "Nice to have (low)",
            };
            format!("{priority}: {} — propose: \"{}\"", r.title, r.fallback)
        })
        .collect();
    Summary { headline: String::new(), key_terms: rows, top_risks, recommendations }
}

/// A cap in words: its measure, and whom it protects when not each party.
fn describe_cap(cap: &crate::terms::LiabilityCap) -> String {
    use crate::terms::CapBasis;
    let fees = cap.months_of_fees.map_or_else(|| "fees paid".to_owned(), |m| format!("{m} months of fees"));
    let amount = cap.amount.as_ref().map(|m| m.text.clone());
    let measure = match (cap.basis, amount) {
        (CapBasis::GreaterOf, Some(amount)) => format!("greater of {amount} and {fees}"),
        (CapBasis::LesserOf, Some(amount)) => format!("lesser of {amount} and {fees}"),
        (CapBasis::Multiple, _) => {
            let times = cap.multiple.map_or_else(String::new, |m| format!("{m}× "));
            format!("{times}{fees}")
        }
        (CapBasis::FixedAmount, Some(amount)) => amount,
        (CapBasis::Named, _) => {
            format!("{} (its amount is not in this document)", cap.named.as_deref().unwrap_or("a defined cap"))
        }
        (_, Some(amount)) => format!("{amount} / {fees}"),
        (_, None) => fees,
    };
    if cap.protects == "each party" {
        measure
    } else {
        format!("{measure}, protecting {} only", cap.protects)
    }
}

fn dedup_joined(mut items: Vec<String>) -> String {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(item.clone()));
    items.join(", ")
}

fn severity_word(finding: &Finding) -> &'static str {
    match finding.severity {
        crate::playbook::Severity::High => "high",
        crate::playbook::Severity::Medium => "medium",
        crate::playbook::Severity::Low => "low",
    }
}

/// The playbook a review runs with: a built-in one by name, or for `"auto"` the built-in one
/// suited to the document ([`suggested_playbook`]). `None` for an unknown name.
pub fn resolve_playbook(name: &str, text: &str) -> Option<Playbook> {
    let name = if name == "auto" { suggested_playbook(text) } else { name };
    Playbook::built_in(name)
}

/// The built-in playbook suited to the document's kind (`wording/document_types.toml`): the
/// NDA playbook for a non-disclosure agreement, else the default.
pub fn suggested_playbook(text: &str) -> &'static str {
    let kind = crate::doctype::document_type(text, &crate::structure::structure(text));
    crate::playbook::BUILT_IN.iter().map(|(name, _)| *name).find(|name| *name == kind.playbook).unwrap_or("default")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_carries_risks_summary_and_the_playbook_used() {
        let text = "SERVICES AGREEMENT\n\nThis Agreement is governed by the laws of the Cayman Islands.\n";
        let extracted = crate::extract(text.as_bytes(), "a.txt", &crate::Limits::default()).expect("text");
        let model = Model::from_bytes(crate::classify::BUILT_IN_MODEL).expect("model");
        let playbook = Playbook::built_in("default").expect("playbook");
        let review = review(&extracted, &model, &playbook, Some(Side::Vendor));
        assert_eq!(review.playbook.name, playbook.name);
        assert!(review.risks.iter().any(|r| r.rule == "cap-missing" && r.citation.is_none()));
        let law = review.risks.iter().find(|r| r.rule == "governing-law").expect("law finding");
        let cited = law.citation.as_ref().expect("citation");
        assert_eq!(&text[cited.start..cited.end], "Cayman Islands");
        assert!(review.summary.key_terms.iter().any(|r| r.term == "Governing law" && r.value == "Cayman Islands"));
        assert_eq!(review.summary.recommendations.len(), review.risks.len());
        assert!(review.summary.top_risks[0].starts_with("high: "));
    }

    #[test]
    fn the_headline_says_what_between_whom_and_the_position_and_fallbacks_use_the_contracts_names() {
        let text = "SUPPLY AGREEMENT\n\nThis Supply Agreement is made as of January 1, 2020 between Acme Inc. \
                    (\"Supplier\") and Beta LLC (\"Buyer\").\n\n1. Insurance. None.\n";
        let extracted = crate::extract(text.as_bytes(), "a.txt", &crate::Limits::default()).expect("text");
        let model = Model::from_bytes(crate::classify::BUILT_IN_MODEL).expect("model");
        let playbook = Playbook::built_in("default").expect("playbook");
        let review = review(&extracted, &model, &playbook, Some(Side::Customer));
        assert!(
            review.summary.headline.starts_with(
                "Supply / manufacturing agreement between Acme Inc. (Supplier) and Beta LLC (Buyer); for the \
                 customer (Beta LLC): acceptable — 0 high"
            ),
            "{}",
            review.summary.headline
        );
        let audit = review.risks.iter().find(|r| r.rule == "audit-rights-missing").expect("audit finding");
        assert!(audit.fallback.contains("Buyer may audit Supplier's records"), "{}", audit.fallback);
        assert!(review.summary.recommendations.iter().all(|r| r.starts_with("Nice to have (low): ")));
        // For the supplier, no cap is a high risk: the list opens with it.
        let vendor = super::review(&extracted, &model, &playbook, Some(Side::Vendor));
        assert!(vendor.summary.headline.contains("for the vendor (Acme Inc.): not acceptable as drafted"));
        assert!(vendor.summary.recommendations[0].starts_with("Must have (high): No limitation of liability"));
    }

    #[test]
    fn findings_cite_the_section_and_reports_show_it_not_bytes() {
        let text = "SUPPLY AGREEMENT\n\n14. MISCELLANEOUS\n\n14.2 Governing Law. This Agreement is governed by the \
                    laws of the Cayman Islands.\n";
        let extracted = crate::extract(text.as_bytes(), "a.txt", &crate::Limits::default()).expect("text");
        let model = Model::from_bytes(crate::classify::BUILT_IN_MODEL).expect("model");
        let playbook = Playbook::built_in("default").expect("playbook");
        let review = review(&extracted, &model, &playbook, Some(Side::Customer));
        let law = review.risks.iter().find(|r| r.rule == "governing-law").expect("law finding");
        let citation = law.citation.as_ref().expect("citation");
        assert_eq!(citation.section.as_deref(), Some("§ 14.2 Governing Law"));
        let terminal = crate::report::terminal(&review, "a.txt", text.len(), &crate::report::Style::plain());
        assert!(terminal.contains("[§ 14.2 Governing Law]"), "{terminal}");
        assert!(!terminal.contains("[bytes "), "{terminal}");
    }

    #[test]
    fn an_amendment_is_not_told_of_the_clauses_its_agreement_holds() {
        let text = "FIRST AMENDMENT TO SUPPLY AGREEMENT\n\nThis First Amendment amends the Supply Agreement dated \
                    May 1, 2019 between Acme Inc. and Beta LLC. Section 4 is replaced by: \"Prices are fixed.\"\n";
        let extracted = crate::extract(text.as_bytes(), "a.txt", &crate::Limits::default()).expect("text");
        let model = Model::from_bytes(crate::classify::BUILT_IN_MODEL).expect("model");
        let playbook = Playbook::built_in("default").expect("playbook");
        let review = review(&extracted, &model, &playbook, Some(Side::Customer));
        assert_eq!(review.document_type.id, "amendment");
        let missing: Vec<&str> =
            review.risks.iter().filter(|r| r.citation.is_none()).map(|r| r.rule.as_str()).collect();
        assert_eq!(missing, Vec::<&str>::new());
        // The same text as a full agreement is told of them.
        let agreement = text.replace("FIRST AMENDMENT TO SUPPLY AGREEMENT", "SUPPLY AGREEMENT");
        let extracted = crate::extract(agreement.as_bytes(), "a.txt", &crate::Limits::default()).expect("text");
        let review = super::review(&extracted, &model, &playbook, Some(Side::Customer));
        assert!(review.risks.iter().any(|r| r.rule == "insurance-missing"));
    }

    /// Every stage slices text by byte offsets; multi-byte characters at every possible
    /// position of a real contract must never land a slice inside a character.
    #[test]
    fn multi_byte_text_anywhere_never_panics() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/cuad-mini/contracts/BellringBrandsInc_20190920_S-1_EX-10.12_11817081_EX-10.12_Manufacturing_Agreement4.txt"
        );
        // With the key-term cues the fixture lacks (a split ordinal, a governing law, an end
        // counted from the effective date) in front, so their readers meet mangled text too.
        let original = format!(
            "Made as of the 15t h day of January 2018 (the \"Effective Date\"). This Agreement is governed by \
             the laws of the State of New York and ends on the third (3rd) anniversary of the Effective Date.\n{}",
            std::fs::read_to_string(path).expect("fixture")
        );
        let model = Model::from_bytes(crate::classify::BUILT_IN_MODEL).expect("model");
        let playbook = Playbook::built_in("default").expect("playbook");
        let inserts = [(7, "é"), (13, "“"), (29, "”€"), (101, "\u{1F600}"), (31, "<span title=\"é\">”</span>")];
        for ((step, insert), name) in inserts.into_iter().flat_map(|i| [(i, "x.txt"), (i, "x.md")]) {
            let mut text = String::with_capacity(original.len() * 2);
            for (i, c) in original.chars().enumerate() {
                if i % step == 0 {
                    text.push_str(insert);
                }
                text.push(c);
            }
            let extracted = crate::extract(text.as_bytes(), name, &crate::Limits::default()).expect("text");
            let review = review(&extracted, &model, &playbook, None);
            for clause in &review.clauses {
                assert!(text.is_char_boundary(clause.start) && text.is_char_boundary(clause.end));
            }
        }
    }

    #[test]
    fn ndas_get_the_nda_playbook() {
        assert_eq!(suggested_playbook("MUTUAL NON-DISCLOSURE AGREEMENT\nThis agreement"), "nda");
        assert_eq!(suggested_playbook("MASTER SERVICES AGREEMENT"), "default");
    }
}
