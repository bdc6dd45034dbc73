//! `procedo.compliance.v1.AssessmentService`: admins define schemes;
//! auditors compute, score and publish; department heads read their
//! department's figures; rewards and accountability are proposed and
//! decided.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::time::{to_timestamp, to_timestamp_opt};
use procedo_platform::validate::Violations;
use procedo_proto::compliance as pb;
use tonic::{Request, Response, Status};

use crate::app::{App, ManualScore, RecordRequest};
use crate::domain::assessment::{
    AccountabilityRecord, Direction, Group, Indicator, Method, Metric, Period, PeriodStatus,
    RecordKind, RecordStatus, Scheme, ScoreRow, SubjectKind, check_indicators,
};
use crate::domain::fact::Fact;
use crate::domain::filing::Recurrence;
use crate::store::ScoreFilter;

const ADMINS: &[Role] = &[Role::Admin];
const ASSESSORS: &[Role] = &[Role::Auditor];
const READERS: &[Role] = &[Role::Auditor, Role::DepartmentHead];
const PROPOSERS: &[Role] = &[Role::Auditor, Role::DepartmentHead];

#[derive(Debug, Clone)]
pub struct AssessmentApi {
    app: App,
}

impl AssessmentApi {
    pub fn new(app: App) -> AssessmentApi {
        AssessmentApi { app }
    }
}

fn metric_to_pb(m: Metric) -> pb::Metric {
    match m {
        Metric::TasksOnTime => pb::Metric::TasksOnTime,
        Metric::ReviewFirstPass => pb::Metric::ReviewFirstPass,
        Metric::AcceptanceFirstPass => pb::Metric::AcceptanceFirstPass,
        Metric::InquiriesOnTime => pb::Metric::InquiriesOnTime,
        Metric::CustomerSatisfaction => pb::Metric::CustomerSatisfaction,
        Metric::ApplicationsOnTime => pb::Metric::ApplicationsOnTime,
        Metric::DocumentReviewDays => pb::Metric::DocumentReviewDays,
        Metric::NoticesOnTime => pb::Metric::NoticesOnTime,
    }
}

fn metric_of(m: pb::Metric) -> Option<Metric> {
    Metric::ALL.into_iter().find(|x| metric_to_pb(*x) == m)
}

fn group_to_pb(g: Group) -> pb::IndicatorGroup {
    match g {
        Group::Quality => pb::IndicatorGroup::Quality,
        Group::Efficiency => pb::IndicatorGroup::Efficiency,
        Group::Compliance => pb::IndicatorGroup::Compliance,
        Group::Satisfaction => pb::IndicatorGroup::CustomerSatisfaction,
    }
}

fn scheme_to_pb(s: &Scheme) -> pb::AssessmentScheme {
    pb::AssessmentScheme {
        name: s.resource(),
        title: s.name.clone(),
        cycle: (match s.cycle {
            Recurrence::Monthly => pb::Recurrence::Monthly,
            Recurrence::Quarterly => pb::Recurrence::Quarterly,
            Recurrence::Yearly => pb::Recurrence::Yearly,
            Recurrence::OneOff => pb::Recurrence::OneOff,
        }) as i32,
        indicators: s
            .indicators
            .iter()
            .map(|i| pb::IndicatorSpec {
                code: i.code.clone(),
                name: i.name.clone(),
                group: group_to_pb(i.group) as i32,
                weight: i.weight,
                target: i.target,
                direction: (match i.direction {
                    Direction::HigherIsBetter => pb::Direction::HigherIsBetter,
                    Direction::LowerIsBetter => pb::Direction::LowerIsBetter,
                }) as i32,
                metric: match i.method {
                    Method::Computed(m) => metric_to_pb(m) as i32,
                    Method::Manual => 0,
                },
                manual: i.method == Method::Manual,
            })
            .collect(),
        creator: Some(s.creator.to_proto()),
        create_time: Some(to_timestamp(s.created_at)),
    }
}

