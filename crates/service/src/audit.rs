//! The audit log as organisation admins read it: filtered, in keyset pages, or whole (up to
//! a bound) for a CSV export; and the records of reads worth auditing (downloads).

use chrono::{DateTime, Utc};
use cr_store::audit::{self, AuditFilter, AuditRow};
use cr_store::identity::Principal;
use cr_store::Database;

use crate::ServiceError;

/// Rows in one JSON page at most, and in one CSV export.
pub const MAX_PAGE: i64 = 500;
pub const MAX_EXPORT: i64 = 10_000;

/// What a reader asks for (all optional).
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRow>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn short_text(value: &Option<String>, name: &str) -> Result<(), ServiceError> {
    match value {
        Some(v) if v.is_empty() || v.len() > 100 || v.chars().any(char::is_control) => {
            Err(ServiceError::invalid("invalid_query", format!("{name} must be 1 to 100 printable characters")))
        }
        _ => Ok(()),
    }
}

/// A page of the caller's organisation's audit log (organisation admins only); `max` bounds
/// the page (JSON pages and exports differ).
pub async fn read(db: &Database, caller: &Principal, query: &AuditQuery, max: i64) -> Result<AuditPage, ServiceError> {
    if !(caller.role == "admin" && caller.has_scope("admin")) {
        return Err(ServiceError::Forbidden("only an organisation admin can read the audit log"));
    }
    short_text(&query.actor_id, "actor")?;
    short_text(&query.action, "action")?;
    short_text(&query.target_id, "target")?;
    if query.cursor.as_deref().is_some_and(|c| !cr_store::ids::is_valid("aud", c)) {
        return Err(ServiceError::invalid("invalid_cursor", "cursor must be a cursor this API handed out"));
    }
    let limit = query.limit.unwrap_or(max.min(100));
    if !(1..=max).contains(&limit) {
        return Err(ServiceError::invalid("invalid_limit", format!("limit must be between 1 and {max}")));
    }
    let filter = AuditFilter {
        actor_id: query.actor_id.as_deref(),
        action: query.action.as_deref(),
        target_id: query.target_id.as_deref(),
        since: query.since,
        until: query.until,
        before: query.cursor.as_deref(),
    };
    let mut items = audit::list(db, &caller.organisation_id, &filter, limit + 1).await?;
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more { items.last().map(|row| row.id.clone()) } else { None };
    Ok(AuditPage { items, next_cursor })
}

/// Records a download before it is served (no record, no download).
pub async fn record_download(
    db: &Database,
    caller: &Principal,
    action: &str,
    target: (&str, &str),
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    cr_store::accounts::record_event(
        db,
        Some(&caller.organisation_id),
        Some(&caller.user_id),
        action,
        (target.0, Some(target.1)),
        &details,
    )
    .await?;
    Ok(())
}

/// The rows as CSV (RFC 4180), with a header line. Cells a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@` first) are prefixed with `'`.
pub fn to_csv(rows: &[AuditRow]) -> String {
    let mut out = String::from("id,created_at,actor_id,action,target_type,target_id,details\r\n");
    for row in rows {
        let cells = [
            row.id.clone(),
            row.created_at.to_rfc3339(),
            row.actor_id.clone().unwrap_or_default(),
            row.action.clone(),
            row.target_type.clone(),
            row.target_id.clone().unwrap_or_default(),
            row.details.0.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(cell: &str) -> String {
    let cell = if cell.starts_with(['=', '+', '-', '@']) { format!("'{cell}") } else { cell.to_owned() };
    if cell.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
