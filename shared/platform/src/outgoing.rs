//! Every outgoing gRPC call (event deliveries to peers, document checks,
//! inspection samples) has a client span: named `package.Service/Method`,
//! with `rpc.*`, `server.address` and `server.port`, and — once the call
//! ends — `rpc.grpc.status_code`; any status but OK marks it failed, per
//! OpenTelemetry's gRPC conventions for clients. The call carries the
//! span's trace context, so the server's span is its child.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::Frame;
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tracing::Instrument as _;

use crate::telemetry;

/// A connection whose calls are traced.
pub type Outgoing = Traced<Channel>;

/// A lazy connection to `endpoint` whose calls get client spans.
pub fn traced(endpoint: &Endpoint) -> Outgoing {
    let authority = endpoint
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    Traced {
        inner: endpoint.connect_lazy(),
        authority: authority.into(),
    }
}

/// The service [`traced`] makes.
#[derive(Debug, Clone)]
pub struct Traced<S> {
    inner: S,
    /// host:port of the server, for the spans.
    authority: std::sync::Arc<str>,
}

impl<S> tower::Service<http::Request<Body>> for Traced<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let span = telemetry::client_span(request.uri().path(), &self.authority);
        telemetry::inject(&span, request.headers_mut());
        let call = self.inner.call(request);
        Box::pin(
            {
                let span = span.clone();
                async move {
                    match call.await {
                        Ok(response) => {
                            // Failed before answering: the status is in the
                            // headers.
                            if let Some(status) = Status::from_header_map(response.headers()) {
                                ended(&span, &status);
                                return Ok(response);
                            }
                            Ok(response.map(|body| {
                                Body::new(Observed {
                                    body,
                                    span: Some(span),
                                })
                            }))
                        }
                        Err(e) => {
                            ended(
                                &span,
                                &Status::unavailable("the call did not reach the server"),
                            );
                            Err(e)
                        }
                    }
                }
            }
            .instrument(span),
        )
    }
}

fn ended(span: &tracing::Span, status: &Status) {
    span.record("rpc.grpc.status_code", status.code() as i64);
    if status.code() != Code::Ok {
        span.record("otel.status_code", "ERROR");
        span.record("otel.status_message", status.message());
    }
}

/// A response body that records the call's status when its trailers come.
struct Observed {
    body: Body,
    span: Option<tracing::Span>,
}

impl http_body::Body for Observed {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, Status>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        let status = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.trailers_ref().and_then(Status::from_header_map),
            Poll::Ready(Some(Err(status))) => Some(status.clone()),
            _ => None,
        };
        if let Some(status) = status
            && let Some(span) = self.span.take()
        {
            ended(&span, &status);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        // Dropped before its trailers: the caller gave up on the call.
        if let Some(span) = self.span.take() {
            ended(
                &span,
                &Status::cancelled("the response was dropped before it ended"),
            );
        }
    }
}
