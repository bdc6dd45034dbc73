//! Every call served leaves an account an ops team can follow without a
//! tracing backend: a line at `info` naming the method, the status code and
//! the duration, carrying the trace id and the request id; the response
//! carries the request id back; the exported span has the gRPC status code
//! and is marked failed only for the server's own failures.

use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use procedo_platform::server::{self, Limits};
use serde_json::Value;
use tonic::codegen::http::uri::PathAndQuery;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tracing_subscriber::layer::SubscriberExt as _;

/// Spans as the OpenTelemetry SDK exports them.
#[derive(Debug, Clone, Default)]
struct Exported(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Exported {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.lock().expect("spans").extend(batch);
        std::future::ready(Ok(()))
    }
}

/// Log output, one JSON object per line.
#[derive(Debug, Clone, Default)]
struct Logged(Arc<Mutex<Vec<u8>>>);

impl Write for Logged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logged {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("log").clone();
        String::from_utf8(bytes)
            .expect("utf-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    /// The "call ended" line of `method`.
    fn ended(&self, method: &str) -> Value {
        self.lines()
            .into_iter()
            .find(|l| l["fields"]["message"] == "call ended" && l["fields"]["method"] == method)
            .unwrap_or_else(|| panic!("no \"call ended\" line for {method}: {:?}", self.lines()))
    }
}

/// A server with the standard routes on a free port: its address, what
/// stops it, and its task.
async fn serve() -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let listener = server::bind("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("bound");
    let addr = listener.local_addr().expect("an address");
    let (routes, _reporter) = server::standard_routes();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(
        listener,
        routes.routes(),
        Limits::default(),
        None,
        async move {
            let _ = stopped.await;
        },
    ));
    (addr, stop, serving)
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

// One thread: the server's tasks log through this test's subscriber.
#[tokio::test(flavor = "current_thread")]
async fn every_call_is_logged_with_its_code_trace_and_request_id_and_its_span_says_how_it_ended() {
    let exported = Exported::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exported.clone())
        .build();
    let logged = Logged::default();
    let writer = logged.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_writer(move || writer.clone()),
        )
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _default = tracing::subscriber::set_default(subscriber);

    let (addr, stop, serving) = serve().await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("an endpoint")
        .connect()
        .await
        .expect("connected");

    // Answered: the caller's request id comes back.
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    request
        .metadata_mut()
        .insert("x-request-id", "crm-test-1".parse().expect("metadata"));
    let answered = HealthClient::new(channel.clone())
        .check(request)
        .await
        .expect("served");
    assert_eq!(
        answered
            .metadata()
            .get("x-request-id")
            .map(|v| v.to_str().ok()),
        Some(Some("crm-test-1"))
    );

    // The caller's mistake: an unknown service is NOT_FOUND; a request id
    // is made for a caller that sent none.
    let refused = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::NotFound);
    let made = refused
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id");
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");

    // The server's failure: a method it does not serve.
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("ready");
    let unimplemented = grpc
        .unary::<(), (), _>(
            tonic::Request::new(()),
            PathAndQuery::from_static("/procedo.none.v1.Nothing/Missing"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("not served");
    assert_eq!(unimplemented.code(), tonic::Code::Unimplemented);

    let _ = stop.send(());
    serving.await.expect("joined").expect("served");

    let check = logged.ended("/grpc.health.v1.Health/Check");
    assert_eq!(check["level"], "INFO");
    assert!(
        check["fields"]["duration_ms"].is_string() || check["fields"]["duration_ms"].is_number()
    );
    let lines: Vec<Value> = logged
        .lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "call ended")
        .collect();
    assert_eq!(lines.len(), 3, "one line per call: {lines:?}");
    let codes: Vec<&str> = lines
        .iter()
        .map(|l| l["fields"]["code"].as_str().expect("a code"))
        .collect();
    assert_eq!(codes, ["Ok", "NotFound", "Unimplemented"]);
    assert_eq!(lines[0]["span"]["request_id"], "crm-test-1");
    assert_eq!(lines[1]["span"]["request_id"], made);
    for line in &lines {
        let trace = line["span"]["trace_id"].as_str().expect("a trace id");
        assert_eq!(trace.len(), 32, "{line}");
    }

    let spans = exported.0.lock().expect("spans").clone();
    let server_spans: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Server)
        .collect();
    assert_eq!(server_spans.len(), 3);
    let by_method = |method: &str| {
        *server_spans
            .iter()
            .find(|s| attribute(s, "rpc.method").as_deref() == Some(method))
            .unwrap_or_else(|| panic!("a span of {method}"))
    };
    let missing = by_method("Missing");
    assert_eq!(missing.name, "procedo.none.v1.Nothing/Missing");
    assert_eq!(
        attribute(missing, "rpc.grpc.status_code").as_deref(),
        Some("12")
    );
    assert_eq!(
        attribute(missing, "rpc.service").as_deref(),
        Some("procedo.none.v1.Nothing")
    );
    assert!(
        matches!(missing.status, Status::Error { .. }),
        "{:?}",
        missing.status
    );
    let checks: Vec<&&SpanData> = server_spans
        .iter()
        .filter(|s| attribute(s, "rpc.method").as_deref() == Some("Check"))
        .collect();
    let codes: Vec<String> = checks
        .iter()
        .filter_map(|s| attribute(s, "rpc.grpc.status_code"))
        .collect();
    assert_eq!(codes, ["0", "5"]);
    for check in checks {
        assert!(
            !matches!(check.status, Status::Error { .. }),
            "{:?}",
            check.status
        );
    }
    assert_eq!(
        lines[0]["span"]["trace_id"].as_str(),
        Some(
            by_method("Check")
                .span_context
                .trace_id()
                .to_string()
                .as_str()
        )
    );
}

