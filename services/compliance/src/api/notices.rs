//! `procedo.compliance.v1.RectificationService`: auditors issue, verify
//! and reopen; the department answers.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::time::{to_timestamp, to_timestamp_opt};
use procedo_platform::validate::Violations;
use procedo_proto::compliance as pb;
use tonic::{Request, Response, Status};

use super::history_to_pb;
use super::inspections::evidence_of;
use crate::app::{App, Due, NoticeRequest, Step};
use crate::domain::notice::{Notice, NoticeStatus};
use crate::store::NoticeFilter;

/// Who issues, verifies and reopens (admins always may).
const AUDITORS: &[Role] = &[Role::Auditor];
/// Who reads: the inspectors and the departments' heads (a notice's named
/// head is let through by the notice itself).
const READERS: &[Role] = &[Role::Auditor, Role::DepartmentHead];

#[derive(Debug, Clone)]
pub struct RectificationApi {
    app: App,
}

impl RectificationApi {
    pub fn new(app: App) -> RectificationApi {
        RectificationApi { app }
    }
}

fn status_to_pb(s: NoticeStatus) -> i32 {
    (match s {
        NoticeStatus::Issued => pb::NoticeStatus::Issued,
        NoticeStatus::Acknowledged => pb::NoticeStatus::Acknowledged,
        NoticeStatus::InProgress => pb::NoticeStatus::InProgress,
        NoticeStatus::Submitted => pb::NoticeStatus::Submitted,
        NoticeStatus::Verified => pb::NoticeStatus::Verified,
        NoticeStatus::Reopened => pb::NoticeStatus::Reopened,
    }) as i32
}

pub fn notice_to_pb(n: &Notice, now: procedo_platform::time::Millis) -> pb::RectificationNotice {
    pb::RectificationNotice {
        name: n.resource(),
        findings: n.findings.clone(),
        department: n.department.clone(),
        department_head: n.department_head.clone(),
        requirements: n.requirements.clone(),
        status: status_to_pb(n.status),
        deadline: Some(n.deadline.to_proto(now)),
        escalate_time: to_timestamp_opt(n.escalated_at),
        inspector: Some(n.inspector.to_proto()),
        evidence: n.evidence.clone(),
        submission_notes: n.submission_notes.clone(),
        reopen_reason: n.reopen_reason.clone(),
        history: n
            .history
            .iter()
            .map(|e| {
                let (action, detail, actor, time) = history_to_pb(e);
                pb::NoticeEntry {
                    action,
                    detail,
                    actor,
                    time,
                }
            })
            .collect(),
        create_time: Some(to_timestamp(n.created_at)),
        etag: procedo_platform::etag::of(n.row_version),
    }
}

/// The deadline of a request: a time limit or a due time, one of them.
fn due_of(
    limit: Option<&procedo_proto::common::TimeLimit>,
    due_time: Option<&prost_types::Timestamp>,
    v: &mut Violations,
) -> Option<Due> {
    match (limit, due_time) {
        (Some(_), None) => v.time_limit("time_limit", limit).map(Due::Limit),
        (None, Some(_)) => v.time_opt("due_time", due_time).map(Due::At),
        _ => {
            v.add(
                "time_limit",
                "give the deadline: a time_limit or a due_time (one of them)",
            );
            None
        }
    }
}

impl RectificationApi {
    async fn step(
        &self,
        call: Call,
        notice: &str,
        etag: &str,
        step: Step,
        mut v: Violations,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let id = v.resource_id("notice", "rectificationNotices", notice);
        v.finish()?;
        let now = self.app.now();
        Ok(Response::new(
            self.app
                .step_notice(&call, &id, etag, step, |n| notice_to_pb(n, now))
                .await?,
        ))
    }
}

#[tonic::async_trait]
impl pb::rectification_service_server::RectificationService for RectificationApi {
    async fn issue_notice(
        &self,
        r: Request<pb::IssueNoticeRequest>,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("IssueNotice", actor, v.request_id(&r.request_id, &r));
        if r.findings.is_empty() {
            v.add("findings", "give at least one finding");
        }
        if r.findings.len() > 100 {
            v.add("findings", "at most 100");
        }
        let mut findings: Vec<String> = r
            .findings
            .iter()
            .enumerate()
            .map(|(n, f)| v.resource_id(&format!("findings[{n}]"), "findings", f))
            .collect();
        findings.sort();
        findings.dedup();
        let department = v.required_line("department", &r.department, 200);
        let head = v.optional_line("department_head", &r.department_head, 200);
        let requirements = v.required_text("requirements", &r.requirements, 4_000);
        let due = due_of(r.time_limit.as_ref(), r.due_time.as_ref(), &mut v);
        v.finish()?;
        let due = due.ok_or_else(|| Status::invalid_argument("time_limit"))?;
        let now = self.app.now();
        Ok(Response::new(
            self.app
                .issue_notice(
                    &call,
                    NoticeRequest {
                        findings,
                        department,
                        department_head: head,
                        requirements,
                        due,
                    },
                    |n| notice_to_pb(n, now),
                )
                .await?,
        ))
    }

