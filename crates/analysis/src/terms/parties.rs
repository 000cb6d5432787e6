//! The parties block: "by and between Acme, Inc., a Delaware corporation (\"Acme\"), and
//! Beta LLC (the \"Supplier\")" gives each party's name and the short name the contract
//! calls it by (with offsets of the name).

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Party {
    pub name: String,
    /// The defined short name ("Supplier"), when the contract gives one.
    pub short_name: Option<String>,
    /// Other defined names of the same party ("Buyer" or "PNC").
    pub aliases: Vec<String>,
    /// The role the contract names it by ("Supplier", "Licensee", "Disclosing Party"), when
    /// its short name or an alias is a role word (`wording/roles.toml`).
    pub role: Option<String>,
    /// The side it plays: by its role word, else by what the text says it does (pays:
    /// customer; provides, delivers, grants: vendor).
    pub side: Option<crate::playbook::Side>,
    pub start: usize,
    pub end: usize,
}

/// Defined terms in a parties block that are not a party.
const NOT_A_PARTY: [&str; 6] = ["party", "parties", "agreement", "effective date", "this agreement", "contract"];

/// Where the description of a party stops and its name has ended.
const NAME_ENDS: [&str; 23] = [
    ", a ",
    " with a principal",
    " with principal",
    ", hereinafter",
    " having an address",
    " having a place",
    " with a place of business",
    " having its ",
    " with its principal",
    " with offices",
    ", an ",
    " a corporation",
    ", with ",
    ", having ",
    ", located",
    ", whose ",
    ", doing ",
    ", organized",
    ", incorporated",
    ", each ",
    ", acting",
    ", on behalf",
    ", as ",
];

/// How far into the text the parties block may start.
const OPENING: usize = 8000;

pub fn find_parties(text: &str) -> Vec<Party> {
    let opening_end = crate::floor_boundary(text, OPENING);
    let lower = text[..opening_end].to_ascii_lowercase();
    let between = [" between ", " between\n", " between,", " among ", "between:"]
        .iter()
        .filter_map(|k| lower.find(k).map(|i| i + k.len()))
        .min();
    let Some(region_start) = between else {
        return parties_who_agree(text, &lower);
    };
    let region_end = ["whereas", "recitals", "now, therefore", "background"]
        .iter()
        .filter_map(|stop| lower[region_start..].find(stop).map(|i| region_start + i))
        .min()
        .unwrap_or(opening_end)
        .min(region_start + 2500)
        .min(opening_end);
    let region_end = crate::floor_boundary(text, region_end);
    let parties = parties_in_block(text, region_start, region_end);
    if parties.len() >= 2 {
        return parties;
    }
    if parties.is_empty() {
        parties_in_title(text, region_start)
    } else {
        parties
    }
}

