//! The intake ledger (§2.2.3) and the customer notifications (§5.2.1).

use procedo_platform::error::Error;
use procedo_platform::outbox::{self, DeliveryStatus, Record};
use procedo_platform::paging::Page;
use tokio::sync::mpsc;

use super::App;
use super::events::CUSTOMER;
use crate::domain::application::Application;
use crate::store::{self, LedgerFilter};

/// Rows read per round trip while exporting; bounds the export's memory.
pub const LEDGER_EXPORT_BATCH: i64 = 1_000;

impl App {
    /// Ledger rows in ledger-number order; the page and the next page's
    /// token.
    pub async fn ledger(
        &self,
        filter: &LedgerFilter,
        page: &Page,
    ) -> Result<(Vec<Application>, String), Error> {
        let mut rows =
            store::ledger_rows(self.db(), filter, page.after.as_deref(), page.fetch_limit())
                .await?;
        let next = page.finish(&mut rows, |a| a.ledger_number.clone());
        Ok((rows, next))
    }

    /// Streams the whole ledger `filter` selects into `out`, read by keyset
    /// in batches: a slow reader slows the reads instead of filling
    /// memory. Ends early when `out` is closed.
    pub async fn export_ledger(
        &self,
        filter: LedgerFilter,
        out: mpsc::Sender<Result<Application, Error>>,
    ) {
        let mut after: Option<String> = None;
        loop {
            let rows =
                match store::ledger_rows(self.db(), &filter, after.as_deref(), LEDGER_EXPORT_BATCH)
                    .await
                {
                    Ok(rows) => rows,
                    Err(e) => {
                        let _ = out.send(Err(e.into())).await;
                        return;
                    }
                };
            let done = rows.len() < usize::try_from(LEDGER_EXPORT_BATCH).unwrap_or(usize::MAX);
            after = rows.last().map(|a| a.ledger_number.clone());
            for row in rows {
                if out.send(Ok(row)).await.is_err() {
                    return; // the reader went away
                }
            }
            if done {
                return;
            }
        }
    }

    /// The notifications sent (or waiting) for the customer, newest first,
    /// optionally only about `resource` or in `status`; the page and the
    /// next page's token.
    pub async fn notifications(
        &self,
        resource: Option<&str>,
        status: Option<DeliveryStatus>,
        page: &Page,
    ) -> Result<(Vec<Record>, String), Error> {
        let mut records = outbox::list(self.db(), CUSTOMER, resource, status, page).await?;
        let next = page.finish(&mut records, |r| r.event.id.clone());
        Ok((records, next))
    }
}