fn period_to_pb(p: &Period) -> pb::AssessmentPeriod {
    pb::AssessmentPeriod {
        name: p.resource(),
        scheme: format!("assessmentSchemes/{}", p.scheme_id),
        period: p.label.clone(),
        start_time: Some(to_timestamp(p.start)),
        end_time: Some(to_timestamp(p.end)),
        status: (match p.status {
            PeriodStatus::Draft => pb::PeriodStatus::Draft,
            PeriodStatus::Published => pb::PeriodStatus::Published,
        }) as i32,
        compute_time: Some(to_timestamp(p.computed_at)),
        computed_by: Some(p.computed_by.to_proto()),
        publish_time: to_timestamp_opt(p.published_at),
        published_by: p
            .published_by
            .as_ref()
            .map(procedo_platform::person::Person::to_proto),
        etag: procedo_platform::etag::of(p.row_version),
    }
}

fn kind_to_pb(k: SubjectKind) -> i32 {
    (match k {
        SubjectKind::Department => pb::SubjectKind::Department,
        SubjectKind::Person => pb::SubjectKind::Person,
    }) as i32
}

fn kind_of(field: &str, value: i32, required: bool, v: &mut Violations) -> Option<SubjectKind> {
    match pb::SubjectKind::try_from(value) {
        Ok(pb::SubjectKind::Department) => Some(SubjectKind::Department),
        Ok(pb::SubjectKind::Person) => Some(SubjectKind::Person),
        Ok(pb::SubjectKind::Unspecified) if !required => None,
        _ => {
            v.add(
                field,
                "must be SUBJECT_KIND_DEPARTMENT or SUBJECT_KIND_PERSON",
            );
            None
        }
    }
}

fn score_to_pb(period: &str, r: &ScoreRow) -> pb::Score {
    pb::Score {
        period: period.to_owned(),
        subject_kind: kind_to_pb(r.subject_kind),
        subject: r.subject.clone(),
        indicator: r.indicator.clone(),
        value: r.value,
        fact_count: r.count,
        score: r.score,
        manual: r.manual,
        justification: r.justification.clone(),
        assessor: r.assessor.clone(),
    }
}

fn fact_to_pb(f: &Fact) -> pb::Fact {
    pb::Fact {
        event_id: f.event_id.clone(),
        kind: f.kind.clone(),
        resource: f.resource.clone(),
        department: f.department.clone(),
        person: f.person.clone(),
        occur_time: Some(to_timestamp(f.occurred_at)),
        due_time: to_timestamp_opt(f.due_at),
        value: f.value,
        outcome: f.outcome.clone(),
        category: f.category.clone(),
        evidence: f.evidence.clone(),
    }
}

fn record_to_pb(r: &AccountabilityRecord) -> pb::AccountabilityRecord {
    pb::AccountabilityRecord {
        name: r.resource(),
        kind: (match r.kind {
            RecordKind::Commendation => pb::RecordKind::Commendation,
            RecordKind::Bonus => pb::RecordKind::Bonus,
            RecordKind::Warning => pb::RecordKind::Warning,
            RecordKind::Penalty => pb::RecordKind::Penalty,
        }) as i32,
        subject: r.subject.clone(),
        reason: r.reason.clone(),
        basis: r.basis.clone(),
        indicator: r.indicator.clone(),
        amount: r
            .amount
            .as_ref()
            .map(procedo_platform::money::Money::to_proto),
        status: (match r.status {
            RecordStatus::Proposed => pb::RecordStatus::Proposed,
            RecordStatus::Approved => pb::RecordStatus::Approved,
            RecordStatus::Rejected => pb::RecordStatus::Rejected,
        }) as i32,
        proposed_by: Some(r.proposed_by.to_proto()),
        propose_time: Some(to_timestamp(r.proposed_at)),
        decided_by: r
            .decided_by
            .as_ref()
            .map(procedo_platform::person::Person::to_proto),
        decide_time: to_timestamp_opt(r.decided_at),
        decision_comment: r.decision_comment.clone(),
        etag: procedo_platform::etag::of(r.row_version),
    }
}

/// "people/{subject}" or "departments/{code}".
fn record_subject(field: &str, s: &str, v: &mut Violations) -> String {
    let ok = s.split_once('/').is_some_and(|(c, rest)| {
        (c == "people" || c == "departments") && !rest.trim().is_empty() && rest.len() <= 200
    });
    if !ok {
        v.add(
            field,
            "must be \"people/<subject>\" or \"departments/<code>\"",
        );
    }
    s.to_owned()
}

