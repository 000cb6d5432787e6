//! The document's structure, for a reader finding their way and for later stages that need
//! context: the title, the recitals, numbered sections with their headings, defined terms
//! with where they are used, signature blocks, and exhibits or schedules. All offsets are
//! UTF-8 bytes into the extracted text.
//!
//! It is read from the text's shape (numbering at the start of a line, "WHEREAS", "IN
//! WITNESS WHEREOF", "\"X\" means"), so it works alike on PDF, DOCX (whose numbering the
//! extractor renders) and plain text.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    /// "12.3", "IV", "(a)".
    pub number: String,
    /// The heading, when the line has one ("Governing Law").
    pub heading: Option<String>,
    /// Offsets of the line that opens the section.
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub term: String,
    /// Offsets of the definition (the sentence that defines it).
    pub start: usize,
    pub end: usize,
    /// Start offsets of the term's later uses (at most [`MAX_USES`]).
    pub uses: Vec<usize>,
}

/// Uses recorded per defined term.
pub const MAX_USES: usize = 200;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Structure {
    pub title: Option<Span>,
    pub recitals: Vec<Span>,
    pub sections: Vec<Section>,
    pub definitions: Vec<Definition>,
    /// Where each signature block starts ("IN WITNESS WHEREOF", or a run of "By:" lines).
    pub signature_blocks: Vec<Span>,
    /// Headings of exhibits, schedules, annexes and appendices.
    pub exhibits: Vec<Span>,
}

/// Lines with their offsets (trimmed).
impl Structure {
    /// The section a place in the text is in, as a lawyer cites it: "§ 8.1 Liability Caps",
    /// "§ 12.3 Governing Law" (a Markdown list item numbered 3 under section 12),
    /// "§ 5.1(a) Term" (a lettered item takes its section's heading). `None` before the first
    /// section.
    pub fn section_label(&self, text: &str, at: usize) -> Option<String> {
        // (indent, full number, heading) of the open sections, outermost first.
        let mut open: Vec<(usize, String, Option<String>)> = Vec::new();
        for section in self.sections.iter().take_while(|s| s.start <= at) {
            let indent = indent_of(text, section.start);
            let number = section.number.trim_matches(|c: char| matches!(c, '(' | ')' | '.')).to_owned();
            let numeric = !number.is_empty() && number.chars().all(|c| c.is_ascii_digit());
            let item = !numeric && number.len() <= 4 && number.chars().all(|c| c.is_ascii_lowercase());
            while open.last().is_some_and(|(i, parent, _)| {
                let parent_numeric = parent.chars().next().is_some_and(|c| c.is_ascii_digit());
                *i > indent || (*i == indent && !(item && parent_numeric))
            }) {
                open.pop();
            }
            let full = match open.last() {
                Some((_, parent, _)) if numeric && !number.contains('.') => format!("{parent}.{number}"),
                Some((_, parent, _)) if item => format!("{parent}({number})"),
                _ => number,
            };
            open.push((indent, full, section.heading.clone()));
        }
        let (_, number, _) = open.last()?;
        let heading = open.iter().rev().find_map(|(_, _, heading)| heading.clone());
        Some(match heading {
            Some(heading) => format!("§ {number} {}", heading.trim_end_matches('.')),
            None => format!("§ {number}"),
        })
    }
}

/// Spaces before the first character of the line `at` is on.
fn indent_of(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..].len() - text[line_start..].trim_start_matches([' ', '\t']).len()
}

fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let trimmed = raw.trim();
        if !trimmed.is_empty() {
            let lead = raw.len() - raw.trim_start().len();
            out.push((offset + lead, trimmed));
        }
        offset += raw.len();
    }
    out
}

pub fn structure(text: &str) -> Structure {
    let lines = lines(text);
    Structure {
        title: title(&lines),
        recitals: recitals(&lines),
        sections: sections(&lines),
        definitions: definitions(text),
        signature_blocks: signature_blocks(&lines),
        exhibits: exhibits(&lines),
    }
}

fn span(start: usize, line: &str) -> Span {
    Span { text: line.to_owned(), start, end: start + line.len() }
}

