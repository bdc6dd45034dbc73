use procedo_platform::db::{Backend, Database};
use procedo_platform::deadline::{ClockFilter, Deadline};
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{
    StoreError, contains_pattern, corrupt, decode_actor, encode_actor, expect_one, from_json,
    to_json,
};
use crate::domain::application::{
    Applicant, Application, ApplicationStatus, HistoryEntry, Money, RejectionReason,
};

const COLUMNS: &str = "id, ledger_number, type_code, applicant_name, applicant_organisation, \
    applicant_phone, applicant_email, title, description, amount_currency, amount_minor, materials, \
    checklist, status, missing_materials, correction_items, rejection_reason, rejection_explanation, \
    submitted_by, submitted_at, due_at, updated_at, version, process_instance, stage, progress_seq, processing";

/// Takes the next `count` numbers of `year`'s ledger; the last one (the
/// numbers are `last - count + 1 ..= last`). The counter row stays locked
/// until the transaction ends: numbers are gap-free because whoever takes
/// them commits them or gives them back by rolling back.
pub async fn take_ledger_numbers(
    tx: &mut AnyConnection,
    year: i32,
    count: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO ledger_counters (year, last_value) VALUES ($1, $2) \
         ON CONFLICT (year) DO UPDATE SET last_value = ledger_counters.last_value + $2 \
         RETURNING last_value",
    )
    .bind(i64::from(year))
    .bind(count)
    .fetch_one(&mut *tx)
    .await
}

/// Gives back the numbers of `year`'s ledger after `last` (taken by
/// [`take_ledger_numbers`] in this transaction but not used).
pub async fn return_ledger_numbers(
    tx: &mut AnyConnection,
    year: i32,
    last: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ledger_counters SET last_value = $1 WHERE year = $2")
        .bind(last)
        .bind(i64::from(year))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Columns of an application row as inserted, in bind order.
const INSERTED: usize = 27;

/// Inserts new applications with their first history entries: one
/// statement for the rows, one for the entries.
#[tracing::instrument(skip_all, fields(count = filed.len()))]
pub async fn insert_applications(
    tx: &mut AnyConnection,
    filed: &[(Application, HistoryEntry)],
) -> Result<(), sqlx::Error> {
    if filed.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO applications (id, ledger_number, type_code, applicant_name, applicant_organisation, \
         applicant_phone, applicant_email, title, description, amount_currency, amount_minor, materials, \
         checklist, status, missing_materials, correction_items, rejection_reason, rejection_explanation, \
         submitted_by, submitted_at, due_at, updated_at, version, process_instance, stage, progress_seq, \
         processing) VALUES {}",
        procedo_platform::query::values(Backend::of(tx), filed.len(), INSERTED)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (a, _) in filed {
        query = query
            .bind(a.id.clone())
            .bind(a.ledger_number.clone())
            .bind(a.type_code.clone())
            .bind(a.applicant.name.clone())
            .bind(a.applicant.organisation.clone())
            .bind(a.applicant.phone.clone())
            .bind(a.applicant.email.clone())
            .bind(a.title.clone())
            .bind(a.description.clone())
            .bind(a.amount.as_ref().map(|m| m.currency.clone()))
            .bind(a.amount.as_ref().map(|m| m.minor_units))
            .bind(to_json(&a.materials))
            .bind(to_json(&a.checklist))
            .bind(a.status.as_str())
            .bind(to_json(&a.missing))
            .bind(to_json(&a.correction_items))
            .bind(a.rejection.as_ref().map(|r| r.0.as_str()).unwrap_or(""))
            .bind(a.rejection.as_ref().map(|r| r.1.as_str()).unwrap_or(""))
            .bind(encode_actor(&a.submitted_by))
            .bind(a.submitted_at)
            .bind(a.processing.due)
            .bind(a.updated_at)
            .bind(a.version)
            .bind(a.process_instance.clone())
            .bind(a.stage.clone())
            .bind(a.progress_seq)
            .bind(to_json(&a.processing));
    }
    query.execute(&mut *tx).await?;
    let entries: Vec<_> = filed
        .iter()
        .map(|(a, entry)| (a.id.as_str(), a.version, entry))
        .collect();
    insert_history(tx, &entries).await
}

/// Writes a changed application and its history entry, if nobody changed
/// it since `read_version`.
#[tracing::instrument(skip_all, fields(application.id = %a.id))]
pub async fn update_application(
    tx: &mut AnyConnection,
    a: &Application,
    read_version: i64,
    entry: &HistoryEntry,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE applications SET title = $1, description = $2, materials = $3, status = $4, \
         missing_materials = $5, correction_items = $6, rejection_reason = $7, \
         rejection_explanation = $8, updated_at = $9, version = $10, process_instance = $11, stage = $12, \
         progress_seq = $13, due_at = $16, processing = $17 WHERE id = $14 AND version = $15",
    )
    .bind(&a.title)
    .bind(&a.description)
    .bind(to_json(&a.materials))
    .bind(a.status.as_str())
    .bind(to_json(&a.missing))
    .bind(to_json(&a.correction_items))
    .bind(a.rejection.as_ref().map(|r| r.0.as_str()).unwrap_or(""))
    .bind(a.rejection.as_ref().map(|r| r.1.as_str()).unwrap_or(""))
    .bind(a.updated_at)
    .bind(a.version)
    .bind(&a.process_instance)
    .bind(&a.stage)
    .bind(a.progress_seq)
    .bind(&a.id)
    .bind(read_version)
    .bind(a.processing.due)
    .bind(to_json(&a.processing))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)?;
    // One entry per version, and the versioned update above holds the row:
    // the entry's position is the version it made.
    insert_history(tx, &[(a.id.as_str(), a.version, entry)]).await?;
    Ok(())
}

