//! Archiving: archivists archive and keep track of paper originals, and
//! ask for disposals that a department head approves.

use procedo_platform::auth::authorize;
use procedo_platform::identity::Role;
use procedo_platform::validate::Violations;
use procedo_proto::document as pb;
use tonic::{Request, Response, Status};

use super::DocumentApi;
use super::convert::document_to_pb;
use crate::app::Call;
use crate::domain::document::PaperLocation;

const ARCHIVISTS: &[Role] = &[Role::Archivist];
const APPROVERS: &[Role] = &[Role::DepartmentHead];

fn paper(p: Option<&pb::PaperLocation>, v: &mut Violations) -> Option<PaperLocation> {
    let p = p?;
    let location = PaperLocation {
        room: v.optional_line("paper_location.room", &p.room, 100),
        shelf: v.optional_line("paper_location.shelf", &p.shelf, 100),
        box_: v.optional_line("paper_location.box", &p.r#box, 100),
    };
    if location.room.is_empty() && location.shelf.is_empty() && location.box_.is_empty() {
        v.add(
            "paper_location",
            "name the room, shelf or box (or leave it unset)",
        );
    }
    Some(location)
}

pub async fn archive(
    api: &DocumentApi,
    r: Request<pb::ArchiveDocumentRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authorize(&r, ARCHIVISTS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ArchiveDocument", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("document", "documents", &r.document);
    let paper = paper(r.paper_location.as_ref(), &mut v);
    v.finish()?;
    Ok(Response::new(
        api.app
            .archive(&call, &id, &r.etag, paper, document_to_pb)
            .await?,
    ))
}

pub async fn relocate(
    api: &DocumentApi,
    r: Request<pb::UpdatePaperLocationRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authorize(&r, ARCHIVISTS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "UpdatePaperLocation",
        actor,
        v.request_id(&r.request_id, &r),
    );
    let id = v.resource_id("document", "documents", &r.document);
    let paper = paper(r.paper_location.as_ref(), &mut v);
    v.finish()?;
    Ok(Response::new(
        api.app
            .relocate(&call, &id, &r.etag, paper, document_to_pb)
            .await?,
    ))
}

pub async fn request_disposal(
    api: &DocumentApi,
    r: Request<pb::RequestDisposalRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authorize(&r, ARCHIVISTS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("RequestDisposal", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("document", "documents", &r.document);
    let reason = v.required_text("reason", &r.reason, 2_000);
    v.finish()?;
    Ok(Response::new(
        api.app
            .request_disposal(&call, &id, &r.etag, reason, document_to_pb)
            .await?,
    ))
}

pub async fn approve_disposal(
    api: &DocumentApi,
    r: Request<pb::ApproveDisposalRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authorize(&r, APPROVERS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ApproveDisposal", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("document", "documents", &r.document);
    v.finish()?;
    Ok(Response::new(
        api.app
            .approve_disposal(&call, &id, &r.etag, document_to_pb)
            .await?,
    ))
}
