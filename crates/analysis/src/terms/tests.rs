//! Key-term readers, each on wording as contracts write it.

use super::*;

#[test]
fn dates_in_contract_styles_are_normalised() {
    let text = "dated October 1, 2019 and 23rd day of September, 2016 or 22 Dec. 2017 or 1/13/2005, \
                April 15 , 2010, start: 04-01-06; not section 1-2-3.";
    let values: Vec<String> = find_dates(text).into_iter().map(|d| d.2.to_string()).collect();
    assert_eq!(values, ["2019-10-01", "2016-09-23", "2017-12-22", "2005-01-13", "2010-04-15", "2006-04-01"]);
    // As CUAD's text often has them: an ordinal's suffix split off, no space after a comma.
    let split =
        "made this 15t h day of January 2018, amended November 19t h, 2012 and May 3,2006; 21s t day of May, 1999";
    let values: Vec<String> = find_dates(split).into_iter().map(|d| d.2.to_string()).collect();
    assert_eq!(values, ["2018-01-15", "2012-11-19", "2006-05-03", "1999-05-21"]);
}

#[test]
fn standard_terms_point_to_their_cover_page() {
    for text in [
        "1. Introduction. To use this NDA, the parties complete and sign a Bonterms Cover Page. Each party is identified on the Cover Page.\n",
        "\"Cover Page\" means a document that is signed by the parties, incorporates these Standard Terms, and identifies Provider and Customer.\n",
        "Variables have the meanings or descriptions given on the Cover Page.\n",
    ] {
        let cover_page = key_terms(text).cover_page.expect(text);
        assert_eq!(cover_page.value, "Cover Page");
        assert!(text[cover_page.start..cover_page.end].contains("Cover Page"));
    }
    for text in [
        // A prospectus's, a plan's cover page; a cover page that is this document.
        "The Shares are offered at the Purchase Price set forth on the cover page of the Prospectus, signed by the parties.\n",
        "The improvements identified in this property improvement plan relevant to the brand specified on the cover page of this PIP.\n",
        "By signing this Cover Page, each party agrees to enter into this MNDA. The parties identified on the Cover Page sign it.\n",
        "THIS AGREEMENT is made between Acme Inc. and Beta LLC. Notices go to the address on the cover page.\n",
    ] {
        assert_eq!(key_terms(text).cover_page, None, "{text}");
    }
}

#[test]
fn the_agreement_and_effective_dates_are_told_apart() {
    let text =
        "This Services Agreement is made as of October 1, 2019 (the \"Agreement\"), effective as of November 1, 2019.";
    let terms = key_terms(text);
    assert_eq!(terms.agreement_date.map(|t| t.value).as_deref(), Some("2019-10-01"));
    assert_eq!(terms.effective_date.map(|t| t.value).as_deref(), Some("2019-11-01"));
}

#[test]
fn the_expiration_date_is_stated_or_computed_from_the_term() {
    let stated = "This Agreement is effective June 1, 1998 and continues for three (3) years, expiring May 31, 2001.";
    assert_eq!(key_terms(stated).expiration_date.map(|t| t.value).as_deref(), Some("2001-05-31"));
    let computed = "This Agreement is effective as of September 23, 2016.\n\nThe term of this Agreement shall be five (5) years following the Effective Date.";
    let terms = key_terms(computed);
    assert_eq!(terms.initial_term.as_ref().map(|p| p.value.as_str()), Some("5 years"));
    assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("2021-09-23"));
    let period = |value: &str, days| Period { value: value.into(), days, start: 0, end: 0 };
    let day = |iso: &str| iso.parse::<chrono::NaiveDate>().ok();
    assert_eq!(add_period(day("2020-01-31").expect("date"), &period("1 month", 30)), day("2020-02-29"));
    assert_eq!(add_period(day("1999-12-15").expect("date"), &period("30 days", 30)), day("2000-01-14"));
}

#[test]
fn looser_term_wordings_and_perpetual_agreements() {
    let loose = "This Agreement is effective as of April 15, 2010.\n\nThis Development Agreement will begin on the \
                 Effective Date and continue for four (4) years unless earlier terminated on written notice.";
    let terms = key_terms(loose);
    assert_eq!(terms.initial_term.map(|p| p.value).as_deref(), Some("4 years"));
    assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("2014-04-15"));
    let defined = "This Agreement is made on January 5, 2019 and becomes effective on February 1, 2019 \
                   (the \"Effective Date\").";
    assert_eq!(key_terms(defined).effective_date.map(|t| t.value).as_deref(), Some("2019-02-01"));
    let perpetual = "This Agreement shall be effective from the date first above written and shall continue \
                     indefinitely until terminated by either Party.";
    assert_eq!(key_terms(perpetual).expiration_date.map(|t| t.value).as_deref(), Some("perpetual"));
    for perpetual in [
        "This Agreement will commence on the Effective Date and will continue until termination as provided below.",
        "This Agreement shall commence on the Effective Date and shall continue until it is terminated in \
         accordance with the provisions of Section 15.",
        "This Agreement shall be valid for an indefinite period.",
    ] {
        assert_eq!(key_terms(perpetual).expiration_date.map(|t| t.value).as_deref(), Some("perpetual"), "{perpetual}");
    }
    let anniversary = "This Agreement is effective as of March 27, 2017 (the \"Effective Date\").\n\nThis Agreement \
                       shall commence on the Effective Date and shall continue until the four-year anniversary of the \
                       Effective Date.";
    assert_eq!(key_terms(anniversary).expiration_date.map(|t| t.value).as_deref(), Some("2021-03-27"));
    let third = "This Agreement is effective as of September 21, 1998 (the \"Effective Date\").\n\nThis Agreement \
                 will terminate on the third (3rd) anniversary of the Effective Date.";
    assert_eq!(key_terms(third).expiration_date.map(|t| t.value).as_deref(), Some("2001-09-21"));
    let thereof = "This Agreement is effective as of March 27, 2019 (the \"Effective Date\").\n\nThe Agreement shall \
                   have an initial term of ten (10) years commencing from the Effective Date and ending on the tenth \
                   (10th) anniversary thereof.";
    assert_eq!(key_terms(thereof).expiration_date.map(|t| t.value).as_deref(), Some("2029-03-27"));
    let from = "This Agreement is effective as of September 4, 2014 (the \"Effective Date\").\n\nUnless terminated \
                earlier, this Agreement shall terminate on the date three (3) years from the Effective Date.";
    assert_eq!(key_terms(from).expiration_date.map(|t| t.value).as_deref(), Some("2017-09-04"));
    let volume = "This Agreement is effective as of April 27, 1999 (the \"Effective Date\").\n\nBuyer may end this \
                  Agreement if fewer than 1,000 packages ship in any three (3) full month period ending 18 months \
                  after the Effective Date.";
    assert_eq!(key_terms(volume).expiration_date, None, "a period's end, not the agreement's");
    let dated = "This Agreement is made on January 5, 2004.\n\nThis Agreement shall continue until December 31, \
                 2006 and thereafter until terminated.";
    assert_eq!(key_terms(dated).expiration_date.map(|t| t.value).as_deref(), Some("2006-12-31"));
}

