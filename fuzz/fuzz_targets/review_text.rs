#![no_main]
//! Arbitrary UTF-8 text through the whole analysis (segments, structure, clauses, key terms,
//! playbook), which slices text by byte offsets everywhere: every offset it returns must be a
//! character boundary inside the text.

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::abort_on_own_panics();
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(extracted) = cr_analysis::extract(text.as_bytes(), "x.txt", &cr_analysis::Limits::default()) else { return };
    static ENGINE: std::sync::OnceLock<(cr_analysis::classify::Model, cr_analysis::playbook::Playbook)> =
        std::sync::OnceLock::new();
    let (model, playbook) = ENGINE.get_or_init(|| {
        let model =
            cr_analysis::classify::Model::from_bytes(cr_analysis::classify::BUILT_IN_MODEL).expect("built-in model");
        (model, cr_analysis::playbook::Playbook::built_in("default").expect("built-in playbook"))
    });
    let review = cr_analysis::review(&extracted, model, playbook, None);
    for clause in &review.clauses {
        assert!(text.is_char_boundary(clause.start) && text.is_char_boundary(clause.end) && clause.end <= text.len());
    }
    for risk in &review.risks {
        if let Some(c) = &risk.citation {
            assert!(text.is_char_boundary(c.start) && text.is_char_boundary(c.end));
        }
    }
});
