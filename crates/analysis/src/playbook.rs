//! Playbooks: a legal team's positions, written as TOML (`playbooks/*.toml`), checked
//! against a review. Each rule says what to look for (a clause that must be there or must
//! not, a threshold on a key term, a governing law outside an allowed list, …), how much it
//! matters, why, and the language to propose instead. A finding cites the clause it is about
//! (offsets, page) or says what is missing.
//!
//! A playbook is validated when it is loaded: unknown fields, unknown categories, checks or
//! sides are errors naming the rule, so a typo cannot silently switch a rule off.

use serde::{Deserialize, Serialize};

use crate::classify::CATEGORIES;
use crate::terms::{Period, Terms};

/// The playbooks shipped with the engine: (name, TOML).
pub const BUILT_IN: [(&str, &str); 2] = [
    ("default", include_str!("../../../playbooks/default.toml")),
    ("nda", include_str!("../../../playbooks/nda.toml")),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

/// Whose interests the review takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Customer,
    Vendor,
    Disclosing,
    Receiving,
}

/// Why a playbook or a side was refused; each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybookError {
    #[error("unknown side {0:?}: expected customer, vendor, disclosing or receiving")]
    UnknownSide(String),
    #[error("invalid playbook: {0}")]
    Syntax(String),
    #[error("invalid playbook: it has no [[rule]]")]
    NoRules,
    #[error("invalid playbook: rule id {0:?} is used twice")]
    DuplicateRule(String),
    #[error("invalid playbook: rule {rule:?} needs `{field}` for its check")]
    MissingField { rule: String, field: &'static str },
    #[error(
        "invalid playbook: rule {rule:?} names the category {category:?}, which is not one of the 41 CUAD \
         categories (spelled as in category_descriptions.csv, e.g. \"Cap on Liability\")"
    )]
    UnknownCategory { rule: String, category: String },
    #[error("invalid playbook: rule {rule:?} sets `{field}`, which its check does not read")]
    FieldNotForCheck { rule: String, field: &'static str },
    #[error("invalid playbook: rule {rule:?} names the carve-out kind {kind:?}; the kinds are: {known}")]
    UnknownCarveOutKind { rule: String, kind: String, known: String },
}

impl Side {
    pub fn parse(text: &str) -> Result<Side, PlaybookError> {
        match text.to_ascii_lowercase().as_str() {
            "customer" => Ok(Side::Customer),
            "vendor" => Ok(Side::Vendor),
            "disclosing" => Ok(Side::Disclosing),
            "receiving" => Ok(Side::Receiving),
            other => Err(PlaybookError::UnknownSide(other.to_owned())),
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Customer => Side::Vendor,
            Side::Vendor => Side::Customer,
            Side::Disclosing => Side::Receiving,
            Side::Receiving => Side::Disclosing,
        }
    }
}

/// A key term a threshold can apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodTerm {
    InitialTerm,
    RenewalTerm,
    NonRenewalNotice,
    TerminationNotice,
    PaymentTerms,
    NonCompete,
    ConfidentialityPeriod,
    BreachNotice,
}

impl PeriodTerm {
    fn pick(self, terms: &Terms) -> Option<&Period> {
        match self {
            PeriodTerm::InitialTerm => terms.initial_term.as_ref(),
            PeriodTerm::RenewalTerm => terms.renewal_term.as_ref(),
            PeriodTerm::NonRenewalNotice => terms.non_renewal_notice.as_ref(),
            PeriodTerm::TerminationNotice => terms.termination_notice.as_ref(),
            PeriodTerm::PaymentTerms => terms.payment_terms.as_ref(),
            PeriodTerm::NonCompete => terms.non_compete.as_ref(),
            PeriodTerm::ConfidentialityPeriod => terms.confidentiality_period.as_ref(),
            PeriodTerm::BreachNotice => terms.breach_notice.as_ref(),
        }
    }

    fn label(self) -> &'static str {
        match self {
            PeriodTerm::InitialTerm => "initial term",
            PeriodTerm::RenewalTerm => "renewal term",
            PeriodTerm::NonRenewalNotice => "notice of non-renewal",
            PeriodTerm::TerminationNotice => "termination notice",
            PeriodTerm::PaymentTerms => "payment terms",
            PeriodTerm::NonCompete => "non-compete",
            PeriodTerm::ConfidentialityPeriod => "confidentiality period",
            PeriodTerm::BreachNotice => "breach notice",
        }
    }
}

impl Check {
    /// Whether the check reports a clause as missing (skipped for documents that leave
    /// clauses to another agreement: an amendment, an order form).
    pub fn reports_a_missing_clause(&self) -> bool {
        matches!(self, Check::Required { .. } | Check::LiabilityCapMissing | Check::WordingAbsent { .. })
    }
}

/// Wording that decides whether a clause of a category is what a rule is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClauseWording {
    pub not_when: Vec<String>,
    pub must_contain: Option<String>,
    pub ignoring: Vec<String>,
}

impl ClauseWording {
    fn holds(&self, clause: &str) -> bool {
        let lower = clause.to_lowercase();
        if self.not_when.iter().any(|phrase| lower.contains(phrase.as_str())) {
            return false;
        }
        let Some(cue) = &self.must_contain else { return true };
        let rest = self.ignoring.iter().fold(lower, |text, phrase| text.replace(phrase.as_str(), " "));
        rest.contains(cue.as_str())
    }
}