/// The expiration date of `text`, as the review reports it.
fn expires(text: &str) -> Option<String> {
    key_terms(text).expiration_date.map(|t| t.value)
}

#[test]
fn the_term_sentence_gives_the_end_before_any_other_date() {
    // A "through" far from the date, in another sentence, makes no end of it.
    let stray = "Use the links to navigate through this document.\nTHIS AGREEMENT is made this 5th day of \
                 December, 2007.\n\n1. The term of this Agreement shall be one (1) year, commencing January 1, \
                 2008 and ending on December 31, 2008.";
    assert_eq!(expires(stray).as_deref(), Some("2008-12-31"));
    // The start the term sentence states, plus its period.
    let started = "This Agreement is dated March 3, 1999.\n\nThe term of this Agreement shall begin on January 1, \
                   2000 and continue for an initial period of five (5) years unless earlier terminated.";
    assert_eq!(expires(started).as_deref(), Some("2005-01-01"));
    // A duty's period in the same paragraph comes first in the text, not in the reading.
    let duty = "This Agreement is effective as of March 18, 2010 (the \"Effective Date\").\n\nBuyer shall order \
                1,000 units during the first twenty-four (24) months of this Agreement. This Agreement shall be \
                for a period of five (5) years commencing upon the Effective Date.";
    assert_eq!(expires(duty).as_deref(), Some("2015-03-18"));
    // What happens after the term, or if a party fails to act, is not the term.
    let after = "This Agreement is effective as of February 17, 2016 (the \"Effective Date\").\n\nAfter the \
                 Initial Term, this Agreement shall continue on a month to month basis.\n\nThe Initial Term of \
                 this Agreement shall be three (3) years from the Effective Date.";
    assert_eq!(expires(after).as_deref(), Some("2019-02-17"));
    // A sentence the text breaks over lines that start in capitals.
    let broken = "This Sponsorship Agreement is made as of December 1, 2009.\n\n1. Term. The term of this \
                  Agreement shall commence on\nJanuary 1, 2010 and extend through December 31, 2010.";
    assert_eq!(expires(broken).as_deref(), Some("2010-12-31"));
    // The day before an anniversary, as CUAD reads it: the anniversary.
    let prior = "This Agreement is effective as of November 19, 1999 (the \"Effective Date\").\n\nINITIAL TERM \
                 shall mean the Effective Date through the day prior to the second anniversary of the Effective \
                 Date, unless earlier terminated pursuant to Section 11.";
    assert_eq!(expires(prior).as_deref(), Some("2001-11-19"));
}

#[test]
fn a_sub_period_or_a_renewal_is_not_the_end_of_the_term() {
    let ledger = "This Agreement is effective as of May 1, 2019.\n\nThe first statement under the terms of this \
                  Agreement covers the three-month period ending January 31, 2020.";
    assert_eq!(expires(ledger), None);
    let renewal = "This Agreement is effective as of July 23, 2003.\n\nThis Agreement will extend automatically \
                   for monthly periods unless either party gives notice.\n\nThis Agreement commences on the date \
                   first above written, and will remain in effect for the period of five (5) years.";
    assert_eq!(expires(renewal).as_deref(), Some("2008-07-23"));
}

#[test]
fn a_date_of_another_agreement_is_not_the_agreement_date() {
    let text = "THIS AGREEMENT is made as of the Effective Date between Glamis and Western.\n\n\
                (A) Glamis and Western are parties to an arrangement agreement dated as of February 23, 2006 \
                (the \"Arrangement Agreement\").\n\nWHEREAS, Glamis entered into a Supply Agreement dated May 1, 2005.";
    assert_eq!(key_terms(text).agreement_date, None);
    let amendment = "WHEREAS, A and B entered into a License Agreement dated May 1, 2005.\n\n\
                     This Amendment is dated as of June 1, 2020 (the \"Amendment\").";
    assert_eq!(key_terms(amendment).agreement_date.map(|t| t.value).as_deref(), Some("2020-06-01"));
}

#[test]
fn a_duty_that_outlasts_the_term_is_not_the_term() {
    let text = "This Agreement is effective as of March 1, 2020.\n\n\
                During the Term of this Agreement and for two (2) years thereafter, Supplier keeps spare parts.\n\n\
                For three (3) years after termination of this Agreement, Buyer may audit.\n\n\
                This Agreement shall continue in full force and effect for an initial period of five (5) years. \
                Thereafter, this Agreement shall automatically renew for one (1) year periods.";
    let terms = key_terms(text);
    assert_eq!(terms.initial_term.map(|p| p.value).as_deref(), Some("5 years"));
    assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("2025-03-01"));
    let fee = "This Agreement is effective as of March 1, 2020.\n\nThe monthly fee is $3,250 through August 19, 2020.";
    assert_eq!(key_terms(fee).expiration_date, None, "a fee's end, not the agreement's");
    let records = "This Agreement is effective as of March 1, 2020.\n\nSupplier shall keep records during the \
                   term of this Agreement and for a period of three (3) years.";
    assert_eq!(key_terms(records).initial_term, None);
}

