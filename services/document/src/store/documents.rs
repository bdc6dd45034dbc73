use procedo_platform::db::{Backend, Database};
use procedo_platform::identity::Actor;
use procedo_platform::query::{Bind, Conditions, bind_all};
use procedo_platform::time::Millis;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{
    StoreError, corrupt, decode_actor, encode_actor, expect_one, from_json, level, level_from,
    to_json,
};
use crate::domain::document::{Document, Status, first_id_at, title_words};

const COLUMNS: &str = "d.id, d.number, d.title, d.category, d.owning_department, \
    d.confidentiality, d.tags, d.related, d.grantees, d.author, d.status, d.void_reason, \
    d.current_version, d.created_at, d.updated_at, d.version, d.archive, d.disposal";

/// Adds a document; false when its number is taken.
pub async fn insert_document(tx: &mut AnyConnection, d: &Document) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO documents (id, number, title, category, owning_department, confidentiality, \
         tags, related, grantees, author, status, void_reason, current_version, created_at, \
         updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (number) DO NOTHING",
    )
    .bind(&d.id)
    .bind(&d.number)
    .bind(&d.title)
    .bind(&d.category)
    .bind(&d.owning_department)
    .bind(level(d.confidentiality))
    .bind(to_json(&d.tags))
    .bind(to_json(&d.related))
    .bind(to_json(&d.grantees))
    .bind(encode_actor(&d.author))
    .bind(d.status.as_str())
    .bind(&d.void_reason)
    .bind(i64::from(d.current_version))
    .bind(d.created_at)
    .bind(d.updated_at)
    .bind(d.version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    write_index(tx, d).await?;
    Ok(true)
}

/// Writes a document's changing fields, if it is still at `read_version`.
pub async fn update_document(
    tx: &mut AnyConnection,
    d: &Document,
    read_version: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE documents SET title = $1, tags = $2, related = $3, grantees = $4, status = $5, \
         void_reason = $6, current_version = $7, updated_at = $8, version = $9, archive = $12, \
         disposal = $13 WHERE id = $10 AND version = $11",
    )
    .bind(&d.title)
    .bind(to_json(&d.tags))
    .bind(to_json(&d.related))
    .bind(to_json(&d.grantees))
    .bind(d.status.as_str())
    .bind(&d.void_reason)
    .bind(i64::from(d.current_version))
    .bind(d.updated_at)
    .bind(d.version)
    .bind(&d.id)
    .bind(read_version)
    .bind(d.archive.as_ref().map(to_json).unwrap_or_default())
    .bind(d.disposal.as_ref().map(to_json).unwrap_or_default())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)?;
    for table in [
        "document_tags",
        "document_related",
        "document_words",
        "document_grantees",
    ] {
        let sql = format!("DELETE FROM {table} WHERE document_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&d.id)
            .execute(&mut *tx)
            .await?;
    }
    write_index(tx, d).await?;
    Ok(())
}

