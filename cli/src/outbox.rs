//! `procedo outbox …`: the events a service has queued for others — its
//! destinations and their backlog, the events of one, and a failed event
//! sent again (admin).

use clap::{Args, Subcommand, ValueEnum};
use procedo_proto::common as pb;
use procedo_proto::common::outbox_service_client::OutboxServiceClient;

use crate::client::Connection;
use crate::dev::Part;
use crate::output::{self, Format, time};

#[derive(Debug, Args)]
pub struct OutboxCommand {
    /// The service whose outbox to read (its endpoint as for its own
    /// commands, or --endpoint).
    #[arg(long, value_enum)]
    service: Part,
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Status {
    Pending,
    Delivered,
    Failed,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Each destination with events queued: pending, failed, the oldest
    /// pending.
    Destinations,
    /// The events queued for a destination, newest first.
    List {
        /// The destination, as `destinations` names it (e.g. workflow,
        /// audit, customer).
        destination: String,
        /// Only events in this status.
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// Only events about this resource, e.g. applications/{id}.
        #[arg(long, default_value = "")]
        subject: String,
    },
    /// Send a failed event again ("outboxEvents/{id}").
    Retry {
        /// The event (outboxEvents/{id}), as `list` names it.
        name: String,
    },
}

pub async fn run(command: OutboxCommand) -> anyhow::Result<()> {
    let connection = command.connection;
    let format = connection.output;
    let mut client = OutboxServiceClient::with_interceptor(
        connection.channel(command.service.client()).await?,
        connection.auth(),
    );
    match command.action {
        Action::Destinations => {
            let list = client
                .list_outbox_destinations(pb::ListOutboxDestinationsRequest {})
                .await?
                .into_inner();
            output::listing(
                format,
                &list,
                "procedo.common.v1.ListOutboxDestinationsResponse",
                &["DESTINATION", "PENDING", "FAILED", "OLDEST PENDING"],
                || {
                    list.destinations
                        .iter()
                        .map(|d| {
                            vec![
                                d.destination.clone(),
                                d.pending.to_string(),
                                d.failed.to_string(),
                                time(d.oldest_pending_time.as_ref()),
                            ]
                        })
                        .collect()
                },
            )
        }
        Action::List {
            destination,
            status,
            subject,
        } => {
            let status = match status {
                None => pb::OutboxEventStatus::Unspecified,
                Some(Status::Pending) => pb::OutboxEventStatus::Pending,
                Some(Status::Delivered) => pb::OutboxEventStatus::Delivered,
                Some(Status::Failed) => pb::OutboxEventStatus::Failed,
            };
            let request = pb::ListOutboxEventsRequest {
                destination,
                status: status as i32,
                subject,
                ..Default::default()
            };
            let events = crate::list_all!(client, list_outbox_events, request, events).await?;
            let list = pb::ListOutboxEventsResponse {
                events,
                next_page_token: String::new(),
            };
            output::listing(
                format,
                &list,
                "procedo.common.v1.ListOutboxEventsResponse",
                EVENT_HEADERS,
                || list.events.iter().map(row).collect(),
            )?;
            Ok(())
        }
        Action::Retry { name } => {
            let event = client
                .retry_outbox_event(pb::RetryOutboxEventRequest { name })
                .await?
                .into_inner();
            match format {
                Format::Json => {
                    crate::out!("{}", output::json(&event, "procedo.common.v1.OutboxEvent")?)
                }
                Format::Table => output::table(EVENT_HEADERS, &[row(&event)]),
            }
            Ok(())
        }
    }
}

const EVENT_HEADERS: &[&str] = &[
    "NAME",
    "TYPE",
    "SUBJECT",
    "STATUS",
    "ATTEMPTS",
    "CREATED",
    "LAST OUTCOME",
];

fn row(e: &pb::OutboxEvent) -> Vec<String> {
    let status = pb::OutboxEventStatus::try_from(e.status)
        .map(|s| s.as_str_name())
        .unwrap_or("?");
    vec![
        e.name.clone(),
        e.event_type.clone(),
        e.subject.clone(),
        status.trim_start_matches("OUTBOX_EVENT_STATUS_").to_owned(),
        e.attempts.len().to_string(),
        time(e.create_time.as_ref()),
        e.attempts
            .last()
            .map(|a| a.outcome.clone())
            .unwrap_or_default(),
    ]
}
