//! Closed-loop load: a fixed number of operations, so many in flight at
//! once, each timed from the caller's side.

use std::time::{Duration, Instant};

use futures::StreamExt as _;

/// Throughput and latency of one measured run.
#[derive(Debug, Clone)]
pub struct Figures {
    pub per_second: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
}

impl Figures {
    pub fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Figures {
        latencies.sort_unstable();
        let at = |q: f64| {
            let i =
                ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
            latencies.get(i).copied().unwrap_or_default()
        };
        Figures {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
        }
    }

    /// A rate with no latencies of its own.
    pub fn rate(per_second: f64) -> Figures {
        Figures {
            per_second,
            ..Figures::of(Vec::new(), Duration::from_secs(1))
        }
    }

    /// One operation of `count` items that took `elapsed`: items per
    /// second, and its time as every percentile.
    pub fn once(count: usize, elapsed: Duration) -> Figures {
        Figures {
            per_second: count as f64 / elapsed.as_secs_f64(),
            ..Figures::of(vec![elapsed], elapsed)
        }
    }
}

/// Runs `op(i)` for `i` in `0..n`, `concurrency` at a time, timing each.
pub async fn measure<F, Fut>(n: usize, concurrency: usize, op: F) -> anyhow::Result<Figures>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut runs = futures::stream::iter(0..n)
        .map(|i| {
            let call = op(i);
            async move {
                let at = Instant::now();
                call.await.map(|()| at.elapsed())
            }
        })
        .buffer_unordered(concurrency);
    let mut latencies = Vec::with_capacity(n);
    while let Some(latency) = runs.next().await {
        latencies.push(latency?);
    }
    Ok(Figures::of(latencies, started.elapsed()))
}

/// [`measure`] for a read, after a round of the same reads unmeasured:
/// the services' connection pools are grown and their caches warm, as in
/// a service that has been serving.
pub async fn measure_reads<F, Fut>(n: usize, concurrency: usize, op: F) -> anyhow::Result<Figures>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    measure(concurrency.min(n), concurrency, &op).await?;
    measure(n, concurrency, op).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_read_off_the_sorted_latencies() {
        let latencies = (1..=100).rev().map(Duration::from_millis).collect();
        let f = Figures::of(latencies, Duration::from_secs(2));
        assert_eq!(f.per_second, 50.0);
        assert_eq!(f.p50, Duration::from_millis(50));
        assert_eq!(f.p90, Duration::from_millis(90));
        assert_eq!(f.p99, Duration::from_millis(99));
    }
}