/// The rows lists find a document by: its tags, related resources, title
/// words and grantees.
async fn write_index(tx: &mut AnyConnection, d: &Document) -> Result<(), sqlx::Error> {
    let rows = [
        ("document_tags", "tag", d.tags.clone()),
        ("document_related", "resource", d.related.clone()),
        (
            "document_words",
            "word",
            title_words(&d.title).into_iter().collect(),
        ),
        ("document_grantees", "subject", d.grantees.clone()),
    ];
    for (table, column, values) in rows {
        let sql = format!(
            "INSERT INTO {table} ({column}, document_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        );
        for value in values {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(value)
                .bind(&d.id)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}

pub async fn get_document(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Document>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM documents d WHERE d.id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(document_from_row)
        .transpose()
}

pub async fn get_document_by_number(
    conn: &mut AnyConnection,
    number: &str,
) -> Result<Option<Document>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM documents d WHERE d.number = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(document_from_row)
        .transpose()
}

/// Which documents a list reads.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    /// An exact number, or a prefix (`exact: false`).
    pub number: Option<(String, bool)>,
    /// Every one must be a word of the title.
    pub words: Vec<String>,
    pub category: Option<String>,
    pub owning_department: Option<String>,
    pub tag: Option<String>,
    pub status: Option<Status>,
    pub related: Option<String>,
    pub registered_from: Option<Millis>,
    pub registered_before: Option<Millis>,
}

/// The documents `viewer` may see that `filter` keeps, newest first,
/// after `after`, at most `limit`. Visibility is part of the query, so a
/// page never holds what the viewer may not see and never comes up short
/// because of it.
pub async fn list_documents(
    db: &Database,
    viewer: &Actor,
    filter: &DocumentFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Document>, sqlx::Error> {
    let (sql, binds) = list_statement(db.backend(), viewer, filter, after, limit);
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(document_from_row)
        .collect()
}

/// The statement [`list_documents`] runs, and its values. Every value is
/// bound; only column names and placeholders are formatted in.
pub(super) fn list_statement(
    backend: Backend,
    viewer: &Actor,
    filter: &DocumentFilter,
    after: Option<&str>,
    limit: i64,
) -> (String, Vec<Bind>) {
    let mut c = Conditions::new();
    let clearance = c.int(level(viewer.clearance));
    let department = c.text(viewer.department.clone());
    let subject = c.text(viewer.subject.clone());
    c.push(format!(
        "d.confidentiality <= {clearance} AND (d.confidentiality <= 1 \
         OR d.owning_department = {department} \
         OR EXISTS (SELECT 1 FROM document_grantees g WHERE g.document_id = d.id \
                    AND g.subject = {subject}) \
         OR EXISTS (SELECT 1 FROM loans l WHERE l.document_id = d.id \
                    AND l.borrower = {subject} AND l.status = 'ACTIVE'))"
    ));
    if let Some((number, exact)) = &filter.number {
        if *exact {
            let number = c.text(number.clone());
            c.push(format!("d.number = {number}"));
        } else {
            // A prefix, matched the way each backend's index on number can
            // serve: GLOB on SQLite, LIKE (text_pattern_ops) on PostgreSQL.
            let (operator, pattern) = match backend {
                Backend::Sqlite => ("GLOB", glob_prefix(number)),
                Backend::Postgres => ("LIKE", like_prefix(number)),
            };
            let pattern = c.text(pattern);
            c.push(format!("d.number {operator} {pattern}"));
        }
    }
    for (column, value) in [
        ("d.category", &filter.category),
        ("d.owning_department", &filter.owning_department),
    ] {
        if let Some(value) = value {
            let value = c.text(value.clone());
            c.push(format!("{column} = {value}"));
        }
    }
    if let Some(status) = filter.status {
        let status = c.text(status.as_str());
        c.push(format!("d.status = {status}"));
    }
    for (table, column, value) in [
        ("document_tags", "tag", filter.tag.as_ref()),
        ("document_related", "resource", filter.related.as_ref()),
    ] {
        if let Some(value) = value {
            let value = c.text(value.clone());
            c.push(format!(
                "d.id IN (SELECT document_id FROM {table} WHERE {column} = {value})"
            ));
        }
    }
    for word in &filter.words {
        let word = c.text(word.clone());
        c.push(format!(
            "d.id IN (SELECT document_id FROM document_words WHERE word = {word})"
        ));
    }
    // Ids carry their registration time: a range of times is a range of
    // ids, read in the order lists page in.
    if let Some(from) = filter.registered_from {
        let from = c.text(first_id_at(from));
        c.push(format!("d.id >= {from}"));
    }
    if let Some(before) = filter.registered_before {
        let before = c.text(first_id_at(before));
        c.push(format!("d.id < {before}"));
    }
    if let Some(after) = after {
        let after = c.text(after);
        c.push(format!("d.id < {after}"));
    }
    let limit = c.int(limit);
    let sql = format!(
        "SELECT {COLUMNS} FROM documents d {} ORDER BY d.id DESC LIMIT {limit}",
        c.where_clause()
    );
    (sql, c.into_binds())
}

/// The JSON in `column`, or `None` for ''.
fn optional_json<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<Option<T>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|_| corrupt(column, &text))
}

/// `prefix*` as a GLOB pattern, its wildcards taken literally.
fn glob_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        match c {
            '*' | '?' | '[' => {
                pattern.push('[');
                pattern.push(c);
                pattern.push(']');
            }
            _ => pattern.push(c),
        }
    }
    pattern.push('*');
    pattern
}

/// `prefix%` as a LIKE pattern (backslash escapes), its wildcards taken
/// literally.
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn document_from_row(row: &AnyRow) -> Result<Document, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Document {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        title: row.try_get("title")?,
        category: row.try_get("category")?,
        owning_department: row.try_get("owning_department")?,
        confidentiality: level_from(row.try_get("confidentiality")?)?,
        tags: from_json(row, "tags")?,
        related: from_json(row, "related")?,
        grantees: from_json(row, "grantees")?,
        author: decode_actor(row, "author")?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        void_reason: row.try_get("void_reason")?,
        current_version: i32::try_from(row.try_get::<i64, _>("current_version")?).unwrap_or(0),
        archive: optional_json(row, "archive")?,
        disposal: optional_json(row, "disposal")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}
