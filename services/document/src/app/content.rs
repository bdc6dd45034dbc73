//! Housekeeping of the content store: what no version refers to goes.

use futures::StreamExt as _;
use procedo_platform::error::Error;

use super::App;
use crate::store;

/// Content names checked against the versions at once.
const SWEEP_BATCH: usize = 500;

impl App {
    /// Removes content that no version of a document still held refers to
    /// and that was untouched for the grace period, and what uploads that
    /// never completed left behind; how many objects went.
    pub async fn sweep_content(&self) -> Result<usize, Error> {
        let blobs = &self.inner.blobs;
        let mut removed = blobs.remove_abandoned_uploads().await?;
        let mut listed = blobs.untouched_content().chunks(SWEEP_BATCH);
        while let Some(batch) = listed.next().await {
            let batch = batch.into_iter().collect::<Result<Vec<String>, Error>>()?;
            let referenced = {
                let mut conn = self.db().reader().acquire().await?;
                store::referenced_content(&mut conn, &batch).await?
            };
            for sha256 in batch.iter().filter(|s| !referenced.contains(*s)) {
                if blobs.remove_untouched(sha256).await? {
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "content nothing refers to was removed");
        }
        Ok(removed)
    }
}

/// Runs `work` every `every` until `stop`; a failed round is logged and
/// the next one tries again.
pub async fn repeat<F, Fut>(
    what: &'static str,
    every: std::time::Duration,
    stop: procedo_platform::shutdown::Shutdown,
    work: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<usize, Error>>,
{
    loop {
        tokio::select! {
            () = stop.clone().wait() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(e) = work().await {
            tracing::warn!(error = ?e, "the {what} failed; trying again");
        }
    }
}