/// What a rule checks.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Check {
    /// A clause of this CUAD category must be present.
    Required { category: String },
    /// A clause of this CUAD category must not be present. A clause does not count when it
    /// has one of `not_when` ("without consent" in a change-of-control clause that frees a
    /// party from consent), nor when `must_contain` is set and the clause has it only inside
    /// the `ignoring` phrases ("exclusiv" only in "non-exclusive").
    Forbidden { category: String, wording: ClauseWording },
    /// The liability cap, in months of fees, must be at least `months`. A cap stated only as
    /// an amount is not judged (the fees are not known).
    CapBelowMonthsOfFees { months: u32 },
    /// The period must be at least `days` long (when the contract has it).
    PeriodBelow { term: PeriodTerm, days: u32 },
    /// The period must be at most `days` long (when the contract has it).
    PeriodAbove { term: PeriodTerm, days: u32 },
    /// The contract renews itself unless a party objects.
    AutoRenewal,
    /// The governing law must be one of `allowed` (compared case-insensitively).
    GoverningLawOutside { allowed: Vec<String> },
    /// The other party (or, with no side chosen, one party alone) may terminate for convenience.
    TerminationForConvenienceByOtherParty,
    /// Neither a general cap on liability nor a clause capping it was found.
    LiabilityCapMissing,
    /// The general cap protects only the other party (with no side chosen: one party only),
    /// so the reader's own liability is uncapped.
    CapProtectsOnlyOtherParty,
    /// Claims taken out of the cap and left uncapped that are not of the `usual` kinds
    /// (`wording/liability.toml` names the kinds).
    UncappedCarveOuts { usual: Vec<String> },
    /// The reader's own party gives an indemnity (a sentence with one of `any` whose actor is
    /// the reader's party or each party) and indemnities are taken out of the cap uncapped.
    UncappedIndemnity { any: Vec<String> },
    /// The document leaves blanks unfilled (`{…}`, `[Fill in]`, `[ ]`, `________`).
    UnfilledPlaceholders,
    /// A sentence with one of `any` (and, when set, one of `also`), whose actor — the party
    /// named just before the cue — is `actor`: "may amend this Agreement at any time",
    /// "hereby assigns … all right, title and interest".
    Wording { any: Vec<String>, also: Vec<String>, actor: Actor },
    /// The document speaks of one of `when` but has none of `any`: personal data handled
    /// with no data-protection terms.
    WordingAbsent { when: Vec<String>, any: Vec<String> },
}

/// Whose act a wording rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Whoever it is.
    #[default]
    Any,
    /// The other side (with no side chosen: one party alone, not each party).
    OtherParty,
    /// The reader's side or each party (with no side chosen: anyone).
    OwnParty,
}

#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub rationale: String,
    /// Suggested language to propose instead.
    pub fallback: String,
    /// The sides this rule protects; empty: every side.
    pub sides: Vec<Side>,
    #[serde(flatten)]
    pub check: Check,
}

#[derive(Clone, Debug, Serialize)]
pub struct Playbook {
    pub name: String,
    pub description: String,
    pub rules: Vec<Rule>,
}

/// The names of the checks, as written in `check = "…"`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CheckName {
    Required,
    Forbidden,
    CapBelowMonthsOfFees,
    PeriodBelow,
    PeriodAbove,
    AutoRenewal,
    GoverningLawOutside,
    TerminationForConvenienceByOtherParty,
    LiabilityCapMissing,
    CapProtectsOnlyOtherParty,
    UncappedCarveOuts,
    UncappedIndemnity,
    UnfilledPlaceholders,
    Wording,
    WordingAbsent,
}

/// A rule as written: one flat table (serde cannot refuse unknown fields of a flattened
/// enum, so the check's settings are read here and the check built from them).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title: String,
    severity: Severity,
    rationale: String,
    fallback: String,
    #[serde(default)]
    sides: Vec<Side>,
    check: CheckName,
    category: Option<String>,
    months: Option<u32>,
    term: Option<PeriodTerm>,
    days: Option<u32>,
    allowed: Option<Vec<String>>,
    usual: Option<Vec<String>>,
    #[serde(default)]
    not_when: Vec<String>,
    must_contain: Option<String>,
    #[serde(default)]
    ignoring: Vec<String>,
    any: Option<Vec<String>>,
    #[serde(default)]
    also: Vec<String>,
    #[serde(default)]
    actor: Actor,
    when: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaybook {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rule: Vec<RawRule>,
}