/// Inserts history entries `(application id, position, entry)`, in one
/// statement.
async fn insert_history(
    tx: &mut AnyConnection,
    entries: &[(&str, i64, &HistoryEntry)],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO application_history (application_id, seq, from_status, to_status, action, reason, actor, at) \
         VALUES {}",
        procedo_platform::query::values(Backend::of(tx), entries.len(), 8)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, seq, e) in entries {
        query = query
            .bind(id.to_string())
            .bind(*seq)
            .bind(e.from.map(ApplicationStatus::as_str).unwrap_or(""))
            .bind(e.to.as_str())
            .bind(e.action)
            .bind(e.reason.clone())
            .bind(encode_actor(&e.actor))
            .bind(e.at);
    }
    query.execute(&mut *tx).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get_application(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Application>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(application_from_row)
        .transpose()
}

/// Applications whose processing clock may still run (not rejected,
/// withdrawn, completed or cancelled), by id after `after`: what a
/// calendar change may move.
#[tracing::instrument(skip_all)]
pub async fn clocked_applications(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<Application>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE status IN ('INCOMPLETE', 'PENDING_REVIEW',          'CORRECTION_REQUESTED', 'ACCEPTED', 'IN_PROGRESS') AND id > $1 ORDER BY id LIMIT $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(application_from_row)
        .collect()
}

/// A stored history entry with its position.
#[derive(Debug, Clone)]
pub struct StoredHistory {
    pub seq: i64,
    pub from: Option<ApplicationStatus>,
    pub to: ApplicationStatus,
    pub action: String,
    pub reason: String,
    pub actor: procedo_platform::identity::Actor,
    pub at: Millis,
}

/// Oldest first.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn list_history(
    db: &Database,
    id: &str,
    page: &Page,
) -> Result<Vec<StoredHistory>, sqlx::Error> {
    let after: i64 = page
        .after
        .as_deref()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    sqlx::query(
        "SELECT seq, from_status, to_status, action, reason, actor, at FROM application_history \
         WHERE application_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(id)
    .bind(after)
    .bind(page.fetch_limit())
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|row| {
        let from: String = row.try_get("from_status")?;
        let to: String = row.try_get("to_status")?;
        Ok(StoredHistory {
            seq: row.try_get("seq")?,
            from: ApplicationStatus::parse(&from),
            to: ApplicationStatus::parse(&to).ok_or_else(|| corrupt("to_status", &to))?,
            action: row.try_get("action")?,
            reason: row.try_get("reason")?,
            actor: decode_actor(row, "actor")?,
            at: row.try_get("at")?,
        })
    })
    .collect()
}

/// Which ledger rows to read.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    pub submitted_from: Option<Millis>,
    pub submitted_before: Option<Millis>,
    pub applicant: Option<String>,
    pub type_code: Option<String>,
    pub status: Option<ApplicationStatus>,
    /// Only those whose processing clock is overdue, paused, or due soon.
    pub clock: ClockFilter,
    pub ledger_number: Option<String>,
}

