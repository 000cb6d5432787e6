#![no_main]
//! Arbitrary bytes through `extract` as a pdf file: text or a typed error, within the limits.

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::abort_on_own_panics();
    let limits =
        cr_analysis::Limits { max_duration: std::time::Duration::from_secs(2), ..cr_analysis::Limits::default() };
    if let Ok(extracted) = cr_analysis::extract(data, "x.pdf", &limits) {
        for page in &extracted.pages {
            assert!(page.start <= page.end && page.end <= extracted.text.len());
        }
    }
});
