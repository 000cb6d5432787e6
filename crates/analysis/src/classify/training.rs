//! Training: one logistic regression per category (L-BFGS with L2), thresholds chosen out of
//! fold, and the mix of segment and document scores chosen per category.

use super::*;

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
pub(super) const FOLDS: u32 = 5;

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
pub(super) struct CategoryModel {
    pub(super) weights: Vec<f32>,
    pub(super) bias: f32,
    pub(super) threshold: f32,
    pub(super) presence_threshold: f32,
    pub(super) document_weights: Vec<f32>,
    pub(super) document_bias: f32,
    pub(super) document_mix: f32,
}

/// Shares of the document model's probability tried for the presence score.
pub(super) const DOCUMENT_MIXES: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// A logistic regression on `examples`, and its probabilities for each of them made out of
/// fold (by [`FOLDS`] models, each trained without the example's group of contracts).
pub(super) fn fit_with_out_of_fold(examples: &[Example], c: usize, iterations: usize) -> (Vec<f32>, f32, Vec<f32>) {
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

pub(super) fn train_category(
    examples: &[Example],
    documents: &[Example],
    c: usize,
    iterations: usize,
) -> CategoryModel {
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
    let wording = clause_wording();
    let has_wording = wording.phrases.iter().any(|set| set.category == CATEGORIES[c])
        || wording.rule.iter().any(|rule| rule.category == CATEGORIES[c]);
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

pub(super) fn probability(weights: &[f32], bias: f32, features: &[(u32, f32)]) -> f32 {
    let z = bias + features.iter().map(|(i, v)| weights[*i as usize] * v).sum::<f32>();
    1.0 / (1.0 + (-z).exp())
}

/// Strength λ of the L2 penalty λ/2·‖w‖² against the summed (not averaged) loss. Chosen by
/// 5-fold cross-validation on the training part (presence macro-F1 / evidence F1): 1/4
/// 0.729 / 0.623, 1/16 0.726 / 0.629, 1/64 0.724 / 0.632 — flat; 100 steps rather than 200
/// changed neither figure by more than 0.001.
pub(super) const L2: f64 = 1.0 / 16.0;

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
pub(super) fn fit(examples: &[&Example], c: usize, iterations: usize, start: Option<(&[f32], f32)>) -> (Vec<f32>, f32) {
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
pub(super) fn minimise_lbfgs(
    mut x: Vec<f64>,
    iterations: usize,
    objective: impl Fn(&[f64], &mut [f64]) -> f64,
) -> Vec<f64> {
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
pub(super) fn best_threshold(scored: &[(f32, bool)]) -> (f32, f32) {
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
