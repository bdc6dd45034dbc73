//! W3C trace context in and out of gRPC metadata: a server span joins the
//! caller's trace, and outgoing calls carry the current one.

use std::sync::Once;

use procedo_platform::config::{LogFormat, TelemetryArgs};
use procedo_platform::telemetry::{self, TracePropagation};
use tonic::service::Interceptor as _;

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let args = TelemetryArgs {
            log_filter: "info".into(),
            log_format: LogFormat::Text,
            otlp_endpoint: None,
            metrics_listen: None,
        };
        // The guard would flush exported spans; none are exported here.
        std::mem::forget(telemetry::init("telemetry-test", &args).expect("telemetry starts"));
    });
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[test]
fn a_server_span_joins_the_trace_of_the_incoming_traceparent() {
    init();
    let request = http::Request::builder()
        .uri("/procedo.intake.v1.IntakeService/GetApplication")
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .body(())
        .expect("request");

    let span = telemetry::server_span(request.headers(), request.uri().path(), "req-1");

    assert_eq!(span.in_scope(telemetry::current_trace_id), TRACE_ID);
}

#[test]
fn an_outgoing_call_carries_the_current_trace() {
    init();
    let request = http::Request::builder()
        .uri("/x/Y")
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .body(())
        .expect("request");
    let span = telemetry::server_span(request.headers(), request.uri().path(), "req-1");

    let (outgoing, current) = span.in_scope(|| {
        let outgoing = TracePropagation
            .call(tonic::Request::new(()))
            .expect("intercepted");
        (outgoing, telemetry::current_traceparent().0)
    });

    let traceparent = outgoing
        .metadata()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .expect("a traceparent")
        .to_owned();
    assert!(
        traceparent.starts_with(&format!("00-{TRACE_ID}-")),
        "{traceparent}"
    );
    assert_eq!(current, traceparent);
}

#[test]
fn a_call_without_a_traceparent_starts_a_new_trace() {
    init();
    let request = http::Request::builder()
        .uri("/x/Y")
        .body(())
        .expect("request");
    let span = telemetry::server_span(request.headers(), request.uri().path(), "req-1");

    let trace = span.in_scope(telemetry::current_trace_id);

    assert_eq!(trace.len(), 32);
    assert_ne!(trace, TRACE_ID);
}
