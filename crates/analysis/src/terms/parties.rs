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
const NAME_ENDS: [&str; 20] = [
    ", a ",
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
    parties_in(text, region_start, region_end)
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
    let parties = parties_in(text, start, agree);
    if parties.len() >= 2 {
        parties
    } else {
        Vec::new()
    }
}

/// The parties named in `text[region_start..region_end]`: each defined short name in
/// parentheses with the name before it.
fn parties_in(text: &str, region_start: usize, region_end: usize) -> Vec<Party> {
    let mut parties = Vec::new();
    let mut cursor = region_start;
    let mut at = region_start;
    while at < region_end {
        let Some(open) = text[at..region_end].find('(').map(|i| at + i) else { break };
        let Some(close) = closing_paren(text, open, region_end) else { break };
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
    let cut = NAME_ENDS.iter().filter_map(|end| lower.find(end)).min().unwrap_or(rest.len());
    let name = rest[..cut].split_whitespace().collect::<Vec<_>>().join(" ");
    let name = name.trim_end_matches([',', ' ', ';']).to_owned();
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
    fn no_parties_block_gives_nothing() {
        assert!(find_parties("Terms of Service. These terms apply to you.").is_empty());
        let roles =
            "This NDA is designed to allow each party (\"Discloser\") to disclose to the other (\"Recipient\").";
        assert!(find_parties(&format!("Exchanges between parties. {roles}")).is_empty());
    }
}
