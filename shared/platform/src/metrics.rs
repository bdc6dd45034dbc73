//! Metrics, named as OpenTelemetry semantic conventions 1.42 name them (the
//! version of the opentelemetry 0.33 crates): exported over OTLP with the
//! traces when `PROCEDO_OTLP_ENDPOINT` is set, and served as Prometheus
//! text on `PROCEDO_METRICS_LISTEN` (`GET /metrics`) for the teams that
//! scrape.
//!
//! What is measured: every call served (`rpc.server.call.duration`, a
//! histogram in seconds by `rpc.method` and `rpc.response.status_code`: its
//! count is the calls, by code), every delivery attempt of the outboxes
//! (`procedo.outbox.delivery.attempts` by destination and outcome), and the
//! database pool (`db.client.connection.count` by state; the waits of
//! write transactions for their connection, `db.client.connection.wait_time`
//! and `db.client.connection.timeouts`).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The meter every Procedo instrument belongs to.
pub fn meter() -> Meter {
    opentelemetry::global::meter("procedo")
}

/// The instruments recorded on hot paths, made once.
struct Instruments {
    server_calls: Histogram<f64>,
    deliveries: Counter<u64>,
    connection_waits: Histogram<f64>,
    connection_timeouts: Counter<u64>,
}

fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = meter();
        Instruments {
            server_calls: meter
                .f64_histogram("rpc.server.call.duration")
                .with_unit("s")
                .with_description("Duration of the calls served, by method and status code")
                .with_boundaries(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0,
                ])
                .build(),
            deliveries: meter
                .u64_counter("procedo.outbox.delivery.attempts")
                .with_description(
                    "Delivery attempts of events, by destination and outcome \
                     (delivered, retry, refused)",
                )
                .build(),
            connection_waits: meter
                .f64_histogram("db.client.connection.wait_time")
                .with_unit("s")
                .with_description("Time write transactions waited for a database connection")
                .with_boundaries(vec![
                    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0,
                ])
                .build(),
            connection_timeouts: meter
                .u64_counter("db.client.connection.timeouts")
                .with_description(
                    "Write transactions that gave up waiting for a database connection",
                )
                .build(),
        }
    })
}

/// A write transaction of pool `pool` waited `took` for its connection,
/// and got one unless it `timed_out`.
pub fn connection_waited(pool: &str, took: Duration, timed_out: bool) {
    let pool = [KeyValue::new(
        "db.client.connection.pool.name",
        pool.to_owned(),
    )];
    let instruments = instruments();
    instruments
        .connection_waits
        .record(took.as_secs_f64(), &pool);
    if timed_out {
        instruments.connection_timeouts.add(1, &pool);
    }
}

/// One call served: `method` is `/package.Service/Method`.
pub fn call_served(method: &str, code: tonic::Code, took: Duration) {
    instruments().server_calls.record(
        took.as_secs_f64(),
        &[
            KeyValue::new("rpc.system.name", "grpc"),
            KeyValue::new("rpc.method", method.trim_start_matches('/').to_owned()),
            KeyValue::new("rpc.response.status_code", code_name(code)),
        ],
    );
}

/// One delivery attempt to `destination`.
pub fn delivery_attempted(destination: &str, outcome: &'static str) {
    instruments().deliveries.add(
        1,
        &[
            KeyValue::new("destination", destination.to_owned()),
            KeyValue::new("outcome", outcome),
        ],
    );
}

/// A status code as the gRPC protocol spells it (`NOT_FOUND`).
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A reader the Prometheus endpoint collects through, shared with the
/// meter provider.
#[derive(Debug, Clone)]
pub struct Scrape(Arc<ManualReader>);

impl Default for Scrape {
    fn default() -> Self {
        Scrape(Arc::new(
            ManualReader::builder()
                .with_temporality(Temporality::Cumulative)
                .build(),
        ))
    }
}