/// The title: among the first lines, a short one naming an agreement (or, failing that, the
/// first short line mostly in capitals that names some kind of document: not an exhibit's
/// stamp "SCHEDULE B" or a company's name). A filing's stamp before it on the same line
/// ("EXHIBIT 4.1 CONSULTING AGREEMENT") is not part of it, and a title that runs on into the
/// preamble ("DISTRIBUTOR AGREEMENT Tripath Technology, Inc. …") ends with its run of capitals.
fn title(lines: &[(usize, &str)]) -> Option<Span> {
    let opening = &lines[..lines.len().min(25)];
    let candidates: Vec<Span> = opening.iter().filter_map(|(start, line)| title_candidate(*start, line)).collect();
    let names_a_contract = |line: &str| {
        let lower = line.to_lowercase();
        CONTRACT_NOUNS.iter().any(|w| lower.contains(w)) && !lower.starts_with("this ")
    };
    let pick = |want: &dyn Fn(&str) -> bool| candidates.iter().find(|c| want(&c.text)).cloned();
    pick(&|l: &str| names_a_contract(l) && (is_shouting(l) || l.split_whitespace().count() <= 6))
        .or_else(|| pick(&|l: &str| is_shouting(l) && names_a_document(&l.to_lowercase())))
}

/// Words that make a line name a contract.
const CONTRACT_NOUNS: &[&str] =
    &["agreement", "contract", "terms", "license", "licence", "lease", "addendum", "amendment", "nda"];

/// Whether lower-cased `text` names a kind of document a contract can be titled: a contract
/// noun, or an order form, statement (of work), memorandum, deed or letter. Of the 332 titles
/// CUAD marks in the 325 training contracts, 327 have a contract noun and 3 more one of these
/// (the other two are "EXHIBIT 'B'" and "Customization Schedule"); the titles cited without
/// any (an exhibit's stamp "Exhibit 1.2", "SCHEDULE B", a heading, a company's name, taken by
/// the fallback to a line in capitals) were wrong in 12 of 12, 5-fold cross-validated.
fn names_a_document(lower: &str) -> bool {
    const OTHER_DOCUMENTS: &[&str] = &["order form", "statement", "memorandum", "deed", "letter"];
    CONTRACT_NOUNS.iter().chain(OTHER_DOCUMENTS).any(|noun| lower.contains(noun))
}

/// Mostly capital letters.
fn is_shouting(line: &str) -> bool {
    let letters: Vec<char> = line.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 6 && letters.iter().filter(|c| c.is_uppercase()).count() * 10 >= letters.len() * 8
}

/// The part of an opening line that could be the title: the line without Markdown's `#` and a
/// filing stamp, when short; else its leading run of capitals up to a word naming a contract.
fn title_candidate(start: usize, line: &str) -> Option<Span> {
    static STAMP: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let stamp = STAMP.get_or_init(|| {
        regex::Regex::new(r"^(?i:exhibit|annex|schedule|appendix|attachment)\s+[\w.()'-]{1,12}\s+").ok()
    });
    let lower = line.to_lowercase();
    if lower.starts_with("source:") || lower.starts_with("page ") {
        return None; // a filing's page footer
    }
    let mut from = line.len() - line.trim_start_matches('#').trim_start().len();
    if let Some(found) = stamp.as_ref().and_then(|r| r.find(&line[from..])) {
        from += found.end();
    }
    let rest = line[from..].trim_end();
    let words = rest.split_whitespace().count();
    if (2..=12).contains(&words) {
        return Some(span(start + from, rest));
    }
    // A long line: its leading capitals, through the first word that names a contract.
    let mut end = None;
    let mut at = 0;
    for piece in rest.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end();
        let word_at = at;
        at += piece.len();
        if word.is_empty() {
            continue;
        }
        let capitals =
            word.chars().any(char::is_alphabetic) && word.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
        if !capitals && word != "&" {
            break;
        }
        if CONTRACT_NOUNS.iter().any(|n| word.to_lowercase().starts_with(n)) {
            end = Some(word_at + word.trim_end_matches([',', '.', ':', ';']).len());
            break;
        }
    }
    let end = end?;
    (2..=12).contains(&rest[..end].split_whitespace().count()).then(|| span(start + from, &rest[..end]))
}

