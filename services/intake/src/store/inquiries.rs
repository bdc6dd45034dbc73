use procedo_platform::db::Database;
use procedo_platform::deadline::{ClockFilter, Deadline};
use procedo_platform::paging::Page;
use procedo_platform::state::State as _;
use procedo_platform::time::Millis;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{StoreError, corrupt, decode_actor, encode_actor, expect_one, from_json, to_json};
use crate::domain::inquiry::{
    Channel, Customer, EntryKind, Inquiry, InquiryEntry, InquiryStatus, SHOWN_ENTRIES,
};

const COLUMNS: &str = "id, channel, customer_name, customer_phone, customer_email, subject, body, \
    status, department, specialist, response_due_at, first_response_at, resolved_at, satisfaction, \
    created_by, created_at, updated_at, version, response";

#[tracing::instrument(skip_all, fields(inquiry.id = %inquiry.id))]
pub async fn insert_inquiry(tx: &mut AnyConnection, inquiry: &Inquiry) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO inquiries (id, channel, customer_name, customer_phone, customer_email, subject, \
         body, status, department, specialist, response_due_at, first_response_at, resolved_at, \
         satisfaction, created_by, created_at, updated_at, version, response, response_state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20)",
    )
    .bind(&inquiry.id)
    .bind(inquiry.channel.as_str())
    .bind(&inquiry.customer.name)
    .bind(&inquiry.customer.phone)
    .bind(&inquiry.customer.email)
    .bind(&inquiry.subject)
    .bind(&inquiry.text)
    .bind(inquiry.status.as_str())
    .bind(&inquiry.department)
    .bind(&inquiry.specialist)
    .bind(inquiry.response.due)
    .bind(inquiry.first_response_at)
    .bind(inquiry.resolved_at)
    .bind(i64::from(inquiry.satisfaction))
    .bind(encode_actor(&inquiry.created_by))
    .bind(inquiry.created_at)
    .bind(inquiry.updated_at)
    .bind(inquiry.version)
    .bind(to_json(&inquiry.response))
    .bind(inquiry.response.state.name())
    .execute(&mut *tx)
    .await?;
    for (seq, entry) in inquiry.entries.iter().enumerate() {
        insert_entry(
            tx,
            &inquiry.id,
            i64::try_from(seq).unwrap_or(i64::MAX) + 1,
            entry,
        )
        .await?;
    }
    Ok(())
}

/// Writes a changed inquiry and its new entry, if nobody changed it since
/// `version` was read.
#[tracing::instrument(skip_all, fields(inquiry.id = %inquiry.id))]
pub async fn update_inquiry(
    tx: &mut AnyConnection,
    inquiry: &Inquiry,
    read_version: i64,
    entry: &InquiryEntry,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE inquiries SET status = $1, department = $2, specialist = $3, \
         first_response_at = $4, resolved_at = $5, satisfaction = $6, updated_at = $7, version = $8, \
         response_due_at = $11, response = $12, response_state = $13 \
         WHERE id = $9 AND version = $10",
    )
    .bind(inquiry.status.as_str())
    .bind(&inquiry.department)
    .bind(&inquiry.specialist)
    .bind(inquiry.first_response_at)
    .bind(inquiry.resolved_at)
    .bind(i64::from(inquiry.satisfaction))
    .bind(inquiry.updated_at)
    .bind(inquiry.version)
    .bind(&inquiry.id)
    .bind(read_version)
    .bind(inquiry.response.due)
    .bind(to_json(&inquiry.response))
    .bind(inquiry.response.state.name())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)?;
    // One entry per version, and the versioned update above holds the row:
    // the entry's position is the version it made.
    insert_entry(tx, &inquiry.id, inquiry.version, entry).await?;
    Ok(())
}