impl MetricReader for Scrape {
    fn register_pipeline(&self, pipeline: std::sync::Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

impl Scrape {
    /// Everything measured so far, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut collected = ResourceMetrics::default();
        if let Err(e) = self.0.collect(&mut collected) {
            tracing::warn!(error = %e, "collecting metrics failed");
        }
        prometheus_text(&collected)
    }
}

/// Serves `scrape` as Prometheus text on `addr` (`GET /metrics`) until the
/// process ends.
pub fn serve_prometheus(addr: SocketAddr, scrape: Scrape) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("PROCEDO_METRICS_LISTEN: cannot listen on {addr}"))?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let scrape = scrape.clone();
            tokio::spawn(async move {
                // One request per connection; a scraper's request fits.
                let mut request = vec![0u8; 4096];
                let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut request))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                let line = String::from_utf8_lossy(&request[..read]);
                let (status, body) =
                    if line.starts_with("GET /metrics ") || line.starts_with("GET /metrics?") {
                        ("200 OK", scrape.render())
                    } else {
                        ("404 Not Found", "metrics are at GET /metrics\n".to_owned())
                    };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(())
}

/// The metrics the process keeps: with a Prometheus reader, and an OTLP
/// exporter when `otlp` is given. Installed as the global provider.
pub fn provider(
    resource: opentelemetry_sdk::Resource,
    scrape: Option<Scrape>,
    otlp: Option<&str>,
) -> anyhow::Result<SdkMeterProvider> {
    let mut builder = SdkMeterProvider::builder().with_resource(resource);
    if let Some(scrape) = scrape {
        builder = builder.with_reader(scrape);
    }
    if let Some(endpoint) = otlp {
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.to_owned())
            .build()?;
        builder = builder.with_periodic_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_meter_provider(provider.clone());
    Ok(provider)
}

/// `metrics` in the Prometheus text exposition format, named per
/// OpenTelemetry's Prometheus compatibility rules: dots become
/// underscores, the unit is a suffix (`_seconds`), counters end in
/// `_total`.
pub fn prometheus_text(metrics: &ResourceMetrics) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let resource: Vec<(String, String)> = metrics
        .resource()
        .iter()
        .map(|(k, v)| (sanitize(k.as_str()), v.to_string()))
        .collect();
    if !resource.is_empty() {
        let _ = writeln!(out, "# TYPE target_info gauge");
        let _ = writeln!(out, "target_info{} 1", labels(&resource));
    }
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            let unit = match metric.unit() {
                "s" => "_seconds",
                "ms" => "_milliseconds",
                "By" => "_bytes",
                _ => "",
            };
            let base = format!("{}{unit}", sanitize(metric.name()));
            match metric.data() {
                AggregatedMetrics::F64(data) => {
                    write_data(&mut out, &base, metric.description(), data)
                }
                AggregatedMetrics::U64(data) => {
                    write_data(&mut out, &base, metric.description(), data)
                }
                AggregatedMetrics::I64(data) => {
                    write_data(&mut out, &base, metric.description(), data)
                }
            }
        }
    }
    out
}

