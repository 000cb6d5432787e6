//! The engine's commands: extract, review, train, eval. They run the pure `cr-analysis`
//! library on local files; no server or database is involved.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use cr_analysis::classify::{self, Example, Model, CATEGORIES};
use cr_analysis::eval::{self, LabelledContract, PredictedSpan};
use cr_analysis::playbook::{Playbook, Side};
use cr_analysis::segment::{segments, Segment};
use cr_analysis::{extract, Limits};

use cr_analysis::report;

/// Most L-BFGS steps per logistic regression; on the CUAD training part they converge (an
/// improvement under 1e-7 of the objective) well before.
pub const ITERATIONS: usize = 100;

/// Where `train` writes by default and the other commands look first.
pub const DEFAULT_MODEL: &str = "models/clauses.bin";

/// The clause model: `path` if given, else `models/clauses.bin`, else the one built in.
pub fn load_model(path: Option<&Path>) -> anyhow::Result<Model> {
    let bytes = match path {
        Some(path) => std::fs::read(path).with_context(|| format!("reading the model {}", path.display()))?,
        None => cr_analysis::classify::BUILT_IN_MODEL.to_vec(),
    };
    Model::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("invalid model file: {e}"))
}

pub fn extract_command(file: &Path, json: bool) -> anyhow::Result<()> {
    let extracted = extract_file(file)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&extracted)?);
    } else {
        print!("{}", extracted.text);
        for warning in &extracted.warnings {
            eprintln!("warning: {warning}");
        }
    }
    Ok(())
}

fn extract_file(file: &Path) -> anyhow::Result<cr_analysis::Extracted> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    extract(&bytes, &name, &Limits::default()).with_context(|| format!("extracting {}", file.display()))
}

/// What a review runs with: the clause model, the playbook (None: the built-in one suited to
/// each document) and the side.
pub struct ReviewOptions {
    pub model: Model,
    pub playbook: Option<Playbook>,
    pub side: Option<Side>,
    /// The optional LLM pass.
    pub llm: Option<crate::llm::LlmClient>,
}

impl ReviewOptions {
    /// `playbook`: "auto" (or none), a built-in name ("default", "nda") or a TOML file.
    pub fn load(
        model: Option<&Path>,
        playbook: Option<&str>,
        side: Option<&str>,
        llm: &cr_server::config::LlmConfig,
    ) -> anyhow::Result<ReviewOptions> {
        let playbook = match playbook {
            None | Some("auto") => None,
            Some(name) => Some(match Playbook::built_in(name) {
                Some(built_in) => built_in,
                None => {
                    let text = std::fs::read_to_string(name).with_context(|| {
                        format!("reading the playbook {name} (built-in playbooks: default, nda, or auto)")
                    })?;
                    Playbook::from_toml(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?
                }
            }),
        };
        let side = side.map(Side::parse).transpose().map_err(anyhow::Error::msg)?;
        Ok(ReviewOptions { model: load_model(model)?, playbook, side, llm: crate::llm::LlmClient::new(llm)? })
    }

    fn review(&self, extracted: &cr_analysis::Extracted) -> anyhow::Result<cr_analysis::Review> {
        let suggested;
        let playbook = match &self.playbook {
            Some(playbook) => playbook,
            None => {
                let name = cr_analysis::review::suggested_playbook(&extracted.text);
                suggested = Playbook::built_in(name).with_context(|| format!("built-in playbook {name}"))?;
                &suggested
            }
        };
        // A bug in the analysis must cost one file, not the batch: the text is untrusted.
        let mut review = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cr_analysis::review(extracted, &self.model, playbook, self.side)
        }))
        .map_err(|_| anyhow::anyhow!("internal error while analysing this document (please report it)"))?;
        if let Some(llm) = &self.llm {
            // The commands are synchronous; the pass is the one network call they make.
            let runtime = tokio::runtime::Handle::current();
            tokio::task::block_in_place(|| runtime.block_on(llm.enrich(&mut review)));
        }
        Ok(review)
    }
}

/// How `review` prints a single contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Terminal,
    Json,
    Markdown,
}

