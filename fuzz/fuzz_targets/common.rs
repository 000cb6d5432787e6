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