fn indicator_of(n: usize, spec: &pb::IndicatorSpec, v: &mut Violations) -> Option<Indicator> {
    let field = |name: &str| format!("indicators[{n}].{name}");
    let group = match pb::IndicatorGroup::try_from(spec.group) {
        Ok(pb::IndicatorGroup::Quality) => Some(Group::Quality),
        Ok(pb::IndicatorGroup::Efficiency) => Some(Group::Efficiency),
        Ok(pb::IndicatorGroup::Compliance) => Some(Group::Compliance),
        Ok(pb::IndicatorGroup::CustomerSatisfaction) => Some(Group::Satisfaction),
        _ => {
            v.add(field("group"), "must be INDICATOR_GROUP_QUALITY, _EFFICIENCY, _COMPLIANCE or _CUSTOMER_SATISFACTION");
            None
        }
    };
    let direction = match pb::Direction::try_from(spec.direction) {
        Ok(pb::Direction::HigherIsBetter) => Some(Direction::HigherIsBetter),
        Ok(pb::Direction::LowerIsBetter) => Some(Direction::LowerIsBetter),
        _ => {
            v.add(
                field("direction"),
                "must be DIRECTION_HIGHER_IS_BETTER or DIRECTION_LOWER_IS_BETTER",
            );
            None
        }
    };
    let method = match (
        spec.manual,
        pb::Metric::try_from(spec.metric).ok().and_then(metric_of),
    ) {
        (true, None) if spec.metric == 0 => Some(Method::Manual),
        (false, Some(m)) => Some(Method::Computed(m)),
        _ => {
            v.add(
                field("metric"),
                "give a metric, or set manual (one of them)",
            );
            None
        }
    };
    let name = v.required_line(&field("name"), &spec.name, 200);
    Some(Indicator {
        code: spec.code.clone(),
        name,
        group: group?,
        weight: spec.weight,
        target: spec.target,
        direction: direction?,
        method: method?,
    })
}