pub fn review_command(files: &[PathBuf], output: Output, options: &ReviewOptions) -> anyhow::Result<()> {
    if output == Output::Json && files.len() > 1 {
        let mut reviews = Vec::new();
        for file in files {
            reviews.push(review_json(file, options));
        }
        println!("{}", serde_json::to_string_pretty(&reviews)?);
        return Ok(());
    }
    for file in files {
        review_one(file, output, options)?;
    }
    Ok(())
}

/// A review as JSON, or the file's error in the same place.
fn review_json(file: &Path, options: &ReviewOptions) -> serde_json::Value {
    match extract_file(file).and_then(|extracted| options.review(&extracted)) {
        Ok(review) => {
            let mut value = serde_json::to_value(review).unwrap_or_default();
            value["file"] = serde_json::Value::String(file.display().to_string());
            value
        }
        Err(err) => serde_json::json!({
            "schema_version": cr_analysis::review::SCHEMA_VERSION,
            "file": file.display().to_string(),
            "error": { "code": error_code(&err), "message": format!("{err:#}") },
        }),
    }
}

/// Stable code of a failed review.
fn error_code(err: &anyhow::Error) -> &'static str {
    use cr_analysis::ExtractError as E;
    match err.chain().find_map(|cause| cause.downcast_ref::<E>()) {
        Some(E::Encrypted) => "encrypted",
        Some(E::NoTextLayer) => "no_text_layer",
        Some(E::Corrupt(_)) => "corrupt",
        Some(E::TooLarge(_)) => "too_large",
        Some(E::Timeout(_)) => "timeout",
        Some(E::Unsupported(_)) => "unsupported",
        None => "unreadable",
    }
}

/// Reviews many files into `out/<stem>.json`, with progress on stderr; fails (after doing
/// every file) when any file failed.
pub fn review_batch(files: &[PathBuf], out: &Path, options: &ReviewOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut used = std::collections::HashSet::new();
    let mut failed = 0;
    for (index, file) in files.iter().enumerate() {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "contract".into());
        let mut name = format!("{stem}.json");
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{stem}-{n}.json");
            n += 1;
        }
        let review = review_json(file, options);
        let ok = review.get("error").is_none();
        failed += usize::from(!ok);
        let target = out.join(&name);
        std::fs::write(&target, serde_json::to_vec_pretty(&review)?)
            .with_context(|| format!("writing {}", target.display()))?;
        eprintln!(
            "[{}/{}] {} -> {} {}",
            index + 1,
            files.len(),
            file.display(),
            target.display(),
            if ok { "ok".to_owned() } else { format!("FAILED: {}", review["error"]["message"]) }
        );
    }
    eprintln!("{} reviewed, {failed} failed", files.len() - failed);
    if failed > 0 {
        bail!("{failed} of {} files could not be reviewed (see their JSON)", files.len());
    }
    Ok(())
}

/// Writes the PDF report of one contract.
pub fn review_pdf(file: &Path, target: &Path, options: &ReviewOptions) -> anyhow::Result<()> {
    let extracted = extract_file(file)?;
    let review = options.review(&extracted)?;
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let bytes = cr_analysis::report::pdf::report(&review, &name)
        .map_err(|e| anyhow::anyhow!("could not build the PDF report: {e}"))?;
    std::fs::write(target, &bytes).with_context(|| format!("writing {}", target.display()))?;
    eprintln!("report written to {} ({} risks, {} bytes)", target.display(), review.risks.len(), bytes.len());
    Ok(())
}

/// Files above this size get stage-by-stage progress on a terminal.
const LONG_FILE_BYTES: u64 = 256 * 1024;

fn review_one(file: &Path, output: Output, options: &ReviewOptions) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let long = std::fs::metadata(file).is_ok_and(|m| m.len() > LONG_FILE_BYTES);
    let progress = long && std::io::stderr().is_terminal();
    let started = Instant::now();
    if progress {
        eprint!("{}: extracting…", file.display());
    }
    let extracted = extract_file(file)?;
    if progress {
        eprint!(" {} pages, {} KB of text; analysing…", extracted.pages.len(), extracted.text.len() / 1024);
    }
    let review = options.review(&extracted)?;
    if progress {
        eprintln!(" done in {:.1} s", started.elapsed().as_secs_f64());
    }
    let title = file.display().to_string();
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&review)?),
        Output::Markdown => print!("{}", report::markdown(&review, &title)),
        Output::Terminal => {
            print!("{}", report::terminal(&review, &title, extracted.text.len(), &report::Style::detect()))
        }
    }
    for warning in &review.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

