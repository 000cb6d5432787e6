//! Who may call what, in one table: every route's method and path with the access it needs.
//! The table drives the authorisation middleware (every matched request passes it, cached
//! paths included) and the role × route matrix the tests generate; the application refuses to
//! start when a served route has no rule, or a rule names no route.
//!
//! What a request may do is its role's permissions, plus on one document what a share gives
//! the user or the role, narrowed for an API key to the key's scopes.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::Method;

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read documents, analyses, reports, the organisation's lists.
    Read,
    /// Upload, change, analyse; make one's own API keys.
    Analyze,
    /// Delete a document and decide who it is shared with.
    Manage,
    /// Administer the organisation: members, invitations, webhooks, settings, the audit log.
    Admin,
    /// Create organisations (the platform's administrator only).
    PlatformAdmin,
}

impl Permission {
    /// The API-key scope a request needs for this permission.
    pub fn scope(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Analyze | Self::Manage => "analyze",
            Self::Admin | Self::PlatformAdmin => "admin",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Analyze => "analyze",
            Self::Manage => "manage",
            Self::Admin => "admin",
            Self::PlatformAdmin => "platform admin",
        }
    }
}

/// Whether a role has a permission on everything in its organisation: what its permissions
/// (`identity::role_permissions`, the one statement of them) name, `admin` covering
/// `manage`; creating organisations is no role's.
pub fn role_grants(role: &str, permission: Permission) -> bool {
    let named = match permission {
        Permission::PlatformAdmin => return false,
        Permission::Read => "read",
        Permission::Analyze => "analyze",
        Permission::Manage | Permission::Admin => "admin",
    };
    cr_store::identity::role_permissions(role).contains(&named)
}

/// Whether a share of a document (`read`, `analyze`, `manage`) gives a permission on it.
pub fn share_grants(share: &str, permission: Permission) -> bool {
    let rank = |p: Permission| match p {
        Permission::Read => 1,
        Permission::Analyze => 2,
        Permission::Manage => 3,
        Permission::Admin | Permission::PlatformAdmin => 99,
    };
    let granted = match share {
        "read" => 1,
        "analyze" => 2,
        "manage" => 3,
        _ => 0,
    };
    granted >= rank(permission)
}

/// The access a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credentials (health, the API document, sign-in, accepting an invitation).
    Public,
    /// Any signed-in member, whatever its role (its own account and sessions).
    Member,
    /// A permission in the caller's organisation.
    Organisation(Permission),
    /// A permission on the document the path's `{id}` names: the role's or a share's.
    Document(Permission),
}

#[derive(Clone, Debug)]
pub struct RouteRule {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

const fn rule(method: Method, path: &'static str, access: Access) -> RouteRule {
    RouteRule { method, path, access }
}

use Access::{Document, Member, Organisation, Public};
use Permission::{Admin, Analyze, Manage, PlatformAdmin, Read};

/// Every route of the API.
pub fn routes() -> &'static [RouteRule] {
    static ROUTES: OnceLock<Vec<RouteRule>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        vec![
            rule(Method::GET, "/healthz", Public),
            rule(Method::GET, "/readyz", Public),
            rule(Method::GET, "/api/openapi.json", Public),
            rule(Method::POST, "/api/auth/login", Public),
            rule(Method::POST, "/api/invitations/accept", Public),
            rule(Method::POST, "/api/auth/logout", Member),
            rule(Method::POST, "/api/auth/logout-all", Member),
            rule(Method::GET, "/api/auth/me", Member),
            rule(Method::POST, "/api/auth/password", Member),
            rule(Method::POST, "/api/organisations", Organisation(PlatformAdmin)),
            rule(Method::PUT, "/api/organisations/{id}/analysis-defaults", Organisation(Admin)),
            rule(Method::GET, "/api/users", Organisation(Read)),
            rule(Method::POST, "/api/users", Organisation(Admin)),
            rule(Method::PATCH, "/api/users/{id}", Organisation(Admin)),
            rule(Method::POST, "/api/invitations", Organisation(Admin)),
            rule(Method::GET, "/api/audit", Organisation(Admin)),
            rule(Method::GET, "/api/keys", Organisation(Read)),
            rule(Method::POST, "/api/keys", Organisation(Analyze)),
            rule(Method::DELETE, "/api/keys/{id}", Organisation(Analyze)),
            rule(Method::POST, "/api/keys/{id}/rotate", Organisation(Analyze)),
            rule(Method::GET, "/api/documents", Organisation(Read)),
            rule(Method::POST, "/api/documents", Organisation(Analyze)),
            rule(Method::GET, "/api/documents/{id}", Document(Read)),
            rule(Method::PATCH, "/api/documents/{id}", Document(Analyze)),
            rule(Method::DELETE, "/api/documents/{id}", Document(Manage)),
            rule(Method::GET, "/api/documents/{id}/original", Document(Read)),
            rule(Method::GET, "/api/documents/{id}/relations", Document(Read)),
            rule(Method::POST, "/api/documents/{id}/relations", Document(Analyze)),
            rule(Method::DELETE, "/api/documents/{id}/relations/{relation_id}", Document(Analyze)),
            rule(Method::GET, "/api/documents/{id}/shares", Document(Read)),
            rule(Method::POST, "/api/documents/{id}/shares", Document(Manage)),
            rule(Method::DELETE, "/api/documents/{id}/shares/{share_id}", Document(Manage)),
            rule(Method::POST, "/api/documents/{id}/analyses", Document(Analyze)),
            rule(Method::GET, "/api/documents/{id}/analyses", Document(Read)),
            rule(Method::GET, "/api/documents/{id}/analysis", Document(Read)),
            rule(Method::GET, "/api/documents/{id}/events", Document(Read)),
            rule(Method::GET, "/api/analyses/{id}", Organisation(Read)),
            rule(Method::GET, "/api/analyses/{id}/report.json", Organisation(Read)),
            rule(Method::GET, "/api/analyses/{id}/report.pdf", Organisation(Read)),
            rule(Method::GET, "/api/portfolio", Organisation(Read)),
            rule(Method::GET, "/api/webhooks", Organisation(Admin)),
            rule(Method::POST, "/api/webhooks", Organisation(Admin)),
            rule(Method::DELETE, "/api/webhooks/{id}", Organisation(Admin)),
            rule(Method::GET, "/api/webhooks/{id}/deliveries", Organisation(Admin)),
            rule(Method::POST, "/api/webhooks/deliveries/{id}/redeliver", Organisation(Admin)),
        ]
    })
}

