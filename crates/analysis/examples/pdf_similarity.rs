//! Compares the text extracted from each PDF of a CUAD-format folder with its reference
//! `.txt`: `cargo run --release -p cr-analysis --example pdf_similarity -- ../shared/data/cuad-dev`

use std::time::Instant;

use cr_analysis::extract::{extract, text_similarity, Limits};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: pdf_similarity DIR (with pdfs/ and contracts/)");
        std::process::exit(2);
    };
    let dir = std::path::Path::new(&dir);
    let Ok(entries) = std::fs::read_dir(dir.join("pdfs")) else {
        eprintln!("no pdfs/ folder in {}", dir.display());
        std::process::exit(2);
    };
    let mut scores = Vec::new();
    let (mut pages, mut seconds) = (0usize, 0f64);
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let Ok(reference) = std::fs::read_to_string(dir.join("contracts").join(format!("{stem}.txt"))) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let started = Instant::now();
        let outcome = extract(&bytes, &stem, &Limits::default());
        seconds += started.elapsed().as_secs_f64();
        match outcome {
            Ok(extracted) => {
                let score = text_similarity(&extracted.text, &reference);
                pages += extracted.pages.len();
                println!("{score:.3}  {:>4} pages  {stem}", extracted.pages.len());
                scores.push(score);
            }
            Err(err) => {
                println!("error  {stem}: {err}");
                scores.push(0.0);
            }
        }
    }
    scores.sort_by(f64::total_cmp);
    let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
    let median = scores.get(scores.len() / 2).copied().unwrap_or(0.0);
    println!(
        "{} PDFs: mean similarity {mean:.3}, median {median:.3}, min {:.3}; {pages} pages in {seconds:.1} s ({:.0} pages/s)",
        scores.len(),
        scores.first().copied().unwrap_or(0.0),
        pages as f64 / seconds.max(1e-9)
    );
}
