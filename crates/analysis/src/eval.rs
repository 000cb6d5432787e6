//! Scoring against CUAD-format labels (`labels.jsonl`), with the metrics of the data set's
//! README: presence F1 per category (macro-averaged over the 41), evidence precision /
//! recall / F1 (a predicted span matches a gold span of the same category when they overlap
//! by at least half of the shorter), per category and overall.
//!
//! Gold spans whose offsets could not be located (null in the labels) are left out of
//! evidence recall. A category with no gold and no predicted positives scores presence F1 1.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::CATEGORIES;

#[derive(Debug, Deserialize)]
pub struct LabelledContract {
    pub id: String,
    pub file: String,
    pub labels: BTreeMap<String, CategoryLabel>,
}

#[derive(Debug, Deserialize)]
pub struct CategoryLabel {
    pub present: bool,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub spans: Vec<GoldSpan>,
}

#[derive(Debug, Deserialize)]
pub struct GoldSpan {
    pub start: Option<usize>,
    pub end: Option<usize>,
}

/// A line of `labels.jsonl` that is not a labelled contract.
#[derive(Debug, thiserror::Error)]
#[error("labels.jsonl line {line}: {source}")]
pub struct LabelsError {
    pub line: usize,
    #[source]
    pub source: serde_json::Error,
}

/// Parses `labels.jsonl`.
pub fn parse_labels(jsonl: &str) -> Result<Vec<LabelledContract>, LabelsError> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| serde_json::from_str(line).map_err(|source| LabelsError { line: i + 1, source }))
        .collect()
}

/// The deterministic held-out part: one contract in five, by a hash of its id.
pub fn is_held_out(id: &str) -> bool {
    fnv(id).is_multiple_of(5)
}

/// Folds of the training part for cross-validated evaluation.
pub const CV_FOLDS: u32 = 5;

/// The cross-validation fold of a contract of the training part (independent of the
/// held-out split, which takes the hash modulo 5).
pub fn cv_fold(id: &str) -> u32 {
    (fnv(id) / 5) % CV_FOLDS
}

/// A contract's fingerprint, as a model file records the contracts it was trained on.
pub fn contract_fingerprint(id: &str) -> u32 {
    fnv(id)
}

fn fnv(text: &str) -> u32 {
    crate::fnv::fnv1a32(&[text.as_bytes()])
}

/// A predicted evidence span.
#[derive(Clone, Debug)]
pub struct PredictedSpan {
    pub category: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CategoryScore {
    pub category: String,
    pub presence_tp: usize,
    pub presence_fp: usize,
    pub presence_fn: usize,
    pub presence_f1: f64,
    pub evidence_predicted: usize,
    pub evidence_predicted_matched: usize,
    pub evidence_gold: usize,
    pub evidence_gold_matched: usize,
    pub evidence_precision: f64,
    pub evidence_recall: f64,
    pub evidence_f1: f64,
}

/// Exact-match accuracy of one extracted value, compared in CUAD's form (see [`cuad_form`]).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ValueScore {
    pub field: String,
    /// Contracts whose gold answer is a usable value.
    pub gold: usize,
    pub correct: usize,
    /// Contracts with a gold value where we gave none.
    pub missing: usize,
    pub accuracy: f64,
}

/// Picks one extracted value out of the terms.
type PickTerm = fn(&crate::terms::Terms) -> Option<&crate::terms::Term>;

/// Scores governing law, agreement, effective and expiration dates against the gold answers.
pub fn score_values(gold: &[&LabelledContract], terms: &[crate::terms::Terms]) -> Vec<ValueScore> {
    let fields: [(&str, PickTerm); 4] = [
        ("Governing Law", |t| t.governing_law.as_ref()),
        ("Agreement Date", |t| t.agreement_date.as_ref()),
        ("Effective Date", |t| t.effective_date.as_ref()),
        ("Expiration Date", |t| t.expiration_date.as_ref()),
    ];
    fields
        .iter()
        .map(|(field, pick)| {
            let mut score = ValueScore { field: (*field).to_owned(), ..ValueScore::default() };
            for (contract, found) in gold.iter().zip(terms) {
                let Some(label) = contract.labels.get(*field) else { continue };
                let answer = label.answer.trim();
                if !label.present || answer.is_empty() || answer.contains('[') {
                    continue;
                }
                score.gold += 1;
                match pick(found) {
                    Some(term) if cuad_form(&term.value) == cuad_form(answer) => score.correct += 1,
                    Some(_) => {}
                    None => score.missing += 1,
                }
            }
            score.accuracy = ratio(score.correct, score.gold);
            score
        })
        .collect()
}

