//! Typed, prefixed, time-ordered identifiers (`doc_0192…`).
//!
//! A UUIDv7 in lowercase hex sorts by creation time, so `ORDER BY id DESC` lists newest first
//! and the id itself is the keyset cursor.

/// The current time at the precision both databases store (microseconds), so a value
/// returned right after a write equals the same value read back later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Generates a new id with `prefix` (`doc`, `usr`, …).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// True when `value` has the shape of an id made by [`new_id`] with `prefix`. Used to reject
/// garbage early (and to keep hostile strings out of cache keys) before any lookup.
pub fn is_valid(prefix: &str, value: &str) -> bool {
    match value.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('_')) {
        Some(hex) => hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_valid_and_sort_by_creation() {
        let a = new_id("doc");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("doc");
        assert!(is_valid("doc", &a) && is_valid("doc", &b));
        assert!(a < b);
    }

    #[test]
    fn ids_of_the_wrong_shape_are_rejected() {
        let id = new_id("doc");
        assert!(!is_valid("usr", &id));
        assert!(!is_valid("doc", "doc_' OR 1=1 --"));
        assert!(!is_valid("doc", &id.to_uppercase()));
        assert!(!is_valid("doc", "doc_"));
    }
}