    async fn get_notice(
        &self,
        r: Request<pb::GetNoticeRequest>,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let actor = authenticated(&r)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "rectificationNotices", &r.get_ref().name);
        v.finish()?;
        let notice = self.app.notice(&actor, &id).await?;
        Ok(Response::new(notice_to_pb(&notice, self.app.now())))
    }

    async fn list_notices(
        &self,
        r: Request<pb::ListNoticesRequest>,
    ) -> Result<Response<pb::ListNoticesResponse>, Status> {
        let actor = authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let now = self.app.now();
        let filter = NoticeFilter {
            department: v.optional_line("department", &r.department, 200),
            status: match pb::NoticeStatus::try_from(r.status) {
                Ok(pb::NoticeStatus::Unspecified) => None,
                Ok(pb::NoticeStatus::Issued) => Some(NoticeStatus::Issued),
                Ok(pb::NoticeStatus::Acknowledged) => Some(NoticeStatus::Acknowledged),
                Ok(pb::NoticeStatus::InProgress) => Some(NoticeStatus::InProgress),
                Ok(pb::NoticeStatus::Submitted) => Some(NoticeStatus::Submitted),
                Ok(pb::NoticeStatus::Verified) => Some(NoticeStatus::Verified),
                Ok(pb::NoticeStatus::Reopened) => Some(NoticeStatus::Reopened),
                Err(_) => {
                    v.add("status", "is not a NoticeStatus");
                    None
                }
            },
            overdue_at: r.overdue_only.then_some(now),
        };
        v.finish()?;
        let (notices, next_page_token) = self.app.notices(&actor, filter, &page).await?;
        Ok(Response::new(pb::ListNoticesResponse {
            notices: notices.iter().map(|n| notice_to_pb(n, now)).collect(),
            next_page_token,
        }))
    }

    async fn acknowledge_notice(
        &self,
        r: Request<pb::AcknowledgeNoticeRequest>,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("AcknowledgeNotice", actor, v.request_id(&r.request_id, &r));
        let comment = v.optional_text("comment", &r.comment, 2_000);
        self.step(call, &r.notice, &r.etag, Step::Acknowledge(comment), v)
            .await
    }

    async fn start_rectification(
        &self,
        r: Request<pb::StartRectificationRequest>,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("StartRectification", actor, v.request_id(&r.request_id, &r));
        let comment = v.optional_text("comment", &r.comment, 2_000);
        self.step(call, &r.notice, &r.etag, Step::Start(comment), v)
            .await
    }

    async fn submit_rectification(
        &self,
        r: Request<pb::SubmitRectificationRequest>,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new(
            "SubmitRectification",
            actor,
            v.request_id(&r.request_id, &r),
        );
        let evidence = evidence_of("evidence", &r.evidence, &mut v);
        let notes = v.optional_text("notes", &r.notes, 4_000);
        self.step(
            call,
            &r.notice,
            &r.etag,
            Step::Submit { evidence, notes },
            v,
        )
        .await
    }

    async fn verify_rectification(
        &self,
        r: Request<pb::VerifyRectificationRequest>,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new(
            "VerifyRectification",
            actor,
            v.request_id(&r.request_id, &r),
        );
        let comment = v.optional_text("comment", &r.comment, 2_000);
        self.step(call, &r.notice, &r.etag, Step::Verify(comment), v)
            .await
    }

    async fn reopen_rectification(
        &self,
        r: Request<pb::ReopenRectificationRequest>,
    ) -> Result<Response<pb::RectificationNotice>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new(
            "ReopenRectification",
            actor,
            v.request_id(&r.request_id, &r),
        );
        let reason = v.required_text("reason", &r.reason, 4_000);
        let due = due_of(r.time_limit.as_ref(), r.due_time.as_ref(), &mut v);
        let step = Step::Reopen {
            reason,
            due: due.unwrap_or(Due::At(0)),
        };
        self.step(call, &r.notice, &r.etag, step, v).await
    }
}