/// A value as CUAD's answers write it, for comparison: a date as m/d/yy (the engine's ISO
/// dates and CUAD's figures alike), anything else normalised (case, punctuation, "the").
fn cuad_form(value: &str) -> String {
    use chrono::Datelike;
    let value = value.trim();
    if let Ok(date) = value.parse::<chrono::NaiveDate>() {
        return format!("{}/{}/{:02}", date.month(), date.day(), date.year().rem_euclid(100));
    }
    numeric_date(value).unwrap_or_else(|| jurisdiction_form(value))
}

/// A place as one form for comparison: "Province of Ontario, Canada" and "Ontario, Canada",
/// "England; Wales" and "England and Wales", "United States of America" and "United States",
/// "New York State" and "New York" compare equal (each lists the same jurisdiction).
fn jurisdiction_form(value: &str) -> String {
    let spaced = value.to_lowercase().replace(',', " , ");
    let mut lower = format!(" {} ", spaced.split_whitespace().collect::<Vec<_>>().join(" "));
    for (from, to) in [
        (" the ", " "),
        (" state of ", " "),
        (" province of ", " "),
        (" commonwealth of ", " "),
        (" federal republic of ", " "),
        (" of america ", " "),
        (" state ", " "),
        (" , united kingdom ", " "),
        (" , uk ", " "),
        (" , canada ", " "),
        (" , australia ", " "),
    ] {
        lower = lower.replace(from, to);
    }
    let mut places: Vec<String> = lower
        .split([';', '&'])
        .flat_map(|part| part.split(" and "))
        .map(crate::terms::normalise)
        .filter(|place| !place.is_empty())
        .collect();
    // English law is the law of England and Wales, however it is written.
    if places.iter().any(|p| p == "england") {
        places.retain(|p| p != "wales");
    }
    places.sort();
    places.dedup();
    places.join("; ")
}

/// A date written in figures as m/d/y, in CUAD's form ("01/31/2025" → "1/31/25"); read as
/// d/m/y when only that is a date ("31/01/2025", as one CUAD answer is written).
fn numeric_date(value: &str) -> Option<String> {
    let parts: Vec<u32> = value.split('/').map(|part| part.parse().ok()).collect::<Option<_>>()?;
    let [first, second, year] = parts[..] else { return None };
    let (month, day) = if first > 12 && second <= 12 { (second, first) } else { (first, second) };
    (1..=12).contains(&month).then_some(())?;
    (1..=31).contains(&day).then_some(())?;
    Some(format!("{month}/{day}/{:02}", year % 100))
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub contracts: usize,
    /// Extracted values against the gold answers (filled by callers that extract terms).
    pub values: Vec<ValueScore>,
    pub presence_macro_f1: f64,
    pub evidence_precision: f64,
    pub evidence_recall: f64,
    pub evidence_f1: f64,
    /// The evidence measured in bytes, which no span length can game (see [`ByteOverlap`]).
    pub evidence_bytes: ByteOverlap,
    pub categories: Vec<CategoryScore>,
}

/// Evidence scored byte by byte: the share of cited bytes that lie in a gold span of the
/// same category, and of gold bytes that were cited, with the mean span lengths. The span
/// figure above counts a cited span right when it overlaps a gold span by half of the
/// shorter, so longer spans score better on it whether or not they locate the clause any
/// better (citing whole sections would raise it); this one falls when spans run past the
/// clause.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ByteOverlap {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub mean_predicted_span_bytes: f64,
    pub mean_gold_span_bytes: f64,
}

