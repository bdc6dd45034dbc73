//! What the services reported that the automatic checks read.

use procedo_platform::db::Database;
use sqlx::{AnyConnection, Row as _};

use crate::domain::inspection::{CheckKind, Hit};

/// The `kind` of a signed document: what clears an approval.
pub const DOCUMENT_SIGNED: &str = "document_signed";

/// One report, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal<'a> {
    pub event_id: &'a str,
    pub kind: &'a str,
    pub resource: &'a str,
    pub department: &'a str,
    pub occurred_at: i64,
    pub evidence: String,
}

/// Keeps `s`; a report kept before is left as it was.
pub async fn insert_signal(tx: &mut AnyConnection, s: &Signal<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO signals (event_id, kind, resource, department, occurred_at, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(s.event_id)
    .bind(s.kind)
    .bind(s.resource)
    .bind(s.department)
    .bind(s.occurred_at)
    .bind(&s.evidence)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The most hits one check proposes for one inspection.
pub const MAX_HITS: i64 = 500;

/// What `check` finds in `department` over [`start`, `end`), oldest first.
pub async fn hits(
    db: &Database,
    check: CheckKind,
    department: &str,
    start: i64,
    end: i64,
) -> Result<Vec<Hit>, sqlx::Error> {
    // An approval counts until the document is signed, whenever that is.
    let sql = if check == CheckKind::ApprovedNotSigned {
        "SELECT resource, occurred_at, evidence FROM signals WHERE kind = $1 AND department = $2 \
         AND occurred_at >= $3 AND occurred_at < $4 AND NOT EXISTS (SELECT 1 FROM signals s \
         WHERE s.resource = signals.resource AND s.kind = $5) ORDER BY occurred_at LIMIT $6"
    } else {
        "SELECT resource, occurred_at, evidence FROM signals WHERE kind = $1 AND department = $2 \
         AND occurred_at >= $3 AND occurred_at < $4 AND kind <> $5 ORDER BY occurred_at LIMIT $6"
    };
    sqlx::query(sql)
        .bind(check.as_str())
        .bind(department)
        .bind(start)
        .bind(end)
        .bind(DOCUMENT_SIGNED)
        .bind(MAX_HITS)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(Hit {
                check,
                resource: r.try_get("resource")?,
                occurred_at: r.try_get("occurred_at")?,
                evidence: r.try_get("evidence")?,
            })
        })
        .collect()
}
