//! Serving a service: health, reflection, limits, tracing and drain.
//!
//! Every server gets the gRPC health protocol (so `grpc_health_probe` and
//! Kubernetes probes work), reflection v1 and v1alpha (so `grpcurl` works,
//! old and new), a per-call timeout answered as DEADLINE_EXCEEDED
//! ([`DeadlineLayer`]), a global
//! concurrency limit, a span and a log line per call joined to the caller's
//! trace ([`crate::calls`]), and a
//! graceful drain: on shutdown it stops accepting, finishes the calls in
//! flight, and gives up on them after the grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
pub use tonic_health::server::HealthReporter;
use tonic_health::server::HealthService;
use tower::limit::GlobalConcurrencyLimitLayer;

use crate::calls::{CallsLayer, Phase};

/// What one server allows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request_timeout: Duration,
    pub concurrency_limit: usize,
    pub max_message_bytes: usize,
    /// The headers of one call (the bearer token among them), in bytes: a
    /// call over it is refused on its own with RESOURCE_EXHAUSTED, its
    /// connection kept.
    pub max_header_bytes: u32,
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(30),
            concurrency_limit: 512,
            max_message_bytes: 4 * 1024 * 1024,
            max_header_bytes: 32 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// The routes every server starts with: the health protocol. Services add
/// their own to the returned builder, mark themselves serving on the
/// reporter, and add [`reflection`] last.
pub fn standard_routes() -> (RoutesBuilder, HealthReporter) {
    let reporter = HealthReporter::new();
    let health = HealthServer::new(Health(HealthService::from_health_reporter(
        reporter.clone(),
    )));
    let mut routes = Routes::builder();
    routes.add_service(health);
    (routes, reporter)
}

/// Adds reflection, v1 and v1alpha, listing the services of `served` and
/// the standard ones: a port lists what it answers, nothing else. Every
/// Procedo contract and the error detail types can be described, so
/// grpcurl decodes the field violations and precondition failures in error
/// responses.
pub fn reflection(routes: &mut RoutesBuilder, served: &[&str]) -> anyhow::Result<()> {
    let listed = served.iter().copied().chain([
        HEALTH,
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]);
    let configure = || {
        listed.clone().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(procedo_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET),
            |builder, name| builder.with_service_name(name),
        )
    };
    routes
        .add_service(configure().build_v1()?)
        .add_service(configure().build_v1alpha()?);
    Ok(())
}

/// The health protocol's own name.
const HEALTH: &str = "grpc.health.v1.Health";

/// The gRPC health protocol as it is written: tonic's, except that
/// `Watch` on a service this server does not know answers SERVICE_UNKNOWN
/// and stays open, instead of failing with NOT_FOUND.
struct Health(HealthService);

#[tonic::async_trait]
impl tonic_health::pb::health_server::Health for Health {
    async fn check(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        self.0.check(request).await
    }

    type WatchStream = std::pin::Pin<
        Box<
            dyn tokio_stream::Stream<Item = Result<HealthCheckResponse, tonic::Status>>
                + Send
                + 'static,
        >,
    >;

    async fn watch(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        match self.0.watch(request).await {
            Ok(known) => Ok(crate::calls::ends_on_drain(
                known.map(|stream| Box::pin(stream) as Self::WatchStream),
            )),
            Err(status) if status.code() == tonic::Code::NotFound => {
                // Every service is registered before the server serves, so
                // an unknown one never becomes known: the stream says so
                // once and waits (the drain ends it).
                let unknown = HealthCheckResponse {
                    status: ServingStatus::ServiceUnknown as i32,
                };
                let stream = futures::StreamExt::chain(
                    futures::stream::once(async move { Ok(unknown) }),
                    futures::stream::pending(),
                );
                Ok(crate::calls::ends_on_drain(tonic::Response::new(Box::pin(
                    stream,
                ))))
            }
            Err(status) => Err(status),
        }
    }
}

/// Binds `addr`; port 0 picks a free port (read it back with `local_addr`).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Serves `routes` on `listener` (over TLS when `tls` is given) until
/// `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    limits: Limits,
    tls: Option<tonic::transport::ServerTlsConfig>,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let (drain_started, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let (phase, phase_rx) = watch::channel(Phase::Serving);
    let phase = std::sync::Arc::new(phase);
    let signal = {
        let phase = phase.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down: finishing calls in flight");
            let _ = drain_started.send(());
            // Open watches end now, with UNAVAILABLE.
            phase.send_replace(Phase::Draining);
        }
    };
    let (abort, aborted) = watch::channel(false);
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| anyhow::anyhow!("the server's TLS settings: {e}"))?;
    }
    let server = builder
        // HTTP/2 itself only guards against abuse (it drops the whole
        // connection at four times this); the call layer refuses a call
        // over `max_header_bytes` on its own, with a gRPC status.
        .http2_max_header_list_size(HTTP2_HEADER_LIST)
        // Many calls share a connection: windows grow with what flows, and
        // dead peers are noticed instead of holding streams forever.
        .http2_adaptive_window(Some(true))
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .tcp_keepalive(Some(TCP_KEEPALIVE))
        .layer(CallsLayer::new(phase_rx))
        .layer(DeadlineLayer {
            limit: limits.request_timeout,
            max_header_bytes: limits.max_header_bytes,
            aborted,
        })
        .layer(GlobalConcurrencyLimitLayer::new(limits.concurrency_limit))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming(listener), signal);
    tokio::pin!(server);
    let grace_expired = async {
        if drain_rx.await.is_ok() {
            tokio::time::sleep(limits.shutdown_grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = &mut server => Ok(result?),
        () = grace_expired => {
            tracing::warn!(grace = ?limits.shutdown_grace, "calls still in flight after the grace period; cancelling them");
            // Each call still running is dropped (its transaction rolls
            // back) and answered UNAVAILABLE, each stream still open ended
            // with UNAVAILABLE; the connections then close.
            let _ = abort.send(true);
            phase.send_replace(Phase::Aborting);
            let _ = tokio::time::timeout(AFTER_ABORT, &mut server).await;
            Ok(())
        }
    }
}

/// How often an idle HTTP/2 connection is pinged, and how long the answer
/// may take before the connection is dropped; the TCP keepalive below it.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
pub const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// The header block HTTP/2 accepts before it refuses a stream (and at four
/// times this, the connection).
const HTTP2_HEADER_LIST: u32 = 1024 * 1024;

/// How long cancelled calls get to send their answers before the server
/// stops regardless.
const AFTER_ABORT: Duration = Duration::from_millis(500);

/// Accepted connections with `TCP_NODELAY`: a response goes out as more
/// than one write (headers and data, then trailers), and without it
/// Nagle's algorithm holds the last one until the client's delayed ACK,
/// ~40 ms on every call of a network client.
fn incoming(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt as _;
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        Ok(stream)
    })
}