/// Ledger rows in ledger-number order after `after`, at most `limit`.
/// Only the filters given become conditions, so an unfiltered page reads
/// the ledger-number order straight off its index instead of sorting a
/// date range.
#[tracing::instrument(skip_all)]
pub async fn ledger_rows(
    db: &Database,
    filter: &LedgerFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Application>, sqlx::Error> {
    use procedo_platform::query::{Conditions, bind_all};
    let mut c = Conditions::new();
    if let Some(from) = filter.submitted_from {
        let at = c.int(from);
        c.push(format!("submitted_at >= {at}"));
    }
    if let Some(before) = filter.submitted_before {
        let at = c.int(before);
        c.push(format!("submitted_at < {at}"));
    }
    if let Some(applicant) = filter.applicant.as_deref() {
        let pattern = c.text(contains_pattern(applicant));
        c.push(format!(
            "(LOWER(applicant_name) LIKE {pattern} ESCAPE '\\' \
             OR LOWER(applicant_organisation) LIKE {pattern} ESCAPE '\\')"
        ));
    }
    if let Some(code) = filter.type_code.as_deref() {
        let code = c.text(code);
        c.push(format!("type_code = {code}"));
    }
    if let Some(status) = filter.status {
        let status = c.text(status.as_str());
        c.push(format!("status = {status}"));
    }
    if let Some(number) = filter.ledger_number.as_deref() {
        let number = c.text(number);
        c.push(format!("ledger_number = {number}"));
    }
    match filter.clock {
        ClockFilter::Any => {}
        ClockFilter::RunningDue { from, to } => {
            let (from, to) = (c.int(from), c.int(to));
            c.push(format!(
                "status IN ('PENDING_REVIEW', 'ACCEPTED', 'IN_PROGRESS') \
                 AND due_at >= {from} AND due_at < {to}"
            ));
        }
        ClockFilter::Paused => {
            c.push("status IN ('INCOMPLETE', 'CORRECTION_REQUESTED')".to_owned())
        }
    }
    if let Some(after) = after {
        let after = c.text(after);
        c.push(format!("ledger_number > {after}"));
    }
    let limit = c.int(limit);
    let sql = format!(
        "SELECT {COLUMNS} FROM applications {} ORDER BY ledger_number LIMIT {limit}",
        c.where_clause()
    );
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), c.into_binds())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(application_from_row)
        .collect()
}

fn application_from_row(row: &AnyRow) -> Result<Application, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let reason: String = row.try_get("rejection_reason")?;
    let currency: Option<String> = row.try_get("amount_currency")?;
    let minor: Option<i64> = row.try_get("amount_minor")?;
    let explanation: String = row.try_get("rejection_explanation")?;
    Ok(Application {
        id: row.try_get("id")?,
        ledger_number: row.try_get("ledger_number")?,
        type_code: row.try_get("type_code")?,
        applicant: Applicant {
            name: row.try_get("applicant_name")?,
            organisation: row.try_get("applicant_organisation")?,
            phone: row.try_get("applicant_phone")?,
            email: row.try_get("applicant_email")?,
        },
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        amount: currency.zip(minor).map(|(currency, minor_units)| Money {
            currency,
            minor_units,
        }),
        materials: from_json(row, "materials")?,
        checklist: from_json(row, "checklist")?,
        status: status_of(&status)?,
        missing: from_json(row, "missing_materials")?,
        correction_items: from_json(row, "correction_items")?,
        rejection: RejectionReason::parse(&reason).map(|r| (r, explanation)),
        submitted_by: decode_actor(row, "submitted_by")?,
        submitted_at: row.try_get("submitted_at")?,
        processing: processing_from_row(row, status_of(&status)?)?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
        process_instance: row.try_get("process_instance")?,
        stage: row.try_get("stage")?,
        progress_seq: row.try_get("progress_seq")?,
    })
}

fn status_of(text: &str) -> Result<ApplicationStatus, sqlx::Error> {
    ApplicationStatus::parse(text).ok_or_else(|| corrupt("status", text))
}

/// The processing clock; for rows written before clocks were kept, the
/// elapsed limit from submission to `due_at`, stopped at the last update
/// once the application was done with.
fn processing_from_row(row: &AnyRow, status: ApplicationStatus) -> Result<Deadline, sqlx::Error> {
    let text: String = row.try_get("processing")?;
    if !text.is_empty() {
        return from_json(row, "processing");
    }
    let start: Millis = row.try_get("submitted_at")?;
    let due: Millis = row.try_get("due_at")?;
    let done = matches!(
        status,
        ApplicationStatus::Rejected
            | ApplicationStatus::Withdrawn
            | ApplicationStatus::Completed
            | ApplicationStatus::Cancelled
    );
    let met_at: Option<Millis> = if done {
        Some(row.try_get("updated_at")?)
    } else {
        None
    };
    Ok(Deadline::recorded(start, due, met_at))
}
