//! Which side a party plays: the role words contracts name parties by ("Supplier",
//! "Licensee", "Disclosing Party") and, for a party called by its own name, what it does
//! ("GitHub will provide …" is the vendor; "Acme shall pay …" the customer). The words are
//! data (`wording/roles.toml`), shared by the parties reader and the playbook.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::playbook::Side;
use crate::wording::{check_cues, parse, WordingError};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Roles {
    customer: Vec<String>,
    vendor: Vec<String>,
    disclosing: Vec<String>,
    receiving: Vec<String>,
    pays: Vec<String>,
    provides: Vec<String>,
}

const TABLE: &str = "roles";

pub(crate) const BUILT_IN: &str = include_str!("../../../wording/roles.toml");

pub(crate) fn load(text: &str) -> Result<Roles, WordingError> {
    let roles: Roles = parse(TABLE, text)?;
    for (field, cues) in [
        ("customer", &roles.customer),
        ("vendor", &roles.vendor),
        ("disclosing", &roles.disclosing),
        ("receiving", &roles.receiving),
        ("pays", &roles.pays),
        ("provides", &roles.provides),
    ] {
        check_cues(TABLE, field, cues)?;
    }
    Ok(roles)
}

fn roles() -> &'static Roles {
    static ROLES: OnceLock<Roles> = OnceLock::new();
    ROLES.get_or_init(|| load(BUILT_IN).unwrap_or_default())
}

/// Every role word with its side, longest first (so "service provider" wins over "provider").
pub fn role_words() -> Vec<(&'static str, Side)> {
    let r = roles();
    let mut words: Vec<(&'static str, Side)> = [
        (&r.customer, Side::Customer),
        (&r.vendor, Side::Vendor),
        (&r.disclosing, Side::Disclosing),
        (&r.receiving, Side::Receiving),
    ]
    .into_iter()
    .flat_map(|(words, side)| words.iter().map(move |w| (w.as_str(), side)))
    .collect();
    words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    words
}

/// The side a role word names ("Licensee" → customer), if it is one.
pub fn side_of_role(word: &str) -> Option<Side> {
    let lower = word.trim().to_lowercase();
    role_words().into_iter().find(|(w, _)| *w == lower).map(|(_, side)| side)
}

/// The side a party called `name` plays by what the text says it does: it pays (customer)
/// or it provides, delivers, supplies or grants (vendor); `None` when it does both or
/// neither.
pub fn side_by_conduct(text: &str, name: &str) -> Option<Side> {
    let r = roles();
    if name.is_empty() {
        return None;
    }
    // One pass for the name; the verbs are looked for only where it stands.
    let (mut pays, mut provides) = (0, 0);
    for (at, _) in text.match_indices(name) {
        let Some(after) = text[at + name.len()..].strip_prefix(' ') else { continue };
        pays += usize::from(r.pays.iter().any(|verb| after.starts_with(verb.as_str())));
        provides += usize::from(r.provides.iter().any(|verb| after.starts_with(verb.as_str())));
    }
    match (pays, provides) {
        (0, 0) => None,
        (pays, provides) if pays > provides => Some(Side::Customer),
        (pays, provides) if provides > pays => Some(Side::Vendor),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roles_table_loads() {
        assert!(load(BUILT_IN).is_ok());
        assert!(load(&BUILT_IN.replacen("customer = [", "customer = [] #", 1)).is_err());
    }

    #[test]
    fn role_words_and_conduct_tell_the_side() {
        assert_eq!(side_of_role("Service Provider"), Some(Side::Vendor));
        assert_eq!(side_of_role("Licensee"), Some(Side::Customer));
        assert_eq!(side_of_role("JHU"), None);
        let text = "GitHub will provide the Service. Acme shall pay the Fees. GitHub will provide support.";
        assert_eq!(side_by_conduct(text, "GitHub"), Some(Side::Vendor));
        assert_eq!(side_by_conduct(text, "Acme"), Some(Side::Customer));
        assert_eq!(side_by_conduct(text, "Beta"), None);
    }
}
