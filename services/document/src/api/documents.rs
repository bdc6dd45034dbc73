//! Documents: registered by staff, seen by those their confidentiality
//! admits.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::document as pb;
use tonic::{Request, Response, Status};

use super::DocumentApi;
use super::categories::code_of;
use super::convert::{self, document_to_pb};
use crate::app::Call;
use crate::domain::document::{DocumentEdit, NewDocument, title_words};
use crate::store::DocumentFilter;

/// Who drafts, registers and uploads documents.
pub const AUTHORS: &[Role] = &[
    Role::Executor,
    Role::DepartmentHead,
    Role::Reviewer,
    Role::Approver,
    Role::Acceptor,
    Role::Archivist,
    Role::IntakeClerk,
    Role::Trainer,
    Role::Service,
];

/// Tags: lower-case, trimmed, each 1 to 40 characters, at most 20.
fn tags(field: &str, values: &[String], v: &mut Violations) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in v.at_most(field, values, 20).iter().enumerate() {
        let tag = v
            .required_line(&format!("{field}[{i}]"), t, 40)
            .to_lowercase();
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// Related resources: "collection/id" names, at most 20.
fn related(field: &str, values: &[String], v: &mut Violations) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, r) in v.at_most(field, values, 20).iter().enumerate() {
        let at = format!("{field}[{i}]");
        let name = v.required_line(&at, r, 200);
        if !name.is_empty() && !is_resource_name(&name) {
            v.add(at, "must be a resource name such as \"applications/<id>\"");
        } else if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn is_resource_name(name: &str) -> bool {
    let mut parts = name.split('/');
    let collection = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    !collection.is_empty()
        && collection.chars().all(|c| c.is_ascii_alphabetic())
        && !rest.is_empty()
        && rest.iter().all(|p| !p.is_empty())
}

/// Grantees: subjects, at most 50.
fn grantees(field: &str, values: &[String], v: &mut Violations) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, g) in v.at_most(field, values, 50).iter().enumerate() {
        let subject = v.required_line(&format!("{field}[{i}]"), g, 100);
        if !subject.is_empty() && !out.contains(&subject) {
            out.push(subject);
        }
    }
    out
}

pub async fn register(
    api: &DocumentApi,
    r: Request<pb::RegisterDocumentRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authorize(&r, AUTHORS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("RegisterDocument", actor, v.request_id(&r.request_id, &r));
    let confidentiality = match r.confidentiality {
        0 => None,
        n => {
            let level = convert::clearance(n);
            if level.is_none() {
                v.add("confidentiality", format!("{n} is not a level"));
            }
            level
        }
    };
    let new = NewDocument {
        category: code_of("category", &r.category, &mut v),
        title: v.required_line("title", &r.title, 300),
        owning_department: v.optional_line("owning_department", &r.owning_department, 100),
        confidentiality,
        tags: tags("tags", &r.tags, &mut v),
        related: related("related", &r.related, &mut v),
        grantees: grantees("grantees", &r.grantees, &mut v),
    };
    v.finish()?;
    Ok(Response::new(
        api.app.register(&call, new, document_to_pb).await?,
    ))
}

pub async fn get(
    api: &DocumentApi,
    r: Request<pb::GetDocumentRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "documents", &r.get_ref().name);
    v.finish()?;
    Ok(Response::new(document_to_pb(
        &api.app.document(&actor, &id).await?,
    )))
}

pub async fn list(
    api: &DocumentApi,
    r: Request<pb::ListDocumentsRequest>,
) -> Result<Response<pb::ListDocumentsResponse>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::of(&r, &mut v);
    let number = v.optional_line("number", &r.number, 100);
    let words: Vec<String> = title_words(&v.optional_line("title_words", &r.title_words, 300))
        .into_iter()
        .collect();
    if words.len() > 10 {
        v.add("title_words", "must hold at most 10 words");
    }
    let optional = |s: String| Some(s).filter(|s| !s.is_empty());
    let filter = DocumentFilter {
        number: optional(number).map(|n| match n.strip_suffix('*') {
            Some(prefix) => (prefix.to_owned(), false),
            None => (n, true),
        }),
        words,
        category: if r.category.is_empty() {
            None
        } else {
            Some(code_of("category", &r.category, &mut v))
        },
        owning_department: optional(v.optional_line(
            "owning_department",
            &r.owning_department,
            100,
        )),
        tag: optional(v.optional_line("tag", &r.tag, 40).to_lowercase()),
        status: convert::status(r.status).unwrap_or_else(|e| {
            v.add("status", e);
            None
        }),
        related: optional(v.optional_line("related", &r.related, 200)),
        registered_from: v.time_opt("registered_after", r.registered_after.as_ref()),
        registered_before: v.time_opt("registered_before", r.registered_before.as_ref()),
    };
    v.finish()?;
    let (rows, next_page_token) = api.app.documents(&actor, &filter, &page).await?;
    Ok(Response::new(pb::ListDocumentsResponse {
        documents: rows.iter().map(document_to_pb).collect(),
        next_page_token,
    }))
}

pub async fn update(
    api: &DocumentApi,
    r: Request<pb::UpdateDocumentRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authorize(&r, AUTHORS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("UpdateDocument", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "documents", &r.name);
    let edit = DocumentEdit {
        title: v.required_line("title", &r.title, 300),
        tags: tags("tags", &r.tags, &mut v),
        related: related("related", &r.related, &mut v),
        grantees: grantees("grantees", &r.grantees, &mut v),
    };
    v.finish()?;
    Ok(Response::new(
        api.app
            .edit(&call, &id, &r.etag, edit, document_to_pb)
            .await?,
    ))
}

pub async fn void(
    api: &DocumentApi,
    r: Request<pb::VoidDocumentRequest>,
) -> Result<Response<pb::Document>, Status> {
    let actor = authorize(&r, AUTHORS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("VoidDocument", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "documents", &r.name);
    let reason = v.required_text("reason", &r.reason, 2_000);
    v.finish()?;
    Ok(Response::new(
        api.app
            .void(&call, &id, &r.etag, reason, document_to_pb)
            .await?,
    ))
}