#[test]
fn an_effective_date_is_stated_or_stands_in_for_the_agreement_date() {
    let stated = "This Agreement is entered into effective as of May 1, 2020 by A and B.";
    let terms = key_terms(stated);
    assert!(is_stated_effective_date(stated, &terms.effective_date.expect("effective date")));
    let dated_only = "This Agreement is made and entered into this 1st day of June, 2017 by A and B.";
    let terms = key_terms(dated_only);
    let stand_in = terms.effective_date.expect("the agreement date stands in");
    assert_eq!(Some(&stand_in), terms.agreement_date.as_ref());
    assert!(!is_stated_effective_date(dated_only, &stand_in));
    // Not a fiscal year that commences, nor another agreement's effective date.
    let others = "This Agreement is made as of May 1, 2020 by A and B.\n\n\
                  WHEREAS, A and C entered into a Selling Agreement, effective as of December 1, 2002.\n\n\
                  Reports are due for each fiscal year commencing January 1, 2021.";
    let terms = key_terms(others);
    assert_eq!(terms.effective_date, terms.agreement_date, "only the agreement date stands in");
    assert!(!is_stated_effective_date(others, &terms.effective_date.expect("stand-in")));
}

#[test]
fn a_term_sentence_after_a_proviso_or_spaced_like_a_filing() {
    // "…hereof, the term of this Agreement …": the article belongs to the subject.
    let proviso = "1. Term. Subject to the provisions of Section 14 hereof, the term of this Agreement and the \
                   sponsorship described herein shall commence on  January 1, 2010 and extend through December 31, 2010.";
    assert_eq!(expires(proviso).as_deref(), Some("2010-12-31"));
    // An anniversary with the filing's spacing inside the words.
    let spaced = "This Agreement is made as of January 26, 1998.\n\n4. Term. The term of this Agreement (the \
                  \"Term\") will begin on      February 1, 1998 and end on the first anniversary of the date of this      \
                  Agreement; provided that either party may terminate this Agreement.";
    assert_eq!(expires(spaced).as_deref(), Some("1999-01-26"));
    // "comes into force as of" starts the term the sentence gives.
    let in_force = "13.1 This Agreement shall come into force as of January 1, 2013 and remain valid for 1 year.";
    assert_eq!(expires(in_force).as_deref(), Some("2014-01-01"));
}

#[test]
fn a_term_that_lasts_while_something_holds_is_perpetual_but_a_redacted_period_is_not() {
    for open in [
        "This Agreement shall become effective as of the Effective Date and shall continue to be in full force \
         and effect for so long as Alpha remains a Shareholder of the Company.",
        "This Agreement will be effective beginning on the Effective Date and ending on the expiration and/or \
         termination of all Service Option Attachments.",
        "This Agreement shall become effective as of the day and year first above written and shall govern the \
         relations between the parties hereto thereafter, unless terminated as set forth in this Section 6.",
        // "Extend until" states the term; it is no renewal.
        "Unless earlier terminated as provided below, this IP Agreement shall extend until the last date of \
         expiration of the Intellectual Property rights licensed under this IP Agreement.",
    ] {
        let text = format!("This Agreement is made as of March 20, 2018.\n\n{open}");
        assert_eq!(expires(&text).as_deref(), Some("perpetual"), "{open}");
    }
    for dated in [
        // A period is stated, if redacted: not open-ended.
        "This Supply Agreement shall commence on the Effective Date, and shall continue for a period of [***] \
         unless terminated earlier in accordance with its terms.",
        // The end is a date the agreement defines elsewhere.
        "This Agreement shall commence on the Effective Date and, unless earlier terminated, shall expire on the \
         Expiration Date (the \"Term\").",
    ] {
        let text = format!("This Agreement is made as of March 20, 2018.\n\n{dated}");
        assert_ne!(expires(&text).as_deref(), Some("perpetual"), "{dated}");
    }
}

#[test]
fn the_start_of_the_term_is_the_effective_date_and_an_anniversary_of_the_agreements_date_counts_from_it() {
    let effective = |text: &str| key_terms(text).effective_date.map(|t| t.value);
    let begins = "This Agreement is made as of January 26, 1998.\n\nThe term of this Agreement will begin on \
                  February 1, 1998 and end on the first anniversary of the date of this Agreement.";
    assert_eq!(effective(begins).as_deref(), Some("1998-02-01"));
    assert_eq!(expires(begins).as_deref(), Some("1999-01-26"));
    for (text, date) in [
        ("This Agreement shall come into force as of January 1, 2013 and remain valid for 1 year.", "2013-01-01"),
        ("Signed and effective this 25th day of May, 1999.", "1999-05-25"),
        ("\"Commencement Date\" means 16 October 2005.", "2005-10-16"),
    ] {
        assert_eq!(effective(text).as_deref(), Some(date), "{text}");
    }
    // A date the term begins and then one it ends: the first is the start.
    let both = "This promotion shall begin on June 1, 1999 and shall terminate June 1, 2000 (the \"Term\").";
    assert_eq!(effective(both).as_deref(), Some("1999-06-01"));
}

#[test]
fn a_term_until_an_event_is_perpetual_and_an_anniversary_in_figures_counts() {
    let event = "This Agreement is made as of March 20, 2018.\n\nThis Agreement shall become effective as of the \
                 Effective Date and shall continue until the expiration or earlier termination of the License Agreement.";
    assert_eq!(expires(event).as_deref(), Some("perpetual"));
    // A date after "until" is the end, not an event.
    let dated = "This Agreement is made as of March 20, 2018.\n\nThis Agreement shall continue until the end of \
                 the current calendar year.";
    assert_ne!(expires(dated).as_deref(), Some("perpetual"));
    let figures = "This Agreement is made as of June 30, 2009.\n\nThis Agreement shall commence on the Effective \
                   Date and shall  continue until the twentieth (20th) anniversary of the Effective Date.";
    assert_eq!(expires(figures).as_deref(), Some("2029-06-30"));
}

