//! How a review is shown to a person: on the terminal (colours only when stdout is a
//! terminal and NO_COLOR is unset) and as Markdown (`--markdown`), from the same review the
//! JSON carries, so the three never disagree.

use std::fmt::Write as _;

pub mod pdf;

use crate::classify::CATEGORIES;
use crate::playbook::Severity;
use crate::review::{Clause, Review};

/// ANSI styling, or none.
pub struct Style {
    on: bool,
}

impl Style {
    /// Colours when stdout is a terminal and the user has not asked for none.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        Style { on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
    }

    /// No colours (files, tests).
    pub fn plain() -> Style {
        Style { on: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn severity(&self, severity: Severity) -> String {
        match severity {
            Severity::High => self.paint("1;31", "HIGH  "),
            Severity::Medium => self.paint("33", "MEDIUM"),
            Severity::Low => self.paint("36", "LOW   "),
        }
    }
}

/// Clauses grouped by category, in CUAD order.
fn by_category(review: &Review) -> Vec<(&'static str, Vec<&Clause>)> {
    let mut groups: Vec<(&'static str, Vec<&Clause>)> = Vec::new();
    for clause in &review.clauses {
        match groups.iter_mut().find(|(c, _)| *c == clause.category) {
            Some((_, list)) => list.push(clause),
            None => groups.push((clause.category, vec![clause])),
        }
    }
    groups.sort_by_key(|(c, _)| CATEGORIES.iter().position(|x| x == c));
    groups
}

/// The clauses by paragraph: each cited paragraph once, with every category it was found
/// under (most confident first), in the order of the text.
pub fn by_paragraph(review: &Review) -> Vec<(&Clause, Vec<&Clause>)> {
    let mut groups: Vec<(&Clause, Vec<&Clause>)> = Vec::new();
    for clause in &review.clauses {
        match groups.iter_mut().find(|(first, _)| first.start == clause.start && first.end == clause.end) {
            Some((_, list)) => list.push(clause),
            None => groups.push((clause, vec![clause])),
        }
    }
    for (_, list) in &mut groups {
        list.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    }
    groups
}

/// `text` on one line, cut to `chars` characters with an ellipsis.
pub fn excerpt(text: &str, chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= chars {
        flat
    } else {
        format!("{}…", flat.chars().take(chars).collect::<String>())
    }
}

/// Below this a citation is the engine's best guess for a category it judged present from the
/// contract as a whole or expects in every contract (the parties), not a clause it recognised.
const WEAK_CITATION: f32 = 0.2;

/// "0.87", or "0.01, weak guess": a reader should not take a guess for a found clause.
pub fn confidence(confidence: f32) -> String {
    if confidence < WEAK_CITATION {
        format!("{confidence:.2}, weak guess")
    } else {
        format!("{confidence:.2}")
    }
}

fn page(page: Option<u32>) -> String {
    page.map(|p| format!(", p. {p}")).unwrap_or_default()
}

/// The review for a terminal.
pub fn terminal(review: &Review, title: &str, text_bytes: usize, style: &Style) -> String {
    let mut out = String::new();
    let side = review.playbook.side.map(|s| format!(", side: {}", format!("{s:?}").to_lowercase())).unwrap_or_default();
    let _ = writeln!(out, "{}", style.bold(title));
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "{:?}, {text_bytes} bytes of text · playbook: {}{side} · {} {}",
            review.format, review.playbook.name, review.engine.name, review.engine.version
        ))
    );
    let structure = &review.structure;
    if let Some(title) = &structure.title {
        let _ = writeln!(out, "\n{} {}", style.bold("Title:"), title.text);
    }
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "{} sections, {} defined terms, {} recitals, {} signature blocks, {} exhibits/schedules",
            structure.sections.len(),
            structure.definitions.len(),
            structure.recitals.len(),
            structure.signature_blocks.len(),
            structure.exhibits.len()
        ))
    );
    let _ = writeln!(out, "\n{}", style.bold(&review.summary.headline));
    let _ = writeln!(out, "\n{}", style.bold("Key terms"));
    if review.summary.key_terms.is_empty() {
        let _ = writeln!(out, "  none found");
    }
    for row in &review.summary.key_terms {
        let _ = writeln!(out, "  {:<22} {}", row.term, row.value);
    }
    if let Some(llm) = &review.llm {
        if let Some(summary) = &llm.summary {
            let _ = writeln!(out, "\n{} {}", style.bold("Summary"), style.dim(&format!("(LLM: {})", llm.model)));
            let _ = writeln!(out, "  {}", excerpt(summary, 2000));
        }
    }
    let _ = writeln!(out, "\n{} ({})", style.bold("Risks"), review.risks.len());
    if review.risks.is_empty() {
        let _ = writeln!(out, "  none against this playbook");
    }
    for risk in &review.risks {
        let _ = writeln!(out, "  {} {}", style.severity(risk.severity), style.bold(&risk.title));
        let _ = writeln!(out, "         {}", risk.detail);
        if let Some(citation) = &risk.citation {
            let _ = writeln!(
                out,
                "         {}",
                style.dim(&format!("[{}] {}", citation.place(), excerpt(&citation.text, 100)))
            );
        }
        let _ = writeln!(out, "         {} {}", style.dim("propose:"), excerpt(&risk.fallback, 160));
        for redline in review.llm.iter().flat_map(|l| &l.redlines).filter(|r| r.rule == risk.rule) {
            let _ = writeln!(out, "         {} {}", style.dim("LLM redline:"), excerpt(&redline.proposed, 300));
        }
    }
    let groups = by_category(review);
    let _ = writeln!(out, "\n{} in {} of {} categories", style.bold("Clauses found"), groups.len(), CATEGORIES.len());
    for (category, clauses) in &groups {
        if let Some(best) = clauses.iter().max_by(|a, b| a.confidence.total_cmp(&b.confidence)) {
            let _ = writeln!(
                out,
                "  {category:<36} {:>3} × ({}{})  {}",
                clauses.len(),
                confidence(best.confidence),
                page(best.page),
                style.dim(&excerpt(&best.text, 90))
            );
        }
    }
    let missing: Vec<&str> =
        CATEGORIES.iter().copied().filter(|c| !groups.iter().any(|(found, _)| found == c)).collect();
    let _ = writeln!(out, "\nNot found: {}", style.dim(&missing.join(", ")));
    out
}