async fn insert_entry(
    tx: &mut AnyConnection,
    id: &str,
    seq: i64,
    e: &InquiryEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO inquiry_entries (inquiry_id, seq, kind, body, customer_need, department, \
         specialist, from_status, to_status, actor, at, shared_with_customer) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(seq)
    .bind(e.kind.as_str())
    .bind(&e.text)
    .bind(&e.customer_need)
    .bind(&e.department)
    .bind(&e.specialist)
    .bind(e.from.map(InquiryStatus::as_str).unwrap_or(""))
    .bind(e.to.as_str())
    .bind(encode_actor(&e.actor))
    .bind(e.at)
    .bind(i64::from(e.shared_with_customer))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The inquiry with its latest entries.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get_inquiry(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Inquiry>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM inquiries WHERE id = $1");
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut inquiry = inquiry_from_row(&row)?;
    let mut latest = sqlx::query(
        "SELECT kind, body, customer_need, department, specialist, from_status, to_status, actor, at, \
         shared_with_customer FROM inquiry_entries WHERE inquiry_id = $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(id)
    .bind(i64::try_from(SHOWN_ENTRIES).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(entry_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    latest.reverse();
    inquiry.entries = latest;
    Ok(Some(inquiry))
}

/// Inquiries whose response clock runs or is paused, by id after `after`,
/// without their entries: what a calendar change may move.
#[tracing::instrument(skip_all)]
pub async fn clocked_inquiries(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<Inquiry>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM inquiries WHERE response_state IN ('RUNNING', 'PAUSED')          AND id > $1 ORDER BY id LIMIT $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(inquiry_from_row)
        .collect()
}

/// One page of an inquiry's entries, oldest first, each with its position.
#[tracing::instrument(skip_all, fields(inquiry.id = %id))]
pub async fn list_entries(
    db: &Database,
    id: &str,
    page: &Page,
) -> Result<Vec<(i64, InquiryEntry)>, sqlx::Error> {
    let after: i64 = page
        .after
        .as_deref()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    sqlx::query(
        "SELECT seq, kind, body, customer_need, department, specialist, from_status, to_status, actor, \
         at, shared_with_customer FROM inquiry_entries WHERE inquiry_id = $1 AND seq > $2 \
         ORDER BY seq LIMIT $3",
    )
    .bind(id)
    .bind(after)
    .bind(page.fetch_limit())
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|row| Ok((row.try_get("seq")?, entry_from_row(row)?)))
    .collect()
}

/// Which inquiries to list.
#[derive(Debug, Clone, Default)]
pub struct InquiryFilter {
    pub status: Option<InquiryStatus>,
    pub channel: Option<Channel>,
    pub department: Option<String>,
    /// Only those whose response clock is overdue, paused, or due soon.
    pub clock: ClockFilter,
}

/// Newest first, without entries.
#[tracing::instrument(skip_all)]
pub async fn list_inquiries(
    db: &Database,
    filter: &InquiryFilter,
    page: &Page,
) -> Result<Vec<Inquiry>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM inquiries \
         WHERE ($1 = '' OR status = $1) AND ($2 = '' OR channel = $2) AND ($3 = '' OR department = $3) \
         AND ($4 = '' OR (response_state = $4 AND ($4 = 'PAUSED' \
              OR (response_due_at >= $7 AND response_due_at < $8)))) \
         AND ($5 = '' OR id < $5) \
         ORDER BY id DESC LIMIT $6"
    );
    let (state, due_from, due_to) = filter.clock.binds();
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(filter.status.map(InquiryStatus::as_str).unwrap_or(""))
        .bind(filter.channel.map(Channel::as_str).unwrap_or(""))
        .bind(filter.department.as_deref().unwrap_or(""))
        .bind(state)
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(page.fetch_limit())
        .bind(due_from)
        .bind(due_to)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(inquiry_from_row)
        .collect()
}

fn inquiry_from_row(row: &AnyRow) -> Result<Inquiry, sqlx::Error> {
    let channel: String = row.try_get("channel")?;
    let status: String = row.try_get("status")?;
    Ok(Inquiry {
        id: row.try_get("id")?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        customer: Customer {
            name: row.try_get("customer_name")?,
            phone: row.try_get("customer_phone")?,
            email: row.try_get("customer_email")?,
        },
        subject: row.try_get("subject")?,
        text: row.try_get("body")?,
        status: InquiryStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        department: row.try_get("department")?,
        specialist: row.try_get("specialist")?,
        response: response_from_row(row)?,
        first_response_at: row.try_get("first_response_at")?,
        resolved_at: row.try_get("resolved_at")?,
        satisfaction: i32::try_from(row.try_get::<i64, _>("satisfaction")?).unwrap_or(0),
        created_by: decode_actor(row, "created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
        entries: Vec::new(),
    })
}

fn entry_from_row(row: &AnyRow) -> Result<InquiryEntry, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let from: String = row.try_get("from_status")?;
    let to: String = row.try_get("to_status")?;
    Ok(InquiryEntry {
        kind: EntryKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        text: row.try_get("body")?,
        customer_need: row.try_get("customer_need")?,
        department: row.try_get("department")?,
        specialist: row.try_get("specialist")?,
        from: InquiryStatus::parse(&from),
        to: InquiryStatus::parse(&to).ok_or_else(|| corrupt("to_status", &to))?,
        actor: decode_actor(row, "actor")?,
        at: row.try_get("at")?,
        shared_with_customer: row.try_get::<i64, _>("shared_with_customer")? != 0,
    })
}

/// The response clock; for rows written before clocks were kept, the
/// elapsed limit from creation to `response_due_at`, met by the first
/// response or the resolution.
fn response_from_row(row: &AnyRow) -> Result<Deadline, sqlx::Error> {
    let text: String = row.try_get("response")?;
    if !text.is_empty() {
        return from_json(row, "response");
    }
    let start: Millis = row.try_get("created_at")?;
    let due: Millis = row.try_get("response_due_at")?;
    let first: Option<Millis> = row.try_get("first_response_at")?;
    let resolved: Option<Millis> = row.try_get("resolved_at")?;
    let met_at = match (first, resolved) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Deadline::recorded(start, due, met_at))
}
