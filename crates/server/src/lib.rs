//! The HTTP edge of Contract Reviewer: REST API with its OpenAPI document, and health checks.
//! Handlers are thin: they parse, authenticate, call a service and shape the answer.

pub mod access;
pub mod analysis_routes;
pub mod auth_routes;
pub mod caller;
pub mod config;
pub mod error;
pub mod key_routes;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod serve;
pub mod share_routes;
pub mod startup;
pub mod webhook_routes;

pub use config::Config;
pub use startup::{AppState, Application};