/// "WHEREAS" paragraphs, and the paragraphs under a "RECITALS" or "BACKGROUND" heading, up
/// to "NOW, THEREFORE".
fn recitals(lines: &[(usize, &str)]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut under_heading = false;
    for (start, line) in lines {
        let upper = line.to_uppercase();
        if upper.starts_with("NOW, THEREFORE") || upper.starts_with("NOW THEREFORE") || upper.starts_with("AGREEMENT") {
            if !out.is_empty() || under_heading {
                break;
            }
            continue;
        }
        if matches!(upper.trim_end_matches([':', '.']), "RECITALS" | "BACKGROUND" | "PRELIMINARY STATEMENTS") {
            under_heading = true;
            continue;
        }
        if upper.starts_with("WHEREAS") || (under_heading && line.split_whitespace().count() > 5) {
            out.push(span(*start, line));
        }
    }
    out
}

/// A line's leading number: "12.3", "12.3.", "Section 4", "ARTICLE IV", "(a)", "iv)".
fn leading_number(line: &str) -> Option<(String, &str)> {
    let lower = line.to_ascii_lowercase();
    for keyword in ["section ", "article ", "clause "] {
        if lower.starts_with(keyword) {
            let rest = &line[keyword.len()..];
            let number: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '.').collect();
            let roman = !number.is_empty() && number.trim_end_matches('.').chars().all(|c| "IVXLCivxlc".contains(c));
            if number.chars().next().is_some_and(|c| c.is_ascii_digit()) || roman {
                return Some((number.trim_end_matches('.').to_owned(), &rest[number.len()..]));
            }
        }
    }
    if let Some(inner) = line.strip_prefix('(') {
        let label: String = inner.chars().take_while(|c| c.is_alphanumeric()).collect();
        if (1..=4).contains(&label.len()) && inner[label.len()..].starts_with(')') {
            return Some((format!("({label})"), &inner[label.len() + 1..]));
        }
        return None;
    }
    let number: String = line.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    if number.chars().next().is_some_and(|c| c.is_ascii_digit())
        && (number.ends_with('.') || number.contains('.'))
        && number.len() <= 12
    {
        let rest = &line[number.len()..];
        // "1.5 million" is not a section.
        if rest.starts_with(' ') || rest.starts_with('\t') || rest.is_empty() {
            return Some((number.trim_end_matches('.').to_owned(), rest));
        }
    }
    None
}

/// "A. Definitions": a capital letter numbering a heading.
fn lettered_heading(line: &str) -> Option<(String, &str)> {
    let letter = line.chars().next().filter(char::is_ascii_uppercase)?;
    line[1..].starts_with(". ").then(|| (letter.to_string(), &line[2..]))
}

