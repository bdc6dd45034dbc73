//! The other services, asked over gRPC for the records an inspection
//! samples: intake's ledger, workflow's instances, the document service's
//! documents. Asked with the inspector's own token, so a sample holds only
//! what the inspector may see; bounded by a timeout, so a service that is
//! down answers UNAVAILABLE, never a hang.

use std::time::Duration;

use procedo_platform::error::Error;
use procedo_platform::outgoing::Outgoing;
use procedo_platform::time::{from_timestamp, to_timestamp};
use procedo_platform::tls::Dialer;
use procedo_proto::document::document_service_client::DocumentServiceClient;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;
use procedo_proto::{document, intake, workflow};
use tonic::{Code, Request};

use crate::domain::inspection::Source;

/// The most records of one source a draw reads: a period with more is
/// sampled from its first this many.
pub const MAX_POPULATION: usize = 20_000;
const PAGE: i32 = 500;

/// Connections to the services samples come from; `None` where not
/// configured.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub intake: Option<Outgoing>,
    pub workflow: Option<Outgoing>,
    pub document: Option<Outgoing>,
    pub timeout: Duration,
}

/// A lazy connection to `url` (named by `variable` in errors).
pub fn connect(
    url: Option<&str>,
    variable: &str,
    timeout: Duration,
    dialer: &Dialer,
) -> anyhow::Result<Option<Outgoing>> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    dialer.connect_lazy(url, timeout, variable).map(Some)
}

fn unavailable(service: &'static str, reason: impl Into<String>) -> Error {
    Error::PeerUnavailable {
        service,
        reason: reason.into(),
    }
}

/// What a sampled service's answer means to the inspector.
fn peer_error(service: &'static str, status: &tonic::Status) -> Error {
    match status.code() {
        Code::PermissionDenied | Code::Unauthenticated => Error::Denied(format!(
            "the {service} service refused: {}",
            status.message()
        )),
        code => unavailable(service, format!("{code:?}: {}", status.message())),
    }
}

impl Sources {
    fn channel(&self, source: Source) -> Result<(Outgoing, &'static str), Error> {
        let (channel, service, variable) = match source {
            Source::IntakeLedger => (&self.intake, "intake", "PROCEDO_COMPLIANCE_INTAKE_URL"),
            Source::WorkflowInstances => (
                &self.workflow,
                "workflow",
                "PROCEDO_COMPLIANCE_WORKFLOW_URL",
            ),
            Source::Documents => (
                &self.document,
                "document",
                "PROCEDO_COMPLIANCE_DOCUMENT_URL",
            ),
        };
        channel.clone().map(|c| (c, service)).ok_or_else(|| {
            unavailable(
                service,
                format!("not configured: set {variable} to sample from it"),
            )
        })
    }

    fn request<T>(&self, message: T, bearer: Option<&str>) -> Result<Request<T>, Error> {
        let mut request = Request::new(message);
        request.set_timeout(self.timeout);
        if let Some(bearer) = bearer {
            let value = bearer.parse().map_err(|_| {
                Error::Denied("the caller's authorization cannot be passed on".into())
            })?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }

    /// The records of `source` in [`start`, `end`) (of `department`, where
    /// the source keeps one): (resource name, label).
    pub async fn population(
        &self,
        source: Source,
        department: &str,
        start: i64,
        end: i64,
        bearer: Option<&str>,
    ) -> Result<Vec<(String, String)>, Error> {
        let (channel, service) = self.channel(source)?;
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let next = match source {
                Source::IntakeLedger => {
                    let page = IntakeServiceClient::new(channel.clone())
                        .query_ledger(self.request(
                            intake::QueryLedgerRequest {
                                filter: Some(intake::LedgerFilter {
                                    submitted_after: Some(to_timestamp(start)),
                                    submitted_before: Some(to_timestamp(end)),
                                    ..intake::LedgerFilter::default()
                                }),
                                page_size: PAGE,
                                page_token: token,
                            },
                            bearer,
                        )?)
                        .await
                        .map_err(|s| peer_error(service, &s))?
                        .into_inner();
                    out.extend(page.entries.into_iter().map(|e| {
                        (
                            e.application,
                            format!("{} {}", e.ledger_number, e.matter_title),
                        )
                    }));
                    page.next_page_token
                }
                Source::WorkflowInstances => {
                    let page = WorkflowServiceClient::new(channel.clone())
                        .list_instances(self.request(
                            workflow::ListInstancesRequest {
                                page_size: PAGE,
                                page_token: token,
                                department: department.to_owned(),
                                ..workflow::ListInstancesRequest::default()
                            },
                            bearer,
                        )?)
                        .await
                        .map_err(|s| peer_error(service, &s))?
                        .into_inner();
                    out.extend(
                        page.instances
                            .into_iter()
                            .filter(|i| {
                                i.create_time
                                    .as_ref()
                                    .and_then(from_timestamp)
                                    .is_some_and(|t| t >= start && t < end)
                            })
                            .map(|i| (i.name, i.title)),
                    );
                    page.next_page_token
                }
                Source::Documents => {
                    let page = DocumentServiceClient::new(channel.clone())
                        .list_documents(self.request(
                            document::ListDocumentsRequest {
                                page_size: PAGE,
                                page_token: token,
                                owning_department: department.to_owned(),
                                registered_after: Some(to_timestamp(start)),
                                registered_before: Some(to_timestamp(end)),
                                ..document::ListDocumentsRequest::default()
                            },
                            bearer,
                        )?)
                        .await
                        .map_err(|s| peer_error(service, &s))?
                        .into_inner();
                    out.extend(
                        page.documents
                            .into_iter()
                            .map(|d| (d.name, format!("{} {}", d.number, d.title))),
                    );
                    page.next_page_token
                }
            };
            if next.is_empty() || out.len() >= MAX_POPULATION {
                out.truncate(MAX_POPULATION);
                return Ok(out);
            }
            token = next;
        }
    }
}
