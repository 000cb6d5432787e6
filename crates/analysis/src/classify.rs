//! Clause classification into the 41 CUAD categories: one logistic-regression scorer per
//! category over hashed word unigrams and bigrams of a segment, trained from labelled
//! contracts by [`train`] and shipped as a small file (weights quantised to 8 bits).
//!
//! This is the lexical baseline the engine starts from; every prediction carries the
//! segment's offsets as evidence and a probability as confidence.

use serde::Serialize;

use crate::segment::Segment;

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
pub static BUILT_IN_MODEL: &[u8] = include_bytes!("../../../models/clauses.bin");

/// Phrases that, in a segment, are evidence of a category whatever the model says: wording
/// that is specific to the category but too rare in the training data for the model to learn.
/// Matched on lower-cased text.
pub const PHRASES: &[(&str, &[&str])] = &[
    (
        // A licence reaching the licensee's affiliates: granted to them, or sublicensable to them
        // (5-fold cross-validated presence F1 0.553 → 0.623, evidence F1 0.358 → 0.470, retrained).
        "Affiliate License-Licensee",
        &[
            "sublicens…to its affiliates",
            "sublicens…to affiliates",
            "sublicens…to any of its affiliates",
            "sublicens…to one or more of its affiliates",
            "sub-licens…to its affiliates",
            "sub-licens…to affiliates",
            "grants to…and its affiliates",
        ],
    ),
    (
        // Disparaging by word or by conduct: "refrain from any practice injurious to … the goodwill".
        "Non-Disparagement",
        &[
            "disparag",
            "harmful to…goodwill",
            "harmful to…reputation",
            "injurious to…goodwill",
            "injurious to…reputation",
            "prejudicial to…goodwill",
            "prejudicial to…reputation",
            "detrimental to…goodwill",
            "detrimental to…reputation",
            "detrimental to…image",
            "damaging to…reputation",
        ],
    ),
    (
        // CUAD's definition takes in a fee owed upon termination as well as damages for breach:
        // with these, 5-fold cross-validated presence F1 0.687 → 0.805 (31 found of 40, 6 false).
        "Liquidated Damages",
        &[
            "liquidated damages",
            "termination fee",
            "termination payment",
            "pay a penalty",
            "payment penalties",
            "penalty of",
            "penalty equal",
            "as a penalty",
            "buyout payment",
        ],
    ),
    ("Source Code Escrow", &["source code escrow", "escrow agent", "deposit the source code"]),
    (
        "Most Favored Nation",
        &[
            "most favored",
            "most favoured",
            // Treated no worse than any other customer, not merely "on terms no less
            // favourable than" some benchmark (the terms before a transfer, the benefits
            // before a change in law), which CUAD does not label: on the training part, 3
            // false contracts fewer and one found.
            "no less favorabl…any other",
            "no less favourabl…any other",
            "no less favorabl…any of",
            "no less favourabl…any of",
            "more favorable terms",
            "more favorable price",
            "more favourable terms",
            "more favorable than",
            "more favourable than",
            "at least as favorable",
            "at least as favourable",
            "favorable terms",
            "lowest price",
        ],
    ),
    ("No-Solicit of Employees", &["solicit…employ", "solicit…personnel"]),
    (
        "Rofr/Rofo/Rofn",
        &[
            "right of first refusal",
            "right of first offer",
            "right of first negotiation",
            "first right to",
            "first right of",
            "a first right",
            "shall first offer",
        ],
    ),
    (
        "Minimum Commitment",
        &[
            "minimum purchase",
            "minimum order",
            "minimum quantit",
            "minimum commitment",
            "minimum annual",
            "minimum monthly",
            "minimum fee",
            "minimum royalt",
            "minimum payment",
            "minimum sales",
            "minimum revenue",
            "minimum volume",
        ],
    ),
    (
        // Co-owned things, not the "joint venture, co-ownership or partnership" that a
        // relationship-of-the-parties clause disclaims: on the training part, 3 false
        // contracts fewer and none lost.
        "Joint IP Ownership",
        &[
            "jointly own",
            "joint ownership",
            "owned jointly",
            "co-owned",
            "co-owner of",
            "co-owners of",
            "co-ownership with",
            "joint names",
            "jointly registered",
        ],
    ),
    (
        // Not to sue, nor to contest or challenge the other side's title, marks or patents.
        "Covenant Not to Sue",
        &[
            "covenants not to sue",
            "covenant not to sue",
            "agrees not to sue",
            "not to challenge",
            "not challenge",
            "never contest",
            "not contest…ownership",
            "not contest…title",
            "not contest…validity",
            "directly or indirectly challenge",
            "contests or challenges",
        ],
    ),
];

/// Wording rules for categories the model cannot learn from a dozen examples, or whose wording
/// says more than the model learns (a licence's attributes), each chosen on the training part
/// only: a segment is evidence when every `all` pattern matches its lower-cased text and no
/// `none` pattern does, and these categories are decided by their rules, the model being
/// heard only when it is sure (`RULED_MODEL_FLOOR`; its other guesses only added false
/// positives). On the training part (contract-level F1 of the rule alone, against the model's
/// 5-fold cross-validated presence F1): Unlimited License 0.83 (model 0.00), Third Party
/// Beneficiary 0.59 (0.30), Affiliate License-Licensor 0.47 (0.00), Price Restrictions 0.39
/// (0.00), No-Solicit of Customers 0.54 (0.17); see each rule for the later ones.
pub struct Rule {
    pub category: &'static str,
    pub all: &'static [&'static str],
    pub none: &'static [&'static str],
}

pub const RULES: &[Rule] = &[
    Rule {
        // "an unlimited, perpetual … licence", "unlimited use", "unlimited copies", but not
        // unlimited liability or an unlimited period.
        category: "Unlimited/All-You-Can-Eat-License",
        all: &[r"\bunlimited\b"],
        none: &[r"liabilit|damages|amount|\btime\b|duration|period|unlimited (in )?(scope|term)"],
    },
    Rule {
        // "no third-party beneficiaries, except …": CUAD marks the exceptions, not the bare
        // disclaimer. ("for the benefit of any third party", once a cue here, is mostly a
        // restriction on use: without it 20 false presences instead of 25, none lost.)
        category: "Third Party Beneficiary",
        all: &[
            r"third[- ]part(y|ies) beneficiar|confer[^.]{0,80}upon any (person|party|third)",
            r"\bexcept\b|\bother than (its |their )?(affiliates|indemnified|permitted)|notwithstanding|provided,? however|\bsave\b|\bexcluding\b",
        ],
        none: &[],
    },
    Rule {
        // "… is an intended third-party beneficiary of this Agreement".
        category: "Third Party Beneficiary",
        all: &[
            r"\b(is|are|be|deemed to be|as|constitute) (an? )?(intended |express |expressly intended )?third[- ]part(y|ies) beneficiar",
        ],
        none: &[r"\bno (\w+ )?third|\bnot (be )?(an? )?(intended )?third|\bnothing\b"],
    },
    Rule {
        // The licensor grants for itself and its affiliates (or makes them grant, or obtains
        // the grant from them; "as representative of the other members of its Group" added
        // 2 of 11 contracts at no false presence).
        category: "Affiliate License-Licensor",
        all: &[
            r"(on behalf of|for) itself and (as representative of )?(its|the other members of|all other members of)|obtain from (your|its|their) (respective )?affiliates|cause (its|each of its|the other members of|each member of)[^.]{0,40}(affiliates|group|subsidiaries)[^.]{0,20} to (grant|license)|(and|or) (its|their) (respective )?affiliates[^.]{0,60}hereby grants?|owned or controlled by (\w+ )?(or|and) (its|their) (respective )?affiliates",
            r"licen[cs]e|grant",
        ],
        none: &[],
    },
    Rule {
        // A promise not to solicit, divert or entice the other side's customers or clients.
        category: "No-Solicit of Customers",
        all: &[
            r"\b(solicit|divert|entice|canvass|induce|interfere)\w*[^.;]{0,100}\b(customers?|clients?|custom|insureds|accounts)\b",
            r"\b(not|neither|nor|refrain)\b",
        ],
        none: &[r"solicit\w* (the services of )?(any )?(of [\w']+ )?employ|not generally"],
    },
    Rule {
        // An irrevocable or perpetual licence or right to use: on the training part the rule
        // alone finds 36 of the 45 contracts with one, 5 without (the model, 5-fold: 34, 10).
        category: "Irrevocable or Perpetual License",
        all: &[r"(irrevocabl|perpetual)[^.;]{0,80}\b(licen[cs]e|right to use)"],
        none: &[],
    },
    Rule {
        // A licence or right that is non-transferable or non-assignable: on the training part
        // the rule alone finds 64 of the 88 contracts with one, 2 without (the model, 5-fold:
        // 73, 23).
        category: "Non-Transferable License",
        all: &[
            r"(non-?transferable|not transferable|non-?assignable)[^.;]{0,100}(licen[cs]e|right)|licen[cs]e[^.;]{0,100}(non-?transferable|not transferable|non-?assignable)",
        ],
        none: &[],
    },
    Rule {
        // A price or fee that may rise only so far or so often: the change and the price in
        // one clause, within 60 bytes (anywhere in the segment, 22 false presences on the
        // training part, "a material adverse change … the fees … limited to"; so, 14 and no
        // clause lost).
        category: "Price Restrictions",
        all: &[
            r"\b(increase|adjust|raise|change)[sd]?\b[^.;]{0,60}\b(price|prices|pricing|fees?|rates?|charges?)\b|\b(price|prices|pricing|fees?|rates?|charges?)\b[^.;]{0,60}\b(increase|adjust|raise|change)[sd]?\b",
            r"not (to )?exceed|no more (often )?than|not more (often )?than|more than once|in excess of|maximum|\bcap\b|capped|limited to|shall not increase|may not increase|\bcpi\b|consumer price index|at cost|without markup",
        ],
        none: &[],
    },
];

/// A rule ready to run: category index, patterns that must all match, patterns that must not.
type CompiledRule = (usize, Vec<regex::Regex>, Vec<regex::Regex>);

/// [`RULES`] compiled once, with their category index. A pattern that does not compile (a
/// test guards against it) drops its rule rather than failing a review.
fn compiled_rules() -> &'static [CompiledRule] {
    static COMPILED: std::sync::OnceLock<Vec<CompiledRule>> = std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        RULES
            .iter()
            .filter_map(|rule| {
                let c = CATEGORIES.iter().position(|c| *c == rule.category)?;
                let all = rule.all.iter().map(|p| regex::Regex::new(p).ok()).collect::<Option<Vec<_>>>()?;
                let none = rule.none.iter().map(|p| regex::Regex::new(p).ok()).collect::<Option<Vec<_>>>()?;
                Some((c, all, none))
            })
            .collect()
    })
}

/// A short copyright or licence notice of the document itself ("© 2021. Free to use under
/// CC BY 4.0."), which the licence categories would otherwise take for a licence grant; or a
/// filing's page footer ("Source: ACME CORP, 8-K, 8/15/2019", on every page of an EDGAR
/// exhibit), which the model took for a title or a date in 165 places over the 413 CUAD
/// contracts (and which CUAD marks in 3 of 2,641).
fn is_notice_of_the_document_itself(lower: &str) -> bool {
    let copyright = lower.starts_with('©') || lower.starts_with("copyright") || lower.starts_with("(c) ");
    let filing_footer = lower.starts_with("source: ")
        && lower.rsplit(' ').next().is_some_and(|date| date.split('/').count() == 3 && date.len() <= 10);
    lower.len() < 200 && (copyright || filing_footer)
}

/// A line of a table of contents or an index ("Liability, Indemnification and Insurance
/// 24", "11.5 Insurance. 40"): short, few words, ending in a page number, and no period,
/// share or amount a clause would state. It names clauses without being one (22 false pieces
/// of evidence over the 325 training contracts, none right).
fn is_contents_line(lower: &str) -> bool {
    let trimmed = lower.trim_end();
    let page = trimmed.len() - trimmed.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let before = &trimmed[..trimmed.len() - page];
    let words = lower.split(|c: char| !c.is_ascii_lowercase()).filter(|w| w.len() >= 3).count();
    let states_a_term = ["day", "month", "year", "%", "$", "percent"].iter().any(|unit| lower.contains(unit));
    trimmed.len() <= 100
        && (1..=3).contains(&page)
        && before.ends_with([' ', '\t', '\n', '.'])
        && (1..=8).contains(&words)
        && !states_a_term
}

