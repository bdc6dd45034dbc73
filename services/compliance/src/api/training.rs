//! `procedo.compliance.v1.TrainingService` and `PolicyService`: trainers
//! plan, schedule and evaluate; people take exams, answer questionnaires
//! and acknowledge the policies published to them.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::error::Error;
use procedo_platform::identity::Role;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::time::to_timestamp;
use procedo_platform::validate::Violations;
use procedo_proto::compliance as pb;
use tonic::{Request, Response, Status};

use super::inspections::evidence_of;
use crate::app::{App, Due, PublicationRequest, SessionRequest};
use crate::domain::directory::Audience;
use crate::domain::training::{
    Method, Plan, PlanItem, Publication, Question, QuestionKind, Session,
};

const TRAINERS: &[Role] = &[Role::Trainer];
const OVERSEERS: &[Role] = &[Role::Trainer, Role::Auditor];
const PUBLISHERS: &[Role] = &[Role::Auditor];
/// Who reads acknowledgements: auditors all, department heads their
/// department's people.
const ACK_READERS: &[Role] = &[Role::Auditor, Role::DepartmentHead];

#[derive(Debug, Clone)]
pub struct TrainingApi {
    app: App,
}

impl TrainingApi {
    pub fn new(app: App) -> TrainingApi {
        TrainingApi { app }
    }
}

#[derive(Debug, Clone)]
pub struct PolicyApi {
    app: App,
}

impl PolicyApi {
    pub fn new(app: App) -> PolicyApi {
        PolicyApi { app }
    }
}

fn audience_to_pb(a: &Audience) -> pb::Audience {
    pb::Audience {
        departments: a.departments.clone(),
        roles: a.roles.clone(),
    }
}

fn audience_of(field: &str, a: Option<&pb::Audience>, v: &mut Violations) -> Audience {
    let Some(a) = a else {
        return Audience::default();
    };
    let list = |name: &str, values: &[String], v: &mut Violations| -> Vec<String> {
        values
            .iter()
            .enumerate()
            .map(|(n, s)| v.required_line(&format!("{field}.{name}[{n}]"), s, 100))
            .collect()
    };
    Audience {
        departments: list("departments", &a.departments, v),
        roles: list("roles", &a.roles, v),
    }
}