/// An outgoing call has a client span, failed for any status but OK, and
/// the server's span is its child.
#[tokio::test(flavor = "current_thread")]
async fn outgoing_calls_have_client_spans_that_parent_the_servers_spans() {
    let exported = Exported::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exported.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _default = tracing::subscriber::set_default(subscriber);

    let (addr, stop, serving) = serve().await;
    let endpoint =
        tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("an endpoint");
    let mut health = HealthClient::new(procedo_platform::outgoing::traced(&endpoint));
    health
        .check(HealthCheckRequest::default())
        .await
        .expect("served");
    let refused = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::NotFound);
    let _ = stop.send(());
    serving.await.expect("joined").expect("served");

    let spans = exported.0.lock().expect("spans").clone();
    let of_kind = |kind: SpanKind| -> Vec<SpanData> {
        spans
            .iter()
            .filter(|s| s.span_kind == kind)
            .cloned()
            .collect()
    };
    let (clients, servers) = (of_kind(SpanKind::Client), of_kind(SpanKind::Server));
    assert_eq!(clients.len(), 2, "{clients:?}");
    for client in &clients {
        assert_eq!(client.name, "grpc.health.v1.Health/Check");
        assert_eq!(attribute(client, "rpc.system").as_deref(), Some("grpc"));
        assert_eq!(
            attribute(client, "server.address").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            attribute(client, "server.port").as_deref(),
            Some(addr.port().to_string().as_str())
        );
        let server = servers
            .iter()
            .find(|s| s.parent_span_id == client.span_context.span_id())
            .expect("the server's span is the client span's child");
        assert_eq!(
            server.span_context.trace_id(),
            client.span_context.trace_id()
        );
    }
    let codes: Vec<Option<String>> = clients
        .iter()
        .map(|c| attribute(c, "rpc.grpc.status_code"))
        .collect();
    assert_eq!(codes, [Some("0".to_owned()), Some("5".to_owned())]);
    assert!(!matches!(clients[0].status, Status::Error { .. }));
    assert!(
        matches!(clients[1].status, Status::Error { .. }),
        "a client span is failed for any status but OK: {:?}",
        clients[1].status
    );
}

mod store {
    /// A store function, as the services write them.
    #[tracing::instrument]
    pub fn insert_row() {}
}

/// Database spans say which database they speak to; others do not.
#[test]
fn the_stores_spans_name_their_database() {
    let exported = Exported::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(procedo_platform::telemetry::DatabaseSpans)
        .with_simple_exporter(exported.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    procedo_platform::telemetry::database_is("sqlite");
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("not.a.store").in_scope(store::insert_row);
    });

    let spans = exported.0.lock().expect("spans").clone();
    let named = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("a span {name}: {spans:?}"))
    };
    assert_eq!(
        attribute(named("insert_row"), "db.system.name").as_deref(),
        Some("sqlite")
    );
    assert_eq!(
        attribute(named("insert_row"), "db.system").as_deref(),
        Some("sqlite")
    );
    assert_eq!(attribute(named("not.a.store"), "db.system.name"), None);
}
