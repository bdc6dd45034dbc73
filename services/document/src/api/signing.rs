//! Signing: authors' colleagues sign what was approved; anyone who may see
//! a document checks its signatures, online or offline.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::time::to_timestamp;
use procedo_platform::validate::Violations;
use procedo_proto::document as pb;
use tonic::{Request, Response, Status};

use super::DocumentApi;
use super::convert::signature_to_pb;
use crate::app::Call;
use crate::domain::signing::Intent;

/// Who signs: those who approve, accept, head departments, issue.
const SIGNERS: &[Role] = &[
    Role::DepartmentHead,
    Role::Approver,
    Role::Acceptor,
    Role::Reviewer,
    Role::Archivist,
    Role::Executor,
];

pub async fn sign(
    api: &DocumentApi,
    r: Request<pb::SignDocumentRequest>,
) -> Result<Response<pb::Signature>, Status> {
    let actor = authorize(&r, SIGNERS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("SignDocument", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("document", "documents", &r.document);
    let intent = match pb::SignatureIntent::try_from(r.intent) {
        Ok(pb::SignatureIntent::Approve) => Some(Intent::Approve),
        Ok(pb::SignatureIntent::Issue) => Some(Intent::Issue),
        Ok(pb::SignatureIntent::Accept) => Some(Intent::Accept),
        _ => {
            v.add(
                "intent",
                "must be SIGNATURE_INTENT_APPROVE, _ISSUE or _ACCEPT",
            );
            None
        }
    };
    v.finish()?;
    let Some(intent) = intent else {
        return Err(Status::invalid_argument("intent is required"));
    };
    Ok(Response::new(
        api.app
            .sign(&call, &id, &r.etag, intent, signature_to_pb)
            .await?,
    ))
}

pub async fn list(
    api: &DocumentApi,
    r: Request<pb::ListSignaturesRequest>,
) -> Result<Response<pb::ListSignaturesResponse>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let id = v.resource_id("document", "documents", &r.get_ref().document);
    v.finish()?;
    let signatures = api.app.signatures(&actor, &id).await?;
    Ok(Response::new(pb::ListSignaturesResponse {
        signatures: signatures.iter().map(signature_to_pb).collect(),
    }))
}

pub async fn keys(
    api: &DocumentApi,
    r: Request<pb::ListSigningKeysRequest>,
) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
    authenticated(&r)?;
    let keys = api.app.signing_keys().await?;
    Ok(Response::new(pb::ListSigningKeysResponse {
        keys: keys
            .into_iter()
            .map(|(key_id, public_key, active, created)| pb::SigningKey {
                key_id,
                public_key,
                active,
                create_time: Some(to_timestamp(created)),
            })
            .collect(),
    }))
}

pub async fn verify(
    api: &DocumentApi,
    r: Request<pb::VerifyDocumentRequest>,
) -> Result<Response<pb::VerifyDocumentResponse>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let (id, version) = super::versions::download_target(&r.get_ref().name, &mut v);
    v.finish()?;
    let checked = api.app.verify(&actor, &id, version).await?;
    let content_intact = checked.recorded_sha256 == checked.actual_sha256;
    let checks: Vec<pb::SignatureCheck> = checked
        .checks
        .iter()
        .map(|(s, result)| pb::SignatureCheck {
            signature: Some(signature_to_pb(s)),
            valid: result.is_ok(),
            problem: result
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default(),
        })
        .collect();
    let valid = content_intact && checks.iter().all(|c| c.valid);
    Ok(Response::new(pb::VerifyDocumentResponse {
        version: checked.version,
        recorded_sha256: checked.recorded_sha256,
        actual_sha256: checked.actual_sha256,
        content_intact,
        checks,
        valid,
    }))
}
