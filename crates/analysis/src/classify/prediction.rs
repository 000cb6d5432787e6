//! Prediction: segment scores per category, presence decided from the best segments and the
//! whole document, and the evidence cited.

use super::*;

/// A contract's segments scored: see [`Model::score_segments`].
pub(super) struct SegmentScores {
    pub(super) probabilities: Vec<Vec<f32>>,
    /// Per category, the best segments by the model's scores alone, and by the scores with
    /// phrases and rules counted.
    pub(super) top_model: Vec<TopScores>,
    pub(super) top: Vec<TopScores>,
}

/// Segments whose scores make a contract's presence score.
pub(super) const PRESENCE_SEGMENTS: usize = 3;

/// The [`PRESENCE_SEGMENTS`] highest segment scores of one category in one contract.
///
/// A contract's presence score is 1 − Π(1 − pᵢ) over them: the chance that at least one is
/// the clause, were they independent. Against the best segment alone it counts a clause
/// that the model half-recognises in two or three places (a restriction spread over a
/// section's sentences), and one high score still decides.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TopScores([f32; PRESENCE_SEGMENTS]);

impl TopScores {
    pub(super) fn add(&mut self, score: f32) {
        let last = PRESENCE_SEGMENTS - 1;
        if score > self.0[last] {
            self.0[last] = score;
            self.0.sort_by(|a, b| b.total_cmp(a));
        }
    }

    pub(super) fn presence(&self) -> f32 {
        1.0 - self.0.iter().map(|p| 1.0 - p).product::<f32>()
    }

    pub(super) fn best(&self) -> f32 {
        self.0[0]
    }
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

    pub(super) fn predict_scored(
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
    pub(super) fn score_segments(
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
    /// (Presence models tried and not kept are in docs/experiments.md.)
    pub(super) fn presence(&self, scored: &SegmentScores, document_features: Option<&[(u32, f32)]>) -> Vec<bool> {
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
        for prerequisite in &clause_wording().prerequisite {
            if let Some(c) = index_of(&prerequisite.category) {
                let met = prerequisite.beside.iter().filter_map(|name| index_of(name)).any(|n| present[n]);
                present[c] &= met;
            }
        }
        present
    }

    /// Whether the model was trained on the contract with this id.
    pub fn was_trained_on(&self, id: &str) -> bool {
        self.trained_on.binary_search(&crate::eval::contract_fingerprint(id)).is_ok()
    }
}
