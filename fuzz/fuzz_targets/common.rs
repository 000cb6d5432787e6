//! Shared by the targets: extraction runs parsers under `catch_unwind`, so a panic inside a
//! dependency (lopdf, zip, quick-xml) becomes a typed error, which is the defence the product
//! relies on. A panic in the engine's own code is a bug all the same: this hook aborts on
//! those, so libFuzzer reports them, and lets the contained ones pass.

pub fn abort_on_own_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let own = info
                .location()
                .is_some_and(|l| l.file().contains("crates/analysis") || l.file().contains("fuzz_targets"));
            if own {
                default(info);
                std::process::abort();
            }
        }));
    });
}

/// Extracts `data` as a file called `name`: text or a typed error within a 2 s bound, and
/// page spans that lie inside the text.
#[allow(dead_code)] // review_text does not extract by name
pub fn check_extract(data: &[u8], name: &str) {
    abort_on_own_panics();
    let limits =
        cr_analysis::Limits { max_duration: std::time::Duration::from_secs(2), ..cr_analysis::Limits::default() };
    if let Ok(extracted) = cr_analysis::extract(data, name, &limits) {
        for page in &extracted.pages {
            assert!(page.start <= page.end && page.end <= extracted.text.len());
        }
    }
}
