//! The document service, asked synchronously by the services that hold
//! document references (DESIGN §3): a reference names a document the
//! caller may see (workflow's plans, intake's materials); a report carries
//! someone's signature (workflow's acceptance). Asked with the caller's own
//! token, so it sees what they may see; bounded by a timeout, so a document
//! service that is down answers UNAVAILABLE, never a hang.

use std::time::Duration;

use crate::error::Error;
use procedo_proto::document as pb;
use procedo_proto::document::document_service_client::DocumentServiceClient;

use crate::outgoing::Outgoing;
use crate::tls::Dialer;
use tonic::{Code, Request};

/// A connection to the document service.
#[derive(Debug, Clone)]
pub struct Documents {
    channel: Outgoing,
    timeout: Duration,
}

const SERVICE: &str = "document";

fn unavailable(reason: impl Into<String>) -> Error {
    Error::PeerUnavailable {
        service: SERVICE,
        reason: reason.into(),
    }
}

impl Documents {
    /// Connects lazily to `url`: a document service that is down fails
    /// the calls that need it, not the start-up.
    pub fn new(url: &str, timeout: Duration, dialer: &Dialer) -> anyhow::Result<Documents> {
        let channel = dialer.connect_lazy(url, timeout, "the document service URL")?;
        Ok(Documents { channel, timeout })
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

    /// Checks `reference` names a document the caller sees; when
    /// `signed_by` is given, that its current version carries that
    /// subject's signature.
    /// `field` names the reference in the caller's request.
    pub async fn check(
        &self,
        field: &str,
        reference: &str,
        bearer: Option<&str>,
        signed_by: Option<&str>,
    ) -> Result<(), Error> {
        let id = reference
            .strip_prefix("documents/")
            .filter(|id| uuid::Uuid::try_parse(id).is_ok())
            .ok_or_else(|| {
                Error::invalid(
                    field,
                    "must name a document of the document service: documents/<id>",
                )
            })?;
        let mut client = DocumentServiceClient::new(self.channel.clone());
        let document = match client
            .get_document(self.request(
                pb::GetDocumentRequest {
                    name: format!("documents/{id}"),
                },
                bearer,
            )?)
            .await
        {
            Ok(d) => d.into_inner(),
            Err(s) if s.code() == Code::NotFound => {
                return Err(Error::Precondition {
                    kind: "DOCUMENT",
                    resource: reference.to_owned(),
                    description: "does not exist in the document service, or is not yours to see"
                        .into(),
                });
            }
            Err(s) => return Err(peer_error(&s)),
        };
        let Some(subject) = signed_by else {
            return Ok(());
        };
        let signatures = client
            .list_signatures(self.request(
                pb::ListSignaturesRequest {
                    document: document.name.clone(),
                },
                bearer,
            )?)
            .await
            .map_err(|s| peer_error(&s))?
            .into_inner()
            .signatures;
        let signed = signatures.iter().any(|s| {
            s.version == document.current_version
                && s.signer.as_ref().is_some_and(|a| a.subject == subject)
        });
        if signed {
            Ok(())
        } else {
            Err(Error::Precondition {
                kind: "SIGNATURE",
                resource: reference.to_owned(),
                description: format!(
                    "is not signed by {subject} on its current version (v{}): sign it in the \
                     document service first",
                    document.current_version
                ),
            })
        }
    }
}

/// What the document service's answer means to the caller.
fn peer_error(status: &tonic::Status) -> Error {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
            unavailable(status.message().to_owned())
        }
        Code::PermissionDenied | Code::Unauthenticated => Error::Denied(format!(
            "the document service refused: {}",
            status.message()
        )),
        _ => unavailable(format!("{:?}: {}", status.code(), status.message())),
    }
}