/// The heading after a number: a short title ending at the first full stop, or a short line.
fn heading_of(rest: &str) -> Option<String> {
    let rest = rest.trim_start_matches([' ', '\t', '.', ':', '-', '–']).trim();
    // Markdown or HTML decorations around the heading.
    let plain: String = strip_tags(rest).replace("**", "");
    let plain = plain.trim();
    if plain.is_empty() {
        return None;
    }
    let candidate = match plain.find(". ") {
        Some(at) => &plain[..at],
        None => plain.trim_end_matches('.'),
    };
    let words = candidate.split_whitespace().count();
    let capitalised = candidate.chars().next().is_some_and(char::is_uppercase);
    // A heading is in title case ("Limitation of Liability", "Payment terms"), a sentence is
    // not ("The policy shall name Buyer").
    let long_words: Vec<&str> = candidate.split_whitespace().filter(|w| w.chars().count() >= 4).collect();
    let lower = long_words.iter().filter(|w| w.chars().next().is_some_and(char::is_lowercase)).count();
    let title_case = lower * 2 <= long_words.len();
    (capitalised && title_case && (1..=8).contains(&words) && !candidate.ends_with(',')).then(|| candidate.to_owned())
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn sections(lines: &[(usize, &str)]) -> Vec<Section> {
    lines
        .iter()
        .filter_map(|(start, line)| {
            // A Markdown heading ("### 1. Account Controls.", "## A. Definitions") numbers a
            // section as the same line would without its hashes; a lettered one counts there.
            let markdown = line.trim_start_matches('#');
            let (number, rest) = if markdown.len() < line.len() && markdown.starts_with(' ') {
                let markdown = markdown.trim_start();
                leading_number(markdown).or_else(|| lettered_heading(markdown))?
            } else {
                leading_number(line)?
            };
            Some(Section { number, heading: heading_of(rest), start: *start, end: start + line.len() })
        })
        .collect()
}

/// Quoted terms that are defined: `"X" means`, `"X" shall mean`, `"X" has the meaning`,
/// and `(the "X")` / `(hereinafter "X")` after what it names.
fn definitions(text: &str) -> Vec<Definition> {
    let mut out: Vec<Definition> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let Some(open_rel) = text[at..].find(['"', '“']) else { break };
        let open = at + open_rel;
        let open_len = text[open..].chars().next().map_or(1, char::len_utf8);
        let Some(close_rel) = text[open + open_len..].find(['"', '”']) else { break };
        let close = open + open_len + close_rel;
        let close_len = text[close..].chars().next().map_or(1, char::len_utf8);
        at = close + close_len;
        // Markdown emphasis inside or around the quotes ("**Cover Page**", **"Fees"** means).
        let term = text[open + open_len..close].trim().trim_matches(['*', '_']).trim();
        let words = term.split_whitespace().count();
        if !(1..=6).contains(&words) || !term.starts_with(|c: char| c.is_uppercase()) || term.contains('\n') {
            continue;
        }
        // (In Markdown the analysis sees inline HTML as spaces: `**"Fees"**</span> means`.)
        let after_quote = text[at..].trim_start_matches(['*', '_']);
        let separated = after_quote.starts_with(|c: char| c.is_whitespace() || c == ':');
        let after =
            after_quote.trim_start_matches(':').trim_start().chars().take(30).collect::<String>().to_lowercase();
        let means = separated
            && ["means", "shall mean", "has the meaning", "shall have the meaning", "refers to"]
                .iter()
                .any(|cue| after.starts_with(cue));
        let before = text[..open].chars().rev().take(16).collect::<String>().chars().rev().collect::<String>();
        let parenthetical = before.trim_end().ends_with('(')
            || ["(the ", "(a ", "(an ", "hereinafter ", "(collectively, ", "(each, ", "(each a ", "referred to as "]
                .iter()
                .any(|cue| {
                    before.to_lowercase().trim_start().ends_with(cue.trim_start())
                        || before.to_lowercase().ends_with(cue)
                });
        if !(means || parenthetical) || out.iter().any(|d| d.term == term) {
            continue;
        }
        // The definition runs to the end of its sentence (or line).
        let end = text[at..]
            .find(['\n'])
            .map(|i| at + i)
            .unwrap_or(text.len())
            .min(text[at..].find(". ").map_or(text.len(), |i| at + i + 1));
        let start = text[..open].rfind('\n').map_or(0, |i| i + 1);
        out.push(Definition {
            term: term.to_owned(),
            start: start.max(open.saturating_sub(400)),
            end,
            uses: Vec::new(),
        });
    }
    for definition in &mut out {
        definition.uses = uses(text, &definition.term, definition.end);
    }
    out
}

/// Whole-word, case-sensitive uses of `term` after `from`.
fn uses(text: &str, term: &str, from: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = from.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    while let Some(found) = text[at..].find(term) {
        let start = at + found;
        let end = start + term.len();
        let before_ok = text[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            out.push(start);
            if out.len() >= MAX_USES {
                break;
            }
        }
        at = end;
    }
    out
}

