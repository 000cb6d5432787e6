//! The clause classifier: features, wording, filters, prediction, model file and training.

use super::features::*;
use super::model_file::*;
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
fn the_wording_tables_load_and_every_rule_compiles() {
    let wording = load(BUILT_IN).expect("wording/clauses.toml");
    assert_eq!(compiled_rules().len(), wording.rule.len(), "a rule failed to compile or names an unknown category");
    assert_eq!(phrase_exceptions().iter().map(Vec::len).sum::<usize>(), wording.exception.len());
    let misspelt = BUILT_IN.replacen("category = \"Non-Disparagement\"", "category = \"Non Disparagement\"", 1);
    assert!(load(&misspelt).is_err());
    let broken = BUILT_IN.replacen("all = ['\\bunlimited\\b']", "all = ['(unlimited']", 1);
    assert_ne!(broken, BUILT_IN);
    assert!(load(&broken).is_err());
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
        found("Sony, on behalf of itself and its Affiliates, hereby grants to Purchaser a license under the Patents."),
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
    assert!(
        cited_by_wording("Either party may terminate this Agreement without penalty.", "Liquidated Damages").is_empty()
    );
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
    let disclaimer = "1. Term. This Agreement runs one year.\n\n14.6 No Third Party Beneficiaries. This Agreement is \
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
    let dated_only = "This Agreement is made and entered into this 1st day of June, 2017 by Acme Inc. and Beta LLC.";
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
    for line in ["payment is due within 30 days of invoice 2", "the fee is $ 100", "exhibit a", "12.3 governing law"] {
        assert!(!is_contents_line(line), "{line}");
    }
    // Neither a section heading nor a category phrase makes the line a clause.
    let text =
        "TABLE OF CONTENTS\n\n11.5 Insurance. 40\n\n12.1 Term. 41\n\n11.5 Insurance. Supplier shall carry insurance.";
    assert_eq!(cited_by_wording(text, "Insurance"), ["11.5 Insurance. Supplier shall carry insurance."]);
    let text = "CONTENTS\n\nLiquidated Damages 24\n\n9. Liquidated Damages. Buyer pays liquidated damages.";
    assert_eq!(cited_by_wording(text, "Liquidated Damages"), ["9. Liquidated Damages. Buyer pays liquidated damages."]);
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
