//! One account of every call, kept where an ops team looks: the call's
//! span (joined to the caller's trace) carries its request id, its trace id
//! and, once it ends, its gRPC status code — a server-side failure marks
//! the span as failed, per OpenTelemetry's gRPC conventions — and one line
//! at `info` says which method ended how, after how long. Every log line
//! written while serving the call is inside the span, so it carries the
//! trace id and the request id too.
//!
//! The request id is the caller's `x-request-id` when it sent a usable one
//! (visible ASCII, at most 128 bytes), otherwise a fresh UUID; the response
//! carries it back in `x-request-id`.
//!
//! A call ends when its response body does: a unary call's status is in
//! its trailers (or in its headers when it failed before answering), a
//! stream's when the stream ends; a response dropped before its end was
//! cancelled by the caller.
//!
//! Streams end cleanly when the server goes away. A watch (a response
//! marked [`EndsOnDrain`]: it waits for what has not happened yet) ends
//! with UNAVAILABLE as soon as the server drains, when it waits for its
//! next message, so it never holds the drain; its caller is told to call
//! again, and another replica answers. Any other stream (an export) is work
//! in flight: it gets the grace period, as unary calls do, and is ended
//! with UNAVAILABLE when that runs out rather than cut by a closed
//! connection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::HeaderValue;
use http_body::{Body as _, Frame};
use tokio::sync::watch;
use tonic::{Code, Status};
use tracing::Instrument as _;

use crate::telemetry;

/// The metadata key of the request id, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// The response metadata naming the server's version (`procedo status`
/// shows it).
pub const VERSION: &str = "procedo-version";

/// The longest request id kept from a caller.
const MAX_REQUEST_ID: usize = 128;

/// What a stream still open when the server drains is told.
pub const GOING_AWAY: &str = "the server is shutting down; call again and another replica answers";

/// The mark of a response stream that waits for events (a watch): put it
/// in the response's extensions, and the stream ends as soon as the server
/// drains.
#[derive(Debug, Clone, Copy)]
pub struct EndsOnDrain;

/// Marks `response` as a watch ([`EndsOnDrain`]).
pub fn ends_on_drain<T>(mut response: tonic::Response<T>) -> tonic::Response<T> {
    response.extensions_mut().insert(EndsOnDrain);
    response
}

/// Where the server is in its life, as the calls layer needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    /// Taking no new connections; calls in flight get the grace period.
    Draining,
    /// The grace period is over: what still runs is ended.
    Aborting,
}

/// Wraps a server's routes with the account of every call (outermost, so
/// every answer is counted, refusals by the other layers included).
#[derive(Debug, Clone)]
pub struct CallsLayer {
    phase: watch::Receiver<Phase>,
}

impl CallsLayer {
    /// `phase` follows the server's life: open streams end as it moves on.
    pub fn new(phase: watch::Receiver<Phase>) -> Self {
        CallsLayer { phase }
    }
}

impl<S> tower::Layer<S> for CallsLayer {
    type Service = Calls<S>;

    fn layer(&self, inner: S) -> Calls<S> {
        Calls {
            inner,
            phase: self.phase.clone(),
        }
    }
}

/// The service [`CallsLayer`] makes.
#[derive(Debug, Clone)]
pub struct Calls<S> {
    inner: S,
    phase: watch::Receiver<Phase>,
}

impl<S, B> tower::Service<http::Request<B>> for Calls<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let request_id = request_id(request.headers());
        let span = telemetry::server_span(request.headers(), request.uri().path(), &request_id);
        let mut account = Account {
            span: span.clone(),
            method: request.uri().path().to_owned(),
            started: Instant::now(),
            ended: None,
        };
        let call = span.in_scope(|| self.inner.call(request));
        let phase = self.phase.clone();
        Box::pin(
            async move {
                let mut response = call.await?;
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    response.headers_mut().insert(REQUEST_ID, value);
                }
                response
                    .headers_mut()
                    .insert(VERSION, HeaderValue::from_static(env!("CARGO_PKG_VERSION")));
                // Failed before answering: the status is in the headers.
                if let Some(status) = Status::from_header_map(response.headers()) {
                    account.ended = Some(status);
                }
                let ends_at = if response.extensions().get::<EndsOnDrain>().is_some() {
                    Phase::Draining
                } else {
                    Phase::Aborting
                };
                Ok(response.map(|body| {
                    tonic::body::Body::new(Observed {
                        body,
                        account: Some(account),
                        drain: Drain::Unarmed(phase, ends_at),
                        ended: false,
                    })
                }))
            }
            .instrument(span),
        )
    }
}