#[test]
fn dates_dense_in_a_term_sentence_never_overlap_nor_panic() {
    // Words of dates in every order inside a term sentence: the readers slice the text
    // between one date and the next, so dates must come in order and apart.
    let words = [
        "1",
        "5",
        "15t",
        "h",
        "day",
        "of",
        "June",
        "January",
        "2010,",
        "2011",
        "5,2010",
        "12/31/2010",
        "through",
        "until",
        "commencing",
        "The",
        "term",
        "of",
        "this",
        "Agreement",
        "shall",
        "commence",
        "on",
        "and",
        "end",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3000 {
        let mut text = String::from("The term of this Agreement shall commence on");
        for _ in 0..14 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            text.push(' ');
            text.push_str(words[(seed >> 33) as usize % words.len()]);
        }
        text.push('.');
        let dates = find_dates(&text);
        let _ = key_terms(&text);
        assert!(dates.windows(2).all(|pair| pair[0].1 <= pair[1].0), "{text} {dates:?}");
    }
}

#[test]
fn an_effective_cue_reaches_over_blank_space_but_not_past_an_end() {
    // A cover page: the cue and the date far apart in bytes, close in words.
    let cover =
        "SUPPLY AGREEMENT\n\n                 EFFECTIVE DATE\n\n                                  JUNE 1, 1998\n\n\
                 The parties agree as follows.";
    assert_eq!(key_terms(cover).effective_date.map(|t| t.value).as_deref(), Some("1998-06-01"));
    // The date after "effective as of the Effective Date and shall expire on" is the end.
    let ends = "This Agreement is made on February 19, 2007.\n\nThis Agreement shall be effective as of the \
                Effective Date and shall expire on December 31, 2006 unless extended by the parties.";
    let terms = key_terms(ends);
    assert_eq!(terms.effective_date.map(|t| t.value).as_deref(), Some("2007-02-19"));
    assert_eq!(terms.expiration_date.map(|t| t.value).as_deref(), Some("2006-12-31"));
}

#[test]
fn a_renewal_term_is_what_the_agreement_renews_for() {
    for sentence in [
        "The obligations shall terminate no later than 45 days after the Offering, unless extended by the Bank.",
        "During the Term and any renewal terms, and for one (1) year following the expiration, Customer shall not hire.",
    ] {
        assert_eq!(key_terms(sentence).renewal_term, None, "{sentence}");
    }
    let insurer =
        "Supplier shall give thirty (30) days prior notice of any cancellation or non-renewal of its insurance.";
    assert_eq!(key_terms(insurer).non_renewal_notice, None);
    let option = "Buyer may exercise each renewal option by giving written notice not later than six (6) months \
                  prior to the expiration of the current Term.";
    assert_eq!(key_terms(option).non_renewal_notice, None, "notice to renew, not to end the renewal");
    let extended = "The Term shall be extended for a further period of two (2) years unless either party objects.";
    assert_eq!(key_terms(extended).renewal_term.map(|p| p.value).as_deref(), Some("2 years"));
}

#[test]
fn renewal_notice_cap_and_payment_terms() {
    let text = "This Agreement shall automatically renew for successive one (1) year periods unless either party \
                gives notice of non-renewal at least sixty (60) days prior to the end of the then-current term.\n\
                In no event shall either party's aggregate liability exceed the fees paid by Customer in the twelve (12) months preceding the claim.\n\
                Customer shall pay each invoice within thirty (30) days of receipt.\n\
                Any dispute shall be subject to the exclusive jurisdiction of the courts located in Wilmington, Delaware.";
    let terms = key_terms(text);
    assert_eq!(terms.renewal_term.map(|p| p.value).as_deref(), Some("1 year"));
    assert!(terms.auto_renewal.is_some());
    assert_eq!(terms.non_renewal_notice.map(|p| p.days), Some(60));
    let cap = terms.liability_cap.expect("cap");
    assert_eq!(cap.months_of_fees, Some(12));
    assert_eq!(terms.payment_terms.map(|p| p.days), Some(30));
    assert_eq!(terms.venue.map(|t| t.value).as_deref(), Some("Wilmington"));
}

#[test]
fn governing_law_names_the_jurisdiction() {
    let cases = [
        ("This Agreement shall be governed by the laws of the State of New York, without regard", "New York"),
        ("construed in accordance with the laws of England and Wales.", "England and Wales"),
        ("governed by the laws of the Province of Ontario and the federal laws", "Ontario, Canada"),
        ("governed by and construed under the laws of the People's Republic of China.", "People's Republic of China"),
        ("shall be interpreted under the                   laws of the State of Nevada.", "Nevada"),
        ("governed by the laws of the State of North\u{a0}Carolina\u{a0}and the", "North Carolina"),
        ("shall be governed by the law of the State of New York.", "New York"),
        ("governed by and in accordance with the laws in the State of Washington.", "Washington"),
        ("The laws of California shall govern the construction of the Agreement.", "California"),
        ("This Agreement is governed by English law.", "England"),
        ("shall be governed by the laws of PRC.", "People's Republic of China"),
        ("SHALL BE GOVERNED BY THE LAWS OF THE STATE OF NEW YORK WITHOUT REGARD TO CONFLICTS", "NEW YORK"),
        ("GOVERNED BY THE INTERNAL LAWS OF THE COMMONWEALTH OF PENNSYLVANIA WITHOUT GIVING EFFECT", "PENNSYLVANIA"),
        (
            "shall be governed by the laws of the United States of America and of the Commonwealth of Pennsylvania.",
            "Pennsylvania",
        ),
    ];
    for (text, expected) in cases {
        let term = governing_law(text).expect(text);
        assert_eq!(term.value, expected);
        let named = expected.split(',').next().unwrap_or_default();
        // (Offsets are of the words read: "English" for England, "PRC" for China.)
        assert!(!text.contains(named) || text[term.start..term.end].starts_with(named), "{text}");
        assert!(term.end > term.start);
    }
    assert!(governing_law("The laws of physics apply.").is_none());
    assert!(governing_law("Acme, Inc., a corporation organized under the laws of Delaware, and Beta").is_none());
}