fn write_data<T: Copy + std::fmt::Display>(
    out: &mut String,
    base: &str,
    help: &str,
    data: &MetricData<T>,
) {
    use std::fmt::Write as _;
    let attrs = |kv: &mut dyn Iterator<Item = &KeyValue>| -> Vec<(String, String)> {
        kv.map(|kv| (sanitize(kv.key.as_str()), kv.value.to_string()))
            .collect()
    };
    match data {
        MetricData::Sum(sum) => {
            let name = if sum.is_monotonic() {
                format!("{base}_total")
            } else {
                base.to_owned()
            };
            let kind = if sum.is_monotonic() {
                "counter"
            } else {
                "gauge"
            };
            header(out, &name, help, kind);
            for point in sum.data_points() {
                let l = attrs(&mut point.attributes());
                let _ = writeln!(out, "{name}{} {}", labels(&l), point.value());
            }
        }
        MetricData::Gauge(gauge) => {
            header(out, base, help, "gauge");
            for point in gauge.data_points() {
                let l = attrs(&mut point.attributes());
                let _ = writeln!(out, "{base}{} {}", labels(&l), point.value());
            }
        }
        MetricData::Histogram(histogram) => {
            header(out, base, help, "histogram");
            for point in histogram.data_points() {
                let l = attrs(&mut point.attributes());
                let mut cumulative = 0;
                let bounds: Vec<f64> = point.bounds().collect();
                for (i, count) in point.bucket_counts().enumerate() {
                    cumulative += count;
                    let le = bounds.get(i).map_or("+Inf".to_owned(), f64::to_string);
                    let mut with_le = l.clone();
                    with_le.push(("le".to_owned(), le));
                    let _ = writeln!(out, "{base}_bucket{} {cumulative}", labels(&with_le));
                }
                let _ = writeln!(out, "{base}_sum{} {}", labels(&l), point.sum());
                let _ = writeln!(out, "{base}_count{} {}", labels(&l), point.count());
            }
        }
        MetricData::ExponentialHistogram(_) => {}
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    use std::fmt::Write as _;
    if !help.is_empty() {
        let _ = writeln!(out, "# HELP {name} {}", help.replace('\n', " "));
    }
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A metric or label name as Prometheus allows it.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn labels(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;

    use super::*;

    #[test]
    fn counters_histograms_and_their_labels_render_as_prometheus_text() {
        let scrape = Scrape::default();
        let provider = SdkMeterProvider::builder()
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("procedo-intake")
                    .build(),
            )
            .with_reader(scrape.clone())
            .build();
        let meter = provider.meter("test");
        let counter = meter
            .u64_counter("procedo.outbox.delivery.attempts")
            .build();
        counter.add(2, &[KeyValue::new("destination", "work\"flow")]);
        let histogram = meter
            .f64_histogram("rpc.server.call.duration")
            .with_unit("s")
            .with_boundaries(vec![0.01, 0.1])
            .build();
        histogram.record(0.005, &[KeyValue::new("rpc.method", "a.B/C")]);
        histogram.record(0.05, &[KeyValue::new("rpc.method", "a.B/C")]);

        let text = scrape.render();
        assert!(
            text.lines()
                .any(|l| l.starts_with("target_info{")
                    && l.contains("service_name=\"procedo-intake\"")),
            "{text}"
        );
        assert!(
            text.contains("procedo_outbox_delivery_attempts_total{destination=\"work\\\"flow\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE rpc_server_call_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains(
                "rpc_server_call_duration_seconds_bucket{rpc_method=\"a.B/C\",le=\"0.01\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "rpc_server_call_duration_seconds_bucket{rpc_method=\"a.B/C\",le=\"+Inf\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("rpc_server_call_duration_seconds_count{rpc_method=\"a.B/C\"} 2"),
            "{text}"
        );
    }
}

/// A count a service reports as a gauge, read from its database while
/// metrics are on: `sql` returns one integer, with `$1` the current time
/// (Unix milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub name: &'static str,
    pub description: &'static str,
    pub sql: &'static str,
}

/// How often the sampled gauges are read from the database.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// What the last sampling read.
#[derive(Debug, Default)]
struct Sampled {
    /// (destination, status, events) for pending and failed events.
    outbox: Vec<(String, String, u64)>,
    /// (destination, seconds the oldest pending event has waited).
    oldest_pending: Vec<(String, f64)>,
    inbox: u64,
    /// The service's own samples, in order.
    own: Vec<u64>,
}

/// The gauges read from the database — the outbox backlog per
/// destination and its oldest pending event's age, the inbox, and the
/// service's own samples — as last read.
#[derive(Debug, Clone)]
pub struct Sampler(Arc<std::sync::Mutex<Sampled>>);

impl Sampler {
    /// Registers the gauges of `service` (once: a restarted sampling loop
    /// keeps them).
    pub fn registered(service: &'static str, samples: &'static [Sample]) -> Sampler {
        let sampler = Sampler(Arc::default());
        register(service, samples, &sampler.0);
        sampler
    }

    /// Reads the counts from `db` every few seconds until `stop`.
    pub async fn run(
        self,
        db: crate::db::Database,
        samples: &'static [Sample],
        stop: crate::shutdown::Shutdown,
    ) {
        let stop = stop.wait();
        tokio::pin!(stop);
        loop {
            match read(&db, samples).await {
                Ok(now) => {
                    if let Ok(mut last) = self.0.lock() {
                        *last = now;
                    }
                }
                Err(e) => tracing::debug!(error = %e, "sampling the metrics' counts failed"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(SAMPLE_EVERY) => {}
            }
        }
    }
}

/// Registers the sampled gauges; their callbacks stay with the meter
/// provider for the life of the process, whatever becomes of the handles.
fn register(
    service: &'static str,
    samples: &'static [Sample],
    sampled: &Arc<std::sync::Mutex<Sampled>>,
) {
    let meter = meter();
    let service_kv = KeyValue::new("service", service);
    {
        let (sampled, service) = (sampled.clone(), service_kv.clone());
        meter
            .u64_observable_gauge("procedo.outbox.events")
            .with_description(
                "Events waiting in the outbox (pending) or given up on (failed), by destination",
            )
            .with_callback(move |o| {
                if let Ok(s) = sampled.lock() {
                    for (destination, status, count) in &s.outbox {
                        o.observe(
                            *count,
                            &[
                                service.clone(),
                                KeyValue::new("destination", destination.clone()),
                                KeyValue::new("status", status.clone()),
                            ],
                        );
                    }
                }
            })
            .build();
    }
    {
        let (sampled, service) = (sampled.clone(), service_kv.clone());
        meter
            .u64_observable_gauge("procedo.inbox.events")
            .with_description("Ids of received events kept against redelivery")
            .with_callback(move |o| {
                if let Ok(s) = sampled.lock() {
                    o.observe(s.inbox, std::slice::from_ref(&service));
                }
            })
            .build();
    }
    for (i, sample) in samples.iter().enumerate() {
        let (sampled, service) = (sampled.clone(), service_kv.clone());
        meter
            .u64_observable_gauge(sample.name)
            .with_description(sample.description)
            .with_callback(move |o| {
                if let Some(count) = sampled.lock().ok().and_then(|s| s.own.get(i).copied()) {
                    o.observe(count, std::slice::from_ref(&service));
                }
            })
            .build();
    }
    let sampled = sampled.clone();
    meter
        .f64_observable_gauge("procedo.outbox.oldest_pending.age")
        .with_unit("s")
        .with_description("How long the oldest pending event of each destination has waited")
        .with_callback(move |o| {
            if let Ok(s) = sampled.lock() {
                for (destination, age) in &s.oldest_pending {
                    o.observe(
                        *age,
                        &[
                            service_kv.clone(),
                            KeyValue::new("destination", destination.clone()),
                        ],
                    );
                }
            }
        })
        .build();
}

async fn read(db: &crate::db::Database, samples: &[Sample]) -> Result<Sampled, sqlx::Error> {
    use sqlx::Row as _;
    let now = crate::time::now();
    let mut sampled = Sampled::default();
    let rows = sqlx::query(
        "SELECT destination, status, COUNT(*) AS events, MIN(created_at) AS oldest FROM outbox \
         WHERE status IN ('pending', 'failed') GROUP BY destination, status",
    )
    .fetch_all(db.reader())
    .await?;
    for row in rows {
        let (destination, status): (String, String) =
            (row.try_get("destination")?, row.try_get("status")?);
        let events: i64 = row.try_get("events")?;
        if status == "pending" {
            let oldest: i64 = row.try_get("oldest")?;
            sampled
                .oldest_pending
                .push((destination.clone(), (now - oldest).max(0) as f64 / 1000.0));
        }
        sampled
            .outbox
            .push((destination, status, events.max(0).unsigned_abs()));
    }
    let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
        .fetch_one(db.reader())
        .await?;
    sampled.inbox = inbox.max(0).unsigned_abs();
    for sample in samples {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sample.sql))
            .bind(now)
            .fetch_one(db.reader())
            .await?;
        sampled.own.push(count.max(0).unsigned_abs());
    }
    Ok(sampled)
}
