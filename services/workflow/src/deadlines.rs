//! The deadline timer (§3.1.3): sweeps for overdue tasks every interval,
//! through the application layer ([`crate::app::App::sweep_deadlines`]),
//! and again at once while a sweep fills its batch.

use std::time::Duration;

use procedo_platform::shutdown::Shutdown;

use crate::app::App;

/// Sweeps every `interval` until `shutdown`.
pub async fn run(app: App, interval: Duration, shutdown: Shutdown) {
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        match app.sweep_deadlines().await {
            Ok(n) if i64::try_from(n).unwrap_or(i64::MAX) == crate::app::SWEEP_BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "deadline sweep failed; retrying"),
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