impl RawRule {
    fn into_rule(self) -> Result<Rule, PlaybookError> {
        let id = self.id.clone();
        let need = |field: &'static str| PlaybookError::MissingField { rule: id.clone(), field };
        let category = || -> Result<String, PlaybookError> {
            let category = self.category.clone().ok_or_else(|| need("category"))?;
            if CATEGORIES.contains(&category.as_str()) {
                Ok(category)
            } else {
                Err(PlaybookError::UnknownCategory { rule: id.clone(), category })
            }
        };
        if !matches!(self.check, CheckName::WordingAbsent) && self.when.is_some() {
            return Err(PlaybookError::FieldNotForCheck { rule: id.clone(), field: "when" });
        }
        if !matches!(self.check, CheckName::Wording | CheckName::WordingAbsent | CheckName::UncappedIndemnity) {
            let set = [("any", self.any.is_some())];
            if let Some((field, _)) = set.iter().find(|(_, set)| *set) {
                return Err(PlaybookError::FieldNotForCheck { rule: id.clone(), field });
            }
        }
        if !matches!(self.check, CheckName::Wording | CheckName::WordingAbsent) {
            let set = [("also", !self.also.is_empty()), ("actor", self.actor != Actor::Any)];
            if let Some((field, _)) = set.iter().find(|(_, set)| *set) {
                return Err(PlaybookError::FieldNotForCheck { rule: id.clone(), field });
            }
        }
        if !matches!(self.check, CheckName::Forbidden) {
            let set = [
                ("not_when", !self.not_when.is_empty()),
                ("must_contain", self.must_contain.is_some()),
                ("ignoring", !self.ignoring.is_empty()),
            ];
            if let Some((field, _)) = set.iter().find(|(_, set)| *set) {
                return Err(PlaybookError::FieldNotForCheck { rule: id.clone(), field });
            }
        }
        let lower = |phrases: &[String]| phrases.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>();
        let check = match self.check {
            CheckName::Required => Check::Required { category: category()? },
            CheckName::Forbidden => Check::Forbidden {
                category: category()?,
                wording: ClauseWording {
                    not_when: lower(&self.not_when),
                    must_contain: self.must_contain.as_ref().map(|cue| cue.to_lowercase()),
                    ignoring: lower(&self.ignoring),
                },
            },
            CheckName::CapBelowMonthsOfFees => {
                Check::CapBelowMonthsOfFees { months: self.months.ok_or_else(|| need("months"))? }
            }
            CheckName::PeriodBelow => Check::PeriodBelow {
                term: self.term.ok_or_else(|| need("term"))?,
                days: self.days.ok_or_else(|| need("days"))?,
            },
            CheckName::PeriodAbove => Check::PeriodAbove {
                term: self.term.ok_or_else(|| need("term"))?,
                days: self.days.ok_or_else(|| need("days"))?,
            },
            CheckName::AutoRenewal => Check::AutoRenewal,
            CheckName::GoverningLawOutside => {
                Check::GoverningLawOutside { allowed: self.allowed.clone().ok_or_else(|| need("allowed"))? }
            }
            CheckName::TerminationForConvenienceByOtherParty => Check::TerminationForConvenienceByOtherParty,
            CheckName::LiabilityCapMissing => Check::LiabilityCapMissing,
            CheckName::CapProtectsOnlyOtherParty => Check::CapProtectsOnlyOtherParty,
            CheckName::UncappedCarveOuts => {
                let usual = self.usual.clone().ok_or_else(|| need("usual"))?;
                let known = crate::terms::carve_out_kinds();
                if let Some(kind) = usual.iter().find(|kind| !known.contains(&kind.as_str())) {
                    return Err(PlaybookError::UnknownCarveOutKind {
                        rule: id.clone(),
                        kind: kind.clone(),
                        known: known.join(", "),
                    });
                }
                Check::UncappedCarveOuts { usual }
            }
            CheckName::UncappedIndemnity => {
                let any = self.any.as_deref().filter(|any| !any.is_empty()).ok_or_else(|| need("any"))?;
                Check::UncappedIndemnity { any: lower(any) }
            }
            CheckName::UnfilledPlaceholders => Check::UnfilledPlaceholders,
            CheckName::Wording => {
                let any = self.any.as_deref().filter(|any| !any.is_empty()).ok_or_else(|| need("any"))?;
                Check::Wording { any: lower(any), also: lower(&self.also), actor: self.actor }
            }
            CheckName::WordingAbsent => {
                let when = self.when.as_deref().filter(|when| !when.is_empty()).ok_or_else(|| need("when"))?;
                let any = self.any.as_deref().filter(|any| !any.is_empty()).ok_or_else(|| need("any"))?;
                Check::WordingAbsent { when: lower(when), any: lower(any) }
            }
        };
        Ok(Rule {
            id: self.id,
            title: self.title,
            severity: self.severity,
            rationale: self.rationale,
            fallback: self.fallback,
            sides: self.sides,
            check,
        })
    }
}

/// Where a finding points in the text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Citation {
    pub start: usize,
    pub end: usize,
    pub page: Option<u32>,
    /// The section it is in, as a lawyer cites it ("§ 8.1 Liability Caps"), when the
    /// document is numbered.
    pub section: Option<String>,
    pub text: String,
}

impl Citation {
    /// Where it is, in words: "§ 8.1 Liability Caps, p. 4"; the byte range only when the
    /// document has neither sections nor pages.
    pub fn place(&self) -> String {
        match (&self.section, self.page) {
            (Some(section), Some(page)) => format!("{section}, p. {page}"),
            (Some(section), None) => section.clone(),
            (None, Some(page)) => format!("p. {page}"),
            (None, None) => format!("bytes {}..{}", self.start, self.end),
        }
    }
}

/// A rule the contract breaks.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    /// What was found (or not), in words.
    pub detail: String,
    pub rationale: String,
    pub fallback: String,
    /// The clause or term the finding is about; `None` when it is about something missing.
    pub citation: Option<Citation>,
}

/// A clause as the playbook sees it.
pub struct FoundClause<'a> {
    pub category: &'a str,
    pub start: usize,
    pub end: usize,
}