#[test]
fn dates_are_iso_and_a_far_year_keeps_its_century() {
    let terms = key_terms("This Agreement is made as of March 1, 2055 by and between Acme Inc. and Beta LLC.");
    assert_eq!(terms.agreement_date.map(|t| t.value).as_deref(), Some("2055-03-01"));
}

#[test]
fn a_day_the_month_lacks_is_no_date() {
    assert!(find_dates("dated February 30, 2020 or 31/04/2021").is_empty());
}

#[test]
fn a_filing_footer_date_is_not_the_agreement_date() {
    let text = "SUPPLY AGREEMENT\n\nThis Supply Agreement is entered into by Acme Inc. and Beta LLC.\n\n\
                1\n\nSource: ACME CORP, 10-K, 3/1/2019\n\n2. Term. The term of this Agreement is one year.";
    assert_eq!(key_terms(text).agreement_date, None);
}

#[test]
fn a_blank_form_date_is_no_agreement_date() {
    for text in [
        "This Agreement is made this ____ day of ________, 20__ between Acme Inc. and Beta LLC, \
         which replaces the agreement of May 1, 2019.",
        "This Agreement is dated as of [ ] between Acme Inc. and Beta LLC. Prices are fixed until June 30, 2021.",
    ] {
        assert_eq!(key_terms(text).agreement_date, None, "{text}");
    }
    // A date filled in is still read.
    let filled = key_terms("This Agreement is made this 3rd day of June, 2020 between Acme Inc. and Beta LLC.");
    assert_eq!(filled.agreement_date.map(|t| t.value).as_deref(), Some("2020-06-03"));
}

#[test]
fn an_expiry_before_the_effective_date_is_not_taken() {
    let text = "This Agreement is effective as of January 1, 2020. The term of this Agreement shall end on \
                December 31, 2018.";
    let terms = key_terms(text);
    assert_eq!(terms.effective_date.map(|t| t.value).as_deref(), Some("2020-01-01"));
    assert_eq!(terms.expiration_date, None);
}

/// The limitation of liability of a cloud agreement in Bonterms' Cloud Terms wording.
const CLOUD_LIABILITY: &str = "16.1. General Cap. Each party's entire liability arising out of or related to this \
    Agreement will not exceed the General Cap.\n\n\
    16.2. Consequential Damages Waiver. Neither party will have any liability arising out of or related to this \
    Agreement for indirect, special, incidental, reliance or consequential damages.\n\n\
    16.3. Exceptions and Enhanced Cap. Sections 16.1 (General Cap) and 16.2 (Consequential Damages Waiver) will \
    not apply to Enhanced Claims or Uncapped Claims. For all Enhanced Claims, each party's entire liability will \
    not exceed the Enhanced Cap.\n\n\
    \"Enhanced Cap\" means three times (3x) the General Cap.\n\n\
    \"Enhanced Claims\" means Provider's breach of Section 5.2 (Security) or either party's breach of Section 5.3 (DPA).\n\n\
    \"General Cap\" means amounts paid or payable by Customer to Provider under this Agreement in the 12 months \
    immediately preceding the first incident giving rise to liability.\n\n\
    \"Uncapped Claims\" means (a) the indemnifying party's obligations under Section 17 (Indemnification), (b) \
    either party's infringement or misappropriation of the other party's intellectual property rights, (c) any \
    breach of Section 18 (Confidentiality), excluding breaches related to Customer Data and (d) liabilities that \
    cannot be limited by Law.\n\n\
    21. Trials and Betas. Provider may offer optional Trials and Betas. Notwithstanding anything else in this \
    Agreement, Provider offers no warranty, indemnity, SLA or Support for Trials and Betas and its liability for \
    Trials and Betas will not exceed US$1,000.";

#[test]
fn the_general_cap_is_read_through_its_definition_not_from_a_side_cap() {
    let terms = key_terms(CLOUD_LIABILITY);
    let cap = terms.liability_cap.expect("general cap");
    assert_eq!((cap.basis, cap.months_of_fees, cap.amount), (CapBasis::FeesPaid, Some(12), None));
    assert_eq!(cap.named.as_deref(), Some("General Cap"));
    assert_eq!(cap.protects, "each party");
}

#[test]
fn caps_for_some_claims_or_products_are_side_caps_with_their_scope() {
    let terms = key_terms(CLOUD_LIABILITY);
    let scopes: Vec<(&str, CapBasis)> =
        terms.other_caps.iter().map(|c| (c.applies_to.as_deref().unwrap_or(""), c.basis)).collect();
    assert_eq!(scopes, [("Enhanced Claims", CapBasis::Multiple), ("Trials and Betas", CapBasis::FixedAmount)]);
    let enhanced = &terms.other_caps[0];
    assert_eq!((enhanced.multiple, enhanced.months_of_fees), (Some(3.0), Some(12)));
    assert_eq!(terms.other_caps[1].protects, "Provider");
}

#[test]
fn carve_outs_are_uncapped_or_under_a_higher_cap_by_kind() {
    let terms = key_terms(CLOUD_LIABILITY);
    let uncapped: Vec<&str> =
        terms.cap_carve_outs.iter().filter(|c| !c.capped).flat_map(|c| c.kinds.iter().map(String::as_str)).collect();
    // The exception to the confidentiality carve-out (Customer Data) is not a kind of its own.
    assert_eq!(
        uncapped,
        ["indemnification", "confidentiality", "intellectual property", "liability that cannot be limited by law"]
    );
    let higher: Vec<&str> =
        terms.cap_carve_outs.iter().filter(|c| c.capped).flat_map(|c| c.kinds.iter().map(String::as_str)).collect();
    assert_eq!(higher, ["data protection"]);
}