#[tonic::async_trait]
impl pb::assessment_service_server::AssessmentService for AssessmentApi {
    async fn create_scheme(
        &self,
        r: Request<pb::CreateSchemeRequest>,
    ) -> Result<Response<pb::AssessmentScheme>, Status> {
        let actor = authorize(&r, ADMINS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("CreateScheme", actor, v.request_id(&r.request_id, &r));
        let title = v.required_line("title", &r.title, 200);
        let cycle = match pb::Recurrence::try_from(r.cycle) {
            Ok(pb::Recurrence::Monthly) => Some(Recurrence::Monthly),
            Ok(pb::Recurrence::Quarterly) => Some(Recurrence::Quarterly),
            Ok(pb::Recurrence::Yearly) => Some(Recurrence::Yearly),
            _ => {
                v.add("cycle", "must be RECURRENCE_MONTHLY, _QUARTERLY or _YEARLY");
                None
            }
        };
        if r.indicators.len() > 50 {
            v.add("indicators", "at most 50");
        }
        let indicators: Vec<Option<Indicator>> = r
            .indicators
            .iter()
            .enumerate()
            .map(|(n, spec)| indicator_of(n, spec, &mut v))
            .collect();
        let complete: Vec<Indicator> = indicators.iter().flatten().cloned().collect();
        if complete.len() == indicators.len() {
            for (field, what) in check_indicators(&complete) {
                v.add(field, what);
            }
        }
        v.finish()?;
        let cycle = cycle.ok_or_else(|| Status::invalid_argument("cycle"))?;
        Ok(Response::new(
            self.app
                .create_scheme(&call, title, cycle, complete, scheme_to_pb)
                .await?,
        ))
    }

    async fn get_scheme(
        &self,
        r: Request<pb::GetSchemeRequest>,
    ) -> Result<Response<pb::AssessmentScheme>, Status> {
        authorize(&r, READERS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "assessmentSchemes", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(scheme_to_pb(&self.app.scheme(&id).await?)))
    }

    async fn list_schemes(
        &self,
        r: Request<pb::ListSchemesRequest>,
    ) -> Result<Response<pb::ListSchemesResponse>, Status> {
        authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        v.finish()?;
        let (schemes, next_page_token) = self.app.schemes(&page).await?;
        Ok(Response::new(pb::ListSchemesResponse {
            schemes: schemes.iter().map(scheme_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn compute_period(
        &self,
        r: Request<pb::ComputePeriodRequest>,
    ) -> Result<Response<pb::AssessmentPeriod>, Status> {
        let actor = authorize(&r, ASSESSORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("ComputePeriod", actor, v.request_id(&r.request_id, &r));
        let scheme = v.resource_id("scheme", "assessmentSchemes", &r.scheme);
        if r.period_time.is_none() {
            v.add(
                "period_time",
                "is required: a time in the period to compute",
            );
        }
        let at = v.time_opt("period_time", r.period_time.as_ref());
        v.finish()?;
        let at = at.ok_or_else(|| Status::invalid_argument("period_time"))?;
        Ok(Response::new(
            self.app
                .compute_period(&call, &scheme, at, period_to_pb)
                .await?,
        ))
    }

    async fn get_period(
        &self,
        r: Request<pb::GetPeriodRequest>,
    ) -> Result<Response<pb::AssessmentPeriod>, Status> {
        authorize(&r, READERS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "assessmentPeriods", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(period_to_pb(&self.app.period(&id).await?)))
    }

    async fn list_periods(
        &self,
        r: Request<pb::ListPeriodsRequest>,
    ) -> Result<Response<pb::ListPeriodsResponse>, Status> {
        authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let scheme = v.optional_resource_id("scheme", "assessmentSchemes", &r.scheme);
        v.finish()?;
        let (periods, next_page_token) = self.app.periods(&scheme, &page).await?;
        Ok(Response::new(pb::ListPeriodsResponse {
            periods: periods.iter().map(period_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn publish_period(
        &self,
        r: Request<pb::PublishPeriodRequest>,
    ) -> Result<Response<pb::AssessmentPeriod>, Status> {
        let actor = authorize(&r, ASSESSORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("PublishPeriod", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("name", "assessmentPeriods", &r.name);
        v.finish()?;
        Ok(Response::new(
            self.app
                .publish_period(&call, &id, &r.etag, period_to_pb)
                .await?,
        ))
    }

    async fn set_manual_score(
        &self,
        r: Request<pb::SetManualScoreRequest>,
    ) -> Result<Response<pb::Score>, Status> {
        let actor = authorize(&r, ASSESSORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("SetManualScore", actor, v.request_id(&r.request_id, &r));
        let period = v.resource_id("period", "assessmentPeriods", &r.period);
        let indicator = v.required_line("indicator", &r.indicator, 40);
        let kind = kind_of("subject_kind", r.subject_kind, true, &mut v);
        let subject = v.required_line("subject", &r.subject, 200);
        if !(r.score.is_finite() && (0.0..=100.0).contains(&r.score)) {
            v.add("score", "must be from 0 to 100");
        }
        let justification = v.required_text("justification", &r.justification, 4_000);
        v.finish()?;
        let kind = kind.ok_or_else(|| Status::invalid_argument("subject_kind"))?;
        let name = format!("assessmentPeriods/{period}");
        let manual = ManualScore {
            indicator,
            subject_kind: kind,
            subject,
            score: r.score,
            justification,
        };
        Ok(Response::new(
            self.app
                .set_manual_score(&call, &period, manual, |row| score_to_pb(&name, row))
                .await?,
        ))
    }

    async fn list_scores(
        &self,
        r: Request<pb::ListScoresRequest>,
    ) -> Result<Response<pb::ListScoresResponse>, Status> {
        let actor = authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let period = v.resource_id("period", "assessmentPeriods", &r.period);
        let page = Page::of(&r, &mut v);
        let filter = ScoreFilter {
            subject_kind: kind_of("subject_kind", r.subject_kind, false, &mut v),
            subject: v.optional_line("subject", &r.subject, 200),
            department: String::new(),
        };
        v.finish()?;
        let name = format!("assessmentPeriods/{period}");
        let (scores, next_page_token) = self.app.scores(&actor, &period, filter, &page).await?;
        Ok(Response::new(pb::ListScoresResponse {
            scores: scores.iter().map(|s| score_to_pb(&name, s)).collect(),
            next_page_token,
        }))
    }

    async fn list_score_facts(
        &self,
        r: Request<pb::ListScoreFactsRequest>,
    ) -> Result<Response<pb::ListScoreFactsResponse>, Status> {
        let actor = authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let period = v.resource_id("period", "assessmentPeriods", &r.period);
        let indicator = v.required_line("indicator", &r.indicator, 40);
        let kind = kind_of("subject_kind", r.subject_kind, true, &mut v);
        let subject = v.required_line("subject", &r.subject, 200);
        let page = Page::of(&r, &mut v);
        v.finish()?;
        let kind = kind.ok_or_else(|| Status::invalid_argument("subject_kind"))?;
        let (facts, next_page_token) = self
            .app
            .score_facts(&actor, &period, &indicator, kind, &subject, &page)
            .await?;
        Ok(Response::new(pb::ListScoreFactsResponse {
            facts: facts.iter().map(fact_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn propose_record(
        &self,
        r: Request<pb::ProposeRecordRequest>,
    ) -> Result<Response<pb::AccountabilityRecord>, Status> {
        let actor = authorize(&r, PROPOSERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("ProposeRecord", actor, v.request_id(&r.request_id, &r));
        let kind = match pb::RecordKind::try_from(r.kind) {
            Ok(pb::RecordKind::Commendation) => Some(RecordKind::Commendation),
            Ok(pb::RecordKind::Bonus) => Some(RecordKind::Bonus),
            Ok(pb::RecordKind::Warning) => Some(RecordKind::Warning),
            Ok(pb::RecordKind::Penalty) => Some(RecordKind::Penalty),
            _ => {
                v.add(
                    "kind",
                    "must be RECORD_KIND_COMMENDATION, _BONUS, _WARNING or _PENALTY",
                );
                None
            }
        };
        let subject = record_subject("subject", &r.subject, &mut v);
        let reason = v.required_text("reason", &r.reason, 4_000);
        let basis = if r.basis.starts_with("assessmentPeriods/") {
            format!(
                "assessmentPeriods/{}",
                v.resource_id("basis", "assessmentPeriods", &r.basis)
            )
        } else if r.basis.starts_with("findings/") {
            format!("findings/{}", v.resource_id("basis", "findings", &r.basis))
        } else {
            v.add(
                "basis",
                "must name a published \"assessmentPeriods/<id>\" or a \"findings/<id>\"",
            );
            String::new()
        };
        let indicator = v.optional_line("indicator", &r.indicator, 40);
        if !indicator.is_empty() && !basis.starts_with("assessmentPeriods/") {
            v.add("indicator", "is only for a period's result");
        }
        let amount = v.money("amount", r.amount.as_ref());
        v.finish()?;
        let kind = kind.ok_or_else(|| Status::invalid_argument("kind"))?;
        let request = RecordRequest {
            kind,
            subject,
            reason,
            basis,
            indicator,
            amount,
        };
        Ok(Response::new(
            self.app
                .propose_record(&call, request, record_to_pb)
                .await?,
        ))
    }

    async fn decide_record(
        &self,
        r: Request<pb::DecideRecordRequest>,
    ) -> Result<Response<pb::AccountabilityRecord>, Status> {
        let actor = authorize(&r, ADMINS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("DecideRecord", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("name", "accountabilityRecords", &r.name);
        let comment = v.optional_text("comment", &r.comment, 2_000);
        if !r.approve && comment.trim().is_empty() {
            v.add("comment", "say why it is rejected");
        }
        v.finish()?;
        Ok(Response::new(
            self.app
                .decide_record(&call, &id, &r.etag, r.approve, comment, record_to_pb)
                .await?,
        ))
    }

    async fn list_records(
        &self,
        r: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<pb::ListRecordsResponse>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let subject = if r.subject.is_empty() {
            String::new()
        } else {
            record_subject("subject", &r.subject, &mut v)
        };
        v.finish()?;
        let (records, next_page_token) = self.app.records(&actor, subject, &page).await?;
        Ok(Response::new(pb::ListRecordsResponse {
            records: records.iter().map(record_to_pb).collect(),
            next_page_token,
        }))
    }
}