/// The caller's usable `x-request-id`, or a fresh one.
fn request_id(headers: &http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// One call as it goes: its span, its method, when it began, and how it
/// ended once that is known.
#[derive(Debug)]
struct Account {
    span: tracing::Span,
    method: String,
    started: Instant,
    ended: Option<Status>,
}

impl Account {
    /// Records how the call ended; `finished` is false when the response
    /// was dropped before its end (the caller went away).
    fn close(self, finished: bool) {
        let Account {
            span,
            method,
            started,
            ended,
        } = self;
        let status = match ended {
            Some(status) => status,
            None if finished => Status::ok(""),
            None => Status::cancelled("the caller went away before the response ended"),
        };
        let code = status.code();
        span.record("rpc.grpc.status_code", code as i64);
        if is_server_failure(code) {
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_message", status.message());
        }
        let took = started.elapsed();
        crate::metrics::call_served(&method, code, took);
        let millis = took.as_secs_f64() * 1000.0;
        tracing::info!(
            parent: &span,
            method = %method,
            code = ?code,
            duration_ms = format_args!("{millis:.3}"),
            "call ended"
        );
    }
}

/// Whether `code` is the server's failure, which marks a server span as
/// failed (OpenTelemetry's gRPC conventions); a caller's mistake
/// (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED…) is not.
pub fn is_server_failure(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

/// A response body that closes its call's account when it ends (or is
/// dropped before), and ends early, with UNAVAILABLE, when it waits for
/// more while the server goes away.
struct Observed {
    body: tonic::body::Body,
    account: Option<Account>,
    drain: Drain,
    /// Ended here by the server going away, whatever the inner body would
    /// do.
    ended: bool,
}

/// When the server no longer lets a response wait: the server's phase and
/// the one the response ends at, turned into a future the first time the
/// body waits (most unary bodies never do).
enum Drain {
    Unarmed(watch::Receiver<Phase>, Phase),
    Armed(Pin<Box<dyn Future<Output = ()> + Send>>),
}

impl Observed {
    /// Whether the server no longer lets this response wait; registers
    /// `cx` to hear when that changes.
    fn drained(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Drain::Unarmed(phase, ends_at) = &self.drain {
            let (mut phase, ends_at) = (phase.clone(), *ends_at);
            self.drain = Drain::Armed(Box::pin(async move {
                // A closed channel means the server is gone.
                let _ = phase.wait_for(|phase| *phase >= ends_at).await;
            }));
        }
        match &mut self.drain {
            Drain::Armed(drained) => drained.as_mut().poll(cx),
            Drain::Unarmed(..) => Poll::Pending,
        }
    }

    /// Ends the response with UNAVAILABLE trailers (a stream still open
    /// when the server goes away).
    fn go_away(&mut self) -> Poll<Option<Result<Frame<bytes::Bytes>, Status>>> {
        self.ended = true;
        let status = Status::unavailable(GOING_AWAY);
        if let Some(account) = self.account.as_mut() {
            account.ended = Some(status.clone());
        }
        let mut trailers = http::HeaderMap::new();
        match status.add_header(&mut trailers) {
            Ok(()) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
            Err(status) => Poll::Ready(Some(Err(status))),
        }
    }
}

impl http_body::Body for Observed {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, Status>>> {
        if self.ended {
            if let Some(account) = self.account.take() {
                account.close(true);
            }
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if polled.is_pending() && self.drained(cx).is_ready() {
            return self.go_away();
        }
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(status) = frame.trailers_ref().and_then(Status::from_header_map)
                    && let Some(account) = self.account.as_mut()
                {
                    account.ended = Some(status);
                }
            }
            Poll::Ready(Some(Err(status))) => {
                if let Some(account) = self.account.as_mut() {
                    account.ended = Some(status.clone());
                }
            }
            Poll::Ready(None) => {
                if let Some(account) = self.account.take() {
                    account.close(true);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        if let Some(account) = self.account.take() {
            // An empty body (the status in the headers) ends unpolled.
            let finished = account.ended.is_some() || self.body.is_end_stream();
            account.close(finished);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usable_caller_request_id_is_kept_and_any_other_replaced() {
        let mut headers = http::HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("crm-42"));
        assert_eq!(request_id(&headers), "crm-42");

        for unusable in ["", "has space", &"x".repeat(129)] {
            headers.insert(
                REQUEST_ID,
                HeaderValue::from_str(unusable).expect("a header"),
            );
            let id = request_id(&headers);
            assert_ne!(id, unusable);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id} is a fresh UUID");
        }
        assert!(uuid::Uuid::parse_str(&request_id(&http::HeaderMap::new())).is_ok());
    }

    #[test]
    fn only_the_servers_own_failures_mark_a_span_as_failed() {
        assert!(is_server_failure(Code::Internal));
        assert!(is_server_failure(Code::Unavailable));
        assert!(is_server_failure(Code::DeadlineExceeded));
        assert!(!is_server_failure(Code::Ok));
        assert!(!is_server_failure(Code::InvalidArgument));
        assert!(!is_server_failure(Code::PermissionDenied));
        assert!(!is_server_failure(Code::NotFound));
    }
}