/// Sorted, non-overlapping cover of `spans`.
fn union(mut spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    spans.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Bytes two sorted, non-overlapping span lists share.
fn shared_bytes(a: &[(usize, usize)], b: &[(usize, usize)]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        shared += a[i].1.min(b[j].1).saturating_sub(a[i].0.max(b[j].0));
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    shared
}

fn total_bytes(spans: &[(usize, usize)]) -> usize {
    spans.iter().map(|(s, e)| e - s).sum()
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    let overlap = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let shorter = (a.1 - a.0).min(b.1 - b.0).max(1);
    overlap * 2 >= shorter
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores predictions (one list per contract, in the order of `gold`).
pub fn score(gold: &[&LabelledContract], predictions: &[Vec<PredictedSpan>]) -> Report {
    let mut scores: Vec<CategoryScore> =
        CATEGORIES.iter().map(|c| CategoryScore { category: (*c).to_owned(), ..CategoryScore::default() }).collect();
    // Bytes cited, gold, and both; span lengths summed.
    let (mut cited_bytes, mut gold_bytes, mut both_bytes) = (0, 0, 0);
    let (mut predicted_length, mut gold_length) = (0, 0);
    for (contract, predicted) in gold.iter().zip(predictions) {
        for (c, score) in scores.iter_mut().enumerate() {
            let label = contract.labels.get(CATEGORIES[c]);
            let gold_present = label.is_some_and(|l| l.present);
            let gold_spans: Vec<(usize, usize)> = label
                .map(|l| l.spans.iter().filter_map(|s| Some((s.start?, s.end?))).filter(|(s, e)| e > s).collect())
                .unwrap_or_default();
            let mine: Vec<(usize, usize)> =
                predicted.iter().filter(|p| p.category == c).map(|p| (p.start, p.end)).collect();
            match (gold_present, !mine.is_empty()) {
                (true, true) => score.presence_tp += 1,
                (false, true) => score.presence_fp += 1,
                (true, false) => score.presence_fn += 1,
                (false, false) => {}
            }
            score.evidence_predicted += mine.len();
            score.evidence_predicted_matched +=
                mine.iter().filter(|m| gold_spans.iter().any(|g| overlaps(**m, *g))).count();
            score.evidence_gold += gold_spans.len();
            score.evidence_gold_matched += gold_spans.iter().filter(|g| mine.iter().any(|m| overlaps(*m, **g))).count();
            predicted_length += total_bytes(&mine);
            gold_length += total_bytes(&gold_spans);
            let (mine, gold) = (union(mine), union(gold_spans));
            cited_bytes += total_bytes(&mine);
            gold_bytes += total_bytes(&gold);
            both_bytes += shared_bytes(&mine, &gold);
        }
    }
    let mut report = Report { contracts: gold.len(), ..Report::default() };
    let (mut pm, mut pp, mut gm, mut gp) = (0, 0, 0, 0);
    for score in scores.iter_mut() {
        let (tp, fp, fneg) = (score.presence_tp, score.presence_fp, score.presence_fn);
        score.presence_f1 = if tp + fp + fneg == 0 { 1.0 } else { f1(ratio(tp, tp + fp), ratio(tp, tp + fneg)) };
        score.evidence_precision = ratio(score.evidence_predicted_matched, score.evidence_predicted);
        score.evidence_recall = ratio(score.evidence_gold_matched, score.evidence_gold);
        score.evidence_f1 = f1(score.evidence_precision, score.evidence_recall);
        pm += score.evidence_predicted_matched;
        pp += score.evidence_predicted;
        gm += score.evidence_gold_matched;
        gp += score.evidence_gold;
    }
    report.presence_macro_f1 = scores.iter().map(|s| s.presence_f1).sum::<f64>() / scores.len() as f64;
    report.evidence_precision = ratio(pm, pp);
    report.evidence_recall = ratio(gm, gp);
    report.evidence_f1 = f1(report.evidence_precision, report.evidence_recall);
    let (precision, recall) = (ratio(both_bytes, cited_bytes), ratio(both_bytes, gold_bytes));
    report.evidence_bytes = ByteOverlap {
        precision,
        recall,
        f1: f1(precision, recall),
        mean_predicted_span_bytes: ratio(predicted_length, pp),
        mean_gold_span_bytes: ratio(gold_length, gp),
    };
    report.categories = scores;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_compare_in_cuads_form() {
        assert_eq!(cuad_form("2025-01-31"), "1/31/25");
        assert_eq!(cuad_form("31/01/2025"), cuad_form("1/31/25"));
        assert_eq!(cuad_form("01/05/2019"), "1/5/19");
        assert_eq!(cuad_form("2055-03-01"), cuad_form("3/1/55"));
        // Not a date: compared as text.
        assert_eq!(cuad_form("13/13/2020"), "13/13/2020");
        assert_eq!(cuad_form("The State of New York"), "new york");
        for (one, other) in [
            ("Province of Ontario, Canada", "Ontario, Canada"),
            ("England; Wales", "England and Wales"),
            ("England", "England and Wales"),
            ("United States", "United States of America"),
            ("New York State", "New York"),
            ("British Columbia,Canada", "British Columbia, Canada"),
        ] {
            assert_eq!(cuad_form(one), cuad_form(other), "{one} / {other}");
        }
        assert_ne!(cuad_form("New York"), cuad_form("New Jersey"));
        assert_ne!(cuad_form("California; Hong Kong"), cuad_form("California"));
    }

    fn contract(json: &str) -> LabelledContract {
        serde_json::from_str(json).expect("json")
    }

    #[test]
    fn perfect_predictions_score_one_and_misses_score_less() {
        let gold = contract(
            r#"{"id":"a","file":"contracts/a.txt","labels":{"Governing Law":{"present":true,"answer":"x","spans":[{"text":"t","start":10,"end":50}]},"Parties":{"present":false,"answer":"","spans":[]}}}"#,
        );
        let law = CATEGORIES.iter().position(|c| *c == "Governing Law").expect("category");
        let exact = vec![vec![PredictedSpan { category: law, start: 12, end: 48 }]];
        let report = score(&[&gold], &exact);
        assert_eq!(report.presence_macro_f1, 1.0);
        assert_eq!(report.evidence_f1, 1.0);
        let off = vec![vec![PredictedSpan { category: law, start: 45, end: 200 }]];
        let report = score(&[&gold], &off);
        assert_eq!(report.evidence_precision, 0.0, "an overlap under half of the shorter span does not count");
        assert!(report.presence_macro_f1 == 1.0);
        let none = vec![vec![]];
        assert!(score(&[&gold], &none).presence_macro_f1 < 1.0);
    }

    #[test]
    fn a_span_running_past_the_clause_scores_on_spans_but_not_on_bytes() {
        let gold = contract(
            r#"{"id":"a","file":"contracts/a.txt","labels":{"Governing Law":{"present":true,"answer":"x","spans":[{"text":"t","start":100,"end":200}]}}}"#,
        );
        let law = CATEGORIES.iter().position(|c| *c == "Governing Law").expect("category");
        let exact = score(&[&gold], &[vec![PredictedSpan { category: law, start: 100, end: 200 }]]);
        assert_eq!((exact.evidence_bytes.precision, exact.evidence_bytes.recall), (1.0, 1.0));
        assert_eq!(exact.evidence_bytes.mean_predicted_span_bytes, 100.0);
        // The whole section around it: still a match span by span, a fifth right byte by byte.
        let section = score(&[&gold], &[vec![PredictedSpan { category: law, start: 0, end: 500 }]]);
        assert_eq!(section.evidence_f1, 1.0);
        assert_eq!(section.evidence_bytes.precision, 0.2);
        assert_eq!(section.evidence_bytes.recall, 1.0);
        assert_eq!(section.evidence_bytes.mean_gold_span_bytes, 100.0);
        // Overlapping citations count their shared bytes once.
        let twice = vec![vec![
            PredictedSpan { category: law, start: 100, end: 180 },
            PredictedSpan { category: law, start: 150, end: 250 },
        ]];
        let twice = score(&[&gold], &twice);
        assert_eq!((twice.evidence_bytes.precision, twice.evidence_bytes.recall), (100.0 / 150.0, 1.0));
    }

    #[test]
    fn the_held_out_part_is_about_a_fifth_and_stable() {
        let held = (0..1000).filter(|i| is_held_out(&format!("contract-{i}"))).count();
        assert!((150..250).contains(&held), "{held}");
    }
}