impl Playbook {
    /// Parses and validates a playbook.
    pub fn from_toml(text: &str) -> Result<Playbook, PlaybookError> {
        let raw: RawPlaybook = toml::from_str(text).map_err(|e| PlaybookError::Syntax(e.to_string()))?;
        if raw.rule.is_empty() {
            return Err(PlaybookError::NoRules);
        }
        let mut seen = std::collections::HashSet::new();
        let mut rules = Vec::with_capacity(raw.rule.len());
        for rule in raw.rule {
            if !seen.insert(rule.id.clone()) {
                return Err(PlaybookError::DuplicateRule(rule.id));
            }
            rules.push(rule.into_rule()?);
        }
        Ok(Playbook { name: raw.name, description: raw.description, rules })
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

    /// A built-in playbook by name.
    pub fn built_in(name: &str) -> Option<Playbook> {
        BUILT_IN.iter().find(|(n, _)| *n == name).and_then(|(_, text)| Playbook::from_toml(text).ok())
    }

    /// The findings for a contract, most severe first, then in text order.
    pub fn check(&self, text: &str, clauses: &[FoundClause], terms: &Terms, side: Option<Side>) -> Vec<Finding> {
        let mut findings = Vec::new();
        // The segments lower-cased, once for every wording rule.
        let lowered = std::cell::OnceCell::new();
        for rule in &self.rules {
            if let Some(side) = side {
                if !rule.sides.is_empty() && !rule.sides.contains(&side) {
                    continue;
                }
            }
            let cite = |start: usize, end: usize| {
                Some(Citation { start, end, page: None, section: None, text: text[start..end].to_owned() })
            };
            let found = |detail: String, citation: Option<Citation>| Finding {
                rule: rule.id.clone(),
                severity: rule.severity,
                title: rule.title.clone(),
                detail,
                rationale: rule.rationale.clone(),
                fallback: rule.fallback.clone(),
                citation,
            };
            match &rule.check {
                Check::Required { category } => {
                    // Standard terms leave the law, parties and dates to the cover page.
                    let on_the_cover_page = terms.cover_page.is_some()
                        && ["Governing Law", "Parties", "Agreement Date", "Effective Date", "Expiration Date"]
                            .contains(&category.as_str());
                    if !on_the_cover_page && !clauses.iter().any(|c| c.category == category) {
                        findings.push(found(format!("No {category} clause was found."), None));
                    }
                }
                Check::Forbidden { category, wording } => {
                    if let Some(c) =
                        clauses.iter().find(|c| c.category == category && wording.holds(&text[c.start..c.end]))
                    {
                        let article = if category.starts_with(['A', 'E', 'I', 'O', 'U']) { "An" } else { "A" };
                        findings.push(found(format!("{article} {category} clause was found."), cite(c.start, c.end)));
                    }
                }
                Check::CapBelowMonthsOfFees { months } => {
                    if let Some(cap) = &terms.liability_cap {
                        if let Some(cap_months) = cap.months_of_fees.filter(|m| m < months) {
                            findings.push(found(
                                format!(
                                    "Liability is capped at {cap_months} months of fees (playbook: at least {months})."
                                ),
                                cite(cap.start, cap.end),
                            ));
                        }
                    }
                }
                Check::PeriodBelow { term, days } => {
                    if let Some(p) = term.pick(terms).filter(|p| p.days < *days) {
                        findings.push(found(
                            format!("The {} is {} (playbook: at least {days} days).", term.label(), p.value),
                            cite(p.start, p.end),
                        ));
                    }
                }
                Check::PeriodAbove { term, days } => {
                    if let Some(p) = term.pick(terms).filter(|p| p.days > *days) {
                        findings.push(found(
                            format!("The {} is {} (playbook: at most {days} days).", term.label(), p.value),
                            cite(p.start, p.end),
                        ));
                    }
                }
                Check::AutoRenewal => {
                    if let Some(renewal) = &terms.auto_renewal {
                        let notice = terms
                            .non_renewal_notice
                            .as_ref()
                            .map(|p| format!("; notice of non-renewal: {}", p.value))
                            .unwrap_or_default();
                        findings.push(found(
                            format!("The contract renews automatically{notice}."),
                            cite(renewal.start, renewal.end),
                        ));
                    }
                }
                Check::GoverningLawOutside { allowed } => {
                    if let Some(law) = &terms.governing_law {
                        let ok =
                            allowed.iter().any(|a| crate::terms::normalise(a) == crate::terms::normalise(&law.value));
                        if !ok {
                            findings.push(found(
                                format!(
                                    "Governed by the law of {} (playbook allows: {}).",
                                    law.value,
                                    allowed.join(", ")
                                ),
                                cite(law.start, law.end),
                            ));
                        }
                    }
                }
                Check::LiabilityCapMissing => {
                    if terms.liability_cap.is_none() && !clauses.iter().any(|c| c.category == "Cap on Liability") {
                        findings.push(found("No cap on either party's liability was found.".into(), None));
                    }
                }
                Check::CapProtectsOnlyOtherParty => {
                    if let Some(cap) = &terms.liability_cap {
                        let holder_side = side_of_name(&cap.protects, terms);
                        let one_sided = cap.protects != "each party";
                        let against_reader = match (side, holder_side) {
                            (Some(side), Some(holder)) => holder == side.other(),
                            (Some(_), None) => false,
                            (None, _) => true,
                        };
                        if one_sided && against_reader {
                            findings.push(found(
                                format!(
                                    "The cap protects only {}; the other party's liability is not capped.",
                                    cap.protects
                                ),
                                cite(cap.start, cap.end),
                            ));
                        }
                    }
                }
                Check::UncappedCarveOuts { usual } => {
                    for carve_out in terms.cap_carve_outs.iter().filter(|c| !c.capped) {
                        let unusual: Vec<&str> = carve_out
                            .kinds
                            .iter()
                            .filter(|kind| !usual.iter().any(|u| u.eq_ignore_ascii_case(kind)))
                            .map(String::as_str)
                            .collect();
                        if !unusual.is_empty() {
                            findings.push(found(
                                format!("Uncapped beyond the usual carve-outs: {}.", unusual.join(", ")),
                                cite(carve_out.start, carve_out.end),
                            ));
                        }
                    }
                }
                Check::UncappedIndemnity { any } => {
                    // (A carve-out that speaks of the cap or a limit, not an indemnity read as one.)
                    let uncapped = terms.cap_carve_outs.iter().find(|c| {
                        let words = text[c.start..c.end].to_lowercase();
                        !c.capped
                            && c.kinds.iter().any(|kind| kind == "indemnification")
                            && [
                                "cap",
                                "limitation of liability",
                                "limitations of liability",
                                "this limitation",
                                "not exceed",
                                "not apply",
                                "not limit",
                                "not be subject to",
                            ]
                            .iter()
                            .any(|cue| words.contains(cue))
                    });
                    if let Some(carve_out) = uncapped {
                        let segments = lowered.get_or_init(|| lowered_segments(text));
                        let indemnity = wording_match(text, segments, any, &[], Actor::OwnParty, terms, side)
                            .filter(|(start, _, _)| !(carve_out.start..carve_out.end).contains(start));
                        if let Some((start, end, holder)) = indemnity {
                            let who = holder.unwrap_or_else(|| "Your side".to_owned());
                            findings.push(found(
                                format!(
                                    "{who} indemnifies (\"{}\"), and the cap does not apply to indemnities (\"{}\").",
                                    quote_words(&text[start..end]),
                                    quote_words(&text[carve_out.start..carve_out.end])
                                ),
                                cite(start, end),
                            ));
                        }
                    }
                }
                Check::UnfilledPlaceholders => {
                    if let Some(first) = terms.placeholders.first() {
                        let mut shown: Vec<&str> = Vec::new();
                        for p in &terms.placeholders {
                            if !shown.contains(&p.value.as_str()) && shown.len() < 5 {
                                shown.push(&p.value);
                            }
                        }
                        let count = terms.placeholders.len();
                        let more = if count >= 100 { "100 or more" } else { "" };
                        let count = if more.is_empty() { count.to_string() } else { more.to_owned() };
                        findings.push(found(
                            format!("{count} blank(s) are not filled in, e.g. {}.", shown.join(", ")),
                            cite(first.start, first.end),
                        ));
                    }
                }
                Check::Wording { any, also, actor } => {
                    let segments = lowered.get_or_init(|| lowered_segments(text));
                    if let Some((start, end, holder)) = wording_match(text, segments, any, also, *actor, terms, side) {
                        let detail = match holder {
                            Some(holder) => format!("{holder}: \"{}\"", quote_words(&text[start..end])),
                            None => format!("\"{}\"", quote_words(&text[start..end])),
                        };
                        findings.push(found(detail, cite(start, end)));
                    }
                }
                Check::WordingAbsent { when, any } => {
                    let segments = lowered.get_or_init(|| lowered_segments(text));
                    let has = |phrases: &[String]| {
                        segments.iter().any(|(_, _, lower)| phrases.iter().any(|p| find_phrase(lower, p).is_some()))
                    };
                    if has(when) && !has(any) {
                        findings
                            .push(found(format!("The document speaks of {} but has no terms on it.", when[0]), None));
                    }
                }
                Check::TerminationForConvenienceByOtherParty => {
                    for c in clauses.iter().filter(|c| c.category == "Termination for Convenience") {
                        if let Some(holder) = unilateral_terminator(&text[c.start..c.end], terms, side) {
                            findings.push(found(
                                format!("{holder} alone may terminate the contract for convenience."),
                                cite(c.start, c.end),
                            ));
                            break;
                        }
                    }
                }
            }
        }
        findings.sort_by_key(|f| (f.severity, f.citation.as_ref().map_or(0, |c| c.start)));
        findings
    }
}

/// The party a termination-for-convenience clause gives the right to, when only one party
/// has it and it is not the reader's side: the words before "may terminate" name it by its
/// role ("Licensor") or its defined short name.
fn unilateral_terminator(clause: &str, terms: &Terms, side: Option<Side>) -> Option<String> {
    let lower = clause.to_lowercase();
    for (at, _) in lower.match_indices("may terminate").chain(lower.match_indices("shall have the right to terminate"))
    {
        let before = &lower[crate::floor_boundary(&lower, at.saturating_sub(80))..at];
        if ["either party", "each party", "both parties", "any party", "either of the parties"]
            .iter()
            .any(|m| before.contains(m))
        {
            continue;
        }
        // The holder is the role or party named last before the verb.
        let Some((_, name, role)) = named_last(before, terms) else { continue };
        match (side, role) {
            (Some(side), Some(role)) if role == side.other() => return Some(name),
            (Some(_), _) => continue,
            (None, _) => return Some(name),
        }
    }
    None
}

/// The first sentence with a cue of `any` (and of `also`, when given) whose actor is `actor`:
/// its offsets and the actor's name when one is named.
/// Each segment with its lower-cased text, when lower-casing keeps its byte offsets.
fn lowered_segments(text: &str) -> Vec<(usize, usize, String)> {
    crate::segment::segments(text)
        .into_iter()
        .filter_map(|segment| {
            let lower = text[segment.start..segment.end].to_lowercase();
            (lower.len() == segment.end - segment.start).then_some((segment.start, segment.end, lower))
        })
        .collect()
}

fn wording_match(
    text: &str,
    segments: &[(usize, usize, String)],
    any: &[String],
    also: &[String],
    actor: Actor,
    terms: &Terms,
    side: Option<Side>,
) -> Option<(usize, usize, Option<String>)> {
    for (start, end, lower) in segments {
        let Some(at) = any.iter().filter_map(|cue| find_phrase(lower, cue)).min() else { continue };
        if !also.is_empty() && !also.iter().any(|cue| find_phrase(lower, cue).is_some()) {
            continue;
        }
        let original = &text[*start..*end];
        let holder = actor_before(lower, original, at, terms);
        let applies = match (actor, side, &holder) {
            (Actor::Any, _, _) => true,
            (Actor::OtherParty, _, Holder::Each) => false,
            // A party named by its own name, of no known side: the other party, unless it is
            // called by the reader's role word.
            (Actor::OtherParty, Some(side), Holder::Named(_, role)) => role.is_none_or(|role| role == side.other()),
            (Actor::OtherParty, Some(_), Holder::Unnamed) => false,
            (Actor::OtherParty, None, holder) => matches!(holder, Holder::Named(..)),
            (Actor::OwnParty, None, _) | (Actor::OwnParty, _, Holder::Each | Holder::Unnamed) => true,
            (Actor::OwnParty, Some(side), Holder::Named(_, role)) => role.is_none_or(|role| role == side),
        };
        if applies {
            let name = match holder {
                Holder::Named(name, _) => Some(name),
                Holder::Each => Some("Each party".to_owned()),
                Holder::Unnamed => None,
            };
            return Some((*start, *end, name));
        }
    }
    None
}

/// Who a sentence says acts, from the words just before the act.
enum Holder {
    Each,
    Named(String, Option<Side>),
    Unnamed,
}

/// Where a phrase starts; " … " in a phrase stands for up to 60 bytes of other words
/// ("reserves the right … to amend" matches "reserves the right, at its sole discretion, to
/// amend").
fn find_phrase(lower: &str, phrase: &str) -> Option<usize> {
    let mut parts = phrase.split(" … ");
    let first = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    'start: for (at, _) in lower.match_indices(first) {
        let mut from = at + first.len();
        for part in &rest {
            let window_end = crate::floor_boundary(lower, from + 60 + part.len());
            match lower[from..window_end].find(part) {
                Some(found) => from += found + part.len(),
                None => continue 'start,
            }
        }
        return Some(at);
    }
    None
}

