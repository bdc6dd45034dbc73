//! Protobuf ↔ domain. Reading a request records every problem as a field
//! violation; writing a response cannot fail.

use procedo_platform::calendar::Limit;
use procedo_platform::etag;
use procedo_platform::time::{self, Millis, to_timestamp, to_timestamp_opt};
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;

use crate::domain::application::{
    Applicant, Application, ApplicationStatus, Material, Money, RejectionReason,
};
use crate::domain::application_type::{ApplicationType, MaterialRequirement};
use crate::domain::inquiry::{Channel, Customer, EntryKind, Inquiry, InquiryEntry, InquiryStatus};

// ----------------------------------------------------------------- enums

pub fn channel(value: i32, field: &str, v: &mut Violations) -> Option<Channel> {
    match pb::Channel::try_from(value) {
        Ok(pb::Channel::Phone) => Some(Channel::Phone),
        Ok(pb::Channel::Email) => Some(Channel::Email),
        Ok(pb::Channel::Online) => Some(Channel::Online),
        Ok(pb::Channel::WalkIn) => Some(Channel::WalkIn),
        Ok(pb::Channel::Unspecified) => {
            v.add(field, "is required");
            None
        }
        Err(_) => {
            v.add(field, format!("{value} is not a known channel"));
            None
        }
    }
}

/// An optional channel filter: unspecified means any.
pub fn channel_filter(value: i32, v: &mut Violations) -> Option<Channel> {
    if value == 0 {
        None
    } else {
        channel(value, "channel", v)
    }
}

fn channel_to_pb(c: Channel) -> pb::Channel {
    match c {
        Channel::Phone => pb::Channel::Phone,
        Channel::Email => pb::Channel::Email,
        Channel::Online => pb::Channel::Online,
        Channel::WalkIn => pb::Channel::WalkIn,
    }
}

pub fn inquiry_status_filter(value: i32, v: &mut Violations) -> Option<InquiryStatus> {
    match pb::InquiryStatus::try_from(value) {
        Ok(pb::InquiryStatus::Unspecified) => None,
        Ok(pb::InquiryStatus::Open) => Some(InquiryStatus::Open),
        Ok(pb::InquiryStatus::Responded) => Some(InquiryStatus::Responded),
        Ok(pb::InquiryStatus::Escalated) => Some(InquiryStatus::Escalated),
        Ok(pb::InquiryStatus::Resolved) => Some(InquiryStatus::Resolved),
        Ok(pb::InquiryStatus::Closed) => Some(InquiryStatus::Closed),
        Err(_) => {
            v.add("status", format!("{value} is not a known inquiry status"));
            None
        }
    }
}

fn inquiry_status_to_pb(s: InquiryStatus) -> pb::InquiryStatus {
    match s {
        InquiryStatus::Open => pb::InquiryStatus::Open,
        InquiryStatus::Responded => pb::InquiryStatus::Responded,
        InquiryStatus::Escalated => pb::InquiryStatus::Escalated,
        InquiryStatus::Resolved => pb::InquiryStatus::Resolved,
        InquiryStatus::Closed => pb::InquiryStatus::Closed,
    }
}

pub fn application_status_filter(
    value: i32,
    field: &str,
    v: &mut Violations,
) -> Option<ApplicationStatus> {
    match pb::ApplicationStatus::try_from(value) {
        Ok(pb::ApplicationStatus::Unspecified) => None,
        Ok(pb::ApplicationStatus::Incomplete) => Some(ApplicationStatus::Incomplete),
        Ok(pb::ApplicationStatus::PendingReview) => Some(ApplicationStatus::PendingReview),
        Ok(pb::ApplicationStatus::CorrectionRequested) => {
            Some(ApplicationStatus::CorrectionRequested)
        }
        Ok(pb::ApplicationStatus::Accepted) => Some(ApplicationStatus::Accepted),
        Ok(pb::ApplicationStatus::Rejected) => Some(ApplicationStatus::Rejected),
        Ok(pb::ApplicationStatus::Withdrawn) => Some(ApplicationStatus::Withdrawn),
        Ok(pb::ApplicationStatus::InProgress) => Some(ApplicationStatus::InProgress),
        Ok(pb::ApplicationStatus::Completed) => Some(ApplicationStatus::Completed),
        Ok(pb::ApplicationStatus::Cancelled) => Some(ApplicationStatus::Cancelled),
        Err(_) => {
            v.add(field, format!("{value} is not a known application status"));
            None
        }
    }
}