#[test]
fn a_consequential_damages_waiver_is_no_cap() {
    let terms = key_terms(CLOUD_LIABILITY);
    let waiver = terms.damages_waiver.expect("waiver");
    assert!(CLOUD_LIABILITY[waiver.start..waiver.end].contains("consequential damages"));
    assert!(terms.other_caps.iter().chain(&terms.liability_cap).all(|cap| cap.start != waiver.start));
}

#[test]
fn a_cap_with_its_free_and_beta_side_caps_in_one_paragraph() {
    // GitHub's Corporate Terms: the general cap, then caps for free products and previews.
    let text = "Limitation of Total Liability. In no event will either party's total cumulative liability under \
                this Agreement exceed the Fees Customer has actually paid to GitHub during the 12 months preceding \
                the claim giving rise to such liability. For products and services that are provided free of \
                charge, GitHub's liability is limited to direct damages up to $5,000.00 USD. For Beta Previews, \
                GitHub's liability is limited to direct damages up to $500.00 USD.\n\n\
                Exclusions. The exclusions and limitations set forth in this Section N will not apply to liability \
                arising out of (1) a Party's breach of its confidentiality obligations in Section P or (2) a \
                Party's defense obligations in Section O.";
    let terms = key_terms(text);
    let cap = terms.liability_cap.expect("cap");
    assert_eq!((cap.months_of_fees, cap.amount.is_none()), (Some(12), true));
    assert_eq!(terms.other_caps.iter().map(|c| c.protects.as_str()).collect::<Vec<_>>(), ["GitHub", "GitHub"]);
    let kinds: Vec<&str> = terms.cap_carve_outs.iter().flat_map(|c| c.kinds.iter().map(String::as_str)).collect();
    assert_eq!(kinds, ["indemnification", "confidentiality"]);
}

#[test]
fn an_exception_inside_the_cap_sentence_is_a_carve_out() {
    let text = "Except for a party's indemnification obligations and its gross negligence, each party's aggregate \
                liability shall not exceed the fees paid in the twelve (12) months before the claim.";
    let terms = key_terms(text);
    assert_eq!(terms.liability_cap.and_then(|c| c.months_of_fees), Some(12));
    let kinds: Vec<&str> = terms.cap_carve_outs.iter().flat_map(|c| c.kinds.iter().map(String::as_str)).collect();
    assert_eq!(kinds, ["indemnification", "gross negligence or wilful misconduct"]);
}

#[test]
fn a_cap_defined_on_a_cover_page_is_named_and_its_claims_listed() {
    // Common Paper's CSA: the amounts are variables of the cover page.
    let text = "1. Liability Caps.\n    a. **Except as provided in Section 8.4 (Exceptions), each party's total \
                cumulative liability for all claims arising out of or relating to this Agreement will not be more \
                than the General Cap Amount.**\n    b. **If there are Increased Claims, each party's total \
                cumulative liability for all Increased Claims arising out of or relating to this Agreement will \
                not be more than the Increased Cap Amount.**\n\n4. Exceptions. The liability cap in Section 8.1(a) \
                does not apply to any Increased Claims. Section 8.1 (Liability Caps) does not apply to any \
                Unlimited Claims.";
    let terms = key_terms(text);
    let cap = terms.liability_cap.expect("cap");
    assert_eq!((cap.basis, cap.named.as_deref()), (CapBasis::Named, Some("General Cap Amount")));
    assert_eq!(terms.other_caps.len(), 1, "{:?}", terms.other_caps);
    let named: Vec<(&str, bool)> =
        terms.cap_carve_outs.iter().map(|c| (c.named.as_deref().unwrap_or(""), c.capped)).collect();
    assert_eq!(named, [("Unlimited Claims", false)]);
}

#[test]
fn the_liability_wording_table_loads() {
    assert!(liability::load(liability::BUILT_IN).is_ok());
    let upper = liability::BUILT_IN.replace("\"exceed\"", "\"Exceed\"");
    assert!(matches!(liability::load(&upper), Err(crate::wording::WordingError::NotLowerCase { .. })));
    let unknown = format!("{}\nextra = 1\n", liability::BUILT_IN);
    assert!(liability::load(&unknown).is_err());
}

#[test]
fn a_term_that_continues_from_year_to_year_renews_yearly_with_its_notice() {
    let text = "This Supply Agreement is made as of January 1, 2020.\n\n12. Term. This Agreement shall commence on \
                the date hereof and shall continue for an initial term of three (3) years. Thereafter, it shall \
                continue from year to year unless either party gives six (6) months' notice before the end of the \
                then-current term.";
    let terms = key_terms(text);
    assert_eq!(terms.auto_renewal.map(|t| t.value).as_deref(), Some("yes"));
    assert_eq!(terms.renewal_term.map(|p| p.value).as_deref(), Some("1 year"));
    assert_eq!(terms.non_renewal_notice.map(|p| p.value).as_deref(), Some("6 months"));
}

#[test]
fn a_term_that_runs_on_until_terminated_is_evergreen_with_a_termination_notice() {
    let text =
        "This Agreement is made as of March 1, 2021.\n\n12. Term. The Initial Term of this Agreement is two (2) \
                years from the Effective Date. This Agreement continues indefinitely after the Initial Term until \
                terminated by either party on three (3) months' written notice.";
    let terms = key_terms(text);
    assert_eq!(terms.auto_renewal.map(|t| t.value).as_deref(), Some("evergreen"));
    assert_eq!(terms.termination_notice.map(|p| p.value).as_deref(), Some("3 months"));
    assert_eq!((terms.renewal_term, terms.non_renewal_deadline), (None, None));
}