fn question_to_pb(q: &Question, with_answers: bool) -> pb::Question {
    pb::Question {
        kind: (match q.kind {
            QuestionKind::SingleChoice => pb::QuestionKind::SingleChoice,
            QuestionKind::MultipleChoice => pb::QuestionKind::MultipleChoice,
            QuestionKind::TrueFalse => pb::QuestionKind::TrueFalse,
        }) as i32,
        text: q.text.clone(),
        options: q.options.clone(),
        correct: if with_answers {
            q.correct
                .iter()
                .map(|c| i32::try_from(*c).unwrap_or(0))
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn questions_of(field: &str, qs: &[pb::Question], v: &mut Violations) -> Vec<Question> {
    if qs.len() > 200 {
        v.add(field, "at most 200 questions");
    }
    qs.iter()
        .enumerate()
        .filter_map(|(n, q)| {
            let at = |name: &str| format!("{field}[{n}].{name}");
            let kind = match pb::QuestionKind::try_from(q.kind) {
                Ok(pb::QuestionKind::SingleChoice) => QuestionKind::SingleChoice,
                Ok(pb::QuestionKind::MultipleChoice) => QuestionKind::MultipleChoice,
                Ok(pb::QuestionKind::TrueFalse) => QuestionKind::TrueFalse,
                _ => {
                    v.add(
                        at("kind"),
                        "must be QUESTION_KIND_SINGLE_CHOICE, _MULTIPLE_CHOICE or _TRUE_FALSE",
                    );
                    return None;
                }
            };
            let text = v.required_text(&at("text"), &q.text, 2_000);
            let options = if kind == QuestionKind::TrueFalse && q.options.is_empty() {
                vec!["true".to_owned(), "false".to_owned()]
            } else {
                q.options
                    .iter()
                    .enumerate()
                    .map(|(k, o)| v.required_line(&format!("{}[{k}]", at("options")), o, 500))
                    .collect()
            };
            let mut correct: Vec<usize> = q
                .correct
                .iter()
                .map(|c| usize::try_from(*c).unwrap_or(usize::MAX))
                .collect();
            correct.sort_unstable();
            correct.dedup();
            let question = Question {
                kind,
                text,
                options,
                correct,
            };
            if let Some(problem) = question.problem() {
                v.add(at("correct"), problem);
            }
            Some(question)
        })
        .collect()
}

fn answers_of(answers: &[pb::Answer]) -> Vec<Vec<usize>> {
    answers
        .iter()
        .map(|a| {
            a.chosen
                .iter()
                .map(|c| usize::try_from(*c).unwrap_or(usize::MAX))
                .collect()
        })
        .collect()
}

fn plan_to_pb(p: &Plan) -> pb::TrainingPlan {
    pb::TrainingPlan {
        name: p.resource(),
        year: p.year,
        title: p.title.clone(),
        items: p
            .items
            .iter()
            .map(|i| pb::PlanItem {
                id: i.id.clone(),
                title: i.title.clone(),
                content: i.content.clone(),
                method: (match i.method {
                    Method::Lecture => pb::Method::Lecture,
                    Method::Online => pb::Method::Online,
                    Method::Practice => pb::Method::Practice,
                }) as i32,
                schedule: i.schedule.clone(),
                audience: Some(audience_to_pb(&i.audience)),
                trainer: i.trainer.clone(),
            })
            .collect(),
        create_time: Some(to_timestamp(p.created_at)),
    }
}

fn session_to_pb(s: &Session, with_answers: bool) -> pb::TrainingSession {
    pb::TrainingSession {
        name: s.resource(),
        plan: format!("trainingPlans/{}", s.plan_id),
        item: s.item_id.clone(),
        title: s.title.clone(),
        start_time: Some(to_timestamp(s.start)),
        end_time: Some(to_timestamp(s.end)),
        location: s.location.clone(),
        trainer: s.trainer.clone(),
        materials: s.materials.clone(),
        exam: s.exam.as_ref().map(|e| pb::Exam {
            question_bank: format!("questionBanks/{}", e.bank_id),
            pass_mark: e.pass_mark,
            max_attempts: e.max_attempts,
            questions: e
                .questions
                .iter()
                .map(|q| question_to_pb(q, with_answers))
                .collect(),
        }),
        practical: s.practical,
        create_time: Some(to_timestamp(s.created_at)),
    }
}

fn publication_to_pb(p: &Publication) -> pb::PolicyPublication {
    pb::PolicyPublication {
        name: p.resource(),
        document: p.document.clone(),
        version: p.version,
        title: p.title.clone(),
        audience: Some(audience_to_pb(&p.audience)),
        quiz: p.quiz.iter().map(|q| question_to_pb(q, false)).collect(),
        pass_mark: p.pass_mark,
        acknowledge_by: Some(to_timestamp(p.acknowledge_by)),
        status: (if p.active {
            pb::PublicationStatus::Active
        } else {
            pb::PublicationStatus::Superseded
        }) as i32,
        supersedes: p.supersedes.clone(),
        superseded_by: p.superseded_by.clone(),
        published_by: Some(p.published_by.to_proto()),
        publish_time: Some(to_timestamp(p.published_at)),
        remind_time: p.reminded_at.map(to_timestamp),
    }
}

fn rate(done: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        done as f64 / of as f64
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[tonic::async_trait]
impl pb::training_service_server::TrainingService for TrainingApi {
    async fn create_training_plan(
        &self,
        r: Request<pb::CreateTrainingPlanRequest>,
    ) -> Result<Response<pb::TrainingPlan>, Status> {
        let actor = authorize(&r, TRAINERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("CreateTrainingPlan", actor, v.request_id(&r.request_id, &r));
        if !(2000..=2100).contains(&r.year) {
            v.add("year", "must be from 2000 to 2100");
        }
        let title = v.required_line("title", &r.title, 200);
        if r.items.is_empty() || r.items.len() > 200 {
            v.add("items", "give 1 to 200 items");
        }
        let items: Vec<PlanItem> = r
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                let at = |name: &str| format!("items[{n}].{name}");
                let method = match pb::Method::try_from(i.method) {
                    Ok(pb::Method::Lecture) => Method::Lecture,
                    Ok(pb::Method::Online) => Method::Online,
                    Ok(pb::Method::Practice) => Method::Practice,
                    _ => {
                        v.add(at("method"), "must be METHOD_LECTURE, _ONLINE or _PRACTICE");
                        Method::Lecture
                    }
                };
                PlanItem {
                    id: (n + 1).to_string(),
                    title: v.required_line(&at("title"), &i.title, 200),
                    content: v.required_text(&at("content"), &i.content, 4_000),
                    method,
                    schedule: v.optional_line(&at("schedule"), &i.schedule, 50),
                    audience: audience_of(&at("audience"), i.audience.as_ref(), &mut v),
                    trainer: v.required_line(&at("trainer"), &i.trainer, 200),
                }
            })
            .collect();
        v.finish()?;
        Ok(Response::new(
            self.app
                .create_training_plan(&call, r.year, title, items, plan_to_pb)
                .await?,
        ))
    }

    async fn get_training_plan(
        &self,
        r: Request<pb::GetTrainingPlanRequest>,
    ) -> Result<Response<pb::TrainingPlan>, Status> {
        authenticated(&r)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "trainingPlans", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(plan_to_pb(
            &self.app.training_plan(&id).await?,
        )))
    }

    async fn list_training_plans(
        &self,
        r: Request<pb::ListTrainingPlansRequest>,
    ) -> Result<Response<pb::ListTrainingPlansResponse>, Status> {
        authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        v.finish()?;
        let (plans, next_page_token) = self.app.training_plans(&page).await?;
        Ok(Response::new(pb::ListTrainingPlansResponse {
            plans: plans.iter().map(plan_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn create_question_bank(
        &self,
        r: Request<pb::CreateQuestionBankRequest>,
    ) -> Result<Response<pb::QuestionBank>, Status> {
        let actor = authorize(&r, TRAINERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("CreateQuestionBank", actor, v.request_id(&r.request_id, &r));
        let title = v.required_line("title", &r.title, 200);
        if r.questions.is_empty() {
            v.add("questions", "give at least one question");
        }
        let questions = questions_of("questions", &r.questions, &mut v);
        v.finish()?;
        Ok(Response::new(
            self.app
                .create_bank(&call, title, questions, |b| pb::QuestionBank {
                    name: b.resource(),
                    title: b.title.clone(),
                    questions: b
                        .questions
                        .iter()
                        .map(|q| question_to_pb(q, true))
                        .collect(),
                })
                .await?,
        ))
    }

    async fn get_question_bank(
        &self,
        r: Request<pb::GetQuestionBankRequest>,
    ) -> Result<Response<pb::QuestionBank>, Status> {
        authorize(&r, TRAINERS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "questionBanks", &r.get_ref().name);
        v.finish()?;
        let b = self.app.bank(&id).await?;
        Ok(Response::new(pb::QuestionBank {
            name: b.resource(),
            title: b.title.clone(),
            questions: b
                .questions
                .iter()
                .map(|q| question_to_pb(q, true))
                .collect(),
        }))
    }

    async fn schedule_session(
        &self,
        r: Request<pb::ScheduleSessionRequest>,
    ) -> Result<Response<pb::TrainingSession>, Status> {
        let actor = authorize(&r, TRAINERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("ScheduleSession", actor, v.request_id(&r.request_id, &r));
        let plan_id = v.resource_id("plan", "trainingPlans", &r.plan);
        let item_id = v.required_line("item", &r.item, 10);
        let start = v.time_opt("start_time", r.start_time.as_ref());
        let end = v.time_opt("end_time", r.end_time.as_ref());
        match (start, end) {
            (Some(s), Some(e)) if e <= s => v.add("end_time", "must be after start_time"),
            (None, _) if r.start_time.is_none() => v.add("start_time", "is required"),
            (_, None) if r.end_time.is_none() => v.add("end_time", "is required"),
            _ => {}
        }
        let location = v.optional_line("location", &r.location, 200);
        let materials = evidence_of("materials", &r.materials, &mut v);
        let exam = r.exam.as_ref().map(|e| {
            let bank = v.resource_id("exam.question_bank", "questionBanks", &e.question_bank);
            if !(1..=100).contains(&e.pass_mark) {
                v.add("exam.pass_mark", "must be from 1 to 100");
            }
            if !(1..=10).contains(&e.max_attempts) {
                v.add("exam.max_attempts", "must be from 1 to 10");
            }
            (bank, e.pass_mark, e.max_attempts)
        });
        v.finish()?;
        let request = SessionRequest {
            plan_id,
            item_id,
            start: start.unwrap_or_default(),
            end: end.unwrap_or_default(),
            location,
            materials,
            exam,
            practical: r.practical,
        };
        Ok(Response::new(
            self.app
                .schedule_session(&call, request, |s| session_to_pb(s, true))
                .await?,
        ))
    }

    async fn get_session(
        &self,
        r: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::TrainingSession>, Status> {
        let actor = authenticated(&r)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "trainingSessions", &r.get_ref().name);
        v.finish()?;
        let trainer = actor.has(Role::Trainer) || actor.has(Role::Admin);
        Ok(Response::new(session_to_pb(
            &self.app.session(&id).await?,
            trainer,
        )))
    }

    async fn list_sessions(
        &self,
        r: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let plan = v.optional_resource_id("plan", "trainingPlans", &r.plan);
        v.finish()?;
        let trainer = actor.has(Role::Trainer) || actor.has(Role::Admin);
        let (sessions, next_page_token) = self.app.sessions(&plan, &page).await?;
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: sessions.iter().map(|s| session_to_pb(s, trainer)).collect(),
            next_page_token,
        }))
    }

    async fn list_enrolment(
        &self,
        r: Request<pb::ListEnrolmentRequest>,
    ) -> Result<Response<pb::ListEnrolmentResponse>, Status> {
        let actor = authorize(&r, &[Role::Trainer, Role::Auditor, Role::DepartmentHead])?;
        let mut v = Violations::new();
        let id = v.resource_id("session", "trainingSessions", &r.get_ref().session);
        v.finish()?;
        let enrolled = self.app.enrolment(&actor, &id).await?;
        Ok(Response::new(pb::ListEnrolmentResponse {
            enrolment: enrolled
                .iter()
                .map(|e| pb::Enrolment {
                    subject: e.member.subject.clone(),
                    department: e.member.department.clone(),
                    present: e.present,
                })
                .collect(),
        }))
    }

    async fn record_attendance(
        &self,
        r: Request<pb::RecordAttendanceRequest>,
    ) -> Result<Response<pb::RecordAttendanceResponse>, Status> {
        let actor = authorize(&r, TRAINERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("RecordAttendance", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("session", "trainingSessions", &r.session);
        if r.present.is_empty() && r.absent.is_empty() {
            v.add("present", "name who was present or absent");
        }
        if r.present.iter().any(|p| r.absent.contains(p)) {
            v.add("absent", "someone is both present and absent");
        }
        v.finish()?;
        Ok(Response::new(
            self.app
                .record_attendance(&call, &id, r.present, r.absent, |n| {
                    pb::RecordAttendanceResponse { recorded: count(n) }
                })
                .await?,
        ))
    }

    async fn take_exam(
        &self,
        r: Request<pb::TakeExamRequest>,
    ) -> Result<Response<pb::ExamResult>, Status> {
        let actor = authenticated(&r)?;
        let subject = actor.subject.clone();
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("TakeExam", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("session", "trainingSessions", &r.session);
        v.finish()?;
        let now = self.app.now();
        Ok(Response::new(
            self.app
                .take_exam(
                    &call,
                    &id,
                    answers_of(&r.answers),
                    |s, attempt, score, passed, left| pb::ExamResult {
                        session: s.resource(),
                        subject: subject.clone(),
                        attempt: i32::try_from(attempt).unwrap_or(i32::MAX),
                        score,
                        passed,
                        attempts_left: i32::try_from(left).unwrap_or(0),
                        take_time: Some(to_timestamp(now)),
                    },
                )
                .await?,
        ))
    }

    async fn score_practical(
        &self,
        r: Request<pb::ScorePracticalRequest>,
    ) -> Result<Response<pb::PracticalResult>, Status> {
        let actor = authorize(&r, TRAINERS)?;
        let scorer = actor.subject.clone();
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("ScorePractical", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("session", "trainingSessions", &r.session);
        let subject = v.required_line("subject", &r.subject, 200);
        if !(0..=100).contains(&r.score) {
            v.add("score", "must be from 0 to 100");
        }
        let notes = v.optional_text("notes", &r.notes, 2_000);
        v.finish()?;
        let result = pb::PracticalResult {
            session: String::new(),
            subject: subject.clone(),
            score: r.score,
            passed: r.passed,
            notes: notes.clone(),
            scored_by: scorer,
        };
        Ok(Response::new(
            self.app
                .score_practical(&call, &id, subject, r.score, r.passed, notes, |s| {
                    pb::PracticalResult {
                        session: s.resource(),
                        ..result
                    }
                })
                .await?,
        ))
    }

    async fn submit_questionnaire(
        &self,
        r: Request<pb::SubmitQuestionnaireRequest>,
    ) -> Result<Response<pb::QuestionnaireResponse>, Status> {
        let actor = authenticated(&r)?;
        let subject = actor.subject.clone();
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new(
            "SubmitQuestionnaire",
            actor,
            v.request_id(&r.request_id, &r),
        );
        let id = v.resource_id("session", "trainingSessions", &r.session);
        if !(1..=5).contains(&r.satisfaction) {
            v.add("satisfaction", "must be from 1 to 5");
        }
        let comment = v.optional_text("comment", &r.comment, 2_000);
        v.finish()?;
        let answer = pb::QuestionnaireResponse {
            session: String::new(),
            subject,
            satisfaction: r.satisfaction,
            comment: comment.clone(),
        };
        Ok(Response::new(
            self.app
                .submit_questionnaire(&call, &id, r.satisfaction, comment, |s| {
                    pb::QuestionnaireResponse {
                        session: s.resource(),
                        ..answer
                    }
                })
                .await?,
        ))
    }

    async fn get_training_record(
        &self,
        r: Request<pb::GetTrainingRecordRequest>,
    ) -> Result<Response<pb::TrainingRecord>, Status> {
        let actor = authenticated(&r)?;
        let person = r.get_ref().person.clone();
        let Some(subject) = person.strip_prefix("people/").filter(|s| !s.is_empty()) else {
            return Err(Error::invalid("person", "must be \"people/<subject>\"").into());
        };
        let entries = self.app.training_record(&actor, subject).await?;
        Ok(Response::new(pb::TrainingRecord {
            person: person.clone(),
            entries: entries
                .iter()
                .map(|(s, o)| pb::TrainingRecordEntry {
                    session: s.resource(),
                    title: s.title.clone(),
                    start_time: Some(to_timestamp(s.start)),
                    present: o.present,
                    exam_score: o.exam.map(|e| e.0),
                    exam_passed: o.exam.map(|e| e.1),
                    practical_score: o.practical.map(|p| p.0),
                    practical_passed: o.practical.map(|p| p.1),
                    satisfaction: o.satisfaction,
                })
                .collect(),
        }))
    }

    async fn get_item_effectiveness(
        &self,
        r: Request<pb::GetItemEffectivenessRequest>,
    ) -> Result<Response<pb::ItemEffectiveness>, Status> {
        authorize(&r, OVERSEERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let plan = v.resource_id("plan", "trainingPlans", &r.plan);
        let item = v.required_line("item", &r.item, 10);
        v.finish()?;
        let e = self.app.item_effectiveness(&plan, &item).await?;
        Ok(Response::new(pb::ItemEffectiveness {
            plan: format!("trainingPlans/{plan}"),
            item,
            sessions: count(e.sessions),
            enrolled: count(e.enrolled),
            present: count(e.present),
            attendance_rate: rate(e.present, e.enrolled),
            evaluated: count(e.evaluated),
            passed: count(e.passed),
            pass_rate: rate(e.passed, e.evaluated),
            average_satisfaction: if e.questionnaires == 0 {
                0.0
            } else {
                e.satisfaction_sum as f64 / e.questionnaires as f64
            },
            questionnaires: count(e.questionnaires),
        }))
    }
}

#[tonic::async_trait]
impl pb::policy_service_server::PolicyService for PolicyApi {
    async fn publish_policy(
        &self,
        r: Request<pb::PublishPolicyRequest>,
    ) -> Result<Response<pb::PolicyPublication>, Status> {
        let actor = authorize(&r, PUBLISHERS)?;
        let bearer = procedo_platform::auth::bearer(&r);
        let r = r.into_inner();
        let mut v = Violations::new();
        let call =
            Call::new("PublishPolicy", actor, v.request_id(&r.request_id, &r)).on_behalf(bearer);
        let document = format!(
            "documents/{}",
            v.resource_id("document", "documents", &r.document)
        );
        if r.version < 1 {
            v.add("version", "must be 1 or more");
        }
        let title = v.required_line("title", &r.title, 200);
        let audience = audience_of("audience", r.audience.as_ref(), &mut v);
        if r.quiz.len() > 20 {
            v.add("quiz", "at most 20 questions");
        }
        let quiz = questions_of("quiz", &r.quiz, &mut v);
        if !quiz.is_empty() && !(1..=100).contains(&r.pass_mark) {
            v.add("pass_mark", "must be from 1 to 100 with a quiz");
        }
        let due = match (r.acknowledge_within.as_ref(), r.acknowledge_by.as_ref()) {
            (Some(limit), None) => v
                .time_limit("acknowledge_within", Some(limit))
                .map(Due::Limit),
            (None, Some(at)) => v.time_opt("acknowledge_by", Some(at)).map(Due::At),
            _ => {
                v.add(
                    "acknowledge_within",
                    "give the deadline: acknowledge_within or acknowledge_by (one of them)",
                );
                None
            }
        };
        v.finish()?;
        let due = due.ok_or_else(|| Status::invalid_argument("acknowledge_within"))?;
        let request = PublicationRequest {
            document,
            version: r.version,
            title,
            audience,
            quiz,
            pass_mark: r.pass_mark,
            due,
        };
        Ok(Response::new(
            self.app
                .publish_policy(&call, request, publication_to_pb)
                .await?,
        ))
    }

    async fn get_publication(
        &self,
        r: Request<pb::GetPublicationRequest>,
    ) -> Result<Response<pb::PolicyPublication>, Status> {
        authenticated(&r)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "policyPublications", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(publication_to_pb(
            &self.app.publication(&id).await?,
        )))
    }

    async fn list_publications(
        &self,
        r: Request<pb::ListPublicationsRequest>,
    ) -> Result<Response<pb::ListPublicationsResponse>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let document = if r.document.is_empty() {
            String::new()
        } else {
            format!(
                "documents/{}",
                v.resource_id("document", "documents", &r.document)
            )
        };
        v.finish()?;
        let (publications, next_page_token) = self
            .app
            .publications(&actor, &document, r.active_only, &page)
            .await?;
        Ok(Response::new(pb::ListPublicationsResponse {
            publications: publications.iter().map(publication_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn acknowledge_policy(
        &self,
        r: Request<pb::AcknowledgePolicyRequest>,
    ) -> Result<Response<pb::Acknowledgement>, Status> {
        let actor = authenticated(&r)?;
        let subject = actor.subject.clone();
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("AcknowledgePolicy", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("publication", "policyPublications", &r.publication);
        v.finish()?;
        Ok(Response::new(
            self.app
                .acknowledge(
                    &call,
                    &id,
                    answers_of(&r.answers),
                    |p, at, score, department| pb::Acknowledgement {
                        publication: p.resource(),
                        subject: subject.clone(),
                        department: department.to_owned(),
                        acknowledge_time: Some(to_timestamp(at)),
                        quiz_score: score,
                        overdue: false,
                    },
                )
                .await?,
        ))
    }

    async fn list_acknowledgements(
        &self,
        r: Request<pb::ListAcknowledgementsRequest>,
    ) -> Result<Response<pb::ListAcknowledgementsResponse>, Status> {
        let actor = authorize(&r, ACK_READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let id = v.resource_id("publication", "policyPublications", &r.publication);
        let page = Page::of(&r, &mut v);
        let department = v.optional_line("department", &r.department, 100);
        v.finish()?;
        let now = self.app.now();
        let (publication, states) = self.app.acknowledgement_states(&actor, &id).await?;
        let mut rows: Vec<pb::Acknowledgement> = states
            .iter()
            .filter(|s| department.is_empty() || s.member.department == department)
            .filter(|s| !r.pending_only || s.acknowledged.is_none())
            .filter(|s| {
                page.after
                    .as_deref()
                    .is_none_or(|a| s.member.subject.as_str() > a)
            })
            .map(|s| pb::Acknowledgement {
                publication: publication.resource(),
                subject: s.member.subject.clone(),
                department: s.member.department.clone(),
                acknowledge_time: s.acknowledged.map(|(at, _)| to_timestamp(at)),
                quiz_score: s.acknowledged.and_then(|(_, score)| score),
                overdue: s.acknowledged.is_none() && now > publication.acknowledge_by,
            })
            .collect();
        rows.truncate(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX));
        let next_page_token = page.finish(&mut rows, |a| a.subject.clone());
        Ok(Response::new(pb::ListAcknowledgementsResponse {
            acknowledgements: rows,
            next_page_token,
        }))
    }

    async fn get_acknowledgement_rates(
        &self,
        r: Request<pb::GetAcknowledgementRatesRequest>,
    ) -> Result<Response<pb::GetAcknowledgementRatesResponse>, Status> {
        let actor = authorize(&r, ACK_READERS)?;
        let mut v = Violations::new();
        let id = v.resource_id(
            "publication",
            "policyPublications",
            &r.get_ref().publication,
        );
        v.finish()?;
        let rates = self.app.acknowledgement_rates(&actor, &id).await?;
        let (audience, done): (usize, usize) =
            rates.values().fold((0, 0), |(a, d), (x, y)| (a + x, d + y));
        Ok(Response::new(pb::GetAcknowledgementRatesResponse {
            departments: rates
                .iter()
                .map(|(department, (of, acknowledged))| pb::DepartmentRate {
                    department: department.clone(),
                    audience: count(*of),
                    acknowledged: count(*acknowledged),
                    rate: rate(*acknowledged, *of),
                })
                .collect(),
            audience: count(audience),
            acknowledged: count(done),
            rate: rate(done, audience),
        }))
    }
}