/// Escapes text for a Markdown table cell or line.
fn md(text: &str) -> String {
    excerpt(text, usize::MAX).replace('|', "\\|").replace('*', "\\*").replace('_', "\\_")
}

/// The review as a Markdown document.
pub fn markdown(review: &Review, title: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Review: {}\n", md(title));
    let side =
        review.playbook.side.map(|s| format!(" (side: {})", format!("{s:?}").to_lowercase())).unwrap_or_default();
    let _ = writeln!(
        out,
        "Format {:?} · playbook *{}*{side} · {} {} · schema {}\n",
        review.format,
        md(&review.playbook.name),
        review.engine.name,
        review.engine.version,
        review.schema_version
    );
    let _ = writeln!(out, "**{}**\n", md(&review.summary.headline));
    let _ = writeln!(out, "## Key terms\n");
    if review.summary.key_terms.is_empty() {
        let _ = writeln!(out, "None found.\n");
    } else {
        let _ = writeln!(out, "| Term | Value |\n|---|---|");
        for row in &review.summary.key_terms {
            let _ = writeln!(out, "| {} | {} |", row.term, md(&row.value));
        }
        let _ = writeln!(out);
    }
    if let Some(llm) = &review.llm {
        if let Some(summary) = &llm.summary {
            let _ = writeln!(out, "## Summary (LLM: {})\n\n{}\n", md(&llm.model), md(summary));
        }
    }
    let _ = writeln!(out, "## Top risks\n");
    if review.summary.top_risks.is_empty() {
        let _ = writeln!(out, "None against this playbook.\n");
    }
    for (i, risk) in review.summary.top_risks.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, md(risk));
    }
    let _ = writeln!(out, "\n## Findings\n");
    for risk in &review.risks {
        let severity = format!("{:?}", risk.severity).to_uppercase();
        let _ = writeln!(out, "### {severity}: {}\n", md(&risk.title));
        let _ = writeln!(out, "{}\n", md(&risk.detail));
        if let Some(c) = &risk.citation {
            let _ = writeln!(out, "> {}\n>\n> — {}\n", md(&excerpt(&c.text, 600)), md(&c.place()));
        }
        let _ = writeln!(out, "*Why:* {}\n", md(&risk.rationale));
        let _ = writeln!(out, "*Propose:* {}\n", md(&risk.fallback));
        for redline in review.llm.iter().flat_map(|l| &l.redlines).filter(|r| r.rule == risk.rule) {
            let _ = writeln!(
                out,
                "*LLM redline ({}):* {}\n",
                md(review.llm.as_ref().map_or("", |l| l.model.as_str())),
                md(&redline.proposed)
            );
        }
    }
    let _ = writeln!(out, "## Clauses\n\n| Category | Count | Best (confidence, page) | Excerpt |\n|---|---|---|---|");
    for (category, clauses) in by_category(review) {
        if let Some(best) = clauses.iter().max_by(|a, b| a.confidence.total_cmp(&b.confidence)) {
            let _ = writeln!(
                out,
                "| {category} | {} | {}{} | {} |",
                clauses.len(),
                confidence(best.confidence),
                page(best.page),
                md(&excerpt(&best.text, 160))
            );
        }
    }
    let structure = &review.structure;
    let _ = writeln!(out, "\n## Structure\n");
    if let Some(title) = &structure.title {
        let _ = writeln!(out, "Title: **{}**\n", md(&title.text));
    }
    let headed: Vec<String> = structure
        .sections
        .iter()
        .filter_map(|s| s.heading.as_ref().map(|h| format!("{} {}", s.number, md(h))))
        .collect();
    if !headed.is_empty() {
        let _ = writeln!(out, "Sections: {}\n", headed.join(" · "));
    }
    if !structure.definitions.is_empty() {
        let terms: Vec<String> =
            structure.definitions.iter().map(|d| format!("{} ({} uses)", md(&d.term), d.uses.len())).collect();
        let _ = writeln!(out, "Defined terms: {}\n", terms.join(", "));
    }
    if !structure.exhibits.is_empty() {
        let names: Vec<String> = structure.exhibits.iter().map(|e| md(&e.text)).collect();
        let _ = writeln!(out, "Exhibits and schedules: {}\n", names.join(", "));
    }
    if !review.warnings.is_empty() {
        let _ = writeln!(out, "\n## Warnings\n");
        for warning in &review.warnings {
            let _ = writeln!(out, "- {}", md(warning));
        }
    }
    out
}