/// The rule of a matched route.
pub fn find(method: &Method, path: &str) -> Option<&'static RouteRule> {
    static INDEX: OnceLock<HashMap<(Method, &'static str), usize>> = OnceLock::new();
    let index = INDEX
        .get_or_init(|| routes().iter().enumerate().map(|(i, rule)| ((rule.method.clone(), rule.path), i)).collect());
    // HEAD is answered by the GET route.
    let method = if method == Method::HEAD { &Method::GET } else { method };
    index.get(&(method.clone(), path)).map(|i| &routes()[*i])
}

/// The value of `{name}` in `path` matched against `template`.
pub fn path_param<'p>(template: &str, path: &'p str, name: &str) -> Option<&'p str> {
    let wanted = format!("{{{name}}}");
    template.split('/').zip(path.split('/')).find(|(t, _)| *t == wanted).map(|(_, value)| value)
}

/// Checks that the served operations and the table agree: every operation has a rule and
/// every rule an operation.
pub fn verify(served: &[(Method, String)]) -> anyhow::Result<()> {
    let missing: Vec<String> = served
        .iter()
        .filter(|(method, path)| find(method, path).is_none())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    anyhow::ensure!(missing.is_empty(), "routes without an access rule in access::routes(): {missing:?}");
    let unserved: Vec<String> = routes()
        .iter()
        .filter(|rule| !served.iter().any(|(method, path)| *method == rule.method && path == rule.path))
        .map(|rule| format!("{} {}", rule.method, rule.path))
        .collect();
    anyhow::ensure!(unserved.is_empty(), "access rules for routes that are not served: {unserved:?}");
    Ok(())
}

/// The operations the OpenAPI document lists (every served route is in it).
pub fn served_operations(doc: &utoipa::openapi::OpenApi) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            (Method::GET, item.get.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::PATCH, item.patch.is_some()),
            (Method::DELETE, item.delete.is_some()),
        ];
        out.extend(methods.into_iter().filter(|(_, served)| *served).map(|(m, _)| (m, path.clone())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_route_has_a_rule_and_every_rule_a_route() {
        let (_, doc) = crate::routes::documented_routes(0).split_for_parts();
        verify(&served_operations(&doc)).expect("the table matches the router");
    }

    #[test]
    fn a_share_gives_what_it_names_and_less() {
        assert!(share_grants("analyze", Permission::Read));
        assert!(share_grants("analyze", Permission::Analyze));
        assert!(!share_grants("analyze", Permission::Manage));
        assert!(!share_grants("manage", Permission::Admin));
    }

    #[test]
    fn path_parameters_are_read_by_their_place_in_the_template() {
        let template = "/api/documents/{id}/relations/{relation_id}";
        assert_eq!(path_param(template, "/api/documents/doc_1/relations/rel_2", "id"), Some("doc_1"));
        assert_eq!(path_param(template, "/api/documents/doc_1/relations/rel_2", "relation_id"), Some("rel_2"));
    }
}
