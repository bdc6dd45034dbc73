//! Domain values to wire messages and back.

use procedo_platform::etag;
use procedo_platform::identity::Clearance;
use procedo_platform::time::{to_timestamp, to_timestamp_opt};
use procedo_proto::common;
use procedo_proto::document as pb;

use crate::domain::category::{Category, SignatureRequirement};
use crate::domain::document::{Document, PaperLocation, Status};
use crate::domain::numbering::Reset;
use crate::domain::person::Person;
use crate::domain::review::{Aspect, Comment, Decision, Round, RoundStatus, Seat};
use crate::domain::signing::{Intent, SignatureRecord, Statement};
use crate::domain::version::Version;

pub fn clearance_to_pb(c: Clearance) -> common::Clearance {
    match c {
        Clearance::Public => common::Clearance::Public,
        Clearance::Internal => common::Clearance::Internal,
        Clearance::Confidential => common::Clearance::Confidential,
        Clearance::Secret => common::Clearance::Secret,
    }
}

/// A level from the wire; `None` when unspecified or unknown.
pub fn clearance(value: i32) -> Option<Clearance> {
    match common::Clearance::try_from(value).ok()? {
        common::Clearance::Public => Some(Clearance::Public),
        common::Clearance::Internal => Some(Clearance::Internal),
        common::Clearance::Confidential => Some(Clearance::Confidential),
        common::Clearance::Secret => Some(Clearance::Secret),
        common::Clearance::Unspecified => None,
    }
}

pub fn reset(value: i32) -> Option<Reset> {
    match pb::NumberReset::try_from(value).ok()? {
        pb::NumberReset::Yearly => Some(Reset::Yearly),
        pb::NumberReset::Never => Some(Reset::Never),
        pb::NumberReset::Unspecified => None,
    }
}

fn reset_to_pb(r: Reset) -> pb::NumberReset {
    match r {
        Reset::Yearly => pb::NumberReset::Yearly,
        Reset::Never => pb::NumberReset::Never,
    }
}

pub fn status_to_pb(s: Status) -> pb::DocumentStatus {
    match s {
        Status::Draft => pb::DocumentStatus::Draft,
        Status::InReview => pb::DocumentStatus::InReview,
        Status::Approved => pb::DocumentStatus::Approved,
        Status::Signed => pb::DocumentStatus::Signed,
        Status::Archived => pb::DocumentStatus::Archived,
        Status::Voided => pb::DocumentStatus::Voided,
        Status::Disposed => pb::DocumentStatus::Disposed,
    }
}

/// A status filter: `Ok(None)` when unspecified.
pub fn status(value: i32) -> Result<Option<Status>, String> {
    match pb::DocumentStatus::try_from(value) {
        Ok(pb::DocumentStatus::Unspecified) => Ok(None),
        Ok(pb::DocumentStatus::Draft) => Ok(Some(Status::Draft)),
        Ok(pb::DocumentStatus::InReview) => Ok(Some(Status::InReview)),
        Ok(pb::DocumentStatus::Approved) => Ok(Some(Status::Approved)),
        Ok(pb::DocumentStatus::Signed) => Ok(Some(Status::Signed)),
        Ok(pb::DocumentStatus::Archived) => Ok(Some(Status::Archived)),
        Ok(pb::DocumentStatus::Disposed) => Ok(Some(Status::Disposed)),
        Ok(pb::DocumentStatus::Voided) => Ok(Some(Status::Voided)),
        Err(_) => Err(format!("{value} is not a document status")),
    }
}

pub fn requirement(r: &pb::SignatureRequirement) -> SignatureRequirement {
    SignatureRequirement {
        role: r.role.clone(),
        department: r.department.clone(),
        description: r.description.clone(),
    }
}

pub fn category_to_pb(c: &Category) -> pb::Category {
    pb::Category {
        name: c.resource(),
        code: c.code.clone(),
        display_name: c.display_name.clone(),
        number_pattern: c.pattern.to_string(),
        number_reset: reset_to_pb(c.reset) as i32,
        default_confidentiality: clearance_to_pb(c.default_confidentiality) as i32,
        retention_years: c.retention_years,
        required_signatures: c
            .required_signatures
            .iter()
            .map(|r| pb::SignatureRequirement {
                role: r.role.clone(),
                department: r.department.clone(),
                description: r.description.clone(),
            })
            .collect(),
        create_time: Some(to_timestamp(c.created_at)),
        update_time: Some(to_timestamp(c.updated_at)),
        etag: etag::of(c.version),
    }
}