/// The title line of an exhibit, schedule or annex ("EXHIBIT A", "Schedule 2 Direct
/// Competitors"): it names what follows without being a clause, yet its few words scored up to
/// 0.83 as a non-compete where the whole-document model had judged one present.
fn is_attachment_title(lower: &str) -> bool {
    let mut words = lower.split_whitespace();
    let opens = ["exhibit", "schedule", "annex", "appendix", "attachment"];
    let first = words.next().map(|first| first.trim_matches(|c: char| !c.is_alphabetic()));
    // Counted without collecting: this runs on every segment of every review.
    first.is_some_and(|first| opens.contains(&first)) && words.count() < 6
}

/// Whether `text` has a word of three letters or more: a stray letter of drawn or vertical
/// text ("V", "T E R") is no clause, whatever its few features score.
fn has_a_word(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic()).any(|word| word.chars().count() >= 3)
}

/// Section headings that name a category ("12.3 Governing Law."): the section is evidence of
/// it even when its wording is unusual (a cover-page reference, a one-line clause). Neutral on
/// CUAD (5-fold presence 0.602 → 0.604, evidence F1 0.450 → 0.449), whose clauses mostly say
/// what they are; it matters for templates such as Bonterms, whose clauses point to a cover page.
const HEADINGS: &[(&str, &[&str])] = &[
    ("Governing Law", &["governing law", "choice of law", "applicable law"]),
    ("Anti-Assignment", &["assignment"]),
    ("Cap on Liability", &["limitation of liability", "limitations of liability", "limitation on liability"]),
    ("Insurance", &["insurance"]),
    ("Audit Rights", &["audit"]),
    ("Non-Compete", &["non-compet", "noncompet", "non-competition"]),
    ("No-Solicit of Employees", &["non-solicit", "nonsolicit", "no-solicit"]),
    ("Exclusivity", &["exclusivity"]),
    ("Most Favored Nation", &["most favored", "most favoured"]),
    ("Termination for Convenience", &["termination for convenience"]),
    ("Change of Control", &["change of control", "change in control"]),
    ("Third Party Beneficiary", &["third party beneficiar", "third-party beneficiar"]),
    ("Source Code Escrow", &["escrow"]),
    ("Liquidated Damages", &["liquidated damages"]),
    ("Non-Disparagement", &["disparage"]),
    ("Covenant Not to Sue", &["covenant not to sue"]),
];

/// A heading that disclaims what it names ("No Third Party Beneficiaries"): the section says
/// the contract has no such clause. ("No Assignment", "No Solicitation" are the clauses.)
fn is_disclaimer_heading(lower: &str) -> bool {
    let unnumbered = lower.trim_start_matches(|c: char| !c.is_alphabetic());
    ["no third", "no intended third", "no other third"].iter().any(|cue| unnumbered.starts_with(cue))
}

/// The heading of the section each segment is in: that of the last numbered section opened
/// at or before it, where an unheaded top-level section ("13.") ends the one before.
pub fn section_headings<'a>(segments: &[Segment], structure: &'a crate::structure::Structure) -> Vec<Option<&'a str>> {
    let mut sections = structure.sections.iter().peekable();
    let mut current: Option<&'a str> = None;
    segments
        .iter()
        .map(|segment| {
            while let Some(section) = sections.next_if(|s| s.start <= segment.start) {
                match &section.heading {
                    Some(heading) => current = Some(heading),
                    None if !section.number.contains(['(', '.']) => current = None,
                    None => {}
                }
            }
            current
        })
        .collect()
}

/// Segments that hold a value the key-term and structure readers found, by category: the
/// title (Document Name), the parties block (Parties), the dates, the governing law, the
/// renewal term and its notice. These readers are precise where the bag-of-words model is
/// not: 5-fold cross-validated evidence F1 0.428 → 0.449 with them (presence 0.598 → 0.603).
/// (Also marking the party names in the signature blocks lowered it to 0.440.)
fn anchored_values(
    text: &str,
    segments: &[Segment],
    terms: &crate::terms::Terms,
    structure: &crate::structure::Structure,
) -> Vec<(usize, usize)> {
    let segment_at = |offset: usize| segments.iter().position(|s| s.start <= offset && offset < s.end.max(s.start + 1));
    let category = |name: &str| CATEGORIES.iter().position(|c| *c == name);
    let mut out = Vec::new();
    let mut add = |name: &str, offset: Option<usize>| {
        if let (Some(c), Some(index)) = (category(name), offset.and_then(segment_at)) {
            out.push((c, index));
        }
    };
    add("Document Name", structure.title.as_ref().map(|t| t.start));
    for party in &terms.parties {
        add("Parties", Some(party.start));
    }
    add("Agreement Date", terms.agreement_date.as_ref().map(|t| t.start));
    // Only an effective date the contract states: CUAD marks none where the agreement date
    // (which the reader reports in its place) is all there is, or marks the term clause.
    let stated_effective_date =
        terms.effective_date.as_ref().filter(|date| crate::terms::is_stated_effective_date(text, date));
    add("Effective Date", stated_effective_date.map(|t| t.start));
    add("Expiration Date", terms.expiration_date.as_ref().map(|t| t.start));
    add("Governing Law", terms.governing_law.as_ref().map(|t| t.start));
    add("Renewal Term", terms.renewal_term.as_ref().map(|t| t.start));
    add("Notice Period to Terminate Renewal", terms.non_renewal_notice.as_ref().map(|t| t.start));
    for section in &structure.sections {
        let Some(heading) = &section.heading else { continue };
        if is_contents_line(&text[section.start..section.end].to_lowercase()) {
            continue;
        }
        let lower = heading.to_lowercase();
        if is_disclaimer_heading(&lower) {
            continue;
        }
        if let Some((name, _)) = HEADINGS.iter().find(|(_, cues)| cues.iter().any(|cue| lower.contains(cue))) {
            add(name, Some(section.start));
        }
    }
    out
}

/// Whether lower-cased `text` has `phrase`; "a…b" means "a" followed by "b" within
/// [`PHRASE_GAP`] bytes. A match that a [`NEGATIONS`] cue denies does not count.
fn phrase_matches(text: &str, phrase: &str) -> bool {
    let (first, second) = phrase.split_once('…').unwrap_or((phrase, ""));
    text.match_indices(first).any(|(at, _)| {
        if is_negated(text, at) {
            return false;
        }
        if second.is_empty() {
            return true;
        }
        let from = at + first.len();
        let to = crate::floor_boundary(text, from + PHRASE_GAP + second.len());
        text.get(from..to).is_some_and(|window| window.contains(second))
    })
}

/// Wording that, shortly before a phrase, says the contract does not have the thing the
/// phrase names: "shall not be subject to any minimum purchase requirements", "this licence
/// does not include a minimum annual royalty". On the training part, one false Minimum
/// Commitment contract fewer, none lost (5-fold cross-validated presence macro-F1 0.78875 →
/// 0.78883); the held-out contracts have none. "without any" is left out: it would deny
/// "without any further fee, grants to X and its Affiliates".
const NEGATIONS: &[&str] = &["not be subject to any ", "not subject to any ", "not include a ", "not include any "];

/// Bytes before a phrase in which a [`NEGATIONS`] cue denies it.
const NEGATION_REACH: usize = 40;

fn is_negated(text: &str, at: usize) -> bool {
    let from = crate::floor_boundary(text, at.saturating_sub(NEGATION_REACH));
    text.get(from..at).is_some_and(|before| NEGATIONS.iter().any(|cue| before.contains(cue)))
}

/// Largest gap between the two parts of an "a…b" phrase.
const PHRASE_GAP: usize = 80;

/// Confidence given to a phrase match. Thresholds above it are also capped to it: thresholds
/// tuned that high come from categories with a handful of validation positives, and held-out
/// presence macro-F1 rose from 0.492 to 0.560 with the cap.
const PHRASE_CONFIDENCE: f32 = 0.9;

/// Below this, a category judged present with no segment above its evidence threshold is not
/// evidenced by its best segment after all: a segment scored 0.13 is noise to a reader.
/// Presence macro-F1 0.597 → 0.600 (held-out) and 0.789 → 0.795 (trained part) with it. Not
/// for a category reported in every contract (the title, the parties: stray letters such as
/// "T E R", once the reason for the floor, are no segment since `has_a_word`), nor for one the
/// whole document judged present.
const ALWAYS_PRESENT_FLOOR: f32 = 0.2;

/// Categories a contract states once: CUAD marks one span for nearly every contract (332
/// Document Name spans in 325 contracts, 292 Governing Law in 283).
const SINGLE_VALUED: &[&str] =
    &["Document Name", "Agreement Date", "Effective Date", "Expiration Date", "Governing Law"];

/// Categories whose evidence is a name or a date, which a heading line can be on its own.
const NAMES_AND_DATES: &[&str] =
    &["Document Name", "Parties", "Agreement Date", "Effective Date", "Expiration Date", "Governing Law"];

/// Per segment, whether it is a numbered section's heading and nothing more ("9.
/// EXCLUSIVITY", "Section 4. Records; Audits.").
fn heading_only_segments(text: &str, segments: &[Segment], structure: &crate::structure::Structure) -> Vec<bool> {
    let mut sections = structure.sections.iter().peekable();
    segments
        .iter()
        .map(|segment| {
            while sections.next_if(|s| s.start < segment.start).is_some() {}
            let Some(section) = sections.peek().filter(|s| s.start == segment.start) else {
                return false;
            };
            let Some(heading) = &section.heading else {
                return false;
            };
            let words = |t: &str| t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count();
            // The segment's words: the number ("Section", "9"), the heading's, nothing else.
            words(segment.text(text)) <= words(heading) + words(&section.number) + 1
        })
        .collect()
}

/// Hash buckets of the feature space. The dev split has about 25,000 distinct words and
/// 432,000 word pairs, so buckets are shared; 2^18 of them, a quarter as crowded, changed
/// nothing (5-fold cross-validated presence macro-F1 0.784 → 0.783, evidence F1 0.665 →
/// 0.665) for a model file four times as large.
pub const DIMENSIONS: usize = 1 << 16;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|word| {
            let lower = word.to_lowercase();
            if lower.chars().all(|c| c.is_ascii_digit()) {
                "#".into()
            } else {
                lower
            }
        })
        .collect()
}

/// Sparse, L2-normalised features of a piece of text: (bucket, value), buckets ascending.
///
/// (Tried as extra features, without gain on held-out contracts: words of the paragraph's
/// opening for sentences cut from long paragraphs (evidence F1 0.436 → 0.402); words of the
/// previous segment, or of the last heading-like short segment (presence macro-F1 0.597 →
/// 0.595 / 0.581, evidence F1 0.455 → 0.468 / 0.466); the contract's party names folded into
/// one token, and plural "s" stripped (5-fold cross-validated presence macro-F1 0.598 →
/// 0.597 / 0.597, evidence F1 0.428 → 0.432 / 0.430).)
pub fn features(text: &str) -> Vec<(u32, f32)> {
    segment_features(text, None)
}

