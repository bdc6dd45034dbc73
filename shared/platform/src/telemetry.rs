//! Logs, traces and W3C trace context.
//!
//! [`init`] installs the global subscriber once per process: human or JSON
//! logs filtered by `PROCEDO_LOG`, and an OpenTelemetry layer. Spans always
//! get real trace ids (so audit records and events can carry them); they are
//! exported over OTLP only when an endpoint is configured.
//!
//! Every server span joins the caller's trace from the `traceparent`
//! metadata ([`server_span`]); every outgoing call writes it
//! ([`TracePropagation`], [`current_traceparent`]).

use std::collections::HashMap;
use std::io::IsTerminal as _;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{LogFormat, TelemetryArgs};

/// Flushes pending spans and metrics when dropped; keep it alive in
/// `main`.
#[derive(Debug)]
pub struct TelemetryGuard {
    providers: Vec<SdkTracerProvider>,
    meters: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        for provider in &self.providers {
            if let Err(e) = provider.shutdown() {
                eprintln!("flushing traces failed: {e}");
            }
        }
        if let Some(Err(e)) = self.meters.as_ref().map(|m| m.shutdown()) {
            eprintln!("flushing metrics failed: {e}");
        }
    }
}

/// Installs logging and tracing for the process. `service` names the
/// resource in exported traces and metrics.
pub fn init(service: &str, args: &TelemetryArgs) -> anyhow::Result<TelemetryGuard> {
    install(service, &[], args)
}

/// Installs logging and tracing for a process that runs several services
/// (`procedo dev`): each service's spans are exported under its own
/// `service.name` (`procedo-intake`, …) — those made on the threads marked
/// as its with [`serving_on_this_thread`]. Metrics are the process's,
/// named `process`.
pub fn init_embedded(
    process: &str,
    services: &[&'static str],
    args: &TelemetryArgs,
) -> anyhow::Result<TelemetryGuard> {
    install(process, services, args)
}

thread_local! {
    /// The embedded service the current thread runs, if any.
    static SERVICE: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Marks the current thread as one of `service`'s (see [`init_embedded`]).
pub fn serving_on_this_thread(service: &'static str) {
    SERVICE.set(Some(service));
}

fn install(
    process: &str,
    embedded: &[&'static str],
    args: &TelemetryArgs,
) -> anyhow::Result<TelemetryGuard> {
    let meters = if args.metrics_listen.is_some() || args.otlp().is_some() {
        let scrape = args
            .metrics_listen
            .map(|addr| {
                let scrape = crate::metrics::Scrape::default();
                crate::metrics::serve_prometheus(addr, scrape.clone()).map(|()| scrape)
            })
            .transpose()?;
        Some(crate::metrics::provider(
            resource(process),
            scrape,
            args.otlp(),
        )?)
    } else {
        None
    };
    // The log filter decides what is written, not which spans exist: the
    // spans of calls, deliveries and timers are recorded whatever
    // PROCEDO_LOG says, so traces, audit records and events keep their
    // trace ids when logs are quieter.
    let mut traces: Vec<Box<dyn Layer<Registry> + Send + Sync>> = Vec::new();
    let mut providers = Vec::new();
    // Alone, a static level filter: tracing then skips the debug spans'
    // callsites outright, with no per-span check on the hot path.
    if embedded.is_empty() {
        let provider = tracer_provider(process, args)?;
        traces.push(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("procedo"))
                .with_filter(LevelFilter::INFO)
                .boxed(),
        );
        providers.push(provider);
    }
    // One registry for all (span ids are the registry's), with a tracer
    // per service, each taking the spans made on its service's threads.
    for &service in embedded {
        let provider = tracer_provider(service, args)?;
        let ours = tracing_subscriber::filter::filter_fn(move |meta| {
            *meta.level() <= tracing::Level::INFO && SERVICE.get() == Some(service)
        });
        traces.push(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("procedo"))
                .with_filter(ours)
                .boxed(),
        );
        providers.push(provider);
    }

    let filter = EnvFilter::try_new(&args.log_filter)
        .map_err(|e| anyhow::anyhow!("PROCEDO_LOG {:?} is not a filter: {e}", args.log_filter))?;
    let fmt = match args.log_format {
        // Colours only for a person at a terminal, not in a log file.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::stdout().is_terminal())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(traces)
        .with(fmt.with_filter(filter))
        .try_init()?;
    Ok(TelemetryGuard { providers, meters })
}

fn resource(service: &str) -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_owned())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build()
}