pub fn document_to_pb(d: &Document) -> pb::Document {
    pb::Document {
        name: d.resource(),
        number: d.number.clone(),
        title: d.title.clone(),
        category: format!("categories/{}", d.category),
        owning_department: d.owning_department.clone(),
        confidentiality: clearance_to_pb(d.confidentiality) as i32,
        tags: d.tags.clone(),
        related: d.related.clone(),
        grantees: d.grantees.clone(),
        author: Some(d.author.to_proto()),
        status: status_to_pb(d.status) as i32,
        void_reason: d.void_reason.clone(),
        current_version: d.current_version,
        create_time: Some(to_timestamp(d.created_at)),
        update_time: Some(to_timestamp(d.updated_at)),
        etag: etag::of(d.version),
        archive: d.archive.as_ref().map(|a| pb::Archive {
            archive_time: Some(to_timestamp(a.at)),
            archivist: Some(a.archivist.to_proto()),
            retain_until: to_timestamp_opt(a.retain_until),
            paper_location: a.paper.as_ref().map(paper_to_pb),
        }),
        disposal: d.disposal.as_ref().map(|x| pb::Disposal {
            reason: x.reason.clone(),
            requested_by: Some(x.requested_by.to_proto()),
            request_time: Some(to_timestamp(x.requested_at)),
            approved_by: x.approved_by.as_ref().map(Person::to_proto),
            dispose_time: to_timestamp_opt(x.disposed_at),
        }),
    }
}

fn paper_to_pb(p: &PaperLocation) -> pb::PaperLocation {
    pb::PaperLocation {
        room: p.room.clone(),
        shelf: p.shelf.clone(),
        r#box: p.box_.clone(),
    }
}

pub fn version_to_pb(v: &Version) -> pb::DocumentVersion {
    pb::DocumentVersion {
        name: v.resource(),
        document: format!("documents/{}", v.document_id),
        version: v.version,
        content_sha256: v.content_sha256.clone(),
        size_bytes: v.size_bytes,
        media_type: v.media_type.clone(),
        file_name: v.file_name.clone(),
        change_summary: v.change_summary.clone(),
        author: Some(v.author.to_proto()),
        create_time: Some(to_timestamp(v.created_at)),
    }
}

pub fn round_to_pb(r: &Round) -> pb::ReviewRound {
    pb::ReviewRound {
        name: r.resource(),
        document: format!("documents/{}", r.document_id),
        round: r.round,
        version: r.version,
        status: match r.status {
            RoundStatus::Open => pb::ReviewRoundStatus::Open,
            RoundStatus::Approved => pb::ReviewRoundStatus::Approved,
            RoundStatus::ChangesRequested => pb::ReviewRoundStatus::ChangesRequested,
        } as i32,
        seats: r
            .seats
            .iter()
            .map(|s| pb::ReviewSeatDecision {
                seat: Some(pb::ReviewerSeat {
                    seat: Some(match &s.seat {
                        Seat::Person(subject) => pb::reviewer_seat::Seat::Reviewer(subject.clone()),
                        Seat::Pool { department, role } => {
                            pb::reviewer_seat::Seat::Pool(pb::ReviewerPool {
                                department: department.clone(),
                                role: role.clone(),
                            })
                        }
                    }),
                }),
                decision: match s.decision {
                    None => pb::ReviewDecision::Unspecified,
                    Some(Decision::Approve) => pb::ReviewDecision::Approve,
                    Some(Decision::RequestChanges) => pb::ReviewDecision::RequestChanges,
                } as i32,
                decided_by: s.decided_by.as_ref().map(Person::to_proto),
                comment: s.comment.clone(),
                decide_time: to_timestamp_opt(s.at),
            })
            .collect(),
        submitted_by: Some(r.submitted_by.to_proto()),
        submit_time: Some(to_timestamp(r.submitted_at)),
        close_time: to_timestamp_opt(r.closed_at),
        etag: etag::of(r.row_version),
    }
}

pub fn comment_to_pb(c: &Comment) -> pb::ReviewComment {
    pb::ReviewComment {
        name: format!(
            "documents/{}/reviewRounds/{}/comments/{}",
            c.document_id, c.round, c.seq
        ),
        version: c.version,
        aspect: match c.aspect {
            Aspect::Accuracy => pb::ReviewAspect::Accuracy,
            Aspect::Format => pb::ReviewAspect::Format,
            Aspect::Compliance => pb::ReviewAspect::Compliance,
            Aspect::Other => pb::ReviewAspect::Other,
        } as i32,
        anchor: c.anchor.clone(),
        text: c.text.clone(),
        author: Some(c.author.to_proto()),
        create_time: Some(to_timestamp(c.at)),
    }
}

pub fn signature_to_pb(s: &SignatureRecord) -> pb::Signature {
    let statement = Statement::parse(&s.statement);
    pb::Signature {
        name: s.resource(),
        document: format!("documents/{}", s.document_id),
        document_number: statement.map(|st| st.number).unwrap_or_default(),
        version: s.version,
        content_sha256: s.content_sha256.clone(),
        signer: Some(common::Actor {
            subject: s.signer.subject.clone(),
            name: s.signer.name.clone(),
            title: s.signer.title.clone(),
            department: s.signer.department.clone(),
            ..Default::default()
        }),
        sign_time: Some(to_timestamp(s.at)),
        intent: match s.intent {
            Intent::Approve => pb::SignatureIntent::Approve,
            Intent::Issue => pb::SignatureIntent::Issue,
            Intent::Accept => pb::SignatureIntent::Accept,
        } as i32,
        key_id: s.key_id.clone(),
        signature: s.signature.clone(),
        statement: s.statement.clone(),
    }
}
