//! Engine throughput: reviewing TXT contracts (contracts/s) and extracting PDF pages
//! (pages/s). Data: `CR_BENCH_DATA` (a CUAD-format folder; default `../shared/data/cuad-dev`
//! from the repository root), else the small fixtures in `tests/fixtures`.
//!
//! `cargo bench -p cr-analysis --bench engine`

use std::path::{Path, PathBuf};

use cr_analysis::classify::{Model, BUILT_IN_MODEL};
use cr_analysis::playbook::Playbook;
use cr_analysis::{extract, Limits};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn data_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CR_BENCH_DATA") {
        Some(dir) => PathBuf::from(dir),
        None if root.join("../shared/data/cuad-dev").exists() => root.join("../shared/data/cuad-dev"),
        None => root.join("tests/fixtures/cuad-mini"),
    }
}

fn files(dir: &Path, extension: &str, limit: usize) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == extension));
    paths.sort();
    paths.into_iter().take(limit).filter_map(|p| std::fs::read(p).ok()).collect()
}

fn review_txt(c: &mut Criterion) {
    let contracts = files(&data_dir().join("contracts"), "txt", 50);
    assert!(!contracts.is_empty(), "no TXT contracts under {}", data_dir().display());
    let model = Model::from_bytes(BUILT_IN_MODEL).expect("model");
    let playbook = Playbook::built_in("default").expect("playbook");
    let mut group = c.benchmark_group("review");
    group.sample_size(10);
    group.throughput(Throughput::Elements(contracts.len() as u64));
    group.bench_function(format!("{}_txt_contracts", contracts.len()), |b| {
        b.iter(|| {
            for bytes in &contracts {
                let extracted = extract(bytes, "c.txt", &Limits::default()).expect("text");
                std::hint::black_box(cr_analysis::review(&extracted, &model, &playbook, None));
            }
        })
    });
    group.finish();
}

fn extract_pdf(c: &mut Criterion) {
    let mut pdfs = files(&data_dir().join("pdfs"), "pdf", 40);
    if pdfs.is_empty() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/contracts");
        pdfs = files(&fixtures, "pdf", 40);
    }
    let pages: usize =
        pdfs.iter().filter_map(|b| extract(b, "c.pdf", &Limits::default()).ok()).map(|e| e.pages.len()).sum();
    let mut group = c.benchmark_group("extract");
    group.sample_size(10);
    group.throughput(Throughput::Elements(pages as u64));
    group.bench_function(format!("{}_pdfs_{pages}_pages", pdfs.len()), |b| {
        b.iter(|| {
            for bytes in &pdfs {
                let _ = std::hint::black_box(extract(bytes, "c.pdf", &Limits::default()));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, review_txt, extract_pdf);
criterion_main!(benches);