/// Spans of `service`, exported over OTLP when an endpoint is configured.
fn tracer_provider(service: &str, args: &TelemetryArgs) -> anyhow::Result<SdkTracerProvider> {
    let mut builder = SdkTracerProvider::builder()
        .with_resource(resource(service))
        .with_span_processor(DatabaseSpans);
    if let Some(endpoint) = args.otlp() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// The database the process's spans speak to, once it has connected.
static DB_SYSTEM: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Says which database the process uses (`postgresql`, `sqlite`), for its
/// database spans; the first call wins.
pub fn database_is(system: &'static str) {
    let _ = DB_SYSTEM.set(system);
}

/// Marks the database spans — the stores' and the batched writes' — with
/// the database they speak to: `db.system.name` (semantic conventions
/// 1.42) and `db.system`, its older name, which many backends still read.
#[derive(Debug, Clone, Copy, Default)]
pub struct DatabaseSpans;

impl opentelemetry_sdk::trace::SpanProcessor for DatabaseSpans {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {
        use opentelemetry::trace::Span as _;
        let Some(system) = DB_SYSTEM.get() else {
            return;
        };
        let in_store = span.exported_data().is_some_and(|data| {
            data.attributes.iter().any(|kv| {
                kv.key.as_str() == "code.module.name" && {
                    let module = kv.value.as_str();
                    module.contains("::store") || module == "procedo_platform::writes"
                }
            })
        });
        if in_store {
            span.set_attribute(opentelemetry::KeyValue::new("db.system.name", *system));
            span.set_attribute(opentelemetry::KeyValue::new("db.system", *system));
        }
    }

    fn on_end(&self, _: opentelemetry_sdk::trace::SpanData) {}

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(
        &self,
        _: std::time::Duration,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

/// The span of one incoming RPC to `path` (`/package.Service/Method`),
/// joined to the caller's trace, with the call's request id and trace id
/// (so every log line inside it carries them). Its status is recorded when
/// the call ends ([`crate::calls`]).
pub fn server_span(headers: &http::HeaderMap, path: &str, request_id: &str) -> tracing::Span {
    let name = path.trim_start_matches('/');
    let (service, method) = name.split_once('/').unwrap_or((name, ""));
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        otel.status_message = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
        rpc.grpc.status_code = tracing::field::Empty,
        request_id = %request_id,
        trace_id = tracing::field::Empty,
        enduser.id = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    // A missing or malformed traceparent starts a new trace, as W3C asks.
    let _ = span.set_parent(parent);
    let trace_id = span.in_scope(current_trace_id);
    span.record("trace_id", trace_id.as_str());
    span
}

/// The current span's W3C `traceparent` and `tracestate`, for events that
/// are delivered later by another task.
pub fn current_traceparent() -> (String, String) {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&tracing::Span::current().context(), &mut carrier);
    (
        carrier.remove("traceparent").unwrap_or_default(),
        carrier.remove("tracestate").unwrap_or_default(),
    )
}

/// The current trace id as 32 hex digits, or empty when untraced.
pub fn current_trace_id() -> String {
    let cx = tracing::Span::current().context();
    let span_context = cx.span().span_context().clone();
    if span_context.is_valid() {
        span_context.trace_id().to_string()
    } else {
        String::new()
    }
}

/// Makes `span` a child of the trace an event was emitted in.
pub fn join_trace(span: &tracing::Span, traceparent: &str, tracestate: &str) {
    let mut carrier = HashMap::new();
    carrier.insert("traceparent".to_owned(), traceparent.to_owned());
    if !tracestate.is_empty() {
        carrier.insert("tracestate".to_owned(), tracestate.to_owned());
    }
    let _ = span.set_parent(TraceContextPropagator::new().extract(&carrier));
}

/// Writes the current trace context into every outgoing call's metadata.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracePropagation;

impl tonic::service::Interceptor for TracePropagation {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        TraceContextPropagator::new().inject_context(
            &tracing::Span::current().context(),
            &mut MetadataInjector(request.metadata_mut()),
        );
        Ok(request)
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The span of one outgoing RPC to `path` on `authority` (host:port),
/// with the OpenTelemetry RPC attributes; its status is recorded when the
/// call ends ([`crate::outgoing`]).
pub fn client_span(path: &str, authority: &str) -> tracing::Span {
    let name = path.trim_start_matches('/');
    let (service, method) = name.split_once('/').unwrap_or((name, ""));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => (host, port),
        _ => (authority, ""),
    };
    tracing::info_span!(
        "grpc.client",
        otel.name = %name,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        otel.status_message = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
        rpc.grpc.status_code = tracing::field::Empty,
        server.address = %host,
        server.port = %port,
    )
}

/// Writes `span`'s trace context into `headers` (an outgoing request's).
pub fn inject(span: &tracing::Span, headers: &mut http::HeaderMap) {
    TraceContextPropagator::new().inject_context(&span.context(), &mut HeaderInjector(headers));
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}
