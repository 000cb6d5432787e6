//! All API integration tests, one binary, a module per feature. Each test spawns its own app;
//! `in_both_modes!` runs a test against PostgreSQL + Redis and against the embedded default.

mod helpers;

mod access;
mod analysis;
mod audit;
mod cache;
mod documents;
mod isolation;
mod keys;
mod limits;
mod rate_limits;
mod retention;
mod robustness;
mod sessions;
mod webhooks;