#[test]
fn the_non_renewal_deadline_is_the_initial_terms_end_less_the_notice_and_moves_with_each_renewal() {
    let text = "This Agreement is effective as of January 1, 2020. The initial term of this Agreement is three (3) \
                years. This Agreement shall automatically renew for successive one (1) year terms unless either \
                party gives notice of non-renewal at least sixty (60) days prior to the end of the then-current term.";
    let terms = key_terms(text);
    assert_eq!(terms.expiration_date.as_ref().map(|t| t.value.as_str()), Some("2023-01-01"));
    let deadline = terms.non_renewal_deadline.as_ref().map(|t| t.value.clone());
    assert_eq!(deadline.as_deref(), Some("2022-11-02"));
    let day = |iso: &str| iso.parse::<chrono::NaiveDate>().ok();
    assert_eq!(terms.next_non_renewal_deadline(day("2022-06-01").expect("date")), day("2022-11-02"));
    assert_eq!(terms.next_non_renewal_deadline(day("2022-11-03").expect("date")), day("2023-11-02"));
    assert_eq!(terms.next_non_renewal_deadline(day("2026-12-06").expect("date")), day("2027-11-02"));
}

#[test]
fn a_cover_page_variable_is_no_governing_law_nor_venue() {
    for text in [
        "9. Governing Law and Jurisdiction. This MNDA and all matters relating hereto are governed by, and construed \
         in accordance with, the laws of the State of Governing Law, without regard to the conflict of laws provisions.",
        "In Clause 17 (Option 1), the EEA SCCs will be governed by the laws of Governing Member State; disputes will \
         be resolved in the courts of the Governing Member State.",
    ] {
        let terms = key_terms(text);
        assert_eq!((terms.governing_law, terms.venue), (None, None), "{text}");
    }
}

#[test]
fn blanks_are_placeholders_and_never_values() {
    let text = "Governing Law: [Fill in state]\nJurisdiction: [Fill in city or county and state, i.e. \u{201c}courts \
                located in New Castle, DE\u{201d}]\nAuto-renewal\t{auto_renewal_display}\n\
                The Framework Terms dated {effective_date} between {provider_name} and {customer_name}.\n\
                This Agreement is made this ____ day of ________ by the parties.";
    let terms = key_terms(text);
    let values: Vec<&str> = terms.placeholders.iter().map(|p| p.value.as_str()).collect();
    assert_eq!(
        values,
        [
            "[Fill in state]",
            "[Fill in city or county and state, i.e. \u{201c}courts located in New Castle, DE\u{201d}]",
            "{auto_renewal_display}",
            "{effective_date}",
            "{provider_name}",
            "{customer_name}",
            "____",
            "________",
        ]
    );
    assert_eq!((terms.governing_law, terms.venue, terms.auto_renewal), (None, None, None));
}

#[test]
fn signature_lines_redactions_links_and_ticked_boxes_are_not_placeholders() {
    let text = "The fee is [***] per unit, as the [price list](https://example.com) says.\n\
                [SIGNATURE PAGE FOLLOWS]\n[x] one year [ ] until terminated\n\
                IN WITNESS WHEREOF the parties sign.\nBy: ______________\nTitle: __________\n\
                ______________________\nThe undersigned confirms the delivery of ______ units on ________.";
    assert_eq!(key_terms(text).placeholders, []);
}

#[test]
fn the_placeholder_wording_table_loads() {
    assert!(placeholders::load(placeholders::BUILT_IN).is_ok());
    let empty = placeholders::BUILT_IN.replacen("bracket_openers = [", "bracket_openers = [] #", 1);
    assert!(placeholders::load(&empty).is_err());
}

#[test]
fn a_law_named_with_a_gloss_or_referred_back_to_is_the_state() {
    let gloss =
        key_terms("This agreement shall be governed by the Laws of England (English common and statutory Law).");
    assert_eq!(gloss.governing_law.map(|t| t.value).as_deref(), Some("England"));
    let back = key_terms(
        "This Agreement has been entered into in the State of New Jersey, and shall be construed and interpreted in \
         accordance with the laws of that State applicable to agreements made and to be performed there.",
    );
    assert_eq!(back.governing_law.map(|t| t.value).as_deref(), Some("New Jersey"));
}

#[test]
fn a_version_date_or_a_deprecation_dates_no_agreement() {
    let text = "GitHub Corporate Terms of Service\n\nVersion Effective Date: November 16, 2020\n\n> These terms were \
                deprecated effective 30 November 2021.\n\nThis Agreement starts on the Effective Date.";
    let terms = key_terms(text);
    assert_eq!((terms.agreement_date, terms.effective_date), (None, None));
}

#[test]
fn a_renewal_unless_a_party_gives_notice_of_non_renewal_is_automatic() {
    let text = "14.1. Subscription Terms. Each Subscription Term will renew for successive periods unless (a) the \
                parties agree on a different renewal Order or (b) either party notifies the other of non-renewal at \
                least 30 days prior to the end of the current Subscription Term.";
    let terms = key_terms(text);
    assert_eq!(terms.auto_renewal.map(|t| t.value).as_deref(), Some("yes"));
    assert_eq!(terms.non_renewal_notice.map(|p| p.value).as_deref(), Some("30 days"));
}

#[test]
fn confidentiality_lasts_for_its_survival_period_not_the_agreements_term() {
    let text = "1. Term. This Agreement shall remain in effect for one (1) year.\n\n2. Survival. The obligations \
                of confidentiality shall survive for five (5) years after disclosure.";
    let terms = key_terms(text);
    assert_eq!(terms.initial_term.map(|p| p.value).as_deref(), Some("1 year"));
    assert_eq!(terms.confidentiality_period.map(|p| p.value).as_deref(), Some("5 years"));
    let survives = key_terms(
        "11.5 Survival of Confidentiality All covenants of confidentiality herein shall survive the termination of \
         this agreement for three (3) years counting from the date of termination.",
    );
    assert_eq!(survives.confidentiality_period.map(|p| p.value).as_deref(), Some("3 years"));
    let additional = key_terms(
        "11.5 Survival of Confidentiality All covenants of confidentiality herein shall survive the term of this \
         agreement by three (3) additional years counting from the date of termination of this Agreement.",
    );
    assert_eq!(additional.confidentiality_period.map(|p| p.value).as_deref(), Some("3 years"));
}