/// Ends calls that outlive the request timeout (or the client's own
/// `grpc-timeout`, when shorter) with DEADLINE_EXCEEDED, and every call
/// still running when the shutdown grace period ends with UNAVAILABLE.
///
/// tonic's own `Server::timeout` answers CANCELLED, which tells a client the
/// wrong thing; a plain tower timeout breaks the h2 stream instead.
#[derive(Debug, Clone)]
pub struct DeadlineLayer {
    limit: Duration,
    max_header_bytes: u32,
    aborted: watch::Receiver<bool>,
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            limit: self.limit,
            max_header_bytes: self.max_header_bytes,
            aborted: self.aborted.clone(),
        }
    }
}

/// The service [`DeadlineLayer`] makes.
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    limit: Duration,
    max_header_bytes: u32,
    aborted: watch::Receiver<bool>,
}

impl<S, B> tower::Service<http::Request<B>> for Deadline<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let headers = header_bytes(request.headers());
        if headers > u64::from(self.max_header_bytes) {
            let refused = tonic::Status::resource_exhausted(format!(
                "the call's headers are {headers} bytes; at most {} are accepted",
                self.max_header_bytes
            ));
            return Box::pin(async move { Ok(refused.into_http()) });
        }
        let limit = client_timeout(request.headers()).map_or(self.limit, |t| t.min(self.limit));
        let call = self.inner.call(request);
        let mut aborted = self.aborted.clone();
        Box::pin(async move {
            tokio::select! {
                answered = tokio::time::timeout(limit, call) => match answered {
                    Ok(response) => response.map(undecodable_is_invalid),
                    Err(_) => Ok(tonic::Status::deadline_exceeded(format!(
                        "the call did not finish within {limit:?}"
                    ))
                    .into_http()),
                },
                _ = aborted.wait_for(|aborted| *aborted) => Ok(tonic::Status::unavailable(
                    "the server is shutting down; the call was not completed, retry it",
                )
                .into_http()),
            }
        })
    }
}

/// A request body that is not the message the method takes is the
/// caller's mistake: tonic answers INTERNAL, the caller is told
/// INVALID_ARGUMENT.
fn undecodable_is_invalid(
    response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    match tonic::Status::from_header_map(response.headers()) {
        Some(status)
            if status.code() == tonic::Code::Internal
                && status
                    .message()
                    .starts_with("failed to decode Protobuf message") =>
        {
            tonic::Status::invalid_argument(format!(
                "the request is not a valid message of this method: {}",
                status.message()
            ))
            .into_http()
        }
        _ => response,
    }
}

/// A header block's size as HTTP/2 counts it: each field's name and value
/// and 32 bytes.
fn header_bytes(headers: &http::HeaderMap) -> u64 {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().len() + value.len() + 32) as u64)
        .sum()
}

/// The `grpc-timeout` header: an integer and a unit (H, M, S, m, u, n).
fn client_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let (amount, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = amount.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_headers_are_read_in_every_unit() {
        let parse = |v: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-timeout", v.parse().expect("header"));
            client_timeout(&headers)
        };
        assert_eq!(parse("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse("150m"), Some(Duration::from_millis(150)));
        assert_eq!(parse("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("5x"), None);
        assert_eq!(parse("S"), None);
        assert_eq!(client_timeout(&http::HeaderMap::new()), None);
    }

    /// Without it each response's last write waits for the client's delayed
    /// ACK: ~40 ms per call from any network client.
    #[tokio::test]
    async fn every_accepted_connection_has_tcp_nodelay() {
        use tokio_stream::StreamExt as _;
        let listener = bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bound");
        let addr = listener.local_addr().expect("addr");
        let client = tokio::spawn(tokio::net::TcpStream::connect(addr));
        let mut accepted = std::pin::pin!(incoming(listener));
        let stream = accepted
            .next()
            .await
            .expect("a connection")
            .expect("accepted");
        assert!(stream.nodelay().expect("getsockopt"), "TCP_NODELAY is set");
        drop(client.await.expect("joined").expect("connected"));
    }
}