pub fn application_status_to_pb(s: ApplicationStatus) -> pb::ApplicationStatus {
    match s {
        ApplicationStatus::Incomplete => pb::ApplicationStatus::Incomplete,
        ApplicationStatus::PendingReview => pb::ApplicationStatus::PendingReview,
        ApplicationStatus::CorrectionRequested => pb::ApplicationStatus::CorrectionRequested,
        ApplicationStatus::Accepted => pb::ApplicationStatus::Accepted,
        ApplicationStatus::Rejected => pb::ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn => pb::ApplicationStatus::Withdrawn,
        ApplicationStatus::InProgress => pb::ApplicationStatus::InProgress,
        ApplicationStatus::Completed => pb::ApplicationStatus::Completed,
        ApplicationStatus::Cancelled => pb::ApplicationStatus::Cancelled,
    }
}

pub fn rejection_reason(value: i32, field: &str, v: &mut Violations) -> Option<RejectionReason> {
    match pb::RejectionReason::try_from(value) {
        Ok(pb::RejectionReason::OutOfScope) => Some(RejectionReason::OutOfScope),
        Ok(pb::RejectionReason::Unclear) => Some(RejectionReason::Unclear),
        Ok(pb::RejectionReason::Unspecified) => {
            v.add(field, "is required: OUT_OF_SCOPE or UNCLEAR");
            None
        }
        Err(_) => {
            v.add(field, format!("{value} is not a known rejection reason"));
            None
        }
    }
}

fn rejection_reason_to_pb(r: RejectionReason) -> pb::RejectionReason {
    match r {
        RejectionReason::OutOfScope => pb::RejectionReason::OutOfScope,
        RejectionReason::Unclear => pb::RejectionReason::Unclear,
    }
}

fn entry_kind_to_pb(k: EntryKind) -> pb::InquiryEntryKind {
    match k {
        EntryKind::Created => pb::InquiryEntryKind::Created,
        EntryKind::Response => pb::InquiryEntryKind::Response,
        EntryKind::Note => pb::InquiryEntryKind::Note,
        EntryKind::Escalation => pb::InquiryEntryKind::Escalation,
        EntryKind::Resolution => pb::InquiryEntryKind::Resolution,
        EntryKind::Closure => pb::InquiryEntryKind::Closure,
        EntryKind::Pause => pb::InquiryEntryKind::Pause,
        EntryKind::Resume => pb::InquiryEntryKind::Resume,
        EntryKind::DeadlineMoved => pb::InquiryEntryKind::DeadlineMoved,
    }
}

// ------------------------------------------------------------ messages in

/// A person's name and contact; at least one of phone and e-mail.
fn contact(
    prefix: &str,
    name: &str,
    phone: &str,
    email: &str,
    v: &mut Violations,
) -> (String, String, String) {
    let name = v.required_line(&format!("{prefix}.name"), name, 200);
    let phone = v.optional_phone(&format!("{prefix}.phone"), phone);
    let email = v.optional_email(&format!("{prefix}.email"), email);
    if phone.is_empty() && email.is_empty() {
        v.add(prefix, "needs a phone number or an e-mail address");
    }
    (name, phone, email)
}