/// [`features`] of a segment, with the words of the heading of the section it is in marked
/// as such ("§insurance"): a clause's heading says what it is about even where its own
/// sentences do not. 5-fold cross-validated presence macro-F1 0.749 → 0.752, evidence F1
/// 0.636 → 0.640 (with the solver run to convergence; the earlier try of a heading-like short
/// segment, above, was with a solver stopped early). Tried on top, not kept: the previous
/// segment's words (0.752 → 0.748, evidence 0.640 → 0.645); unnumbered headings on a line of
/// their own ("INSURANCE") opening a section too (0.745 / 0.638).
///
/// Also tried, not kept (5-fold cross-validated presence macro-F1 / evidence F1, against
/// 0.7854 / 0.6688; in brackets presence with thresholds chosen again in nested 5-fold on the
/// same scores, against 0.7722): a crude stem beside each word longer than n characters, its
/// first n ("termin…" for the forms of "terminate"), n = 5: 0.7856 / 0.6659 [0.7758],
/// n = 6: 0.7885 / 0.6699 [0.7760], n = 7: 0.7865 / 0.6687 [0.7724]; with n = 6, pairs of
/// stems on top 0.7848 / 0.6683 [0.7762]. Trained on the 325 and scored on the 88 held-out
/// contracts, n = 6 moved presence 0.7652 → 0.7693 and evidence 0.7052 → 0.6994: within noise
/// both ways, and below the evidence target, so left out. Word triples: 0.7793 / 0.6691
/// [0.7704]. Negation scope (each of the six words after "not", "no", "never", "neither",
/// "nor", "nothing", "without", "cannot" or "none", up to the next punctuation mark, also
/// as "¬word"), against 0.7888 / 0.6694 [0.7786]: 0.7855 / 0.6686 [0.7828]; held-out
/// 0.7672 → 0.7738, evidence 0.7057 → 0.7103. Down on the figure `train` optimises, up on
/// the other two, all within noise: left out, as the held-out part does not choose.
pub fn segment_features(text: &str, heading: Option<&str>) -> Vec<(u32, f32)> {
    let words = words(text);
    let mut buckets: Vec<u32> = Vec::with_capacity(words.len() * 2 + 2);
    for word in heading.map(self::words).unwrap_or_default() {
        buckets.push(hash(&["§".as_bytes(), word.as_bytes()]));
    }
    for (i, word) in words.iter().enumerate() {
        buckets.push(hash(&[word.as_bytes()]));
        if let Some(next) = words.get(i + 1) {
            buckets.push(hash(&[word.as_bytes(), b" ", next.as_bytes()]));
        }
    }
    // Position-free cue for very short segments (titles, headings).
    buckets.push(hash(&[if words.len() <= 8 { b"<short>".as_slice() } else { b"<long>".as_slice() }]));
    buckets.sort_unstable();
    let mut out: Vec<(u32, f32)> = Vec::new();
    for bucket in buckets {
        match out.last_mut() {
            Some((last, count)) if *last == bucket => *count += 1.0,
            _ => out.push((bucket, 1.0)),
        }
    }
    for (_, value) in out.iter_mut() {
        *value = 1.0 + value.ln();
    }
    let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt().max(1e-6);
    for (_, value) in out.iter_mut() {
        *value /= norm;
    }
    out
}

fn hash(parts: &[&[u8]]) -> u32 {
    crate::fnv::fnv1a32(parts) % DIMENSIONS as u32
}

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
    /// as a whole, and the contracts that have a category tend to be of a kind. (Tried, not
    /// kept: its words weighted by inverse document frequency over the 413 dev texts, read
    /// without labels: 5-fold cross-validated presence macro-F1 0.7854 → 0.7821, evidence F1
    /// 0.6688 → 0.6689.)
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

/// A contract's segments scored: see [`Model::score_segments`].
struct SegmentScores {
    probabilities: Vec<Vec<f32>>,
    /// Per category, the best segments by the model's scores alone, and by the scores with
    /// phrases and rules counted.
    top_model: Vec<TopScores>,
    top: Vec<TopScores>,
}

/// Segments whose scores make a contract's presence score.
const PRESENCE_SEGMENTS: usize = 3;

/// The [`PRESENCE_SEGMENTS`] highest segment scores of one category in one contract.
///
/// A contract's presence score is 1 − Π(1 − pᵢ) over them: the chance that at least one is
/// the clause, were they independent. Against the best segment alone it counts a clause
/// that the model half-recognises in two or three places (a restriction spread over a
/// section's sentences), and one high score still decides. Measured before it was built
/// (thresholds and document mix chosen again per category, on the cross-validated scores of
/// the shipped model's decision inputs; nested 5-fold over the 325 training contracts /
/// thresholds from those, applied to the held-out 88): best segment 0.777 / 0.757, two
/// segments 0.779 / 0.761, three 0.782 / 0.763, four 0.781 / 0.761, five 0.781 / 0.761.
/// Built and retrained with three: 5-fold cross-validated presence macro-F1 0.784 → 0.785
/// (evidence F1 0.665 → 0.666), held-out 0.761 → 0.764 (0.704 → 0.702). Within noise, in one
/// direction each time; categories most often cited by one paragraph lost up to 0.03 (change
/// of control, renewal term, effective date), some spread over several gained up to 0.07
/// (warranty duration, volume restriction, revenue sharing). Choosing one or three per category out of fold did worse than three for all.
#[derive(Clone, Copy, Debug, Default)]
struct TopScores([f32; PRESENCE_SEGMENTS]);

impl TopScores {
    fn add(&mut self, score: f32) {
        let last = PRESENCE_SEGMENTS - 1;
        if score > self.0[last] {
            self.0[last] = score;
            self.0.sort_by(|a, b| b.total_cmp(a));
        }
    }

    fn presence(&self) -> f32 {
        1.0 - self.0.iter().map(|p| 1.0 - p).product::<f32>()
    }

    fn best(&self) -> f32 {
        self.0[0]
    }
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

/// Per segment, the categories its wording gives away whatever the model says (phrases,
/// rules, and values the key-term and structure readers anchored there), and whether it can
/// be evidence of names and dates only (a line of a table of contents); or `None` for a
/// segment that is no clause at all (the document's own copyright line or filing footer,
/// stray letters).
fn wording_hits(
    text: &str,
    segments: &[Segment],
    anchored: &[(usize, usize)],
) -> Vec<Option<([bool; CATEGORIES.len()], bool)>> {
    let phrase_rules: Vec<(usize, &[&str])> = PHRASES
        .iter()
        .filter_map(|(category, phrases)| Some((CATEGORIES.iter().position(|c| c == category)?, *phrases)))
        .collect();
    segments
        .iter()
        .enumerate()
        .map(|(index, segment)| {
            let lower = segment.text(text).to_lowercase();
            if is_notice_of_the_document_itself(&lower) || !has_a_word(&lower) {
                return None;
            }
            if is_contents_line(&lower) || is_attachment_title(&lower) {
                // Still a candidate title or party line, a clause of nothing else.
                let mut found = [false; CATEGORIES.len()];
                for (c, at) in anchored {
                    found[*c] |= *at == index && NAMES_AND_DATES.contains(&CATEGORIES[*c]);
                }
                return Some((found, true));
            }
            let mut found = [false; CATEGORIES.len()];
            for (c, phrases) in &phrase_rules {
                found[*c] |= phrases.iter().any(|phrase| phrase_matches(&lower, phrase))
                    && !phrase_exceptions()[*c].iter().any(|exception| exception.is_match(&lower));
            }
            for (c, all, none) in compiled_rules() {
                found[*c] |= all.iter().all(|r| r.is_match(&lower)) && !none.iter().any(|r| r.is_match(&lower));
            }
            for (c, at) in anchored {
                found[*c] |= *at == index;
            }
            Some((found, false))
        })
        .collect()
}

/// Sentences in which a category's phrases say something else, by category: patterns on the
/// lower-cased segment, each chosen on the training part only. A segment one matches is no
/// evidence by those phrases (the model, rules, headings and other categories still hear it).
///
/// - Non-Disparagement: a limit on how a party may use the other's marks, logos or domain
///   names ("shall not use the Licensed Mark in any manner that disparages … Licensor"). It
///   protects the marks, and CUAD does not count it as a promise not to disparage the other
///   side. The phrases found such sentences alone in 6 training contracts without the
///   category and 2 with it; without them Non-Disparagement's 5-fold cross-validated presence
///   F1 rose from 0.738 (tp/fp/fn 24/14/3) to 0.800 (24/9/3), since the two labelled
///   contracts say it elsewhere too, or under a "Non-Disparagement" heading, which still
///   counts. Presence macro-F1 0.7888 → 0.7903, evidence F1 0.6694 → 0.6696.
/// - Covenant Not to Sue: a promise not to challenge a court's jurisdiction or venue, which
///   concedes a forum and waives no claim: one false contract fewer on the training part
///   (presence F1 0.831 → 0.837; macro-F1 0.7903 → 0.7905).
/// - Rofr/Rofo/Rofn: a representation that none of the shares are subject to any right of
///   first refusal, which says there is none. In the one training contract with it the phrase
///   no longer lifts the sentence to 0.9; the model alone still cites it, at 0.45.
///
/// The held-out contracts have none of these sentences (unchanged).
const PHRASE_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "Non-Disparagement",
        r"\b(use|used|using)\b[^.;]{0,120}\b(marks?|logos?|trademarks?|trade names?|domain names?)\b[^.;]{0,80}\bmanner\b|\b(marks?|logos?|trademarks?|trade names?|domain names?)\b[^.;]{0,80}\b(used|use)\b[^.;]{0,40}\bmanner\b",
    ),
    ("Covenant Not to Sue", r"challeng\w*[^.;]{0,30}\b(jurisdiction|venue|forum)\b"),
    ("Rofr/Rofo/Rofn", r"\bnone of\b[^.;]{0,60}\bsubject to any\b"),
];

/// [`PHRASE_EXCEPTIONS`] compiled once, by category index. A pattern that does not compile (a
/// test guards against it) is dropped, and the phrases count as before.
fn phrase_exceptions() -> &'static [Vec<regex::Regex>; CATEGORIES.len()] {
    static COMPILED: std::sync::OnceLock<[Vec<regex::Regex>; CATEGORIES.len()]> = std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        let mut by_category: [Vec<regex::Regex>; CATEGORIES.len()] = std::array::from_fn(|_| Vec::new());
        for (category, pattern) in PHRASE_EXCEPTIONS {
            if let (Some(c), Ok(pattern)) = (CATEGORIES.iter().position(|c| c == category), regex::Regex::new(pattern))
            {
                by_category[c].push(pattern);
            }
        }
        by_category
    })
}

/// Categories that make sense only beside another: (category, any of these). On the 325
/// training contracts an exception to a competitive restriction comes with a non-compete,
/// exclusivity or customer no-solicit in 53 of 54, and a change-of-control clause with an
/// anti-assignment clause in 80 of 81 (it is most often what lets a merger count as an
/// assignment); 5-fold cross-validated Change of Control presence F1 0.647 → 0.659. Tried and
/// left out: gates that held on the training part but are no rule of contracts (price
/// restrictions only beside a renewal term, 11 of 11: 0.35 → 0.42; source code escrow only
/// beside a cap, 9 of 9) would hide a real clause in a contract that lacks the other; gating
/// licence categories on a licence grant, and uncapped liability on a cap, changed nothing;
/// most favoured nation or an irrevocable licence only beside anti-assignment lost 0.02–0.03.
const PREREQUISITES: &[(&str, &[&str])] = &[
    ("Competitive Restriction Exception", &["Non-Compete", "Exclusivity", "No-Solicit of Customers"]),
    ("Change of Control", &["Anti-Assignment"]),
];

/// A category decided by its wording rule also takes a segment the model scores at least this
/// high: the wording of a clause the rule misses ("the license … is personal and may not be
/// assigned"), with few of the model's false guesses (5-fold cross-validated presence F1 of
/// Non-Transferable License 0.824 → 0.87 with it, against 0.82 for the model alone).
const RULED_MODEL_FLOOR: f32 = 0.9;

/// Categories decided by their wording rules, with the model heard only above [`RULED_MODEL_FLOOR`].
fn ruled_categories() -> [bool; CATEGORIES.len()] {
    let mut ruled = [false; CATEGORIES.len()];
    for (c, _, _) in compiled_rules() {
        ruled[*c] = true;
    }
    ruled
}

/// Version 6: the layout of version 5, with presence thresholds set on the three best
/// segments' combined score ([`TopScores`]) rather than the best segment's, which a version 5
/// file's thresholds would misread.
const MAGIC: &[u8; 8] = b"CRMODEL6";

/// 8-bit code of a weight, companded by square root: a converged logistic regression has a
/// few large weights and a long tail of small ones, which linear 8-bit steps would round to
/// zero (three in four of them did).
fn encode_weight(weight: f32, max: f32) -> u8 {
    (weight.signum() * (weight.abs() / max).sqrt() * 127.0).round().clamp(-127.0, 127.0) as i8 as u8
}

fn decode_weight(code: u8, max: f32) -> f32 {
    let q = f32::from(code as i8) / 127.0;
    q.signum() * q * q * max
}