/// A title that names the parties in capitals, with no short names: "MAINTENANCE AGREEMENT
/// BETWEEN XIMAGE AND SAGEM S.A.", "by and between DIAMOND STATE GENERATION PARTNERS, LLC and
/// BLOOM ENERGY CORPORATION dated as of April 13, 2012". Each name is the run of words in
/// capitals on its side of the "and".
fn parties_in_title(text: &str, after_between: usize) -> Vec<Party> {
    let window_end = crate::floor_boundary(text, (after_between + 300).min(text.len()));
    // Words that end the names: the title's date, the contents, the agreement's opening.
    const AFTER_THE_NAMES: [&str; 8] = ["dated", "date", "table", "this", "agreement", "effective", "page", "as"];
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut stopped_by = "";
    for (at, word) in super::words_with_offsets(&text[after_between..window_end]) {
        let in_capitals = word.chars().any(char::is_alphabetic) && !word.chars().any(char::is_lowercase);
        let lower = word.to_ascii_lowercase();
        let a_month = super::MONTHS.iter().any(|month| lower.trim_end_matches([',', '.']) == *month);
        if !(in_capitals || word == "and" || word.starts_with(|c: char| c.is_ascii_digit() || c == '&'))
            || AFTER_THE_NAMES.contains(&lower.trim_end_matches([',', '.', ':']))
            || a_month
        {
            stopped_by = word;
            break;
        }
        words.push((after_between + at, word));
    }
    // A name followed by its description is a sentence's parties block, not a title ("THE HENRY
    // FILM AND ENTERTAINMENT CORPORATION, located at …"): its "and" may be the name's.
    if ["located", "having", "with", "whose", "a", "an", "of", "organized", "incorporated"].contains(&stopped_by) {
        return Vec::new();
    }
    let Some(split) = words.iter().position(|(_, w)| w.eq_ignore_ascii_case("and")) else { return Vec::new() };
    let (first, second) = (&words[..split], &words[split + 1..]);
    let name_of = |run: &[(usize, &str)]| -> Option<(usize, String)> {
        let (start, _) = *run.first()?;
        let name = run.iter().map(|(_, w)| *w).collect::<Vec<_>>().join(" ");
        let name = name.trim_end_matches([',', ';', ':']).to_owned();
        (run.len() <= 10 && name.len() >= 3).then_some((start, name))
    };
    [first, second]
        .iter()
        .filter_map(|run| name_of(run))
        .map(|(start, name)| Party {
            end: start + name.len(),
            side: crate::roles::side_by_conduct(text, &name),
            name,
            short_name: None,
            aliases: Vec::new(),
            role: None,
            start,
        })
        .collect()
}

/// A parties block with no "between": "Aduro Biotech, Inc., with a place of business at …
/// (\"Aduro\") and IREYA B.V …, (\"Consultant\") agree to all terms …". The paragraph before
/// the first "agree" in the opening, when it names two parties or more.
fn parties_who_agree(text: &str, lower: &str) -> Vec<Party> {
    let head = &lower[..crate::floor_boundary(lower, 3000)];
    let Some(agree) = [" agree to ", " agree as follows", " agree that ", " hereby agree"]
        .iter()
        .filter_map(|cue| head.find(cue))
        .min()
    else {
        return Vec::new();
    };
    let start = head[..agree].rfind("\n\n").map_or(0, |at| at + 2);
    let parties = parties_in_block(text, start, agree);
    if parties.len() >= 2 {
        parties
    } else {
        Vec::new()
    }
}

/// The parties named in `text[region_start..region_end]`: each defined short name in
/// parentheses with the name before it.
/// The parties of a block defined in parentheses, or, when that gives fewer than two, also
/// those defined by "hereinafter referred to as \"…\"" (filings translated from other
/// languages write them so).
fn parties_in_block(text: &str, region_start: usize, region_end: usize) -> Vec<Party> {
    let parties = parties_in(text, region_start, region_end, false);
    if parties.len() >= 2 {
        return parties;
    }
    let with_hereinafter = parties_in(text, region_start, region_end, true);
    if with_hereinafter.len() > parties.len() {
        with_hereinafter
    } else {
        parties
    }
}