pub fn customer(c: Option<&pb::Customer>, v: &mut Violations) -> Customer {
    let Some(c) = c else {
        v.add("customer", "is required");
        return Customer {
            name: String::new(),
            phone: String::new(),
            email: String::new(),
        };
    };
    let (name, phone, email) = contact("customer", &c.name, &c.phone, &c.email, v);
    Customer { name, phone, email }
}

pub fn applicant(a: Option<&pb::Applicant>, v: &mut Violations) -> Applicant {
    let Some(a) = a else {
        v.add("applicant", "is required");
        return Applicant {
            name: String::new(),
            organisation: String::new(),
            phone: String::new(),
            email: String::new(),
        };
    };
    let (name, phone, email) = contact("applicant", &a.name, &a.phone, &a.email, v);
    let organisation = v.optional_line("applicant.organisation", &a.organisation, 200);
    Applicant {
        name,
        organisation,
        phone,
        email,
    }
}

/// A matter's title and description.
pub fn matter(field: &str, m: Option<&pb::Matter>, v: &mut Violations) -> (String, String) {
    let Some(m) = m else {
        v.add(field, "is required");
        return (String::new(), String::new());
    };
    (
        v.required_line(&format!("{field}.title"), &m.title, 200),
        v.optional_text(&format!("{field}.description"), &m.description, 10_000),
    )
}

pub fn materials(field: &str, list: &[pb::Material], v: &mut Violations) -> Vec<Material> {
    v.at_most(field, list, 200)
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let prefix = format!("{field}[{i}]");
            let name = v.required_line(&format!("{prefix}.name"), &m.name, 200);
            let hash = m.content_sha256.trim().to_owned();
            if !hash.is_empty()
                && (hash.len() != 64
                    || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            {
                v.add(
                    format!("{prefix}.content_sha256"),
                    "must be 64 lower-case hex digits",
                );
            }
            let document_ref =
                v.optional_line(&format!("{prefix}.document_ref"), &m.document_ref, 300);
            if hash.is_empty() && document_ref.is_empty() {
                v.add(prefix, "needs a content_sha256 or a document_ref");
            }
            Material {
                name,
                content_sha256: hash,
                document_ref,
            }
        })
        .collect()
}

pub fn requirements(list: &[pb::MaterialRequirement]) -> Vec<MaterialRequirement> {
    list.iter()
        .map(|m| MaterialRequirement {
            name: m.name.clone(),
            mandatory: m.mandatory,
        })
        .collect()
}

// ----------------------------------------------------------- messages out

fn pb_customer(c: &Customer) -> pb::Customer {
    pb::Customer {
        name: c.name.clone(),
        phone: c.phone.clone(),
        email: c.email.clone(),
    }
}

pub fn inquiry_to_pb(i: &Inquiry, now: Millis) -> pb::Inquiry {
    pb::Inquiry {
        name: format!("inquiries/{}", i.id),
        channel: channel_to_pb(i.channel) as i32,
        customer: Some(pb_customer(&i.customer)),
        subject: i.subject.clone(),
        text: i.text.clone(),
        status: inquiry_status_to_pb(i.status) as i32,
        department: i.department.clone(),
        specialist: i.specialist.clone(),
        response_due_time: Some(to_timestamp(i.response.due)),
        first_response_time: to_timestamp_opt(i.first_response_at),
        resolve_time: to_timestamp_opt(i.resolved_at),
        overdue: i.is_overdue(now),
        satisfaction: i.satisfaction,
        entries: i.entries.iter().map(entry_to_pb).collect(),
        created_by: Some(i.created_by.to_proto()),
        create_time: Some(to_timestamp(i.created_at)),
        update_time: Some(to_timestamp(i.updated_at)),
        etag: etag::of(i.version),
        response: Some(i.response.to_proto(now)),
        entry_count: i32::try_from(i.entry_count()).unwrap_or(i32::MAX),
    }
}