/// "IN WITNESS WHEREOF" paragraphs, or the first "By:" line of a run of them.
fn signature_blocks(lines: &[(usize, &str)]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut last_by: Option<usize> = None;
    for (index, (start, line)) in lines.iter().enumerate() {
        let upper = line.to_uppercase();
        if upper.starts_with("IN WITNESS WHEREOF") {
            out.push(span(*start, line));
            last_by = Some(index);
            continue;
        }
        if upper.starts_with("BY:") || upper.starts_with("SIGNATURE:") || upper.starts_with("SIGNED:") {
            // A new block unless close to the last block's start.
            if last_by.is_none_or(|l| index > l + 12) {
                out.push(span(*start, line));
            }
            last_by = Some(index);
        }
    }
    out
}

/// Headings of exhibits, schedules, annexes and appendices: short lines that start so.
fn exhibits(lines: &[(usize, &str)]) -> Vec<Span> {
    lines
        .iter()
        .enumerate()
        .filter(|(index, (_, line))| {
            let upper = line.to_uppercase();
            let named =
                ["EXHIBIT ", "SCHEDULE ", "ANNEX ", "APPENDIX ", "ATTACHMENT "].iter().any(|w| upper.starts_with(w));
            // The filing's own "Exhibit 10.1" stamp on the first line is not an exhibit.
            named && line.split_whitespace().count() <= 10 && *index > 2 && !upper.contains(" TO THIS")
        })
        .map(|(_, (start, line))| span(*start, line))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTRACT: &str = "Exhibit 10.1\n\nMASTER SUPPLY AGREEMENT\n\nThis Master Supply Agreement (the \"Agreement\") \
        is made by and between Acme, Inc. (\"Buyer\") and Beta LLC (\"Supplier\").\n\nRECITALS\n\nWHEREAS, Buyer makes widgets;\n\
        WHEREAS, Supplier sells parts.\n\nNOW, THEREFORE, the parties agree as follows:\n\n1. Definitions.\n\n\
        1.1 \"Products\" means the parts listed in Exhibit A.\n\n2. Supply. Supplier shall supply the Products to Buyer.\n\n\
        (a) Forecasts. Buyer shall send forecasts.\n\nARTICLE IV GOVERNING LAW\n\nThe Products are sold for 1.5 million dollars.\n\n\
        IN WITNESS WHEREOF, the parties have signed this Agreement.\n\nBy: ______\nName: A\nTitle: CEO\n\nEXHIBIT A\n\nParts list.\n";

    #[test]
    fn the_parts_of_a_contract_are_found() {
        let s = structure(CONTRACT);
        assert_eq!(s.title.as_ref().map(|t| t.text.as_str()), Some("MASTER SUPPLY AGREEMENT"));
        assert_eq!(s.recitals.len(), 2);
        assert!(s.recitals[0].text.starts_with("WHEREAS, Buyer"));
        let numbers: Vec<&str> = s.sections.iter().map(|x| x.number.as_str()).collect();
        assert_eq!(numbers, ["1", "1.1", "2", "(a)", "IV"]);
        assert_eq!(s.sections[0].heading.as_deref(), Some("Definitions"));
        assert_eq!(s.sections[2].heading.as_deref(), Some("Supply"));
        assert_eq!(s.signature_blocks.len(), 1);
        assert_eq!(s.exhibits.len(), 1);
        assert_eq!(s.exhibits[0].text, "EXHIBIT A");
        for span in s.recitals.iter().chain(&s.exhibits).chain(&s.signature_blocks) {
            assert_eq!(&CONTRACT[span.start..span.end], span.text);
        }
    }

    #[test]
    fn a_title_is_found_behind_a_filing_stamp_and_before_the_preamble() {
        let title_of = |text: &str| structure(text).title.map(|t| (text[t.start..t.end].to_owned(), t.text));
        let same = |s: &str| Some((s.to_owned(), s.to_owned()));
        assert_eq!(
            title_of("EXHIBIT 4.1 CONSULTING AGREEMENT THIS AGREEMENT is dated for reference the 1st day of May."),
            same("CONSULTING AGREEMENT")
        );
        assert_eq!(
            title_of("Exhibit h(2)        SPONSORSHIP AGREEMENT\n\nThe parties agree."),
            same("SPONSORSHIP AGREEMENT")
        );
        assert_eq!(
            title_of(
                "DISTRIBUTOR AGREEMENT   Tripath Technology, Inc. 3900 Freedom Circle, Santa Clara, CA 95054 Tel: 408"
            ),
            same("DISTRIBUTOR AGREEMENT")
        );
        assert_eq!(
            title_of("Source: ACME CORP, 8-K, 8/15/2019\n\nSUPPLY AGREEMENT\n\nThis Supply Agreement is made."),
            same("SUPPLY AGREEMENT")
        );
        assert_eq!(title_of("# Mutual NDA\n\nText."), same("Mutual NDA"));
    }

    #[test]
    fn offsets_stay_on_character_boundaries() {
        let text = format!("{}\n“Café Products” means the goods. “Café Products” are sold.", "é".repeat(300));
        let s = structure(&text);
        let definition = s.definitions.first().expect("definition");
        assert!(text.is_char_boundary(definition.start) && text.is_char_boundary(definition.end));
        assert_eq!(definition.uses.len(), 1);
    }

    #[test]
    fn defined_terms_and_their_uses() {
        let s = structure(CONTRACT);
        let terms: Vec<&str> = s.definitions.iter().map(|d| d.term.as_str()).collect();
        assert!(terms.contains(&"Products") && terms.contains(&"Agreement") && terms.contains(&"Buyer"), "{terms:?}");
        let products = s.definitions.iter().find(|d| d.term == "Products").expect("Products");
        assert_eq!(products.uses.len(), 2, "used twice after its definition");
        for at in &products.uses {
            assert_eq!(&CONTRACT[*at..*at + "Products".len()], "Products");
        }
    }

    #[test]
    fn markdown_headings_number_sections() {
        let text = "# Terms of Service\n\n## A. Definitions\n\nShort text.\n\n### 1. Account Controls.\n\nUsers.\n\n\
                    #hashtag 2. not a heading\n";
        let sections: Vec<(String, Option<String>)> =
            structure(text).sections.into_iter().map(|s| (s.number, s.heading)).collect();
        assert_eq!(
            sections,
            [("A".to_owned(), Some("Definitions".to_owned())), ("1".to_owned(), Some("Account Controls".to_owned()))]
        );
    }

    #[test]
    fn markdown_emphasis_around_a_defined_term_is_not_part_of_it() {
        let text = "1. **\"Cover Page\"**      means the signed document.\n2. This NDA (\u{201c}**NDA**\u{201d}) \
                    and the Cover Page apply. The NDA ends.\n";
        let s = structure(text);
        let terms: Vec<&str> = s.definitions.iter().map(|d| d.term.as_str()).collect();
        assert_eq!(terms, ["Cover Page", "NDA"]);
        let cover_page = &s.definitions[0];
        assert_eq!(cover_page.uses.len(), 1, "{cover_page:?}");
    }

    #[test]
    fn a_place_is_cited_by_its_full_section_number_and_heading() {
        // Markdown as Common Paper writes it: section 12's items are numbered 1, 2, 3 under it.
        let text = "12. General Terms\n    1. Entire Agreement. This is all.\n    2. Notices. Write.\n    \
                    3. Governing Law and Chosen Courts. The Governing Law governs.\n\n\
                    5.1 Initial Term. It lasts a year.\n(a) Renewal. Either party may renew.\n";
        let s = structure(text);
        let at = |needle: &str| text.find(needle).expect("needle");
        assert_eq!(
            s.section_label(text, at("The Governing Law governs")).as_deref(),
            Some("§ 12.3 Governing Law and Chosen Courts")
        );
        assert_eq!(s.section_label(text, at("It lasts")).as_deref(), Some("§ 5.1 Initial Term"));
        assert_eq!(s.section_label(text, at("Either party may renew")).as_deref(), Some("§ 5.1(a) Renewal"));
        assert_eq!(s.section_label(text, 0).as_deref(), Some("§ 12 General Terms"));
        assert_eq!(structure("No numbers here.").section_label("No numbers here.", 3), None);
    }
}