#[test]
fn parties_who_agree_with_no_between_are_read() {
    let text = "CONSULTING AGREEMENT\n\nAduro Biotech, Inc., with a place of business at 740 Heinz Avenue, Berkeley, \
                CA 94710 (\"Aduro\") and IREYA B.V having an address at Staalwijkstraat 16, Leiden, the Netherlands, \
                represented by Andrea van Elsas, (\"Consultant\") agree to all terms and conditions of this \
                Consulting Agreement (\"Agreement\") dated June 1, 2020.\n\n1. Services.";
    let parties: Vec<(String, Option<String>)> =
        key_terms(text).parties.into_iter().map(|p| (p.name, p.role)).collect();
    assert_eq!(
        parties,
        [("Aduro Biotech, Inc.".to_owned(), None), ("IREYA B.V".to_owned(), Some("Consultant".to_owned()))]
    );
    // One name and an agreement to something is no parties block.
    assert_eq!(key_terms("Acme Inc. (\"Acme\") and its staff agree to keep the peace.").parties, []);
}

#[test]
fn two_digit_years_pivot_as_posix_does() {
    let values: Vec<String> =
        find_dates("effective 7/1/98, amended 3/4/05").into_iter().map(|d| d.2.to_string()).collect();
    assert_eq!(values, ["1998-07-01", "2005-03-04"]);
}

/// The expiration date a short contract gives, its opening supplying the dates.
fn expiry_of(term_clause: &str) -> Option<String> {
    let text = format!(
        "CONSULTING AGREEMENT\n\nThis Consulting Agreement is made as of March 1, 2020 between Alpha Inc. \
         (\"Alpha\") and Beta LLC (\"Beta\").\n\n{term_clause}\n"
    );
    key_terms(&text).expiration_date.map(|end| end.value)
}

#[test]
fn a_term_sentence_after_its_heading_on_one_line_is_read() {
    let clause = "ARTICLE NINE EFFECTIVENESS     9.1 This Agreement shall become effective on the date on which it is \
                  signed by each Party and have a term of five (5) years commencing as of the effective date hereof.";
    assert_eq!(expiry_of(clause).as_deref(), Some("2025-03-01"));
}

#[test]
fn a_term_stated_before_its_renewal_in_one_sentence_is_read() {
    let clause = "Term: twelve (12) months from the date of the Agreement which term shall automatically renew for \
                  an additional twelve (12) months on such date if the Agreement is not otherwise terminated.";
    assert_eq!(expiry_of(clause).as_deref(), Some("2021-03-01"));
}

#[test]
fn a_term_in_contract_years_is_read() {
    let clause = "2. Term. (a) This Agreement shall commence on the Effective Date and shall continue for ten (10) \
                  Contract Years, unless terminated in accordance with Section 6.";
    assert_eq!(expiry_of(clause).as_deref(), Some("2030-03-01"));
}

#[test]
fn a_term_in_full_calendar_months_is_read() {
    let clause = "This Agreement shall commence on the Effective Date and shall continue for a period of twelve (12) \
                  full calendar months (\"Initial Term\").";
    assert_eq!(expiry_of(clause).as_deref(), Some("2021-03-01"));
}

#[test]
fn a_term_to_the_end_of_the_calendar_year_ends_on_december_31() {
    let clause = "This agreement shall begin upon the date of its execution and shall remain in effect until the end \
                  of the current calendar year and shall be automatically renewed for successive one year periods.";
    assert_eq!(expiry_of(clause).as_deref(), Some("2020-12-31"));
}

#[test]
fn a_term_that_ends_only_on_notice_is_open_ended() {
    let clause = "4. Duration. The term of this Agreement shall commence on the Effective Date and shall end on the \
                  60th day following a written notice from one party to the other of its decision to terminate \
                  this Agreement at the end of such 60-day period.";
    assert_eq!(expiry_of(clause).as_deref(), Some("perpetual"));
}

#[test]
fn a_term_counted_from_an_undated_event_has_no_end_date() {
    let clause = "The Term of this Agreement shall commence on the Effective Date and shall remain in full force for \
                  ten (10) years after the First Commercial Sale of the first Licensed Product.";
    assert_eq!(expiry_of(clause), None);
}

#[test]
fn an_extended_end_in_an_amendment_is_no_agreement_date() {
    let text = "AMENDMENT NO. 2\n\nThe parties agree to amend the Agreement as follows:\n\n1. The Term of the \
                Agreement is hereby extended to January 20, 2012 unless sooner terminated.\n";
    let terms = key_terms(text);
    assert_eq!(terms.agreement_date, None);
    assert_eq!(terms.expiration_date.map(|end| end.value).as_deref(), Some("2012-01-20"));
}

#[test]
fn breach_notice_is_read_in_hours() {
    // Common Paper DPA §, as written there.
    let text = "1. Upon becoming aware of any Security Incident, Provider will: (a) notify Customer without undue \
                delay when feasible, but no later than 72 hours after becoming aware of the Security Incident.";
    let notice = key_terms(text).breach_notice.expect("breach notice");
    assert_eq!((notice.value.as_str(), notice.days), ("72 hours", 3));
}

#[test]
fn breach_notice_in_business_days_is_read() {
    let text = "Vendor shall notify Customer in writing of any unauthorized access to Customer Data within five \
                (5) business days of discovering it.";
    assert_eq!(key_terms(text).breach_notice.map(|p| p.days), Some(5));
}

#[test]
fn a_notice_period_that_is_no_breach_notice_is_not_read_as_one() {
    let text = "Either party may terminate this Agreement for material breach not cured within thirty (30) days \
                after written notice.";
    assert_eq!(key_terms(text).breach_notice, None);
}

#[test]
fn the_shipped_term_wording_table_is_valid() {
    assert!(term_wording::load(term_wording::BUILT_IN).is_ok());
}

#[test]
fn a_term_wording_cue_in_capitals_is_refused() {
    let upper = term_wording::BUILT_IN.replacen("\"in perpetuity\"", "\"In perpetuity\"", 1);
    assert!(matches!(term_wording::load(&upper), Err(crate::wording::WordingError::NotLowerCase { .. })));
}