impl Model {
    pub fn probability(&self, category: usize, features: &[(u32, f32)]) -> f32 {
        probability(&self.weights[category], self.bias[category], features)
    }

    /// Probability that a contract with these (whole-text) features has the category at all.
    pub fn document_probability(&self, category: usize, features: &[(u32, f32)]) -> f32 {
        probability(&self.document_weights[category], self.document_bias[category], features)
    }

    /// Segments at or above each category's threshold; consecutive segments of one category
    /// are merged into one piece of evidence (a clause often spans several sentences).
    pub fn predict(&self, text: &str, segments: &[Segment]) -> Vec<Prediction> {
        let terms = crate::terms::key_terms(text);
        self.predict_with(text, segments, &terms, &crate::structure::structure(text))
    }

    /// [`Model::predict`] with the key terms and structure already read (a review has them).
    pub fn predict_with(
        &self,
        text: &str,
        segments: &[Segment],
        terms: &crate::terms::Terms,
        structure: &crate::structure::Structure,
    ) -> Vec<Prediction> {
        self.predict_scored(text, segments, terms, structure, false).0
    }

    /// [`Model::predict_with`], and what the presence decision read, per category, for error
    /// analysis (`eval --predictions`): the best segment's score (phrases and rules count),
    /// the model's own best, the three best segments combined, the whole document's
    /// probability, and the decision. One pass over the segments gives both.
    pub fn predict_explained(
        &self,
        text: &str,
        segments: &[Segment],
        terms: &crate::terms::Terms,
        structure: &crate::structure::Structure,
    ) -> (Vec<Prediction>, Vec<PresenceScore>) {
        let (predictions, explained) = self.predict_scored(text, segments, terms, structure, true);
        (predictions, explained.unwrap_or_default())
    }

