//! Delivers customer notifications as an HTTP POST of JSON to the
//! configured webhook (§5.2.1), for the outbox relay to retry.
//!
//! The body:
//! `{"id", "type", "time", "resource", "ledger_number", "from_status",
//! "to_status", "message", "customer": {"name", "phone", "email"}}`.
//! `id` is the event id: the same notification retried carries the same id,
//! so a receiver can drop duplicates. Any 2xx answer counts as delivered;
//! 408, 429 and 5xx are retried; other 4xx answers are final failures.
//!
//! With a secret configured, each request is signed: `x-procedo-timestamp`
//! (Unix seconds) and `x-procedo-signature: sha256=<hex>`, the HMAC-SHA256
//! of `"<timestamp>.<body>"` under the secret. Receivers recompute it and
//! refuse stale timestamps, so a captured request cannot be replayed later.

use std::time::{Duration, UNIX_EPOCH};

use tracing::Instrument as _;

use procedo_platform::outbox::{Deliver, Outcome};
use procedo_proto::common::Event;
use procedo_proto::intake as pb;
use prost::Message as _;

#[derive(Clone)]
pub struct Webhook {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the signing secret nor the URL's path and query (which
        // often carry a token) reach a log line.
        f.debug_struct("Webhook")
            .field("host", &self.url.host_str().unwrap_or(""))
            .field("signed", &self.secret.is_some())
            .finish()
    }
}

/// The signature of `body` sent at `timestamp` (Unix seconds) under
/// `secret`: lower-case hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn signature(secret: &[u8], timestamp: u64, body: &str) -> String {
    use hmac::Mac as _;
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Webhook {
    pub fn new(url: &str, timeout: Duration, secret: Option<&str>) -> anyhow::Result<Webhook> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("PROCEDO_INTAKE_WEBHOOK_URL {url:?}: {e}"))?;
        anyhow::ensure!(
            matches!(url.scheme(), "http" | "https"),
            "PROCEDO_INTAKE_WEBHOOK_URL must be an http:// or https:// URL"
        );
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("procedo-intake/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Webhook {
            client,
            url,
            secret: secret.map(|s| s.as_bytes().to_vec()),
        })
    }
}

/// The JSON a webhook receives for one event.
pub fn body(event: &Event) -> serde_json::Value {
    let change = event
        .data
        .as_ref()
        .and_then(|any| pb::StatusChanged::decode(any.value.as_slice()).ok())
        .unwrap_or_default();
    let time = event
        .time
        .as_ref()
        .and_then(procedo_platform::time::from_timestamp)
        .and_then(|ms| u64::try_from(ms).ok())
        .map(|ms| {
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
        })
        .unwrap_or_default();
    let customer = change.customer.unwrap_or_default();
    serde_json::json!({
        "id": event.id,
        "type": event.r#type,
        "time": time,
        "resource": change.resource,
        "ledger_number": change.ledger_number,
        "from_status": change.from_status,
        "to_status": change.to_status,
        "message": change.message,
        "customer": {
            "name": customer.name,
            "phone": customer.phone,
            "email": customer.email,
        },
    })
}

impl Deliver for Webhook {
    async fn deliver(&self, event: &Event) -> Outcome {
        // A client span, per OpenTelemetry's HTTP conventions; the URL
        // without its query, which may carry a key.
        let span = tracing::info_span!(
            "webhook.post",
            otel.name = "POST",
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            http.request.method = "POST",
            http.response.status_code = tracing::field::Empty,
            server.address = self.url.host_str().unwrap_or_default(),
            server.port = self.url.port_or_known_default().unwrap_or_default(),
            url.path = self.url.path(),
        );
        let outcome = self.post(event).instrument(span.clone()).await;
        if !matches!(outcome, Outcome::Delivered(_)) {
            span.record("otel.status_code", "ERROR");
        }
        outcome
    }
}

impl Webhook {
    async fn post(&self, event: &Event) -> Outcome {
        let body = body(event).to_string();
        let mut request = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("x-procedo-event-id", &event.id);
        if let Some(secret) = &self.secret {
            let timestamp = std::time::SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            request = request
                .header("x-procedo-timestamp", timestamp.to_string())
                .header(
                    "x-procedo-signature",
                    format!("sha256={}", signature(secret, timestamp, &body)),
                );
        }
        let sent = request.body(body).send().await;
        match sent {
            Ok(response) => {
                let status = response.status();
                tracing::Span::current().record("http.response.status_code", status.as_u16());
                let text = format!("HTTP {}", status.as_u16());
                if status.is_success() {
                    Outcome::Delivered(text)
                } else if status.is_server_error()
                    || status.as_u16() == 408
                    || status.as_u16() == 429
                {
                    Outcome::Retry(text)
                } else {
                    Outcome::Reject(text)
                }
            }
            Err(e) if e.is_timeout() => Outcome::Retry("timed out".to_owned()),
            Err(e) if e.is_connect() => Outcome::Retry("could not connect".to_owned()),
            Err(e) => Outcome::Retry(format!("request failed: {}", failure(e))),
        }
    }
}

/// What went wrong with a request, without the URL: the outcome is stored
/// and listed to callers, and the URL's query often carries a token.
fn failure(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // Reference value from: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
        assert_eq!(
            signature(b"s3cret", 1_700_000_000, r#"{"a":1}"#),
            "1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }
}
