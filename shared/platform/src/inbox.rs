//! The receiving side of events: each event id is applied once.

use procedo_proto::common::Event;
use sqlx::AnyConnection;

/// Records `event` as received. False when it had been received before: the
/// caller acknowledges it and applies nothing.
pub async fn receive(tx: &mut AnyConnection, event: &Event) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO inbox (event_id, source, event_type, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.source)
    .bind(&event.r#type)
    .bind(crate::time::now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