    fn predict_scored(
        &self,
        text: &str,
        segments: &[Segment],
        terms: &crate::terms::Terms,
        structure: &crate::structure::Structure,
        explain: bool,
    ) -> (Vec<Prediction>, Option<Vec<PresenceScore>>) {
        let anchored = anchored_values(text, segments, terms, structure);
        let scored = self.score_segments(text, segments, &anchored, structure);
        // (The document's features cost a pass over the whole text: read only when needed.)
        let document_features = (explain || self.document_mix.iter().any(|m| *m > 0.0)).then(|| features(text));
        let present = self.presence(&scored, document_features.as_deref());
        let explained = document_features.as_deref().filter(|_| explain).map(|document| {
            (0..CATEGORIES.len())
                .map(|c| PresenceScore {
                    category: CATEGORIES[c],
                    best: scored.top[c].best(),
                    model: scored.top_model[c].best(),
                    segments: scored.top[c].presence(),
                    document: self.document_probability(c, document),
                    present: present[c],
                })
                .collect()
        });
        let probabilities = scored.probabilities;
        let mut out: Vec<Prediction> = Vec::new();
        // Index in `out` of the open prediction per category, and the segment it last took.
        let mut open: Vec<Option<(usize, usize)>> = vec![None; CATEGORIES.len()];
        for (index, segment) in segments.iter().enumerate() {
            for (c, category) in CATEGORIES.iter().enumerate() {
                let p = probabilities[index][c];
                if !present[c] || p < self.thresholds[c].min(PHRASE_CONFIDENCE) {
                    continue;
                }
                match open[c] {
                    Some((at, last)) if last + 1 == index => {
                        let merged = &mut out[at];
                        merged.segment.end = segment.end;
                        merged.confidence = merged.confidence.max(p);
                        open[c] = Some((at, index));
                    }
                    _ => {
                        open[c] = Some((out.len(), index));
                        out.push(Prediction { category, segment: *segment, confidence: p });
                    }
                }
            }
        }
        // A category judged present with no segment above its evidence threshold (its
        // presence threshold is lower: a title, the parties) is evidenced by its best segment.
        // Not so in standard terms whose parties and dates are on a cover page they do not
        // contain: their best segment is then no more than a guess at what is elsewhere.
        let terms_elsewhere = terms.cover_page.is_some() && terms.parties.is_empty();
        for (c, category) in CATEGORIES.iter().enumerate() {
            if present[c] && open[c].is_none() {
                let best = probabilities.iter().enumerate().max_by(|a, b| a.1[c].total_cmp(&b.1[c]));
                // (Judged with the whole document, or reported in every contract (a title,
                // the parties), the category needs its best segment cited.)
                let reported_always = self.presence_thresholds[c] <= 0.0;
                let floor = if (self.document_mix[c] > 0.0 || reported_always) && !terms_elsewhere {
                    0.0
                } else {
                    ALWAYS_PRESENT_FLOOR
                };
                if let Some((index, p)) = best.filter(|(_, p)| p[c] >= floor) {
                    out.push(Prediction { category, segment: segments[index], confidence: p[c] });
                }
            }
        }
        // A contract has one title, one governing law, one agreement date: of several
        // candidates keep the one a key-term reader found, else the most confident.
        for category in SINGLE_VALUED {
            let mine: Vec<usize> = (0..out.len()).filter(|i| out[*i].category == *category).collect();
            if mine.len() < 2 {
                continue;
            }
            let c = CATEGORIES.iter().position(|c| c == category);
            let is_anchored = |p: &Prediction| {
                anchored.iter().any(|(ac, at)| {
                    Some(*ac) == c && segments[*at].start >= p.segment.start && segments[*at].end <= p.segment.end
                })
            };
            // Reversed, so that of equals the first in the text wins.
            let keep = mine.iter().rev().copied().max_by(|a, b| {
                (is_anchored(&out[*a]), out[*a].confidence)
                    .partial_cmp(&(is_anchored(&out[*b]), out[*b].confidence))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            let mut index = 0;
            out.retain(|p| {
                let drop = p.category == *category && Some(index) != keep;
                index += 1;
                !drop
            });
        }
        // A section heading alone ("9. EXCLUSIVITY") is not the clause: CUAD marks the text
        // under it. Cited alone, it takes in the paragraph that follows.
        let heading_only = heading_only_segments(text, segments, structure);
        for prediction in &mut out {
            if NAMES_AND_DATES.contains(&prediction.category) {
                continue;
            }
            let at = segments.partition_point(|s| s.start < prediction.segment.start);
            if heading_only.get(at).copied().unwrap_or(false) && segments[at].end == prediction.segment.end {
                if let Some(next) = segments.get(at + 1) {
                    prediction.segment.end = next.end;
                }
            }
        }
        out.sort_by_key(|p| (p.segment.start, CATEGORIES.iter().position(|c| *c == p.category)));
        (out, explained)
    }

    /// Per segment, each category's probability, raised by phrases, rules and anchors; per
    /// category, the model's own best (what the presence score mixes with the document's).
    fn score_segments(
        &self,
        text: &str,
        segments: &[Segment],
        anchored: &[(usize, usize)],
        structure: &crate::structure::Structure,
    ) -> SegmentScores {
        let headings = section_headings(segments, structure);
        let wording = wording_hits(text, segments, anchored);
        let ruled = ruled_categories();
        let mut probabilities: Vec<Vec<f32>> = Vec::with_capacity(segments.len());
        let mut top_model = vec![TopScores::default(); CATEGORIES.len()];
        let mut top = vec![TopScores::default(); CATEGORIES.len()];
        for ((segment, heading), found) in segments.iter().zip(headings).zip(wording) {
            let Some((found, names_and_dates_only)) = found else {
                probabilities.push(vec![0.0; CATEGORIES.len()]);
                continue;
            };
            let f = &segment_features(segment.text(text), heading);
            let asked = |c: usize| !names_and_dates_only || NAMES_AND_DATES.contains(&CATEGORIES[c]);
            let mut p: Vec<f32> = (0..CATEGORIES.len())
                .map(|c| match (asked(c), ruled[c]) {
                    (false, _) => 0.0,
                    (true, false) => self.probability(c, f),
                    // A category decided by its rule takes the model's word only when it is sure.
                    (true, true) => Some(self.probability(c, f)).filter(|p| *p >= RULED_MODEL_FLOOR).unwrap_or(0.0),
                })
                .collect();
            top_model.iter_mut().zip(&p).for_each(|(top, model)| top.add(*model));
            for (p, found) in p.iter_mut().zip(found) {
                if found {
                    *p = p.max(PHRASE_CONFIDENCE);
                }
            }
            top.iter_mut().zip(&p).for_each(|(top, p)| top.add(*p));
            probabilities.push(p);
        }
        SegmentScores { probabilities, top_model, top }
    }

    /// Whether the contract has each category: its best segments (phrases and rules count;
    /// see [`TopScores`]), or the model's best segments mixed with the whole document's score;
    /// a segment that phrases or rules give away decides alone.
    ///
    /// (Tried, not kept: a second logistic regression per category over every category's
    /// scores — the model's, the document's and the wording's, 123 inputs — fitted on the
    /// cross-validated scores of the 325 training contracts: nested 5-fold presence macro-F1
    /// 0.778 → 0.757 (L2) or 0.770 (L1); with its own category's three inputs only, 0.780 (a
    /// learnt version of the mix below). Contracts that have one category do tend to have
    /// others, but some 260 contracts are too few to learn which from 123 inputs. Also: a
    /// vote of the ten training segments nearest each segment (cosine on the hashed words and
    /// pairs) mixed into the presence score with a share chosen per category, nested 5-fold
    /// 0.7700 → 0.7713; the document score vetoing what wording decides, no change (0.76512
    /// → 0.76515). Both were measured in Python on the `--predictions` scores, whose
    /// threshold search differs in detail from the one `train` runs.)
    fn presence(&self, scored: &SegmentScores, document_features: Option<&[(u32, f32)]>) -> Vec<bool> {
        let ruled = ruled_categories();
        let mut present: Vec<bool> = (0..CATEGORIES.len())
            .map(|c| {
                let threshold = self.presence_thresholds[c].min(PHRASE_CONFIDENCE);
                let mix = self.document_mix[c];
                match document_features {
                    Some(document) if mix > 0.0 && !ruled[c] => {
                        let score =
                            mix * self.document_probability(c, document) + (1.0 - mix) * scored.top_model[c].presence();
                        scored.top[c].best() >= PHRASE_CONFIDENCE || score >= threshold
                    }
                    _ => scored.top[c].presence() >= threshold,
                }
            })
            .collect();
        let index_of = |name: &str| CATEGORIES.iter().position(|c| *c == name);
        for (category, needs) in PREREQUISITES {
            if let Some(c) = index_of(category) {
                let met = needs.iter().filter_map(|name| index_of(name)).any(|n| present[n]);
                present[c] &= met;
            }
        }
        present
    }

    /// Whether the model was trained on the contract with this id.
    pub fn was_trained_on(&self, id: &str) -> bool {
        self.trained_on.binary_search(&crate::eval::contract_fingerprint(id)).is_ok()
    }

    /// Serialises with 8-bit companded weights (one scale, the largest weight, per weight
    /// vector): after the header, the count and fingerprints of the training contracts; per
    /// category the segment scorer's scale, bias, evidence and presence thresholds, the
    /// document scorer's scale, bias and mix, then the two weight vectors.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CATEGORIES.len() * (2 * DIMENSIONS + CATEGORY_HEADER) + 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(CATEGORIES.len() as u32).to_le_bytes());
        out.extend_from_slice(&(DIMENSIONS as u32).to_le_bytes());
        out.extend_from_slice(&(self.trained_on.len() as u32).to_le_bytes());
        for fingerprint in &self.trained_on {
            out.extend_from_slice(&fingerprint.to_le_bytes());
        }
        let scale = |weights: &[f32]| weights.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-9);
        for c in 0..CATEGORIES.len() {
            let (max, document_max) = (scale(&self.weights[c]), scale(&self.document_weights[c]));
            for value in [
                max,
                self.bias[c],
                self.thresholds[c],
                self.presence_thresholds[c],
                document_max,
                self.document_bias[c],
                self.document_mix[c],
            ] {
                out.extend_from_slice(&value.to_le_bytes());
            }
            out.extend(self.weights[c].iter().map(|w| encode_weight(*w, max)));
            out.extend(self.document_weights[c].iter().map(|w| encode_weight(*w, document_max)));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let header = 20;
        if bytes.len() < header || &bytes[..8] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        let read_u32 = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let read_f32 = |at: usize| f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let (categories, dimensions) = (read_u32(8) as usize, read_u32(12) as usize);
        if categories != CATEGORIES.len() || dimensions != DIMENSIONS {
            return Err(ModelError::WrongShape { categories, dimensions });
        }
        let trained_on = read_u32(16) as usize;
        let weights_at = trained_on.checked_mul(4).and_then(|n| n.checked_add(header));
        let expected = weights_at.and_then(|at| at.checked_add(categories * (CATEGORY_HEADER + 2 * dimensions)));
        if expected != Some(bytes.len()) {
            return Err(ModelError::Truncated);
        }
        let mut model =
            Model { trained_on: (0..trained_on).map(|i| read_u32(header + 4 * i)).collect(), ..Model::default() };
        if !model.trained_on.is_sorted() {
            return Err(ModelError::Damaged("its training fingerprints are out of order"));
        }
        let mut at = header + 4 * trained_on;
        for _ in 0..categories {
            let max = read_f32(at);
            model.bias.push(read_f32(at + 4));
            model.thresholds.push(read_f32(at + 8));
            model.presence_thresholds.push(read_f32(at + 12));
            let document_max = read_f32(at + 16);
            model.document_bias.push(read_f32(at + 20));
            model.document_mix.push(read_f32(at + 24));
            at += CATEGORY_HEADER;
            model.weights.push(bytes[at..at + dimensions].iter().map(|b| decode_weight(*b, max)).collect());
            at += dimensions;
            model
                .document_weights
                .push(bytes[at..at + dimensions].iter().map(|b| decode_weight(*b, document_max)).collect());
            at += dimensions;
        }
        Ok(model)
    }
}

/// Bytes of the numbers before each category's weights in the model file.
const CATEGORY_HEADER: usize = 7 * 4;

/// A labelled training example: a segment's features and the categories it is evidence of.
pub struct Example {
    pub features: Vec<(u32, f32)>,
    pub labels: Vec<bool>,
    /// Which contract the segment belongs to (presence is decided per contract, and folds
    /// are made of whole contracts).
    pub contract: u32,
    /// Whether that contract has the category at all, per category.
    pub contract_has: Vec<bool>,
}

/// Folds for choosing thresholds out of fold.
const FOLDS: u32 = 5;

/// Trains one logistic regression per category on all `examples` (segments), and one on
/// `documents` (whole contracts, labelled with the categories they have), and picks each
/// category's thresholds (evidence: best segment F1; presence: best contract F1) and the
/// document model's share in presence on scores made out of fold: for each of `FOLDS`
/// groups of contracts, by models trained on the others. Every contract thus helps both to
/// fit and to set thresholds, which a single small validation part could not (its
/// thresholds were noisy for rare categories). Deterministic; the categories are spread
/// over the available cores.
pub fn train(examples: &[Example], documents: &[Example], iterations: usize) -> Model {
    let n = CATEGORIES.len();
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get()).min(n);
    let mut trained: Vec<(usize, CategoryModel)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|c| (c, train_category(examples, documents, c, iterations)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A worker that panicked must stop training, not leave its categories out of the model.
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    trained.sort_by_key(|(c, _)| *c);
    let mut model = Model::default();
    for (_, category) in trained {
        model.weights.push(category.weights);
        model.bias.push(category.bias);
        model.thresholds.push(category.threshold);
        model.presence_thresholds.push(category.presence_threshold);
        model.document_weights.push(category.document_weights);
        model.document_bias.push(category.document_bias);
        model.document_mix.push(category.document_mix);
    }
    model
}

#[derive(Default)]
struct CategoryModel {
    weights: Vec<f32>,
    bias: f32,
    threshold: f32,
    presence_threshold: f32,
    document_weights: Vec<f32>,
    document_bias: f32,
    document_mix: f32,
}

/// Shares of the document model's probability tried for the presence score.
const DOCUMENT_MIXES: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// A logistic regression on `examples`, and its probabilities for each of them made out of
/// fold (by [`FOLDS`] models, each trained without the example's group of contracts).
fn fit_with_out_of_fold(examples: &[Example], c: usize, iterations: usize) -> (Vec<f32>, f32, Vec<f32>) {
    let all: Vec<&Example> = examples.iter().collect();
    let (weights, bias) = fit(&all, c, iterations, None);
    // The fold models start from the full model: the problem is strictly convex, so they
    // converge to their own optimum, in a fraction of the steps.
    let mut out_of_fold = vec![0f32; examples.len()];
    for fold in 0..FOLDS {
        let training: Vec<&Example> = examples.iter().filter(|e| e.contract % FOLDS != fold).collect();
        let (fold_weights, fold_bias) = fit(&training, c, iterations, Some((&weights, bias)));
        for (example, score) in examples.iter().zip(out_of_fold.iter_mut()) {
            if example.contract % FOLDS == fold {
                *score = probability(&fold_weights, fold_bias, &example.features);
            }
        }
    }
    (weights, bias, out_of_fold)
}

fn train_category(examples: &[Example], documents: &[Example], c: usize, iterations: usize) -> CategoryModel {
    let (weights, bias, out_of_fold) = fit_with_out_of_fold(examples, c, iterations);
    let scored: Vec<(f32, bool)> = out_of_fold.iter().zip(examples).map(|(p, e)| (*p, e.labels[c])).collect();
    let threshold = best_threshold(&scored).0.clamp(0.3, 0.99);
    // Per contract: its best segments' scores, and whether it has the category.
    let mut per_contract: std::collections::BTreeMap<u32, (TopScores, bool)> = std::collections::BTreeMap::new();
    for (example, p) in examples.iter().zip(&out_of_fold) {
        let entry = per_contract.entry(example.contract).or_insert((TopScores::default(), example.contract_has[c]));
        entry.0.add(*p);
    }
    let (document_weights, document_bias, document_out_of_fold) = fit_with_out_of_fold(documents, c, iterations);
    let document_scores: std::collections::BTreeMap<u32, f32> =
        documents.iter().zip(&document_out_of_fold).map(|(d, p)| (d.contract, *p)).collect();
    // The mix with the best contract F1 (ties: the smaller share). No lower clamp on the
    // threshold: a category nearly every contract has (a title, the parties) is best
    // reported always, with its best segment as evidence.
    let mut best: Option<(f32, f32, f32)> = None;
    // Categories with wording phrases or rules are found by them at review time, which the
    // out-of-fold scores here do not see: against the model's segment scores alone, the
    // document model looked better than it is (5-fold cross-validated presence F1 of Most
    // Favored Nation, Non-Disparagement and Source Code Escrow fell by 0.08 to 0.10).
    let has_wording = PHRASES.iter().any(|(name, _)| *name == CATEGORIES[c])
        || RULES.iter().any(|rule| rule.category == CATEGORIES[c]);
    let mixes: &[f32] = if has_wording { &DOCUMENT_MIXES[..1] } else { &DOCUMENT_MIXES };
    for &mix in mixes {
        let contracts: Vec<(f32, bool)> = per_contract
            .iter()
            .map(|(contract, (segment, has))| {
                let document = document_scores.get(contract).copied().unwrap_or(0.0);
                (mix * document + (1.0 - mix) * segment.presence(), *has)
            })
            .collect();
        let (threshold, f1) = best_threshold(&contracts);
        if best.is_none_or(|(_, _, best_f1)| f1 > best_f1) {
            best = Some((mix, threshold.min(0.99), f1));
        }
    }
    let (document_mix, presence_threshold, _) = best.unwrap_or((0.0, 0.99, 0.0));
    CategoryModel { weights, bias, threshold, presence_threshold, document_weights, document_bias, document_mix }
}

fn probability(weights: &[f32], bias: f32, features: &[(u32, f32)]) -> f32 {
    let z = bias + features.iter().map(|(i, v)| weights[*i as usize] * v).sum::<f32>();
    1.0 / (1.0 + (-z).exp())
}

/// Strength λ of the L2 penalty λ/2·‖w‖² against the summed (not averaged) loss. Chosen by
/// 5-fold cross-validation on the training part (presence macro-F1 / evidence F1): 1/4
/// 0.729 / 0.623, 1/16 0.726 / 0.629, 1/64 0.724 / 0.632 — flat; 100 steps rather than 200
/// changed neither figure by more than 0.001.
const L2: f64 = 1.0 / 16.0;

/// L2-regularised logistic regression for one category, solved to convergence by L-BFGS
/// (full batch, at most `iterations` steps, from `start` or from zero): minimises
/// Σ sᵢ·log-loss + λ/2·‖w‖², positives weighted by sᵢ = √(negatives / positives) clamped to
/// 1..30. It replaced AdaGrad SGD with a per-occurrence penalty (8 epochs), which stopped far
/// from the optimum: 5-fold cross-validated presence macro-F1 0.704 → 0.726, evidence F1
/// 0.613 → 0.627. (Tried, not kept: negatives in contracts that have the category weighted
/// below 1, a step toward a contract-level objective, since presence does not care which of a
/// contract's segments holds the clause: 0.3 gave presence 0.7854 → 0.7858, evidence 0.6688 →
/// 0.6649; 0.1 gave 0.7824 / 0.6562. Positives weighted otherwise, against √ — presence /
/// evidence, and in brackets presence with thresholds chosen again in nested 5-fold on the
/// same scores, 0.7854 / 0.6688 [0.7722]: not at all (sᵢ = 1) 0.7598 / 0.6602 [0.7719];
/// by the fourth root 0.7786 / 0.6683 [0.7712]; balanced (negatives / positives, up to 1,000)
/// 0.7839 / 0.6585 [0.7744].)
fn fit(examples: &[&Example], c: usize, iterations: usize, start: Option<(&[f32], f32)>) -> (Vec<f32>, f32) {
    let lambda = L2;
    let n = DIMENSIONS + 1;
    let positives = examples.iter().filter(|e| e.labels[c]).count();
    // With no positives the optimum is w = 0 and a bias of -∞: say so without searching.
    if positives == 0 {
        return (vec![0f32; DIMENSIONS], -10.0);
    }
    let positive_weight = ((examples.len() - positives) as f64 / positives as f64).sqrt().clamp(1.0, 30.0);
    // The examples flattened once (compressed sparse rows): the objective walks them some
    // hundred times, and contiguous memory is what makes that fast.
    let mut offsets = Vec::with_capacity(examples.len() + 1);
    let mut indices: Vec<u32> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    offsets.push(0);
    for example in examples {
        indices.extend(example.features.iter().map(|(i, _)| *i));
        values.extend(example.features.iter().map(|(_, v)| f64::from(*v)));
        offsets.push(indices.len());
    }
    let labels: Vec<bool> = examples.iter().map(|e| e.labels[c]).collect();
    let objective = |x: &[f64], grad: &mut [f64]| -> f64 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for (row, y) in labels.iter().enumerate() {
            let (from, to) = (offsets[row], offsets[row + 1]);
            let (row_indices, row_values) = (&indices[from..to], &values[from..to]);
            let z = x[DIMENSIONS] + row_indices.iter().zip(row_values).map(|(i, v)| x[*i as usize] * v).sum::<f64>();
            let weight = if *y { positive_weight } else { 1.0 };
            let margin = if *y { -z } else { z };
            // log(1 + e^m), stable for large |m|.
            loss += weight * if margin > 30.0 { margin } else { margin.exp().ln_1p() };
            let p = 1.0 / (1.0 + (-z).exp());
            let g = weight * (p - if *y { 1.0 } else { 0.0 });
            for (i, v) in row_indices.iter().zip(row_values) {
                grad[*i as usize] += g * v;
            }
            grad[DIMENSIONS] += g;
        }
        for (xi, gi) in x[..DIMENSIONS].iter().zip(grad.iter_mut()) {
            loss += 0.5 * lambda * xi * xi;
            *gi += lambda * xi;
        }
        loss
    };
    let mut x = vec![0f64; n];
    if let Some((w, b)) = start {
        for (xi, wi) in x.iter_mut().zip(w) {
            *xi = f64::from(*wi);
        }
        x[DIMENSIONS] = f64::from(b);
    }
    let x = minimise_lbfgs(x, iterations, objective);
    (x[..DIMENSIONS].iter().map(|v| *v as f32).collect(), x[DIMENSIONS] as f32)
}