pub fn entry_to_pb(e: &InquiryEntry) -> pb::InquiryEntry {
    pb::InquiryEntry {
        kind: entry_kind_to_pb(e.kind) as i32,
        text: e.text.clone(),
        customer_need: e.customer_need.clone(),
        department: e.department.clone(),
        specialist: e.specialist.clone(),
        from_status: e.from.map_or(0, |s| inquiry_status_to_pb(s) as i32),
        to_status: inquiry_status_to_pb(e.to) as i32,
        actor: Some(e.actor.to_proto()),
        time: Some(to_timestamp(e.at)),
        shared_with_customer: e.shared_with_customer,
    }
}

pub fn pb_applicant(a: &Applicant) -> pb::Applicant {
    pb::Applicant {
        name: a.name.clone(),
        organisation: a.organisation.clone(),
        phone: a.phone.clone(),
        email: a.email.clone(),
    }
}

pub fn application_to_pb(a: &Application, now: Millis) -> pb::Application {
    pb::Application {
        name: format!("applications/{}", a.id),
        ledger_number: a.ledger_number.clone(),
        type_code: a.type_code.clone(),
        applicant: Some(pb_applicant(&a.applicant)),
        matter: Some(pb::Matter {
            title: a.title.clone(),
            description: a.description.clone(),
        }),
        amount: a.amount.as_ref().map(Money::to_proto),
        materials: a
            .materials
            .iter()
            .map(|m| pb::Material {
                name: m.name.clone(),
                content_sha256: m.content_sha256.clone(),
                document_ref: m.document_ref.clone(),
            })
            .collect(),
        status: application_status_to_pb(a.status) as i32,
        missing_materials: a.missing.clone(),
        correction_items: a.correction_items.clone(),
        rejection: a
            .rejection
            .as_ref()
            .map(|(reason, explanation)| pb::Rejection {
                reason: rejection_reason_to_pb(*reason) as i32,
                explanation: explanation.clone(),
            }),
        submit_time: Some(to_timestamp(a.submitted_at)),
        due_time: Some(to_timestamp(a.processing.due)),
        update_time: Some(to_timestamp(a.updated_at)),
        submitted_by: Some(a.submitted_by.to_proto()),
        etag: etag::of(a.version),
        process_instance: a.process_instance.clone(),
        stage: a.stage.clone(),
        processing: Some(a.processing.to_proto(now)),
    }
}

pub fn type_to_pb(t: &ApplicationType) -> pb::ApplicationType {
    pb::ApplicationType {
        name: format!("applicationTypes/{}", t.code),
        code: t.code.clone(),
        display_name: t.display_name.clone(),
        in_scope: t.in_scope,
        materials: t
            .materials
            .iter()
            .map(|m| pb::MaterialRequirement {
                name: m.name.clone(),
                mandatory: m.mandatory,
            })
            .collect(),
        processing_time_limit: match t.processing_limit {
            Limit::Elapsed(ms) => Some(time::to_proto_duration(ms)),
            Limit::WorkingTime(_) | Limit::WorkingDays(_) => None,
        },
        processing_limit: Some(t.processing_limit.to_proto()),
        process_key: t.process_key.clone(),
        create_time: Some(to_timestamp(t.created_at)),
        update_time: Some(to_timestamp(t.updated_at)),
        etag: etag::of(t.version),
        handling_department: t.handling_department.clone(),
        calendar_id: t.calendar.clone(),
    }
}

pub fn ledger_entry(a: &Application) -> pb::LedgerEntry {
    pb::LedgerEntry {
        ledger_number: a.ledger_number.clone(),
        application: format!("applications/{}", a.id),
        submit_time: Some(to_timestamp(a.submitted_at)),
        applicant: Some(pb_applicant(&a.applicant)),
        type_code: a.type_code.clone(),
        matter_title: a.title.clone(),
        amount: a.amount.as_ref().map(Money::to_proto),
        material_names: a.materials.iter().map(|m| m.name.clone()).collect(),
        status: application_status_to_pb(a.status) as i32,
        due_time: Some(to_timestamp(a.processing.due)),
    }
}
