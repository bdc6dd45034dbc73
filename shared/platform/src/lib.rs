//! What every Procedo service stands on, none of it domain-specific.
//!
//! # Layout
//!
//! - [`config`]: settings shared by every service (listen address, database,
//!   auth, telemetry), each a `--flag` and a `PROCEDO_*` variable.
//! - [`telemetry`]: logs, OTLP traces and W3C trace context over gRPC.
//! - [`db`]: one URL picks SQLite or PostgreSQL; migrations; the write path.
//! - [`service`]: the one way to run a service — the [`service::Service`]
//!   trait every service implements and `run(config, listener, shutdown)`.
//! - [`identity`]: the [`identity::Actor`], its roles and clearance; plain
//!   data every domain uses.
//! - [`auth`]: bearer JWT verification into an actor, dev tokens, role
//!   checks at the edge.
//! - [`error`]: the one [`error::Error`] every service returns, database
//!   failures classified, and its conversion to `tonic::Status`.
//! - [`validate`], [`money`], [`etag`]: collecting field violations from
//!   request messages; amounts; etags.
//! - [`mutation`]: the request-id, transaction and commit shape of mutations.
//! - [`outbox`], [`inbox`], [`idempotency`]: exactly-once effects across
//!   services and retries; [`inbox::Sink`] is every service's event sink.
//! - [`server`], [`shutdown`]: health, reflection, timeouts, limits and
//!   graceful drain; [`calls`]: each call's span, request id and log line;
//!   [`supervise`]: background work restarted when it fails, and health
//!   that says so.
//! - [`paging`], [`time`]: AIP page tokens and epoch-millisecond clocks.
//! - [`calendar`], [`deadline`], [`calendars`]: working time, the one
//!   deadline shape, and the company's versioned calendars.
//! - [`documents`]: document references checked with the document service
//!   on the caller's behalf.
//! - [`rows`]: the column shapes every store reads and writes; [`query`]:
//!   statements built at run time; [`writes`]: a use case's writes sent
//!   together.
//! - [`state`]: lifecycles and the illegal-transition error.

pub mod auth;
pub mod calendar;
pub mod calendars;
pub mod calls;
pub mod config;
pub mod db;
pub mod deadline;
pub mod documents;
pub mod error;
pub mod etag;
pub mod idempotency;
pub mod identity;
pub mod inbox;
pub mod keyfile;
pub mod metrics;
pub mod money;
pub mod mutation;
pub mod outbox;
pub mod outbox_api;
pub mod outgoing;
pub mod paging;
pub mod person;
pub mod probe;
pub mod query;
pub mod retention;
pub mod rows;
pub mod server;
pub mod service;
pub mod settings;
pub mod shutdown;
pub mod state;
pub mod supervise;
pub mod telemetry;
pub mod time;
pub mod tls;
pub mod validate;
pub mod writes;
