#![no_main]
//! Arbitrary bytes through `extract` as a docx file: text or a typed error, within the limits.

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::check_extract(data, "x.docx"));
