//! Serving a service: health, reflection, limits, tracing and drain.
//!
//! Every server gets the gRPC health protocol (so `grpc_health_probe` and
//! Kubernetes probes work), reflection v1 and v1alpha (so `grpcurl` works,
//! old and new), a per-call timeout answered as DEADLINE_EXCEEDED, a global
//! concurrency limit, a span per call joined to the caller's trace, and a
//! graceful drain: on shutdown it stops accepting, finishes the calls in
//! flight, and gives up on them after the grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tower::limit::GlobalConcurrencyLimitLayer;

use crate::telemetry;

/// What one server allows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request_timeout: Duration,
    pub concurrency_limit: usize,
    pub max_message_bytes: usize,
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(30),
            concurrency_limit: 512,
            max_message_bytes: 4 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// The routes every server carries: health and reflection over every
/// Procedo contract and the error detail types. Services add their own to the returned builder and
/// mark themselves serving on the reporter.
pub fn standard_routes() -> anyhow::Result<(RoutesBuilder, HealthReporter)> {
    let (reporter, health) = tonic_health::server::health_reporter();
    // google.rpc error details are served too, so grpcurl can decode the
    // field violations and precondition failures in error responses.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(procedo_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let v1 = reflection().build_v1()?;
    let v1alpha = reflection().build_v1alpha()?;
    let mut routes = Routes::builder();
    routes
        .add_service(health)
        .add_service(v1)
        .add_service(v1alpha);
    Ok((routes, reporter))
}

/// Binds `addr`; port 0 picks a free port (read it back with `local_addr`).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Serves `routes` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let (drain_started, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing calls in flight");
        let _ = drain_started.send(());
    };
    let server = Server::builder()
        .timeout(limits.request_timeout)
        .layer(GlobalConcurrencyLimitLayer::new(limits.concurrency_limit))
        .trace_fn(telemetry::server_span)
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), signal);
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
            tracing::warn!(grace = ?limits.shutdown_grace, "calls still in flight after the grace period; stopping anyway");
            Ok(())
        }
    }
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