fn parties_in(text: &str, region_start: usize, region_end: usize, hereinafter: bool) -> Vec<Party> {
    let mut parties = Vec::new();
    let mut cursor = region_start;
    let mut at = region_start;
    while at < region_end {
        let paren = text[at..region_end].find('(').map(|i| at + i);
        let hereinafter = hereinafter.then(|| hereinafter_definition(text, at, region_end)).flatten();
        let (open, close) = match (paren, hereinafter) {
            (Some(p), Some((h, end))) if h < p => (h, end),
            (None, Some((h, end))) => (h, end),
            (Some(p), _) => match closing_paren(text, p, region_end) {
                Some(close) => (p, close),
                None => break,
            },
            (None, None) => break,
        };
        at = close + 1;
        let terms = quoted_terms(&text[open + 1..close]);
        if terms.is_empty() {
            continue; // "(USA)", "(the Company's address)"
        }
        let is_party_term = |t: &String| !NOT_A_PARTY.contains(&t.to_lowercase().as_str());
        if !terms.iter().any(is_party_term) {
            cursor = close + 1;
            continue;
        }
        if let Some((start, name)) = party_name(text, cursor, open) {
            let mut names = terms.into_iter().filter(is_party_term);
            let short_name = names.next();
            let aliases: Vec<String> = names.collect();
            let role = short_name.iter().chain(&aliases).find(|n| crate::roles::side_of_role(n).is_some()).cloned();
            let side = role
                .as_deref()
                .and_then(crate::roles::side_of_role)
                .or_else(|| crate::roles::side_by_conduct(text, short_name.as_deref().unwrap_or(name.as_str())));
            parties.push(Party { end: start + name.len(), name, short_name, aliases, role, side, start });
        }
        cursor = close + 1;
        if parties.len() >= 8 {
            break;
        }
    }
    parties
}

/// A definition written without parentheses: "…, Israel. Hereinafter referred to as
/// \"Customer\"", "JSC NOC KazakhOil, hereinafter referred to as the \"Company\"": where
/// "hereinafter" starts and where its quoted name ends (the closing quote).
fn hereinafter_definition(text: &str, from: usize, to: usize) -> Option<(usize, usize)> {
    let lower = text[from..to].to_ascii_lowercase();
    let at = from + lower.find("hereinafter")?;
    let after = &text[at..crate::floor_boundary(text, (at + 70).min(to))];
    let open = after.find(['"', '“'])?;
    let close = after[open + 1..].find(['"', '”']).map(|i| at + open + 1 + i)?;
    // The name starts within a few words: "hereinafter referred to as the", "hereinafter called".
    (open <= 40).then_some((at, close + 1))
}

