#!/usr/bin/env bash
# Runs the fuzz targets, each for SECONDS (default 600), seeded with the test fixtures.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); the machine's stable toolchain builds the
# sanitizer flags with RUSTC_BOOTSTRAP=1. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(extract_pdf extract_docx extract_text review_text)
export RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cr-fuzz-target}
for target in "${targets[@]}"; do
  corpus=corpus/$target
  mkdir -p "$corpus"
  case $target in
    extract_pdf) cp -n ../tests/fixtures/robustness/pdf/* ../tests/fixtures/contracts/*.pdf "$corpus"/ ;;
    extract_docx) cp -n ../tests/fixtures/robustness/docx/* ../tests/fixtures/contracts/*.docx "$corpus"/ ;;
    extract_text | review_text) cp -n ../tests/fixtures/contracts/*.md ../tests/fixtures/cuad-mini/contracts/*.txt "$corpus"/ ;;
  esac
  echo "== $target for ${seconds}s"
  cargo fuzz run -O "$target" "$corpus" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4000000 2>&1 \
    | grep -E "^(#[0-9]+ +DONE|==[0-9]+==|SUMMARY|Done|artifact_prefix|Test unit written)" || true
done