/// The role word or party short name named last in `before` (lower-cased text): where, as
/// what name, and its side when known.
fn named_last(before: &str, terms: &Terms) -> Option<(usize, String, Option<Side>)> {
    let mut holder: Option<(usize, String, Option<Side>)> = None;
    let mut consider = |pos: Option<usize>, name: &dyn Fn() -> String, role: Option<Side>| {
        // (Strictly later: of equal places the first tried, roles before parties, wins.)
        if let Some(pos) = pos.filter(|pos| holder.as_ref().is_none_or(|(p, _, _)| pos > p)) {
            holder = Some((pos, name(), role));
        }
    };
    for (word, role) in crate::roles::role_words() {
        consider(before.rfind(word), &|| capitalise(word), Some(role));
    }
    for short in terms.parties.iter().filter_map(|party| party.short_name.as_ref()) {
        consider(before.rfind(short.to_lowercase().as_str()), &|| short.clone(), side_of_name(short, terms));
    }
    holder
}

fn actor_before(lower: &str, original: &str, at: usize, terms: &Terms) -> Holder {
    // The subject is before the last modal ahead of the cue ("Vendor may use Customer Data to
    // train": Vendor, not the Customer of "Customer Data").
    let modal = [" may ", " shall ", " will ", " reserves", " hereby", " agrees", " has the right", " can "]
        .iter()
        .filter_map(|m| lower[..at].rfind(m))
        .max();
    let at = match modal {
        Some(m) if m < at => m + 1,
        _ => at,
    };
    let before = &lower[crate::floor_boundary(lower, at.saturating_sub(80))..at];
    let mutual = ["either party", "each party", "both parties", "any party", "either of the parties", "the parties"];
    let holder = named_last(before, terms);
    let mutual_at = mutual.iter().filter_map(|m| before.rfind(m)).max();
    // No role or party named: the capitalised name just before the act ("GitHub may modify").
    if holder.is_none() && mutual_at.is_none() {
        let from = crate::floor_boundary(original, at.saturating_sub(40));
        let named = original[from..crate::floor_boundary(original, at)]
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .rfind(|w| {
                w.chars().next().is_some_and(char::is_uppercase)
                    && !["The", "This", "Agreement", "Section", "If", "Any", "Each", "Such", "In"].contains(w)
            });
        if let Some(name) = named {
            return Holder::Named(name.to_owned(), crate::roles::side_of_role(name));
        }
    }
    match (holder, mutual_at) {
        (Some((pos, _, _)), Some(m)) if m >= pos => Holder::Each,
        (Some((_, name, role)), _) => Holder::Named(name, role),
        (None, Some(_)) => Holder::Each,
        (None, None) => Holder::Unnamed,
    }
}