fn closing_paren(text: &str, open: usize, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text[open..crate::floor_boundary(text, limit.min(open + 400))].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Words in straight or curly double quotes.
fn quoted_terms(inside: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for c in inside.chars() {
        match (c, current.as_mut()) {
            ('"' | '“' | '”', None) => current = Some(String::new()),
            ('"' | '“' | '”', Some(term)) => {
                let term = term.trim().trim_end_matches([',', '.']).to_owned();
                if !term.is_empty() && term.len() <= 60 {
                    out.push(term);
                }
                current = None;
            }
            (c, Some(term)) => term.push(c),
            _ => {}
        }
    }
    out
}

/// The party's name in `text[from..to]`: leading joiners dropped, cut before its description.
fn party_name(text: &str, from: usize, to: usize) -> Option<(usize, String)> {
    name_at(text, from, to).or_else(|| {
        // The previous party's description may run on up to this one ("…, a Virginia limited
        // liability company, and Medalist Diversified REIT, Inc. ("REIT")"): the name follows
        // the last ", and".
        // Or the block's opening was taken for a name ("NON-EXCLUSIVE LICENSE AGREEMENT
        // BETWEEN … This Agreement is entered into by and between The Johns Hopkins University
        // ("JHU")"): the name follows the last "between".
        let chunk = text[from..to].to_ascii_lowercase();
        let after_joiner = [", and ", "; and ", ",and ", "between ", "between: "]
            .iter()
            .filter_map(|joiner| chunk.rfind(joiner).map(|at| from + at + joiner.len()))
            .max()?;
        name_at(text, after_joiner, to)
    })
}

fn name_at(text: &str, from: usize, to: usize) -> Option<(usize, String)> {
    let chunk = &text[from..to];
    let mut start = from + (chunk.len() - chunk.trim_start_matches([' ', '\n', '\t', ',', ';', ':']).len());
    loop {
        let rest = text[start..to].to_ascii_lowercase();
        let Some(joiner) =
            ["and ", "and\n", "the ", "between ", "1. ", "2. ", "(1) ", "(2) "].iter().find(|j| rest.starts_with(**j))
        else {
            break;
        };
        start += joiner.len();
        start += text[start..to].len() - text[start..to].trim_start().len();
    }
    let rest = &text[start..to];
    let lower = rest.to_ascii_lowercase();
    // (Or before a street number: "Data Call Technologies, Inc. 600 Kenrick, Suite B-12".)
    const COMPANY_ENDS: [&str; 14] = [
        "inc.",
        "inc",
        "ltd.",
        "ltd",
        "llc",
        "corporation",
        "corp.",
        "gmbh",
        "ag",
        "s.a.",
        "limited",
        "co.",
        "plc",
        "l.p.",
    ];
    let street_number = lower.match_indices(' ').map(|(at, _)| at).find(|at| {
        let before = lower[..*at].trim_end_matches(',');
        lower[at + 1..].chars().take_while(char::is_ascii_digit).count() >= 2
            && COMPANY_ENDS.iter().any(|end| before.ends_with(&format!(" {end}")))
    });
    let cut = NAME_ENDS.iter().filter_map(|end| lower.find(end)).chain(street_number).min().unwrap_or(rest.len());
    let name = rest[..cut].split_whitespace().collect::<Vec<_>>().join(" ");
    let name = name.trim_end_matches([',', ' ', ';']).to_owned();
    // A label before the name ("Client Name: MEDICAL MANAGER MIDWEST, INC.").
    let (start, name) = match name.rfind(": ") {
        Some(colon) if colon < name.len() / 2 => {
            (start + rest.find(": ").map_or(0, |c| c + 2), name[colon + 2..].to_owned())
        }
        _ => (start, name),
    };
    // A description the name ran into ("Hoffmann-La Roche Inc. with an office and place of
    // business at", "Tigrent Learning UK Limited of Boston House").
    let lower_name = name.to_ascii_lowercase();
    let described = [" located", " with ", " having ", " whose ", " of "]
        .iter()
        .filter_map(|cue| lower_name.find(cue))
        .filter(|_| lower_name.ends_with(" at") || lower_name.ends_with(" of"))
        .min();
    let name = described.map_or(name.clone(), |at| name[..at].trim_end_matches([',', ' ']).to_owned());
    let words = name.split_whitespace().count();
    // A name starts like one ("Acme", "3M"); "is designed to allow each party" does not.
    let looks_like_a_name = name.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit());
    (looks_like_a_name && (1..=12).contains(&words)).then_some((start, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_after_the_previous_partys_description() {
        let text = "This CONSULTING AGREEMENT (\"Agreement\") is hereby entered into by and between, Gunston \
            Consulting, LLC (\"CONSULTANT\"), a Virginia limited liability company, and Medalist Diversified \
            REIT, Inc. (\"REIT\" or the \"Company\"), a Maryland corporation, collectively the \"Parties.\"";
        let parties = find_parties(text);
        let names: Vec<&str> = parties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Gunston Consulting, LLC", "Medalist Diversified REIT, Inc."]);
        assert_eq!(parties[1].short_name.as_deref(), Some("REIT"));
        assert_eq!(parties[1].aliases, ["Company"]);
    }

    #[test]
    fn a_party_after_a_title_that_names_the_parties_too() {
        let text = "NON-EXCLUSIVE LICENSE AGREEMENT BETWEEN THE JOHNS HOPKINS UNIVERSITY & VIRTUOSO SURGICAL, INC.\n\n\
            May 3, 2016 This Agreement (hereinafter \"Agreement\") is entered into by and between The Johns Hopkins \
            University (\"JHU\") and Teardrop Putter Corporation having its principal office at 207 WatersEdge \
            (hereinafter referred to as \"TPC\").";
        let names: Vec<String> = find_parties(text).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["Johns Hopkins University", "Teardrop Putter Corporation"]);
    }

    #[test]
    fn parties_with_their_short_names() {
        let text = "MASTER SUPPLY AGREEMENT\n\nTHIS AGREEMENT (\"Agreement\") is made as of 31 October 2019 \
            (\"Effective Date\") by and between Premier Nutrition Company, LLC, a Delaware limited liability \
            company located at 1222 67th Street (\"Buyer\" or \"PNC\"), and Fonterra (USA) Inc., a California \
            corporation (\"Supplier\") (each a \"Party\", collectively \"Parties\").\n\nWHEREAS the parties";
        let parties = find_parties(text);
        assert_eq!(parties.len(), 2, "{parties:?}");
        assert_eq!(parties[0].name, "Premier Nutrition Company, LLC");
        assert_eq!(parties[0].short_name.as_deref(), Some("Buyer"));
        assert_eq!(parties[0].aliases, ["PNC"]);
        assert_eq!(parties[1].name, "Fonterra (USA) Inc.");
        assert_eq!(parties[1].short_name.as_deref(), Some("Supplier"));
        assert_eq!(&text[parties[1].start..parties[1].end], "Fonterra (USA) Inc.");
    }

    #[test]
    fn multi_byte_characters_near_the_limits_do_not_break_it() {
        // A curly quote straddling the 400-byte window of a parenthesis, as in a real filing.
        for pad in 390..400 {
            let text = format!("Agreement between Acme LLC ({}“Acme”), and Beta Inc. (“Beta”).", "x".repeat(pad));
            let _ = find_parties(&text);
        }
        let _ = find_parties(&"é".repeat(5000));
    }

    #[test]
    fn parties_defined_with_hereinafter_and_no_parentheses() {
        let text = "This Manufacturing Agreement is effective as of 1 April 2011 by and between: INVASIX LTD., with \
            a principal place of business at Tavor Building, Yokneam, Israel. Hereinafter referred to as \"Customer\" \
            And FLEXTRONICS ISRAEL LTD. with a principal place of business at Migdal Haemek, Israel. Hereinafter \
            referred to as \"Contractor.\" Whereas Customer designs products.";
        let parties = find_parties(text);
        let found: Vec<(&str, Option<&str>)> =
            parties.iter().map(|p| (p.name.as_str(), p.short_name.as_deref())).collect();
        assert_eq!(found, [("INVASIX LTD.", Some("Customer")), ("FLEXTRONICS ISRAEL LTD.", Some("Contractor"))]);
    }

    #[test]
    fn parties_named_in_capitals_in_the_title() {
        let text = "MASTER OPERATION AND MAINTENANCE AGREEMENT by and between DIAMOND STATE GENERATION PARTNERS, LLC \
            and BLOOM ENERGY CORPORATION dated as of April 13, 2012\n\nTABLE OF CONTENTS\n";
        let names: Vec<String> = find_parties(text).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["DIAMOND STATE GENERATION PARTNERS, LLC", "BLOOM ENERGY CORPORATION"]);
    }

    #[test]
    fn a_title_sentence_whose_and_may_be_a_names_gives_no_parties() {
        let text = "This Content License Agreement is between THE HENRY FILM AND ENTERTAINMENT CORPORATION, located \
            at 2809 Unicornio, Carlsbad, CA.";
        assert!(find_parties(text).is_empty());
    }

    #[test]
    fn a_label_and_a_street_address_are_no_part_of_a_name() {
        let text = "This Agreement is made by and between Party A: Rise Education Consulting Co., Ltd. (\"Service \
            Provider\") and MOSSIMO, INC., 2450 White Road, Irvine, California 92614 (\"Company\").";
        let names: Vec<String> = find_parties(text).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["Rise Education Consulting Co., Ltd.", "MOSSIMO, INC."]);
    }

    #[test]
    fn no_parties_block_gives_nothing() {
        assert!(find_parties("Terms of Service. These terms apply to you.").is_empty());
        let roles =
            "This NDA is designed to allow each party (\"Discloser\") to disclose to the other (\"Recipient\").";
        assert!(find_parties(&format!("Exchanges between parties. {roles}")).is_empty());
    }
}