fn read_labels(dir: &Path) -> anyhow::Result<Vec<LabelledContract>> {
    let path = dir.join("labels.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    eval::parse_labels(&text).map_err(anyhow::Error::msg)
}

/// Segments of a labelled contract and, per segment, the categories it is evidence of.
fn labelled_segments(text: &str, contract: &LabelledContract) -> (Vec<Segment>, Vec<Vec<bool>>) {
    let segs = segments(text);
    let labels = segs
        .iter()
        .map(|s| {
            CATEGORIES
                .iter()
                .map(|c| {
                    contract.labels.get(*c).is_some_and(|l| {
                        l.spans.iter().any(|g| match (g.start, g.end) {
                            (Some(gs), Some(ge)) if ge > gs => {
                                let overlap = s.end.min(ge).saturating_sub(s.start.max(gs));
                                overlap * 2 >= (s.end - s.start).min(ge - gs).max(1)
                            }
                            _ => false,
                        })
                    })
                })
                .collect()
        })
        .collect();
    (segs, labels)
}

/// Training examples of `contracts`: one per segment, and one per contract (its whole text,
/// labelled with the categories it has).
fn training_examples(dir: &Path, contracts: &[&LabelledContract]) -> anyhow::Result<(Vec<Example>, Vec<Example>)> {
    let mut examples = Vec::new();
    let mut documents = Vec::new();
    for (number, contract) in contracts.iter().enumerate() {
        let text =
            std::fs::read_to_string(dir.join(&contract.file)).with_context(|| format!("reading {}", contract.file))?;
        let (segs, labels) = labelled_segments(&text, contract);
        let contract_has: Vec<bool> =
            CATEGORIES.iter().map(|c| contract.labels.get(*c).is_some_and(|l| l.present)).collect();
        let number = u32::try_from(number).unwrap_or(u32::MAX);
        let structure = cr_analysis::structure::structure(&text);
        let headings = classify::section_headings(&segs, &structure);
        for ((segment, labels), heading) in segs.iter().zip(labels).zip(&headings) {
            examples.push(Example {
                features: classify::segment_features(segment.text(&text), *heading),
                labels,
                contract: number,
                contract_has: contract_has.clone(),
            });
        }
        documents.push(Example {
            features: classify::features(&text),
            labels: contract_has.clone(),
            contract: number,
            contract_has,
        });
    }
    if examples.is_empty() {
        bail!("no training data found in {}", dir.display());
    }
    Ok((examples, documents))
}

/// The model of `contracts`, with their fingerprints recorded in it.
fn train_on(dir: &Path, contracts: &[&LabelledContract], iterations: usize) -> anyhow::Result<Model> {
    let (examples, documents) = training_examples(dir, contracts)?;
    eprintln!("training on {} contracts: {} segments (thresholds chosen out of fold)", contracts.len(), examples.len());
    let mut model = classify::train(&examples, &documents, iterations);
    model.trained_on = contracts.iter().map(|c| eval::contract_fingerprint(&c.id)).collect();
    model.trained_on.sort_unstable();
    Ok(model)
}

/// Trains on the folder's training part, or with `all` on every contract (the model to ship:
/// the held-out part then measures nothing, and `eval` says so).
pub fn train_command(dir: &Path, out: &Path, iterations: usize, all: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let contracts = read_labels(dir)?;
    let training: Vec<&LabelledContract> = contracts.iter().filter(|c| all || !eval::is_held_out(&c.id)).collect();
    let model = train_on(dir, &training, iterations)?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, model.to_bytes()).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("model written to {} in {:.1} s", out.display(), started.elapsed().as_secs_f64());
    Ok(())
}

