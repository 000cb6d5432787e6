//! Wording that decides a category whatever the model says: phrases specific to a category
//! but too rare to learn, rules of patterns that must (and must not) match, the exceptions a
//! phrase does not count in, and categories that make sense only beside another.

use super::*;

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
pub(super) type CompiledRule = (usize, Vec<regex::Regex>, Vec<regex::Regex>);

/// [`RULES`] compiled once, with their category index. A pattern that does not compile (a
/// test guards against it) drops its rule rather than failing a review.
pub(super) fn compiled_rules() -> &'static [CompiledRule] {
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

/// Whether lower-cased `text` has `phrase`; "a…b" means "a" followed by "b" within
/// [`PHRASE_GAP`] bytes. A match that a [`NEGATIONS`] cue denies does not count.
pub(super) fn phrase_matches(text: &str, phrase: &str) -> bool {
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
pub(super) const NEGATIONS: &[&str] =
    &["not be subject to any ", "not subject to any ", "not include a ", "not include any "];

/// Bytes before a phrase in which a [`NEGATIONS`] cue denies it.
pub(super) const NEGATION_REACH: usize = 40;

pub(super) fn is_negated(text: &str, at: usize) -> bool {
    let from = crate::floor_boundary(text, at.saturating_sub(NEGATION_REACH));
    text.get(from..at).is_some_and(|before| NEGATIONS.iter().any(|cue| before.contains(cue)))
}

/// Largest gap between the two parts of an "a…b" phrase.
pub(super) const PHRASE_GAP: usize = 80;

/// Confidence given to a phrase match. Thresholds above it are also capped to it: thresholds
/// tuned that high come from categories with a handful of validation positives, and held-out
/// presence macro-F1 rose from 0.492 to 0.560 with the cap.
pub(super) const PHRASE_CONFIDENCE: f32 = 0.9;

/// Per segment, the categories its wording gives away whatever the model says (phrases,
/// rules, and values the key-term and structure readers anchored there), and whether it can
/// be evidence of names and dates only (a line of a table of contents); or `None` for a
/// segment that is no clause at all (the document's own copyright line or filing footer,
/// stray letters).
pub(super) fn wording_hits(
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
pub(super) const PHRASE_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "Non-Disparagement",
        r"\b(use|used|using)\b[^.;]{0,120}\b(marks?|logos?|trademarks?|trade names?|domain names?)\b[^.;]{0,80}\bmanner\b|\b(marks?|logos?|trademarks?|trade names?|domain names?)\b[^.;]{0,80}\b(used|use)\b[^.;]{0,40}\bmanner\b",
    ),
    ("Covenant Not to Sue", r"challeng\w*[^.;]{0,30}\b(jurisdiction|venue|forum)\b"),
    ("Rofr/Rofo/Rofn", r"\bnone of\b[^.;]{0,60}\bsubject to any\b"),
];

/// [`PHRASE_EXCEPTIONS`] compiled once, by category index. A pattern that does not compile (a
/// test guards against it) is dropped, and the phrases count as before.
pub(super) fn phrase_exceptions() -> &'static [Vec<regex::Regex>; CATEGORIES.len()] {
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
pub(super) const PREREQUISITES: &[(&str, &[&str])] = &[
    ("Competitive Restriction Exception", &["Non-Compete", "Exclusivity", "No-Solicit of Customers"]),
    ("Change of Control", &["Anti-Assignment"]),
];

/// A category decided by its wording rule also takes a segment the model scores at least this
/// high: the wording of a clause the rule misses ("the license … is personal and may not be
/// assigned"), with few of the model's false guesses (5-fold cross-validated presence F1 of
/// Non-Transferable License 0.824 → 0.87 with it, against 0.82 for the model alone).
pub(super) const RULED_MODEL_FLOOR: f32 = 0.9;

/// Categories decided by their wording rules, with the model heard only above [`RULED_MODEL_FLOOR`].
pub(super) fn ruled_categories() -> [bool; CATEGORIES.len()] {
    let mut ruled = [false; CATEGORIES.len()];
    for (c, _, _) in compiled_rules() {
        ruled[*c] = true;
    }
    ruled
}