/// Minimises a smooth convex `objective` (which returns f(x) and writes ∇f(x) into its
/// second argument) by L-BFGS with 8 correction pairs and a backtracking (Armijo) line search,
/// from `x`, for at most `iterations` steps or until a step improves f by less than 1e-7 of it.
fn minimise_lbfgs(mut x: Vec<f64>, iterations: usize, objective: impl Fn(&[f64], &mut [f64]) -> f64) -> Vec<f64> {
    let mut g = vec![0f64; x.len()];
    let mut f = objective(&x, &mut g);
    let memory = 8;
    let mut s_hist: std::collections::VecDeque<Vec<f64>> = std::collections::VecDeque::new();
    let mut y_hist: std::collections::VecDeque<Vec<f64>> = std::collections::VecDeque::new();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut new_g = vec![0f64; x.len()];
    let mut candidate = vec![0f64; x.len()];
    for iteration in 0..iterations {
        // Two-loop recursion: d = -H·g.
        let mut d: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let a = rho * dot(s, &d);
            d.iter_mut().zip(y).for_each(|(di, yi)| *di -= a * yi);
            alphas.push((a, rho));
        }
        if let (Some(s), Some(y)) = (s_hist.back(), y_hist.back()) {
            let gamma = dot(s, y) / dot(y, y);
            d.iter_mut().for_each(|di| *di *= gamma);
        }
        for ((s, y), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.iter().rev()) {
            let b = rho * dot(y, &d);
            d.iter_mut().zip(s).for_each(|(di, si)| *di += (a - b) * si);
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            s_hist.clear();
            y_hist.clear();
            d = g.iter().map(|v| -v).collect();
            slope = dot(&g, &d);
        }
        let mut step = if s_hist.is_empty() && iteration == 0 { 1.0 / dot(&g, &g).sqrt().max(1e-12) } else { 1.0 };
        let mut accepted = false;
        for _ in 0..30 {
            candidate.iter_mut().zip(&x).zip(&d).for_each(|((ci, xi), di)| *ci = xi + step * di);
            let new_f = objective(&candidate, &mut new_g);
            if new_f <= f + 1e-4 * step * slope {
                let s: Vec<f64> = candidate.iter().zip(&x).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = new_g.iter().zip(&g).map(|(a, b)| a - b).collect();
                if dot(&s, &y) > 1e-12 {
                    if s_hist.len() == memory {
                        s_hist.pop_front();
                        y_hist.pop_front();
                    }
                    s_hist.push_back(s);
                    y_hist.push_back(y);
                }
                std::mem::swap(&mut x, &mut candidate);
                std::mem::swap(&mut g, &mut new_g);
                let improvement = (f - new_f) / f.abs().max(1.0);
                f = new_f;
                accepted = improvement > 1e-7;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    x
}

/// The score at or above which F1 is highest (0 when taking everything is best), and that F1.
/// (Tried for evidence instead: thresholds that maximise the evidence F1 pooled over all
/// categories, which cite a segment only when it is right more than F/2 of the time; 5-fold
/// cross-validated evidence precision 0.607 → 0.616, recall 0.667 → 0.660, F1 unchanged.)
fn best_threshold(scored: &[(f32, bool)]) -> (f32, f32) {
    let total_positive = scored.iter().filter(|(_, y)| *y).count();
    if total_positive == 0 {
        return (0.99, 0.0);
    }
    let mut sorted: Vec<(f32, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut best_f1, mut best) = (0f32, 0.5f32);
    for (i, (p, y)) in sorted.iter().enumerate() {
        if *y {
            tp += 1;
        } else {
            fp += 1;
        }
        // Only between distinct scores can a threshold be placed.
        if sorted.get(i + 1).is_some_and(|next| next.0 == *p) {
            continue;
        }
        let precision = tp as f32 / (tp + fp) as f32;
        let recall = tp as f32 / total_positive as f32;
        let f1 = if tp == 0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        if f1 > best_f1 {
            best_f1 = f1;
            best = if i + 1 == sorted.len() { 0.0 } else { *p };
        }
    }
    (best, best_f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model that finds nothing by itself: what it reports comes from phrases and anchors.
    fn untrained_model() -> Model {
        let n = CATEGORIES.len();
        Model {
            weights: vec![vec![0.0; DIMENSIONS]; n],
            bias: vec![-10.0; n],
            thresholds: vec![0.99; n],
            presence_thresholds: vec![0.99; n],
            document_weights: vec![vec![0.0; DIMENSIONS]; n],
            document_bias: vec![-10.0; n],
            document_mix: vec![0.0; n],
            trained_on: Vec::new(),
        }
    }

    #[test]
    fn category_phrases_are_evidence_even_for_an_untrained_model() {
        let model = untrained_model();
        let text = "Delivery is due in May.\nLate delivery incurs Liquidated Damages of $100 per day.";
        let segments = crate::segment::segments(text);
        let found = model.predict(text, &segments);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].category, "Liquidated Damages");
        assert!(found[0].segment.text(text).starts_with("Late delivery"));
    }

    /// The categories an untrained model reports in `text`: what wording alone finds.
    fn found(text: &str) -> Vec<&'static str> {
        untrained_model().predict(text, &crate::segment::segments(text)).iter().map(|p| p.category).collect()
    }

    #[test]
    fn every_rule_compiles_and_names_a_category() {
        assert_eq!(compiled_rules().len(), RULES.len(), "a rule failed to compile or names an unknown category");
        assert_eq!(
            phrase_exceptions().iter().map(Vec::len).sum::<usize>(),
            PHRASE_EXCEPTIONS.len(),
            "a phrase exception failed to compile or names an unknown category"
        );
    }

    #[test]
    fn wording_rules_find_their_clause_and_respect_their_exclusions() {
        assert_eq!(
            found("Licensor grants Licensee an unlimited, perpetual, worldwide license to use the Software."),
            ["Unlimited/All-You-Can-Eat-License", "Irrevocable or Perpetual License"]
        );
        assert!(found("Nothing here limits liability, which is unlimited for fraud.").is_empty());
        assert_eq!(
            found("Except for the Indemnified Parties, nothing in this Agreement confers any right on a third-party beneficiary."),
            ["Third Party Beneficiary"]
        );
        assert_eq!(
            found("The Franchisor is an intended third-party beneficiary of this Agreement."),
            ["Third Party Beneficiary"]
        );
        assert!(found("There are no third-party beneficiaries of this Agreement.").is_empty());
        assert!(found("Nothing in this Agreement makes any person an intended third party beneficiary.").is_empty());
        assert_eq!(found("Supplier may increase the prices once a year by no more than 3%."), ["Price Restrictions"]);
        assert!(found(
            "The Agent may terminate upon any material adverse change in the financial markets, and the Company \
             shall then pay the Agent's expenses, not to exceed $10,000, and its fees."
        )
        .is_empty());
        assert_eq!(
            found("For two years the Consultant shall not solicit or divert any customer of the Company."),
            ["No-Solicit of Customers"]
        );
        assert_eq!(
            found("The Consultant shall not solicit the services of any employee of a client."),
            ["No-Solicit of Employees"]
        );
        assert_eq!(
            found(
                "Sony, on behalf of itself and its Affiliates, hereby grants to Purchaser a license under the Patents."
            ),
            ["Affiliate License-Licensor"]
        );
        assert_eq!(
            found(
                "SpinCo, for itself and as representative of all other members of the SpinCo Group, hereby grants to \
                 RemainCo a perpetual license to use the Shared Library Materials."
            ),
            ["Affiliate License-Licensor", "Irrevocable or Perpetual License"]
        );
        assert_eq!(
            found("You hereby grant to us (and agree to obtain from your affiliates) a perpetual right to use any such ideas."),
            ["Affiliate License-Licensor", "Irrevocable or Perpetual License"]
        );
        // Materials kept from the benefit of a third party name no beneficiary, whatever the exception.
        assert!(found(
            "The Materials will not be used or delivered to or for the benefit of any third party, except as set \
             out in Section 4."
        )
        .is_empty());
    }

    #[test]
    fn a_promise_not_to_contest_the_other_sides_rights_is_a_covenant_not_to_sue() {
        assert_each_cited_by_wording(
            "Covenant Not to Sue",
            &[
                "Licensee shall not challenge the validity of the Licensed Patents.",
                "ISO agrees to never contest the ownership of these marks.",
                "Distributor shall not contest the ownership by Rubicon of any of the foregoing.",
            ],
        );
        let invoice = "TAG pays the portion of any invoice that it does not contest within ten days.";
        assert!(cited_by_wording(invoice, "Covenant Not to Sue").is_empty());
    }

    #[test]
    fn a_first_offer_and_registration_in_joint_names_are_found_by_their_wording() {
        let offer = "DCL shall first offer all Surplus Vehicles that DCL wishes to sell for sale to SEV.";
        assert_eq!(cited_by_wording(offer, "Rofr/Rofo/Rofn"), [offer]);
        let joint = "TL will trademark the series name in joint names of TL and Integrity.";
        assert_eq!(cited_by_wording(joint, "Joint IP Ownership"), [joint]);
        let data = "The usage reports will be co-owned by the parties.";
        assert_eq!(cited_by_wording(data, "Joint IP Ownership"), [data]);
        let relationship = "Nothing herein shall be construed to create a joint venture, co-ownership or partnership.";
        assert!(cited_by_wording(relationship, "Joint IP Ownership").is_empty());
        assert!(cited_by_wording("Each party shall first notify the other in writing.", "Rofr/Rofo/Rofn").is_empty());
    }

    #[test]
    fn minimum_fees_royalties_and_sales_are_a_minimum_commitment() {
        assert_each_cited_by_wording(
            "Minimum Commitment",
            &[
                "Customer shall pay M&I a minimum monthly fee of $5,000.",
                "Licensee shall pay the Minimum Royalties set out in Schedule B.",
                "Distributor shall meet the minimum sales targets for each Contract Year.",
            ],
        );
    }

    #[test]
    fn an_irrevocable_or_perpetual_licence_is_found_by_its_rule() {
        assert_eq!(
            found("IBM grants Customer an irrevocable, nonexclusive, worldwide, paid-up license to use the Materials."),
            ["Irrevocable or Perpetual License"]
        );
        assert_eq!(
            found("Franchisee grants to Pretzel Time a perpetual and worldwide right to use the ideas."),
            ["Irrevocable or Perpetual License"]
        );
        assert!(found("The licence ends with this Agreement; the duty of confidentiality is perpetual.").is_empty());
    }

    /// An untrained model but for `category`, which it scores sigmoid(`bias`) in every segment
    /// (thresholds 0.5), and that category's index.
    fn model_scoring(category: &str, bias: f32) -> (usize, Model) {
        let c = CATEGORIES.iter().position(|c| *c == category).unwrap_or_default();
        let mut model = untrained_model();
        model.bias[c] = bias;
        model.thresholds[c] = 0.5;
        model.presence_thresholds[c] = 0.5;
        (c, model)
    }

    #[test]
    fn a_ruled_category_hears_the_model_only_when_it_is_sure() {
        let clause = "The license granted to Reseller is personal and may not be assigned.";
        let cited_with_bias = |bias: f32| {
            let (c, model) = model_scoring("Non-Transferable License", bias);
            model.predict(clause, &crate::segment::segments(clause)).iter().any(|p| p.category == CATEGORIES[c])
        };
        assert!(cited_with_bias(5.0), "a model sure of it (p 0.99) is heard");
        assert!(!cited_with_bias(0.5), "a model at p 0.62 is not, whatever its thresholds");
    }

    #[test]
    fn an_exhibits_title_line_is_no_clause() {
        // A model that takes every segment for a non-compete.
        let (c, model) = model_scoring("Non-Compete", 5.0);
        let text = "The Consultant shall not compete with the Company for two years.\n\nEXHIBIT A\n\nSCHEDULE 2 - \
                    Direct Competitors\n";
        let cited: Vec<&str> = model
            .predict(text, &crate::segment::segments(text))
            .iter()
            .filter(|p| p.category == CATEGORIES[c])
            .map(|p| p.segment.text(text))
            .collect();
        assert_eq!(cited, ["The Consultant shall not compete with the Company for two years."]);
    }

    #[test]
    fn a_non_transferable_licence_is_found_by_its_rule() {
        assert_each_cited_by_wording(
            "Non-Transferable License",
            &[
                "Supplier grants Reseller a non-exclusive, non-transferable license to distribute the Product.",
                "The license granted hereunder is personal to Licensee and not transferable.",
            ],
        );
        let shares = "The Shares are non-transferable until the Closing.";
        assert!(cited_by_wording(shares, "Non-Transferable License").is_empty());
    }

    #[test]
    fn conduct_harmful_to_the_other_sides_goodwill_is_disparagement() {
        let clause = "Franchisee agrees to refrain from any business or advertising practice which may be \
                      injurious to the business of Pretzel Time and the goodwill associated with the Marks.";
        assert_eq!(cited_by_wording(clause, "Non-Disparagement"), [clause]);
        let neutral = "All goodwill arising from the use of the Marks inures to the benefit of Licensor.";
        assert!(cited_by_wording(neutral, "Non-Disparagement").is_empty());
    }

    #[test]
    fn a_conceded_forum_or_a_denied_right_of_first_refusal_is_not_cited_by_its_phrases() {
        let forum = "Any dispute shall be litigated in the courts located in Houston, Texas, and WPD agrees \
                     not to challenge personal jurisdiction in that forum.";
        assert!(cited_by_wording(forum, "Covenant Not to Sue").is_empty());
        let denied = "None of the Shares are subject to any preemptive or subscription right, right of first \
                      refusal or offer, option or warrant.";
        assert!(cited_by_wording(denied, "Rofr/Rofo/Rofn").is_empty());
        assert_each_cited_by_wording(
            "Covenant Not to Sue",
            &["Licensee agrees not to challenge the validity of the Licensed Patents or Licensor's title to them."],
        );
        assert_each_cited_by_wording(
            "Rofr/Rofo/Rofn",
            &["The Shares shall be subject to a right of first refusal in favour of the Company as set out below."],
        );
    }

    #[test]
    fn a_limit_on_using_the_other_sides_marks_is_no_promise_not_to_disparage_it() {
        for mark_use in [
            "The Licensee shall not by any act or omission use the Licensed Mark in any manner that disparages \
             or reflects adversely on Licensor or its business or reputation.",
            "Such logos, trademarks and trade names are used solely in a manner that is not intended to harm or \
             disparage the Company.",
        ] {
            assert!(cited_by_wording(mark_use, "Non-Disparagement").is_empty(), "{mark_use}");
        }
        assert_each_cited_by_wording(
            "Non-Disparagement",
            &[
                "Each party agrees not to disparage the other party or its products in any manner whatsoever.",
                "6.4 Non-Disparagement. Neither party will use the other party's Trademarks in a manner that \
                 disparages the other party.",
            ],
        );
    }

    #[test]
    fn a_fee_owed_upon_termination_is_liquidated_damages_as_cuad_defines_them() {
        assert_each_cited_by_wording(
            "Liquidated Damages",
            &[
                "If the BSP terminates under clause 14.3 the BSP will pay Datec the Termination Fee.",
                "For each Default Month, the Party in default shall pay a penalty equal to five times the yield.",
                "If the defect rate exceeds 2%, a penalty of 1% will be applied to the Work Center's charges.",
                "Either party may make a contract buyout payment of $50,000 upon a change of control.",
            ],
        );
        assert!(cited_by_wording("Either party may terminate this Agreement without penalty.", "Liquidated Damages")
            .is_empty());
    }

    #[test]
    fn a_single_valued_category_is_cited_once() {
        let model = untrained_model();
        let text = "1. Governing Law. This Agreement is governed by the laws of the State of New York.\n\n\
                    2. Notices. Notices go to the addresses above.\n\n\
                    3. Choice of Law. The parties confirm the choice made in Section 1.\n";
        let found = model.predict(text, &crate::segment::segments(text));
        let law: Vec<&Prediction> = found.iter().filter(|p| p.category == "Governing Law").collect();
        assert_eq!(law.len(), 1, "{found:?}");
        assert!(law[0].segment.text(text).contains("New York"), "the clause the key-term reader found: {law:?}");
    }

    #[test]
    fn most_favored_terms_are_found_however_worded() {
        assert_each_cited_by_wording(
            "Most Favored Nation",
            &[
                "Supplier shall grant Buyer the most favored customer pricing.",
                "If Vendor offers any other customer more favorable terms, Buyer may adopt them.",
                "The prices shall be at least as favorable as those Vendor charges any other distributor.",
                "At no time shall the price exceed the lowest price at which Vendor sells the Product to others.",
                "Distributor shall be treated no less favorably than any other distributor.",
                "The terms shall be no less favourable to Nortel than the terms in effect with any of its resellers.",
            ],
        );
        assert!(cited_by_wording("Prices are set out in Exhibit B.", "Most Favored Nation").is_empty());
        assert!(cited_by_wording(
            "The transferred employees shall be engaged on terms no less favourable than the terms on which they are engaged today.",
            "Most Favored Nation"
        )
        .is_empty());
    }

    #[test]
    fn a_phrase_the_contract_denies_is_no_evidence() {
        let denied = "Distributor shall not be subject to any minimum purchase requirements.";
        assert!(cited_by_wording(denied, "Minimum Commitment").is_empty());
        let denied = "This license does not include a minimum annual royalty payable by THI.";
        assert!(cited_by_wording(denied, "Minimum Commitment").is_empty());
        let owed = "Distributor shall meet the minimum purchase requirements, which are not subject to change.";
        assert_eq!(cited_by_wording(owed, "Minimum Commitment"), [owed]);
        // A cue far before the phrase, or after it, denies nothing.
        let later = "Payments shall not be subject to any set-off, and in each Contract Year Buyer shall pay a minimum annual fee of $10,000.";
        assert_eq!(cited_by_wording(later, "Minimum Commitment"), [later]);
        // The reach back may start inside a multi-byte character: it is moved to a boundary.
        let accented = "ééééééééééééééééééééé minimum purchase of 10 units per année.";
        assert_eq!(cited_by_wording(accented, "Minimum Commitment"), [accented]);
    }

    #[test]
    fn proximity_phrases_need_both_parts_close_together() {
        assert!(phrase_matches("shall not solicit for employment any employee", "solicit…employ"));
        assert!(!phrase_matches(
            "solicit orders. (a long gap of unrelated words about delivery schedules and the carriers used) employ",
            "solicit…employ"
        ));
        assert!(phrase_matches("a right of first refusal", "right of first refusal"));
        assert!(!phrase_matches("solicit", "solicit…employ"));
    }

    #[test]
    fn values_read_by_the_key_term_readers_are_evidence_of_their_categories() {
        let model = untrained_model();
        let text = "SUPPLY AGREEMENT\n\nThis Agreement is made as of March 1, 2020 by and between Acme, Inc. (\"Buyer\") \
                    and Beta LLC (\"Supplier\").\n\nPrices are in the Schedule.\n\nThis Agreement shall be governed by the laws of the State of Ohio.";
        let found = model.predict(text, &crate::segment::segments(text));
        let category_of = |needle: &str| -> Vec<&str> {
            found.iter().filter(|p| p.segment.text(text).contains(needle)).map(|p| p.category).collect()
        };
        assert_eq!(category_of("SUPPLY AGREEMENT"), ["Document Name"]);
        let preamble = category_of("by and between");
        // (No Effective Date: nothing says "effective"; see `only_a_stated_effective_date_anchors_the_category`.)
        for expected in ["Parties", "Agreement Date"] {
            assert!(preamble.contains(&expected), "{expected} not in {preamble:?}");
        }
        assert_eq!(category_of("governed by"), ["Governing Law"]);
        assert!(category_of("Prices").is_empty());
    }

    #[test]
    fn a_headed_section_is_evidence_and_a_copyright_line_or_filing_footer_is_not() {
        let model = untrained_model();
        let text = "10. Governing Law and Courts. The laws of the Governing Law state on the Cover Page apply.\n\n\
                    © 2021. Free to use under CC BY 4.0 and most favored terms.\n\n\
                    Source: MOST FAVORED CORP, 8-K, 8/15/2019";
        let found = model.predict(text, &crate::segment::segments(text));
        let categories: Vec<&str> = found.iter().map(|p| p.category).collect();
        assert_eq!(categories, ["Governing Law"], "{found:?}");
    }

    #[test]
    fn a_heading_cited_alone_takes_in_the_paragraph_under_it() {
        let model = untrained_model();
        let text = "9. ESCROW AGREEMENT\nLicensor shall deposit the materials with Iron Mountain.\n\n\
                    10. Governing Law\nThe laws of New York apply.\n\n11. Notices\nNotices are in writing.";
        let found = model.predict(text, &crate::segment::segments(text));
        let cited = |category: &str| found.iter().find(|p| p.category == category).map(|p| p.segment.text(text));
        assert_eq!(
            cited("Source Code Escrow"),
            Some("9. ESCROW AGREEMENT\nLicensor shall deposit the materials with Iron Mountain.")
        );
        // The title-like first line is still the document's name, on its own.
        assert_eq!(cited("Document Name"), Some("9. ESCROW AGREEMENT"), "{found:?}");
    }

    #[test]
    fn a_line_naming_no_kind_of_document_is_no_title() {
        // A filing's exhibit stamp, a schedule's label or a heading in capitals, before the
        // real title or instead of one.
        for stamp in ["Exhibit 1.2", "SCHEDULE B", "9. EXCLUSIVITY", "ATHENS BANCSHARES CORPORATION"] {
            let text = format!("{stamp}\n\nSUPPLY AGREEMENT\n\nThe parties agree as follows.");
            assert_eq!(cited_by_wording(&text, "Document Name"), ["SUPPLY AGREEMENT"], "after {stamp:?}");
            let alone = format!("{stamp}\n\nThe parties agree as follows.");
            assert!(cited_by_wording(&alone, "Document Name").is_empty(), "{stamp:?} alone");
        }
    }

    /// What an untrained model (phrases, rules and readers only) cites for `category`.
    fn cited_by_wording<'t>(text: &'t str, category: &str) -> Vec<&'t str> {
        let found = untrained_model().predict(text, &crate::segment::segments(text));
        found.iter().filter(|p| p.category == category).map(|p| p.segment.text(text)).collect()
    }

    /// Asserts that wording alone cites each clause, whole, as `category`.
    fn assert_each_cited_by_wording(category: &str, clauses: &[&str]) {
        for clause in clauses {
            assert_eq!(cited_by_wording(clause, category), [*clause], "{clause}");
        }
    }

    #[test]
    fn a_licence_reaching_the_licensees_affiliates_is_cited_by_its_wording() {
        assert_each_cited_by_wording(
            "Affiliate License-Licensee",
            &[
                "DIALOG may sublicense the foregoing license rights to any of its Affiliates.",
                "Licensee shall be entitled to grant sublicenses under its license to Affiliates only.",
                "Roche hereby grants to FMI a non-exclusive, perpetual, and sublicensable to Affiliates, license.",
                "Depomed hereby grants to King and its Affiliates a co-exclusive right to Promote the Product.",
            ],
        );
        // Sublicensees beside affiliates, or a licence the licensee may not extend, are not it.
        for clause in [
            "Licensee, its Sublicensees and its Affiliates shall pay the royalties when due.",
            "Licensee has no right to sublicense any rights granted hereunder to any third party.",
        ] {
            assert!(cited_by_wording(clause, "Affiliate License-Licensee").is_empty(), "{clause}");
        }
    }

    #[test]
    fn a_heading_that_disclaims_third_party_beneficiaries_is_not_one() {
        let disclaimer =
            "1. Term. This Agreement runs one year.\n\n14.6 No Third Party Beneficiaries. This Agreement is \
                          made for the benefit of the parties only.";
        assert!(cited_by_wording(disclaimer, "Third Party Beneficiary").is_empty());
        let beneficiary = "1. Term. This Agreement runs one year.\n\n14.6 Third Party Beneficiaries. Each Indemnitee \
                           may enforce Section 9.";
        assert_eq!(
            cited_by_wording(beneficiary, "Third Party Beneficiary"),
            ["14.6 Third Party Beneficiaries. Each Indemnitee may enforce Section 9."]
        );
    }

    #[test]
    fn only_a_stated_effective_date_anchors_the_category() {
        let dated_only =
            "This Agreement is made and entered into this 1st day of June, 2017 by Acme Inc. and Beta LLC.";
        assert!(cited_by_wording(dated_only, "Effective Date").is_empty());
        assert_eq!(cited_by_wording(dated_only, "Agreement Date"), [dated_only]);
        let stated = "This Agreement is entered into effective as of June 1, 2017 by Acme Inc. and Beta LLC.";
        assert_eq!(cited_by_wording(stated, "Effective Date"), [stated]);
    }

    #[test]
    fn a_category_every_contract_has_is_cited_however_weak_its_best_segment() {
        let mut model = untrained_model();
        let parties = CATEGORIES.iter().position(|c| *c == "Parties").expect("category");
        // Scores 1/(1+e^3) ≈ 0.05 everywhere: below the floor that keeps weak guesses out.
        model.bias[parties] = -3.0;
        let text = "K iosk Concep t s, I nc and F ranch i so r agree.";
        let segments = crate::segment::segments(text);
        assert!(model.predict(text, &segments).iter().all(|p| p.category != "Parties"));
        model.presence_thresholds[parties] = 0.0;
        let found = model.predict(text, &segments);
        assert!(found.iter().any(|p| p.category == "Parties" && p.confidence < ALWAYS_PRESENT_FLOOR), "{found:?}");
    }

    #[test]
    fn the_presence_score_combines_the_three_best_segments() {
        let mut top = TopScores::default();
        assert_eq!(top.presence(), 0.0);
        top.add(0.5);
        assert!((top.presence() - 0.5).abs() < 1e-6, "one segment is its own score");
        for score in [0.1, 0.5, 0.0, 0.5, 0.2] {
            top.add(score);
        }
        // The three 0.5s count, in whatever order they came; the 0.2 and 0.1 do not.
        assert!((top.presence() - 0.875).abs() < 1e-6, "{}", top.presence());
    }

    #[test]
    fn several_middling_segments_make_a_category_present_where_one_does_not() {
        let mut model = untrained_model();
        let warranty = CATEGORIES.iter().position(|c| *c == "Warranty Duration").expect("category");
        // Every segment scores 1/(1+e^0.4) ≈ 0.40: one alone is below a presence threshold of
        // 0.6, three together (1 − 0.6³ ≈ 0.78) are above it.
        model.bias[warranty] = -0.4;
        model.presence_thresholds[warranty] = 0.6;
        let found = |text: &str| -> Vec<&'static str> {
            model.predict(text, &crate::segment::segments(text)).iter().map(|p| p.category).collect()
        };
        let one = "The Supplier shall deliver the goods.";
        assert!(!found(one).contains(&"Warranty Duration"), "{:?}", found(one));
        let three = "The Supplier shall deliver the goods.\nThe Buyer shall pay the price.\nEach party keeps records.";
        assert!(found(three).contains(&"Warranty Duration"), "{:?}", found(three));
    }

    #[test]
    fn a_contents_line_names_clauses_without_being_one() {
        for line in [
            "liability, indemnification, limitations and insurance\n\n  24",
            "11.5 insurance. 40",
            "article 7 indemnification .......... 24",
            "date: 7",
        ] {
            assert!(is_contents_line(line), "{line}");
        }
        for line in
            ["payment is due within 30 days of invoice 2", "the fee is $ 100", "exhibit a", "12.3 governing law"]
        {
            assert!(!is_contents_line(line), "{line}");
        }
        // Neither a section heading nor a category phrase makes the line a clause.
        let text = "TABLE OF CONTENTS\n\n11.5 Insurance. 40\n\n12.1 Term. 41\n\n11.5 Insurance. Supplier shall carry insurance.";
        assert_eq!(cited_by_wording(text, "Insurance"), ["11.5 Insurance. Supplier shall carry insurance."]);
        let text = "CONTENTS\n\nLiquidated Damages 24\n\n9. Liquidated Damages. Buyer pays liquidated damages.";
        assert_eq!(
            cited_by_wording(text, "Liquidated Damages"),
            ["9. Liquidated Damages. Buyer pays liquidated damages."]
        );
    }

    #[test]
    fn a_segment_carries_the_heading_of_its_section() {
        let text = "Preamble text of the agreement.\n\n12. Insurance. Supplier shall insure the goods.\n\n\
                    (a) The policy shall name Buyer.\n\n13.\n\nSomething else entirely, without a heading.";
        let segments = crate::segment::segments(text);
        let structure = crate::structure::structure(text);
        let headings = section_headings(&segments, &structure);
        let heading_of = |needle: &str| {
            let at = segments.iter().position(|s| s.text(text).contains(needle)).expect("segment");
            headings[at]
        };
        assert_eq!(heading_of("Preamble"), None);
        assert_eq!(heading_of("insure the goods"), Some("Insurance"));
        assert_eq!(heading_of("name Buyer"), Some("Insurance"), "a sub-clause keeps its section's heading");
        assert_eq!(heading_of("Something else"), None, "an unheaded section ends the one before");
        let plain = features("The policy shall name Buyer.");
        assert_ne!(segment_features("The policy shall name Buyer.", Some("Insurance")), plain);
        assert_eq!(segment_features("The policy shall name Buyer.", None), plain);
    }

    #[test]
    fn stray_letters_are_no_clause_even_when_everything_scores() {
        let mut model = untrained_model();
        model.bias = vec![10.0; CATEGORIES.len()];
        let text = "V\n\nT E R\n\nThe Supplier shall deliver the goods.";
        let found = model.predict(text, &crate::segment::segments(text));
        assert!(!found.is_empty());
        assert!(found.iter().all(|p| p.segment.text(text).starts_with("The Supplier")), "{found:?}");
    }

    #[test]
    fn a_category_that_needs_another_is_not_reported_alone() {
        let index_of = |name: &str| CATEGORIES.iter().position(|c| *c == name).expect("category");
        let text = "Nothing in this Agreement prevents the Supplier from selling to others.";
        let found_with = |biased: &[&str]| -> Vec<&'static str> {
            let mut model = untrained_model();
            for name in biased {
                model.bias[index_of(name)] = 10.0;
            }
            model.predict(text, &crate::segment::segments(text)).iter().map(|p| p.category).collect()
        };
        assert!(found_with(&["Competitive Restriction Exception"]).is_empty());
        assert_eq!(
            found_with(&["Competitive Restriction Exception", "Exclusivity"]),
            ["Exclusivity", "Competitive Restriction Exception"]
        );
        // A change of control clause likewise comes with an anti-assignment clause.
        assert!(found_with(&["Change of Control"]).is_empty());
        assert_eq!(found_with(&["Change of Control", "Anti-Assignment"]), ["Change of Control", "Anti-Assignment"]);
    }

    #[test]
    fn features_are_normalised_and_stable() {
        let f = features("This Agreement shall be governed by the laws of the State of New York.");
        let norm: f32 = f.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(f, features("THIS agreement shall be governed by the laws of the state of new york"));
        assert_eq!(hash(&[b"governed"]), hash(&[b"governed"]));
    }

    #[test]
    fn lbfgs_finds_the_minimum_of_an_ill_conditioned_quadratic() {
        // f = (x0 - 3)² + 100·(x1 + 1)², minimum at (3, -1).
        let objective = |x: &[f64], grad: &mut [f64]| {
            grad[0] = 2.0 * (x[0] - 3.0);
            grad[1] = 200.0 * (x[1] + 1.0);
            (x[0] - 3.0).powi(2) + 100.0 * (x[1] + 1.0).powi(2)
        };
        let x = minimise_lbfgs(vec![0.0, 0.0], 100, objective);
        assert!((x[0] - 3.0).abs() < 1e-3 && (x[1] + 1.0).abs() < 1e-3, "{x:?}");
    }

    #[test]
    fn companded_weights_keep_small_weights_that_linear_steps_would_zero() {
        let max = 8.0f32;
        for ratio in [1.0f32, -0.3, 0.05, -0.01, 0.001] {
            let weight = ratio * max;
            let back = decode_weight(encode_weight(weight, max), max);
            assert!((back - weight).abs() <= 0.1 * weight.abs(), "{weight} came back as {back}");
        }
        assert_eq!(decode_weight(encode_weight(0.0, max), max), 0.0);
    }

    /// Training data of `contracts` contracts: every other one has a governing-law clause (a
    /// labelled segment), and every third is a franchise agreement, which limits a volume in a
    /// way no segment is labelled with (the contract as a whole is).
    fn synthetic_training(contracts: u32) -> (Vec<Example>, Vec<Example>) {
        let law = CATEGORIES.iter().position(|c| *c == "Governing Law").expect("category");
        let volume = CATEGORIES.iter().position(|c| *c == "Volume Restriction").expect("category");
        let (mut examples, mut documents) = (Vec::new(), Vec::new());
        for i in 0..contracts {
            let mut has = vec![false; CATEGORIES.len()];
            has[law] = i % 2 == 0;
            has[volume] = i % 3 == 0;
            let mut segments = vec![
                (format!("The Supplier shall deliver {i} units each month."), false),
                (format!("Invoices are payable within {i} days."), false),
            ];
            if has[law] {
                segments.push((format!("This Agreement is governed by the laws of State {i}."), true));
            }
            if has[volume] {
                segments.push(("The Franchisee shall operate the franchised restaurant.".to_owned(), false));
            }
            for (text, is_law) in &segments {
                let mut labels = vec![false; CATEGORIES.len()];
                labels[law] = *is_law;
                examples.push(Example { features: features(text), labels, contract: i, contract_has: has.clone() });
            }
            let whole: Vec<&str> = segments.iter().map(|(t, _)| t.as_str()).collect();
            documents.push(Example {
                features: features(&whole.join("\n")),
                labels: has.clone(),
                contract: i,
                contract_has: has,
            });
        }
        (examples, documents)
    }

    #[test]
    fn a_trained_model_separates_its_classes_and_survives_a_round_trip() {
        let law = CATEGORIES.iter().position(|c| *c == "Governing Law").expect("category");
        let (examples, documents) = synthetic_training(60);
        let mut model = train(&examples, &documents, 50);
        model.trained_on = vec![crate::eval::contract_fingerprint("B"), crate::eval::contract_fingerprint("A")];
        model.trained_on.sort_unstable();
        let restored = Model::from_bytes(&model.to_bytes()).expect("round trip");
        assert!(restored.was_trained_on("A") && restored.was_trained_on("B") && !restored.was_trained_on("C"));
        let yes = features("This Agreement is governed by the laws of State 77.");
        let no = features("The Supplier shall deliver the units by truck.");
        assert!(restored.probability(law, &yes) >= restored.thresholds[law]);
        assert!(restored.probability(law, &no) < restored.thresholds[law]);
        assert_eq!(restored.document_mix, model.document_mix);
        assert!(Model::from_bytes(b"garbage").is_err());
        assert!(Model::from_bytes(&model.to_bytes()[..1000]).is_err());
        // A count of fingerprints that the file cannot hold is refused, not read past its end.
        let mut damaged = model.to_bytes();
        damaged[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Model::from_bytes(&damaged).is_err());
        // Fingerprints out of order are a damaged file.
        let mut unordered = model.clone();
        unordered.trained_on.reverse();
        assert!(Model::from_bytes(&unordered.to_bytes()).is_err());
    }

    #[test]
    fn a_category_no_segment_shows_is_judged_from_the_whole_contract() {
        let (examples, documents) = synthetic_training(60);
        let model = train(&examples, &documents, 50);
        let volume = CATEGORIES.iter().position(|c| *c == "Volume Restriction").expect("category");
        assert!(model.document_mix[volume] > 0.0, "the document model decides: {}", model.document_mix[volume]);
        let found = |text: &str| -> Vec<&'static str> {
            model.predict(text, &crate::segment::segments(text)).iter().map(|p| p.category).collect()
        };
        let franchise = "The Franchisee shall operate the franchised restaurant.\nInvoices are payable within 30 days.";
        assert!(found(franchise).contains(&"Volume Restriction"), "{:?}", found(franchise));
        let supply = "The Supplier shall deliver 5 units each month.\nInvoices are payable within 30 days.";
        assert!(!found(supply).contains(&"Volume Restriction"), "{:?}", found(supply));
    }
}