/// Which contracts of a CUAD-format folder `eval` scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    HeldOut,
    Trained,
    All,
    /// The training part, each contract scored by a model trained without its fold (five
    /// folds): a steadier figure to develop against than the small held-out part, without
    /// looking at it.
    CrossValidated,
}

pub fn eval_command(
    dir: &Path,
    part: Part,
    json: bool,
    model: Option<&Path>,
    predictions_dir: Option<&Path>,
    fold_models_dir: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(out) = predictions_dir {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }
    let contracts = read_labels(dir)?;
    let chosen: Vec<&LabelledContract> = contracts
        .iter()
        .filter(|c| match part {
            Part::All => true,
            Part::HeldOut => eval::is_held_out(&c.id),
            Part::Trained | Part::CrossValidated => !eval::is_held_out(&c.id),
        })
        .collect();
    // One model for every contract, or (cross-validated) one per fold.
    let models: Vec<Model> = if part == Part::CrossValidated {
        if let Some(dir) = fold_models_dir {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut models = Vec::new();
        for fold in 0..eval::CV_FOLDS {
            let kept = fold_models_dir.map(|dir| dir.join(format!("fold-{fold}.crmodel")));
            if let Some(path) = kept.as_ref().filter(|path| path.exists()) {
                eprintln!("fold {}/{}: model from {}", fold + 1, eval::CV_FOLDS, path.display());
                models.push(load_model(Some(path))?);
                continue;
            }
            let training: Vec<&LabelledContract> =
                chosen.iter().copied().filter(|c| eval::cv_fold(&c.id) != fold).collect();
            eprintln!("fold {}/{}: training on {} contracts", fold + 1, eval::CV_FOLDS, training.len());
            let model = train_on(dir, &training, ITERATIONS)?;
            // Scored as it would ship: through the 8-bit model file.
            let bytes = model.to_bytes();
            if let Some(path) = &kept {
                std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            }
            models.push(Model::from_bytes(&bytes).map_err(anyhow::Error::msg)?);
        }
        models
    } else {
        vec![load_model(model)?]
    };
    // A held-out figure only from contracts the model has not seen (a shipped model trained
    // with `--all` has seen the whole dev split); a figure of all contracts says how many.
    // (Cross-validated, each contract is scored by the fold model that has not seen it.)
    if part != Part::CrossValidated {
        let seen = chosen.iter().filter(|c| models[0].was_trained_on(&c.id)).count();
        match part {
            Part::HeldOut if seen > 0 => bail!(
                "{seen} of the {} held-out contracts are in this model's training data (it was trained with --all), \
                 so they measure nothing: train one without them (`contract-reviewer train DIR --out MODEL`) and pass \
                 `--model MODEL`, or score `--cv`",
                chosen.len()
            ),
            Part::All if seen > 0 => eprintln!("note: {seen} of these {} contracts were trained on", chosen.len()),
            _ => {}
        }
    }
    let model_for = |contract: &LabelledContract| match part {
        Part::CrossValidated => &models[eval::cv_fold(&contract.id) as usize],
        _ => &models[0],
    };
    let started = Instant::now();
    let mut predictions = Vec::with_capacity(chosen.len());
    let mut terms = Vec::with_capacity(chosen.len());
    for contract in &chosen {
        let text =
            std::fs::read_to_string(dir.join(&contract.file)).with_context(|| format!("reading {}", contract.file))?;
        let key_terms = cr_analysis::terms::key_terms(&text);
        let segs = segments(&text);
        let structure = cr_analysis::structure::structure(&text);
        // The presence scores are read only when they are written.
        let (predicted, presence) = if predictions_dir.is_some() {
            model_for(contract).predict_explained(&text, &segs, &key_terms, &structure)
        } else {
            (model_for(contract).predict_with(&text, &segs, &key_terms, &structure), Vec::new())
        };
        terms.push(key_terms);
        if let Some(out) = predictions_dir {
            let record = serde_json::json!({
                "id": contract.id,
                "file": contract.file,
                "clauses": predicted.iter().map(|p| serde_json::json!({
                    "category": p.category,
                    "start": p.segment.start,
                    "end": p.segment.end,
                    "confidence": p.confidence,
                })).collect::<Vec<_>>(),
                "presence": presence,
            });
            // The id comes from the labels file: keep it a plain file name.
            let name: String =
                contract.id.chars().map(|c| if c.is_alphanumeric() || "-_. ".contains(c) { c } else { '_' }).collect();
            let path = out.join(format!("{name}.json"));
            std::fs::write(&path, serde_json::to_vec(&record)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let spans = predicted
            .into_iter()
            .filter_map(|p| {
                let category = CATEGORIES.iter().position(|c| *c == p.category)?;
                Some(PredictedSpan { category, start: p.segment.start, end: p.segment.end })
            })
            .collect();
        predictions.push(spans);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut report = eval::score(&chosen, &predictions);
    report.values = eval::score_values(&chosen, &terms);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} contracts ({}), {:.1} contracts/s",
        report.contracts,
        match part {
            Part::All => "all",
            Part::HeldOut => "held-out part",
            Part::Trained => "trained-on part",
            Part::CrossValidated => "training part, 5-fold cross-validated",
        },
        report.contracts as f64 / elapsed.max(1e-9)
    );
    println!("{:<36} {:>8} {:>8} {:>8} {:>8}", "category", "pres F1", "ev P", "ev R", "ev F1");
    for c in &report.categories {
        println!(
            "{:<36} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            c.category, c.presence_f1, c.evidence_precision, c.evidence_recall, c.evidence_f1
        );
    }
    println!(
        "{:<36} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
        "overall", report.presence_macro_f1, report.evidence_precision, report.evidence_recall, report.evidence_f1
    );
    let bytes = &report.evidence_bytes;
    println!(
        "{:<36} {:>8} {:>8.3} {:>8.3} {:>8.3}   (mean span {:.0} bytes, gold {:.0})",
        "overall, by bytes",
        "",
        bytes.precision,
        bytes.recall,
        bytes.f1,
        bytes.mean_predicted_span_bytes,
        bytes.mean_gold_span_bytes
    );
    println!("\nvalues (exact match after normalisation):");
    for value in &report.values {
        println!(
            "  {:<16} {:>3}/{:<3} = {:.3}  ({} not found)",
            value.field, value.correct, value.gold, value.accuracy, value.missing
        );
    }
    Ok(())
}

/// `eval-review GOLD`: reviews each document of the gold set for its side and scores them.
pub fn eval_review_command(gold_path: &Path, data: &Path, json: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(gold_path).with_context(|| format!("reading {}", gold_path.display()))?;
    let gold =
        cr_analysis::gold::Gold::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", gold_path.display()))?;
    let model = load_model(None)?;
    let mut reviews = Vec::with_capacity(gold.document.len());
    for doc in &gold.document {
        let path = data.join(&doc.file);
        let extracted = extract_file(&path)?;
        let side = Side::parse(&doc.side).map_err(anyhow::Error::msg)?;
        let name = cr_analysis::review::suggested_playbook(&extracted.text);
        let playbook = Playbook::built_in(name).with_context(|| format!("built-in playbook {name}"))?;
        reviews.push(cr_analysis::review(&extracted, &model, &playbook, Some(side)));
    }
    let score = cr_analysis::gold::score(&gold.document, &reviews);
    if json {
        println!("{}", serde_json::to_string_pretty(&score)?);
        return Ok(());
    }
    println!("{} documents ({})", score.documents, gold_path.display());
    println!("{:<22} {:>7} {:>7} {:>9}", "field", "judged", "correct", "accuracy");
    for field in &score.fields {
        println!("{:<22} {:>7} {:>7} {:>9.3}", field.field, field.judged, field.correct, field.accuracy);
    }
    println!("key terms: {:.3}", score.key_term_accuracy);
    println!(
        "risks: precision {:.3}, recall {:.3}; false HIGH: {}",
        score.risk_precision, score.risk_recall, score.false_high
    );
    if !score.misses.is_empty() {
        println!("\nmisses:");
        for miss in &score.misses {
            println!("  {} · {}: expected {:?}, found {:?}", miss.file, miss.what, miss.expected, miss.found);
        }
    }
    Ok(())
}