/// A quote cut to about 160 bytes at a word.
fn quote_words(text: &str) -> String {
    // (Runs of spaces, as Markdown's blanked tags leave them, read as one.)
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = flat.as_str();
    if text.len() <= 160 {
        return text.to_owned();
    }
    let cut = crate::floor_boundary(text, 160);
    let cut = text[..cut].rfind(' ').unwrap_or(cut);
    format!("{}…", &text[..cut])
}

/// The side a party named by a role word ("Provider") or by its short name plays.
fn side_of_name(name: &str, terms: &Terms) -> Option<Side> {
    crate::roles::side_of_role(name).or_else(|| {
        terms
            .parties
            .iter()
            .filter(|p| p.short_name.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(name)) || p.name == name)
            .find_map(|p| p.side)
    })
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause<'a>(category: &'a str, text: &str, needle: &str) -> FoundClause<'a> {
        let start = text.find(needle).unwrap_or(0);
        FoundClause { category, start, end: start + needle.len() }
    }

    #[test]
    fn the_built_in_playbooks_load() {
        for (name, _) in BUILT_IN {
            let playbook = Playbook::built_in(name).expect(name);
            assert!(playbook.rules.len() >= 8, "{name}");
        }
    }

    #[test]
    fn bad_playbooks_are_refused_with_the_reason() {
        let unknown = r#"name = "x"
[[rule]]
id = "a"
title = "t"
severity = "high"
rationale = "r"
fallback = "f"
check = "required"
category = "Cap On Liability"
"#;
        assert!(matches!(
            Playbook::from_toml(unknown),
            Err(PlaybookError::UnknownCategory { category, .. }) if category == "Cap On Liability"
        ));
        let typo = unknown.replace("fallback =", "fallbak =");
        assert!(Playbook::from_toml(&typo).expect_err("unknown field").to_string().contains("fallbak"));
        let severity = unknown.replace("\"high\"", "\"urgent\"");
        assert!(Playbook::from_toml(&severity).is_err());
        assert!(Playbook::from_toml("name = [").is_err());
    }

    #[test]
    fn rules_find_missing_forbidden_and_threshold_breaches() {
        let playbook = Playbook::built_in("default").expect("default");
        let text = "Licensor may terminate this Agreement for convenience upon ten (10) days notice. \
                    This Agreement shall automatically renew for successive one (1) year periods unless either party gives notice of non-renewal at least fifteen (15) days prior to the end of the term.\n\
                    In no event shall Licensor's liability exceed the fees paid in the three (3) months before the claim.\n\
                    This Agreement is governed by the laws of the Cayman Islands.";
        let terms = crate::terms::key_terms(text);
        let clauses = [
            clause("Termination for Convenience", text, "Licensor may terminate this Agreement for convenience"),
            clause("Cap on Liability", text, "In no event"),
        ];
        let findings = playbook.check(text, &clauses, &terms, Some(Side::Customer));
        let ids: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        for expected in ["cap-below-12-months", "governing-law", "termination-for-convenience-by-other-party"] {
            assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
        }
        assert!(ids.contains(&"auto-renewal-short-notice") || ids.contains(&"auto-renewal"), "{ids:?}");
        let cap = findings.iter().find(|f| f.rule == "cap-below-12-months").expect("cap finding");
        assert!(cap.citation.as_ref().is_some_and(|c| c.text.starts_with("In no event")));
        assert!(findings.windows(2).all(|w| w[0].severity <= w[1].severity));
        // The vendor is the licensor: its own right to terminate is not a risk to it.
        let vendor = playbook.check(text, &clauses, &terms, Some(Side::Vendor));
        assert!(!vendor.iter().any(|f| f.rule == "termination-for-convenience-by-other-party"));
        // Nothing found: the required clauses are reported missing, without a citation.
        let empty = playbook.check("", &[], &Terms::default(), None);
        assert!(empty.iter().any(|f| f.rule == "cap-missing" && f.citation.is_none()));
    }

    fn findings_for(text: &str, side: Option<Side>) -> Vec<Finding> {
        let playbook = Playbook::built_in("default").expect("default");
        let terms = crate::terms::key_terms(text);
        playbook.check(text, &[], &terms, side)
    }

    #[test]
    fn a_mutual_cap_with_the_usual_carve_outs_raises_no_liability_risk() {
        let text = "Each party's aggregate liability shall not exceed the fees paid in the twelve (12) months before \
                    the claim. The foregoing limitation shall not apply to a party's indemnification obligations or \
                    its breach of Section 9 (Confidentiality). In no event shall either party be liable for indirect \
                    or consequential damages.";
        let rules: Vec<String> = findings_for(text, Some(Side::Customer)).into_iter().map(|f| f.rule).collect();
        for rule in ["cap-missing", "cap-one-sided", "uncapped-carve-outs", "cap-below-12-months"] {
            assert!(!rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
        }
    }

    #[test]
    fn a_cap_protecting_only_the_vendor_is_high_for_the_customer() {
        let text = "In no event shall Provider's aggregate liability exceed the fees paid in the twelve (12) months \
                    before the claim.";
        let customer = findings_for(text, Some(Side::Customer));
        let one_sided = customer.iter().find(|f| f.rule == "cap-one-sided").expect("cap-one-sided");
        assert_eq!(one_sided.severity, Severity::High);
        assert!(!findings_for(text, Some(Side::Vendor)).iter().any(|f| f.rule == "cap-one-sided"));
    }

    #[test]
    fn an_uncapped_carve_out_beyond_the_usual_ones_is_raised_and_cited() {
        let text = "Each party's aggregate liability shall not exceed the fees paid in the twelve (12) months before \
                    the claim. The foregoing limitation shall not apply to a breach of Section 7 (Data Protection).";
        let findings = findings_for(text, Some(Side::Vendor));
        let finding = findings.iter().find(|f| f.rule == "uncapped-carve-outs").expect("uncapped-carve-outs");
        assert!(finding.detail.contains("data protection"), "{}", finding.detail);
        assert!(finding.citation.as_ref().is_some_and(|c| c.text.starts_with("The foregoing limitation")));
    }

    #[test]
    fn a_carve_out_kind_the_wording_table_lacks_is_refused() {
        let text = r#"name = "x"
[[rule]]
id = "a"
title = "t"
severity = "medium"
rationale = "r"
fallback = "f"
check = "uncapped_carve_outs"
usual = ["indemnity"]
"#;
        assert!(matches!(
            Playbook::from_toml(text),
            Err(PlaybookError::UnknownCarveOutKind { kind, .. }) if kind == "indemnity"
        ));
    }

    #[test]
    fn unfilled_blanks_are_a_finding_citing_the_first() {
        let text =
            "This Agreement is governed by the laws of {governing_law}. Payment is due within {payment_days} days.";
        let findings = findings_for(text, None);
        let blank = findings.iter().find(|f| f.rule == "unfilled-placeholders").expect("unfilled-placeholders");
        assert!(blank.detail.starts_with("2 blank(s)"), "{}", blank.detail);
        assert_eq!(blank.citation.as_ref().map(|c| c.text.as_str()), Some("{governing_law}"));
        assert!(!findings_for("Payment is due within 30 days.", None)
            .iter()
            .any(|f| f.rule == "unfilled-placeholders"));
    }

    fn forbidden_finding(rule: &str, category: &'static str, text: &str, side: Side) -> bool {
        let playbook = Playbook::built_in("default").expect("default");
        let clauses = [FoundClause { category, start: 0, end: text.len() }];
        playbook.check(text, &clauses, &Terms::default(), Some(side)).iter().any(|f| f.rule == rule)
    }

    #[test]
    fn a_non_exclusive_grant_is_no_exclusivity() {
        let grant = "Licensor grants Licensee a non-exclusive, non-transferable license to use the Software.";
        assert!(!forbidden_finding("exclusivity", "Exclusivity", grant, Side::Customer));
        let exclusive = "Distributor shall be the exclusive distributor of the Products in the Territory.";
        assert!(forbidden_finding("exclusivity", "Exclusivity", exclusive, Side::Customer));
    }

    #[test]
    fn a_clause_freeing_a_party_from_consent_on_a_change_of_control_gives_no_rights() {
        let freeing = "Either party may assign this Agreement without the consent of the other party in connection \
                       with a merger, acquisition or change of control.";
        assert!(!forbidden_finding("change-of-control", "Change of Control", freeing, Side::Vendor));
        let giving = "Customer may terminate this Agreement upon a change of control of Vendor.";
        assert!(forbidden_finding("change-of-control", "Change of Control", giving, Side::Vendor));
    }

    #[test]
    fn clause_wording_on_a_check_that_ignores_it_is_refused() {
        let text = r#"name = "x"
[[rule]]
id = "a"
title = "t"
severity = "low"
rationale = "r"
fallback = "f"
check = "required"
category = "Exclusivity"
not_when = ["non-exclusive"]
"#;
        assert!(matches!(Playbook::from_toml(text), Err(PlaybookError::FieldNotForCheck { field: "not_when", .. })));
    }

    fn rules_fired(playbook: &str, text: &str, side: Option<Side>) -> Vec<String> {
        let playbook = Playbook::built_in(playbook).expect("playbook");
        let terms = crate::terms::key_terms(text);
        playbook.check(text, &[], &terms, side).into_iter().map(|f| f.rule).collect()
    }

    const CUSTOMER_INDEMNIFIES: &str = "11. Indemnification. Customer shall defend, indemnify and hold harmless \
        Provider from any third-party claim arising from Customer Data.";

    #[test]
    fn an_uncapped_indemnity_is_raised_for_the_side_that_gives_it() {
        let text = format!(
            "10. Limitation of Liability. Except for a party's indemnification obligations, each party's aggregate \
             liability arising out of this Agreement shall not exceed the fees paid in the twelve (12) months \
             preceding the claim.\n\n{CUSTOMER_INDEMNIFIES}"
        );
        assert!(rules_fired("default", &text, Some(Side::Customer)).contains(&"uncapped-indemnity".to_owned()));
        assert!(!rules_fired("default", &text, Some(Side::Vendor)).contains(&"uncapped-indemnity".to_owned()));
    }

    #[test]
    fn an_indemnity_under_the_cap_is_not_raised() {
        let text = format!(
            "10. Limitation of Liability. Each party's aggregate liability arising out of this Agreement, \
             including under Section 11, shall not exceed the fees paid in the twelve (12) months preceding the \
             claim.\n\n{CUSTOMER_INDEMNIFIES}"
        );
        assert!(!rules_fired("default", &text, Some(Side::Customer)).contains(&"uncapped-indemnity".to_owned()));
    }

    #[test]
    fn a_breach_notice_slower_than_72_hours_is_raised_for_the_customer() {
        let slow = "Vendor shall notify Customer of any Security Incident affecting Customer Data within five (5) \
                    business days.";
        assert!(rules_fired("default", slow, Some(Side::Customer)).contains(&"breach-notice-slow".to_owned()));
        let prompt = "Vendor shall notify Customer of any Security Incident affecting Customer Data within \
                      seventy-two (72) hours.";
        assert!(!rules_fired("default", prompt, Some(Side::Customer)).contains(&"breach-notice-slow".to_owned()));
    }

    #[test]
    fn a_right_of_the_vendor_to_amend_the_terms_alone_is_raised_for_the_customer_only() {
        let text = "Provider may amend these Terms at any time by posting the amended Terms on its website.";
        assert!(rules_fired("default", text, Some(Side::Customer)).contains(&"unilateral-amendment".to_owned()));
        assert!(!rules_fired("default", text, Some(Side::Vendor)).contains(&"unilateral-amendment".to_owned()));
        let mutual = "Either party may amend this Agreement only by a writing signed by both parties.";
        assert!(!rules_fired("default", mutual, Some(Side::Customer)).contains(&"unilateral-amendment".to_owned()));
    }

    #[test]
    fn price_changes_suspension_and_data_use_by_the_vendor_are_raised_for_the_customer() {
        let text = "Vendor may increase the fees on thirty (30) days' notice.\n\
                    Vendor may suspend Customer's access to the Service at any time.\n\
                    Vendor may use Customer Data to train and improve its machine learning models.";
        let fired = rules_fired("default", text, Some(Side::Customer));
        for rule in ["unilateral-price-change", "suspension", "customer-data-use"] {
            assert!(fired.contains(&rule.to_owned()), "{rule} missing from {fired:?}");
        }
    }

    #[test]
    fn a_release_of_claims_in_an_amendment_is_raised() {
        let text = "In consideration of the foregoing, Customer hereby releases and forever discharges Vendor from \
                    any and all claims arising under the Agreement before the date of this Amendment.";
        assert!(rules_fired("default", text, Some(Side::Customer)).contains(&"release-of-claims".to_owned()));
        // The party released is not the one giving up claims.
        assert!(!rules_fired("default", text, Some(Side::Vendor)).contains(&"release-of-claims".to_owned()));
    }

    #[test]
    fn an_nda_assignment_of_all_right_title_and_interest_is_raised_for_the_recipient() {
        let text = "Recipient hereby assigns to Discloser all right, title and interest in any Feedback.";
        assert!(rules_fired("nda", text, Some(Side::Receiving)).contains(&"ip-assignment-wording".to_owned()));
        assert!(!rules_fired("nda", text, Some(Side::Disclosing)).contains(&"ip-assignment-wording".to_owned()));
    }

    #[test]
    fn wording_fields_on_another_check_are_refused() {
        let text = r#"name = "x"
[[rule]]
id = "a"
title = "t"
severity = "low"
rationale = "r"
fallback = "f"
check = "auto_renewal"
any = ["renew"]
"#;
        assert!(matches!(Playbook::from_toml(text), Err(PlaybookError::FieldNotForCheck { field: "any", .. })));
    }

    #[test]
    fn a_phrase_may_leave_a_gap_for_other_words() {
        assert_eq!(
            find_phrase(
                "github reserves the right, at its sole discretion, to amend this",
                "reserves the right … to amend"
            ),
            Some(7)
        );
        assert_eq!(
            find_phrase("reserves the right to object; the parties may later amend", "reserves the right … to amend"),
            None
        );
        let text = "GitHub reserves the right, at its sole discretion, to amend this Agreement at any time.";
        assert!(rules_fired("default", text, Some(Side::Customer)).contains(&"unilateral-amendment".to_owned()));
    }

    #[test]
    fn the_nda_confidentiality_period_rule_reads_the_survival_period() {
        let text = "1. Term. This Agreement shall remain in effect for ten (10) years.\n\n2. Survival. The \
                    obligations of confidentiality shall survive for six (6) months after disclosure.";
        let fired = rules_fired("nda", text, Some(Side::Disclosing));
        assert!(fired.contains(&"term-too-short".to_owned()), "{fired:?}");
        assert!(!rules_fired("nda", text, Some(Side::Receiving)).contains(&"term-too-long".to_owned()));
    }

    #[test]
    fn personal_data_without_data_protection_terms_is_raised_for_the_customer() {
        let bare = "Vendor will host Customer's personal data on its servers.";
        assert!(rules_fired("default", bare, Some(Side::Customer)).contains(&"data-protection-missing".to_owned()));
        let covered =
            "Vendor will host Customer's personal data. Vendor shall comply with the Data Processing Addendum.";
        assert!(!rules_fired("default", covered, Some(Side::Customer)).contains(&"data-protection-missing".to_owned()));
        assert!(!rules_fired("default", "Vendor will host files.", Some(Side::Customer))
            .contains(&"data-protection-missing".to_owned()));
    }
}
