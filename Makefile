# One entry point for developer tasks; CI (.ci/run) calls the same scripts.
.PHONY: serve test lint fmt bench

serve:            ## run the API on the embedded default (SQLite, in-process cache, ./data)
	cargo run --release -- serve

test:             ## all tests, on real PostgreSQL and Redis (started if needed)
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

bench:            ## load benchmark against the Python peer (needs wrk; see bench/README.md)
	bench/run.sh
