//! `procedo compliance directory|assessment|training|policies …`: the
//! directory, assessment with rewards and accountability, training and
//! the acknowledgement of policies (§6.2, §7). Files are YAML or JSON in
//! the shape of the request message they name (proto3 JSON field names).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use procedo_proto::compliance as pb;
use procedo_proto::compliance::assessment_service_client::AssessmentServiceClient;
use procedo_proto::compliance::directory_service_client::DirectoryServiceClient;
use procedo_proto::compliance::policy_service_client::PolicyServiceClient;
use procedo_proto::compliance::training_service_client::TrainingServiceClient;

use crate::client::{COMPLIANCE, Connection};
use crate::intake::parse_time;
use crate::output::{self, named, read_message, request_id, time};

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_default()
}

/// `--department D` or `--person P`: the subject of a figure.
#[derive(Debug, Clone, Args)]
#[group(required = false, multiple = false)]
struct Subject {
    /// A department's code.
    #[arg(long)]
    department: Option<String>,
    /// A person's subject.
    #[arg(long)]
    person: Option<String>,
}

impl Subject {
    fn kind_and_name(&self) -> (i32, String) {
        match (&self.department, &self.person) {
            (Some(d), _) => (pb::SubjectKind::Department as i32, d.clone()),
            (_, Some(p)) => (pb::SubjectKind::Person as i32, p.clone()),
            _ => (0, String::new()),
        }
    }
}

#[derive(Debug, Args)]
pub struct DirectoryCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Directory,
}

#[derive(Debug, Subcommand)]
enum Directory {
    /// Import people and departments (admins): a YAML or JSON
    /// ImportDirectoryRequest (`people:` and `departments:` lists).
    Import {
        /// The YAML file: departments and people, as examples show.
        file: PathBuf,
    },
    /// People, by subject.
    People {
        /// Only this department's.
        #[arg(long, default_value = "")]
        department: String,
    },
    /// Departments with their heads.
    Departments,
    /// Show one person.
    Person {
        /// The person (people/{subject}, or the subject).
        person: String,
    },
    /// Show one department.
    Department {
        /// The department (departments/{code}, or the code).
        department: String,
    },
}

pub async fn directory(command: DirectoryCommand) -> anyhow::Result<()> {
    let c = command.connection;
    let format = c.output;
    let mut client =
        DirectoryServiceClient::with_interceptor(c.channel(COMPLIANCE).await?, c.auth());
    match command.action {
        Directory::Person { person } => {
            let found = client
                .get_person(pb::GetPersonRequest {
                    name: named("people", &person),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.DirectoryPerson")
        }
        Directory::Department { department } => {
            let found = client
                .get_department(pb::GetDepartmentRequest {
                    name: named("departments", &department),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.Department")
        }
        Directory::Import { file } => {
            let mut request: pb::ImportDirectoryRequest =
                read_message(&file, "procedo.compliance.v1.ImportDirectoryRequest")?;
            request.request_id = request_id();
            let done = client.import_directory(request).await?.into_inner();
            output::record(
                format,
                &done,
                "procedo.compliance.v1.ImportDirectoryResponse",
                vec![
                    ("people", done.people.to_string()),
                    ("departments", done.departments.to_string()),
                ],
            )
        }
        Directory::People { department } => {
            let request = pb::ListPeopleRequest {
                department,
                ..Default::default()
            };
            let people = crate::list_all!(client, list_people, request, people).await?;
            let list = pb::ListPeopleResponse {
                people,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListPeopleResponse",
                &["SUBJECT", "NAME", "TITLE", "DEPARTMENT", "ROLES"],
                || {
                    list.people
                        .iter()
                        .map(|p| {
                            vec![
                                p.subject.clone(),
                                p.display_name.clone(),
                                p.title.clone(),
                                p.department.clone(),
                                p.roles.join(", "),
                            ]
                        })
                        .collect()
                },
            )
        }
        Directory::Departments => {
            let request = pb::ListDepartmentsRequest {
                ..Default::default()
            };
            let departments =
                crate::list_all!(client, list_departments, request, departments).await?;
            let list = pb::ListDepartmentsResponse {
                departments,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListDepartmentsResponse",
                &["CODE", "NAME", "HEAD", "PARENT"],
                || {
                    list.departments
                        .iter()
                        .map(|d| {
                            vec![
                                d.code.clone(),
                                d.display_name.clone(),
                                d.head.clone(),
                                d.parent.clone(),
                            ]
                        })
                        .collect()
                },
            )
        }
    }
}

#[derive(Debug, Args)]
pub struct AssessmentCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Assess,
}

#[derive(Debug, Subcommand)]
enum Assess {
    /// Create a scheme (admins): a YAML or JSON CreateSchemeRequest.
    NewScheme {
        /// The scheme as a YAML or JSON file.
        file: PathBuf,
    },
    /// Assessment schemes, newest first.
    Schemes,
    /// Compute (or recompute) the draft of the period holding --at
    /// (default now).
    Compute {
        /// The scheme (assessmentSchemes/{id}).
        scheme: String,
        /// A time inside the period to compute (now when unset).
        #[arg(long, value_parser = parse_time)]
        at: Option<prost_types::Timestamp>,
    },
    /// Assessment periods, newest first.
    Periods {
        /// Only this scheme's (assessmentSchemes/{id}).
        #[arg(long, default_value = "")]
        scheme: String,
    },
    /// A period's figures.
    Scores {
        /// The period (assessmentPeriods/{id}).
        period: String,
        #[command(flatten)]
        subject: Subject,
    },
    /// The facts behind one figure.
    Facts {
        /// The period (assessmentPeriods/{id}).
        period: String,
        /// The indicator's code.
        indicator: String,
        #[command(flatten)]
        subject: Subject,
    },
    /// An assessor's score (0–100) of a manual indicator.
    Score {
        /// The period (assessmentPeriods/{id}).
        period: String,
        /// The manual indicator's code.
        indicator: String,
        #[command(flatten)]
        subject: Subject,
        /// The score, 0 to 100.
        #[arg(long)]
        score: f64,
        /// Why this score (kept with it).
        #[arg(long)]
        justification: String,
    },
    /// Freeze a period.
    Publish {
        /// The period (assessmentPeriods/{id}).
        period: String,
    },
    /// Propose a reward or an accountability measure.
    Propose {
        /// What is proposed.
        #[arg(long, value_parser = ["commendation", "bonus", "warning", "penalty"])]
        kind: String,
        /// people/<subject> or departments/<code>.
        #[arg(long)]
        subject: String,
        /// Why it is proposed.
        #[arg(long)]
        reason: String,
        /// A published assessmentPeriods/<id> or a findings/<id>.
        #[arg(long)]
        basis: String,
        /// The indicator it rests on, if any.
        #[arg(long, default_value = "")]
        indicator: String,
    },
    /// Approve (or --reject) a proposal (admins).
    Decide {
        /// The proposal (accountabilityRecords/{id}).
        record: String,
        /// Reject instead of approve.
        #[arg(long)]
        reject: bool,
        /// A comment kept with the decision.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Rewards and accountability measures, newest first.
    Records {
        /// Only this subject's (people/<subject> or departments/<code>).
        #[arg(long, default_value = "")]
        subject: String,
    },
    /// Show one assessment scheme.
    Scheme {
        /// The scheme (assessmentSchemes/{id}).
        scheme: String,
    },
    /// Show one assessment period.
    Period {
        /// The period (assessmentPeriods/{id}).
        period: String,
    },
}

fn period_row(p: &pb::AssessmentPeriod) -> Vec<String> {
    vec![
        p.name.clone(),
        p.scheme.clone(),
        p.period.clone(),
        pb::PeriodStatus::try_from(p.status)
            .map(|s| {
                s.as_str_name()
                    .trim_start_matches("PERIOD_STATUS_")
                    .to_owned()
            })
            .unwrap_or_default(),
        time(p.compute_time.as_ref()),
    ]
}

const PERIOD_HEADERS: &[&str] = &["PERIOD", "SCHEME", "LABEL", "STATUS", "COMPUTED"];

fn record_row(r: &pb::AccountabilityRecord) -> Vec<String> {
    vec![
        r.name.clone(),
        pb::RecordKind::try_from(r.kind)
            .map(|k| {
                k.as_str_name()
                    .trim_start_matches("RECORD_KIND_")
                    .to_owned()
            })
            .unwrap_or_default(),
        r.subject.clone(),
        pb::RecordStatus::try_from(r.status)
            .map(|s| {
                s.as_str_name()
                    .trim_start_matches("RECORD_STATUS_")
                    .to_owned()
            })
            .unwrap_or_default(),
        r.basis.clone(),
        r.reason.clone(),
    ]
}

const RECORD_HEADERS: &[&str] = &["RECORD", "KIND", "SUBJECT", "STATUS", "BASIS", "REASON"];

pub async fn assessment(command: AssessmentCommand) -> anyhow::Result<()> {
    let c = command.connection;
    let format = c.output;
    let mut client =
        AssessmentServiceClient::with_interceptor(c.channel(COMPLIANCE).await?, c.auth());
    let period = |p: &str| named("assessmentPeriods", p);
    match command.action {
        Assess::Scheme { scheme } => {
            let found = client
                .get_scheme(pb::GetSchemeRequest {
                    name: named("assessmentSchemes", &scheme),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.AssessmentScheme")
        }
        Assess::Period { period } => {
            let found = client
                .get_period(pb::GetPeriodRequest {
                    name: named("assessmentPeriods", &period),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.AssessmentPeriod")
        }
        Assess::NewScheme { file } => {
            let mut request: pb::CreateSchemeRequest =
                read_message(&file, "procedo.compliance.v1.CreateSchemeRequest")?;
            request.request_id = request_id();
            let s = client.create_scheme(request).await?.into_inner();
            output::record(
                format,
                &s,
                "procedo.compliance.v1.AssessmentScheme",
                vec![
                    ("scheme", s.name.clone()),
                    ("indicators", s.indicators.len().to_string()),
                ],
            )
        }
        Assess::Schemes => {
            let request = pb::ListSchemesRequest {
                ..Default::default()
            };
            let schemes = crate::list_all!(client, list_schemes, request, schemes).await?;
            let list = pb::ListSchemesResponse {
                schemes,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListSchemesResponse",
                &["SCHEME", "TITLE", "INDICATORS"],
                || {
                    list.schemes
                        .iter()
                        .map(|s| {
                            vec![
                                s.name.clone(),
                                s.title.clone(),
                                s.indicators
                                    .iter()
                                    .map(|i| i.code.clone())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            ]
                        })
                        .collect()
                },
            )
        }
        Assess::Compute { scheme, at } => {
            let at = at.unwrap_or_else(|| {
                procedo_platform::time::to_timestamp(procedo_platform::time::now())
            });
            let p = client
                .compute_period(pb::ComputePeriodRequest {
                    request_id: request_id(),
                    scheme: named("assessmentSchemes", &scheme),
                    period_time: Some(at),
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &p,
                "procedo.compliance.v1.AssessmentPeriod",
                PERIOD_HEADERS,
                || vec![period_row(&p)],
            )
        }
        Assess::Periods { scheme } => {
            let request = pb::ListPeriodsRequest {
                scheme: if scheme.is_empty() {
                    scheme
                } else {
                    named("assessmentSchemes", &scheme)
                },
                ..Default::default()
            };
            let periods = crate::list_all!(client, list_periods, request, periods).await?;
            let list = pb::ListPeriodsResponse {
                periods,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListPeriodsResponse",
                PERIOD_HEADERS,
                || list.periods.iter().map(period_row).collect(),
            )
        }
        Assess::Scores { period: p, subject } => {
            let (kind, name) = subject.kind_and_name();
            let request = pb::ListScoresRequest {
                period: period(&p),
                subject_kind: kind,
                subject: name,
                ..Default::default()
            };
            let scores = crate::list_all!(client, list_scores, request, scores).await?;
            let list = pb::ListScoresResponse {
                scores,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListScoresResponse",
                &["SUBJECT", "INDICATOR", "VALUE", "FACTS", "SCORE", "MANUAL"],
                || {
                    list.scores
                        .iter()
                        .map(|s| {
                            vec![
                                s.subject.clone(),
                                if s.indicator.is_empty() {
                                    "(total)".to_owned()
                                } else {
                                    s.indicator.clone()
                                },
                                opt(s.value),
                                s.fact_count.to_string(),
                                opt(s.score),
                                if s.manual {
                                    s.assessor.clone()
                                } else {
                                    String::new()
                                },
                            ]
                        })
                        .collect()
                },
            )
        }
        Assess::Facts {
            period: p,
            indicator,
            subject,
        } => {
            let (kind, name) = subject.kind_and_name();
            let request = pb::ListScoreFactsRequest {
                period: period(&p),
                indicator,
                subject_kind: kind,
                subject: name,
                ..Default::default()
            };
            let facts = crate::list_all!(client, list_score_facts, request, facts).await?;
            let list = pb::ListScoreFactsResponse {
                facts,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListScoreFactsResponse",
                &["WHEN", "DUE", "RECORD", "PERSON", "OUTCOME", "EVIDENCE"],
                || {
                    list.facts
                        .iter()
                        .map(|f| {
                            vec![
                                time(f.occur_time.as_ref()),
                                time(f.due_time.as_ref()),
                                f.resource.clone(),
                                f.person.clone(),
                                f.outcome.clone(),
                                f.evidence.clone(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Assess::Score {
            period: p,
            indicator,
            subject,
            score,
            justification,
        } => {
            let (kind, name) = subject.kind_and_name();
            let s = client
                .set_manual_score(pb::SetManualScoreRequest {
                    request_id: request_id(),
                    period: period(&p),
                    indicator,
                    subject_kind: kind,
                    subject: name,
                    score,
                    justification,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &s,
                "procedo.compliance.v1.Score",
                vec![
                    ("subject", s.subject.clone()),
                    ("indicator", s.indicator.clone()),
                    ("score", opt(s.score)),
                ],
            )
        }
        Assess::Publish { period: p } => {
            let p = client
                .publish_period(pb::PublishPeriodRequest {
                    request_id: request_id(),
                    name: period(&p),
                    etag: String::new(),
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &p,
                "procedo.compliance.v1.AssessmentPeriod",
                PERIOD_HEADERS,
                || vec![period_row(&p)],
            )
        }
        Assess::Propose {
            kind,
            subject,
            reason,
            basis,
            indicator,
        } => {
            let kind =
                pb::RecordKind::from_str_name(&format!("RECORD_KIND_{}", kind.to_uppercase()))
                    .unwrap_or_default();
            let r = client
                .propose_record(pb::ProposeRecordRequest {
                    request_id: request_id(),
                    kind: kind as i32,
                    subject,
                    reason,
                    basis,
                    indicator,
                    amount: None,
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &r,
                "procedo.compliance.v1.AccountabilityRecord",
                RECORD_HEADERS,
                || vec![record_row(&r)],
            )
        }
        Assess::Decide {
            record,
            reject,
            comment,
        } => {
            let r = client
                .decide_record(pb::DecideRecordRequest {
                    request_id: request_id(),
                    name: named("accountabilityRecords", &record),
                    etag: String::new(),
                    approve: !reject,
                    comment,
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &r,
                "procedo.compliance.v1.AccountabilityRecord",
                RECORD_HEADERS,
                || vec![record_row(&r)],
            )
        }
        Assess::Records { subject } => {
            let request = pb::ListRecordsRequest {
                subject,
                ..Default::default()
            };
            let records = crate::list_all!(client, list_records, request, records).await?;
            let list = pb::ListRecordsResponse {
                records,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListRecordsResponse",
                RECORD_HEADERS,
                || list.records.iter().map(record_row).collect(),
            )
        }
    }
}

#[derive(Debug, Args)]
pub struct TrainingCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Train,
}

/// "0" or "0,2": the options chosen for one question.
fn parse_answer(s: &str) -> Result<pb::Answer, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.trim()
                .parse::<i32>()
                .map_err(|_| format!("{s:?}: option numbers from 0, comma-separated"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|chosen| pb::Answer { chosen })
}

#[derive(Debug, Subcommand)]
enum Train {
    /// Create the year's plan (trainers): a YAML or JSON
    /// CreateTrainingPlanRequest.
    NewPlan {
        /// The plan as a YAML or JSON file.
        file: PathBuf,
    },
    /// Training plans, newest first.
    Plans,
    /// Create a question bank (trainers): a YAML or JSON
    /// CreateQuestionBankRequest.
    NewBank {
        /// The bank as a YAML or JSON file.
        file: PathBuf,
    },
    /// Schedule a session of a plan item (trainers).
    Schedule {
        /// The plan (trainingPlans/{id}).
        #[arg(long)]
        plan: String,
        /// The plan item's id.
        #[arg(long)]
        item: String,
        /// When the session starts (RFC 3339 or a date).
        #[arg(long, value_parser = parse_time)]
        from: prost_types::Timestamp,
        /// When it ends.
        #[arg(long, value_parser = parse_time)]
        to: prost_types::Timestamp,
        /// Where it is held.
        #[arg(long, default_value = "")]
        location: String,
        /// The exam's question bank.
        #[arg(long)]
        bank: Option<String>,
        /// The exam's pass mark, 0 to 100.
        #[arg(long, default_value_t = 60)]
        pass_mark: i32,
        /// How many times the exam may be taken.
        #[arg(long, default_value_t = 2)]
        attempts: i32,
        /// The trainer scores a practical assessment.
        #[arg(long)]
        practical: bool,
    },
    /// Training sessions, soonest first.
    Sessions,
    /// Who is enrolled and who attended.
    Enrolment {
        /// The session (trainingSessions/{id}).
        session: String,
    },
    /// Record attendance (trainers).
    Attend {
        /// The session (trainingSessions/{id}).
        session: String,
        /// Someone who attended (a subject); repeat.
        #[arg(long = "present")]
        present: Vec<String>,
        /// Someone absent (a subject); repeat.
        #[arg(long = "absent")]
        absent: Vec<String>,
    },
    /// Take the session's exam: one --answer per question, e.g. 0 or 0,2.
    Exam {
        /// The session (trainingSessions/{id}).
        session: String,
        /// One answer per question, in order: the chosen options' indexes, e.g.
        /// 0 or 0,2; repeat.
        #[arg(long = "answer", value_parser = parse_answer)]
        answers: Vec<pb::Answer>,
    },
    /// Score someone's practical assessment (trainers).
    Practical {
        /// The session (trainingSessions/{id}).
        session: String,
        /// The person assessed (a subject).
        #[arg(long)]
        person: String,
        /// The score, 0 to 100.
        #[arg(long)]
        score: i32,
        /// Whether they passed.
        #[arg(long)]
        passed: bool,
        /// The trainer's notes.
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Your satisfaction with a session (1–5).
    Questionnaire {
        /// The session (trainingSessions/{id}).
        session: String,
        /// Satisfaction, 1 (poor) to 5 (very good).
        #[arg(long)]
        satisfaction: i32,
        /// A comment.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// A person's training record.
    Record {
        /// The person (people/<subject>, or the subject).
        person: String,
    },
    /// A plan item's attendance, pass rate and satisfaction.
    Effectiveness {
        /// The plan (trainingPlans/{id}).
        #[arg(long)]
        plan: String,
        /// The plan item's id.
        #[arg(long)]
        item: String,
    },
    /// Show one training plan.
    Plan {
        /// The plan (trainingPlans/{id}).
        plan: String,
    },
    /// Show one question bank.
    Bank {
        /// The bank (questionBanks/{id}).
        bank: String,
    },
    /// Show one training session.
    Session {
        /// The session (trainingSessions/{id}).
        session: String,
    },
}

pub async fn training(command: TrainingCommand) -> anyhow::Result<()> {
    let c = command.connection;
    let format = c.output;
    let mut client =
        TrainingServiceClient::with_interceptor(c.channel(COMPLIANCE).await?, c.auth());
    let session = |s: &str| named("trainingSessions", s);
    match command.action {
        Train::Plan { plan } => {
            let found = client
                .get_training_plan(pb::GetTrainingPlanRequest {
                    name: named("trainingPlans", &plan),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.TrainingPlan")
        }
        Train::Bank { bank } => {
            let found = client
                .get_question_bank(pb::GetQuestionBankRequest {
                    name: named("questionBanks", &bank),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.QuestionBank")
        }
        Train::Session { session } => {
            let found = client
                .get_session(pb::GetSessionRequest {
                    name: named("trainingSessions", &session),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.TrainingSession")
        }
        Train::NewPlan { file } => {
            let mut request: pb::CreateTrainingPlanRequest =
                read_message(&file, "procedo.compliance.v1.CreateTrainingPlanRequest")?;
            request.request_id = request_id();
            let p = client.create_training_plan(request).await?.into_inner();
            output::record(
                format,
                &p,
                "procedo.compliance.v1.TrainingPlan",
                vec![
                    ("plan", p.name.clone()),
                    ("items", p.items.len().to_string()),
                ],
            )
        }
        Train::Plans => {
            let request = pb::ListTrainingPlansRequest {
                ..Default::default()
            };
            let plans = crate::list_all!(client, list_training_plans, request, plans).await?;
            let list = pb::ListTrainingPlansResponse {
                plans,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListTrainingPlansResponse",
                &["PLAN", "YEAR", "TITLE", "ITEMS"],
                || {
                    list.plans
                        .iter()
                        .map(|p| {
                            vec![
                                p.name.clone(),
                                p.year.to_string(),
                                p.title.clone(),
                                p.items.len().to_string(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Train::NewBank { file } => {
            let mut request: pb::CreateQuestionBankRequest =
                read_message(&file, "procedo.compliance.v1.CreateQuestionBankRequest")?;
            request.request_id = request_id();
            let b = client.create_question_bank(request).await?.into_inner();
            output::record(
                format,
                &b,
                "procedo.compliance.v1.QuestionBank",
                vec![
                    ("bank", b.name.clone()),
                    ("questions", b.questions.len().to_string()),
                ],
            )
        }
        Train::Schedule {
            plan,
            item,
            from,
            to,
            location,
            bank,
            pass_mark,
            attempts,
            practical,
        } => {
            let s = client
                .schedule_session(pb::ScheduleSessionRequest {
                    request_id: request_id(),
                    plan: named("trainingPlans", &plan),
                    item,
                    start_time: Some(from),
                    end_time: Some(to),
                    location,
                    materials: Vec::new(),
                    exam: bank.map(|b| pb::Exam {
                        question_bank: named("questionBanks", &b),
                        pass_mark,
                        max_attempts: attempts,
                        questions: Vec::new(),
                    }),
                    practical,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &s,
                "procedo.compliance.v1.TrainingSession",
                vec![
                    ("session", s.name.clone()),
                    ("title", s.title.clone()),
                    ("starts", time(s.start_time.as_ref())),
                ],
            )
        }
        Train::Sessions => {
            let request = pb::ListSessionsRequest {
                ..Default::default()
            };
            let sessions = crate::list_all!(client, list_sessions, request, sessions).await?;
            let list = pb::ListSessionsResponse {
                sessions,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListSessionsResponse",
                &["SESSION", "TITLE", "STARTS", "TRAINER"],
                || {
                    list.sessions
                        .iter()
                        .map(|s| {
                            vec![
                                s.name.clone(),
                                s.title.clone(),
                                time(s.start_time.as_ref()),
                                s.trainer.clone(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Train::Enrolment { session: s } => {
            let list = client
                .list_enrolment(pb::ListEnrolmentRequest {
                    session: session(&s),
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListEnrolmentResponse",
                &["SUBJECT", "DEPARTMENT", "PRESENT"],
                || {
                    list.enrolment
                        .iter()
                        .map(|e| {
                            vec![
                                e.subject.clone(),
                                e.department.clone(),
                                e.present.map(|p| p.to_string()).unwrap_or_default(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Train::Attend {
            session: s,
            present,
            absent,
        } => {
            let done = client
                .record_attendance(pb::RecordAttendanceRequest {
                    request_id: request_id(),
                    session: session(&s),
                    present,
                    absent,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &done,
                "procedo.compliance.v1.RecordAttendanceResponse",
                vec![("recorded", done.recorded.to_string())],
            )
        }
        Train::Exam {
            session: s,
            answers,
        } => {
            let r = client
                .take_exam(pb::TakeExamRequest {
                    request_id: request_id(),
                    session: session(&s),
                    answers,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &r,
                "procedo.compliance.v1.ExamResult",
                vec![
                    ("score", r.score.to_string()),
                    ("passed", r.passed.to_string()),
                    ("attempt", r.attempt.to_string()),
                    ("attempts left", r.attempts_left.to_string()),
                ],
            )
        }
        Train::Practical {
            session: s,
            person,
            score,
            passed,
            notes,
        } => {
            let r = client
                .score_practical(pb::ScorePracticalRequest {
                    request_id: request_id(),
                    session: session(&s),
                    subject: person,
                    score,
                    passed,
                    notes,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &r,
                "procedo.compliance.v1.PracticalResult",
                vec![
                    ("subject", r.subject.clone()),
                    ("score", r.score.to_string()),
                    ("passed", r.passed.to_string()),
                ],
            )
        }
        Train::Questionnaire {
            session: s,
            satisfaction,
            comment,
        } => {
            let r = client
                .submit_questionnaire(pb::SubmitQuestionnaireRequest {
                    request_id: request_id(),
                    session: session(&s),
                    satisfaction,
                    comment,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &r,
                "procedo.compliance.v1.QuestionnaireResponse",
                vec![("satisfaction", r.satisfaction.to_string())],
            )
        }
        Train::Record { person } => {
            let r = client
                .get_training_record(pb::GetTrainingRecordRequest {
                    person: named("people", &person),
                })
                .await?
                .into_inner();
            let show = |v: Option<i32>| v.map(|x| x.to_string()).unwrap_or_default();
            let flag = |v: Option<bool>| v.map(|x| x.to_string()).unwrap_or_default();
            output::listing(
                format,
                &r,
                "procedo.compliance.v1.TrainingRecord",
                &[
                    "SESSION",
                    "TITLE",
                    "PRESENT",
                    "EXAM",
                    "PASSED",
                    "PRACTICAL",
                    "SATISFACTION",
                ],
                || {
                    r.entries
                        .iter()
                        .map(|e| {
                            vec![
                                e.session.clone(),
                                e.title.clone(),
                                flag(e.present),
                                show(e.exam_score),
                                flag(e.exam_passed.or(e.practical_passed)),
                                show(e.practical_score),
                                show(e.satisfaction),
                            ]
                        })
                        .collect()
                },
            )
        }
        Train::Effectiveness { plan, item } => {
            let e = client
                .get_item_effectiveness(pb::GetItemEffectivenessRequest {
                    plan: named("trainingPlans", &plan),
                    item,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &e,
                "procedo.compliance.v1.ItemEffectiveness",
                vec![
                    ("sessions", e.sessions.to_string()),
                    (
                        "attendance",
                        format!(
                            "{}/{} ({:.0} %)",
                            e.present,
                            e.enrolled,
                            e.attendance_rate * 100.0
                        ),
                    ),
                    (
                        "passed",
                        format!(
                            "{}/{} ({:.0} %)",
                            e.passed,
                            e.evaluated,
                            e.pass_rate * 100.0
                        ),
                    ),
                    (
                        "satisfaction",
                        format!(
                            "{:.2} ({} answers)",
                            e.average_satisfaction, e.questionnaires
                        ),
                    ),
                ],
            )
        }
    }
}

#[derive(Debug, Args)]
pub struct PoliciesCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Policy,
}

#[derive(Debug, Subcommand)]
enum Policy {
    /// Publish a document version to an audience (auditors).
    Publish {
        /// documents/<id>.
        #[arg(long)]
        document: String,
        /// The document version to publish.
        #[arg(long)]
        version: i32,
        /// The publication's title.
        #[arg(long)]
        title: String,
        /// A department of the audience; repeat. None: everyone.
        #[arg(long = "department")]
        departments: Vec<String>,
        /// A role of the audience; repeat.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The acknowledgement deadline as a time limit, e.g. 5wd.
        #[arg(long, value_parser = procedo_platform::calendar::Limit::parse)]
        within: procedo_platform::calendar::Limit,
        /// A quiz: a YAML or JSON CreateQuestionBankRequest whose questions
        /// are asked.
        #[arg(long)]
        quiz: Option<PathBuf>,
        /// The quiz's pass mark, 0 to 100.
        #[arg(long, default_value_t = 100)]
        pass_mark: i32,
    },
    /// Publications addressed to you (all, for auditors).
    List,
    /// Acknowledge having read it: one --answer per quiz question.
    Acknowledge {
        /// The publication (policyPublications/{id}).
        publication: String,
        /// One answer per quiz question, in order: the chosen options' indexes,
        /// e.g. 0 or 0,2; repeat.
        #[arg(long = "answer", value_parser = parse_answer)]
        answers: Vec<pb::Answer>,
    },
    /// Who acknowledged and who did not.
    Acknowledgements {
        /// The publication (policyPublications/{id}).
        publication: String,
        /// Only those who have not acknowledged yet.
        #[arg(long)]
        pending: bool,
    },
    /// Acknowledgement rates per department.
    Rates {
        /// The publication (policyPublications/{id}).
        publication: String,
    },
    /// Show one publication.
    Publication {
        /// The publication (policyPublications/{id}).
        publication: String,
    },
}

pub async fn policies(command: PoliciesCommand) -> anyhow::Result<()> {
    let c = command.connection;
    let format = c.output;
    let mut client = PolicyServiceClient::with_interceptor(c.channel(COMPLIANCE).await?, c.auth());
    let publication = |p: &str| named("policyPublications", p);
    let publication_row = |p: &pb::PolicyPublication| {
        vec![
            p.name.clone(),
            format!("{} v{}", p.document, p.version),
            p.title.clone(),
            time(p.acknowledge_by.as_ref()),
            pb::PublicationStatus::try_from(p.status)
                .map(|s| {
                    s.as_str_name()
                        .trim_start_matches("PUBLICATION_STATUS_")
                        .to_owned()
                })
                .unwrap_or_default(),
        ]
    };
    let headers: &[&str] = &[
        "PUBLICATION",
        "DOCUMENT",
        "TITLE",
        "ACKNOWLEDGE BY",
        "STATUS",
    ];
    match command.action {
        Policy::Publication { publication } => {
            let found = client
                .get_publication(pb::GetPublicationRequest {
                    name: named("policyPublications", &publication),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.PolicyPublication")
        }
        Policy::Publish {
            document,
            version,
            title,
            departments,
            roles,
            within,
            quiz,
            pass_mark,
        } => {
            let quiz = match quiz {
                Some(file) => {
                    read_message::<pb::CreateQuestionBankRequest>(
                        &file,
                        "procedo.compliance.v1.CreateQuestionBankRequest",
                    )?
                    .questions
                }
                None => Vec::new(),
            };
            let p = client
                .publish_policy(pb::PublishPolicyRequest {
                    request_id: request_id(),
                    document: named("documents", &document),
                    version,
                    title,
                    audience: Some(pb::Audience { departments, roles }),
                    pass_mark: if quiz.is_empty() { 0 } else { pass_mark },
                    quiz,
                    acknowledge_within: Some(within.to_proto()),
                    acknowledge_by: None,
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &p,
                "procedo.compliance.v1.PolicyPublication",
                headers,
                || vec![publication_row(&p)],
            )
        }
        Policy::List => {
            let request = pb::ListPublicationsRequest {
                ..Default::default()
            };
            let publications =
                crate::list_all!(client, list_publications, request, publications).await?;
            let list = pb::ListPublicationsResponse {
                publications,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListPublicationsResponse",
                headers,
                || list.publications.iter().map(publication_row).collect(),
            )
        }
        Policy::Acknowledge {
            publication: p,
            answers,
        } => {
            let a = client
                .acknowledge_policy(pb::AcknowledgePolicyRequest {
                    request_id: request_id(),
                    publication: publication(&p),
                    answers,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &a,
                "procedo.compliance.v1.Acknowledgement",
                vec![
                    ("acknowledged", time(a.acknowledge_time.as_ref())),
                    (
                        "quiz",
                        a.quiz_score.map(|s| s.to_string()).unwrap_or_default(),
                    ),
                ],
            )
        }
        Policy::Acknowledgements {
            publication: p,
            pending,
        } => {
            let request = pb::ListAcknowledgementsRequest {
                publication: publication(&p),
                pending_only: pending,
                ..Default::default()
            };
            let acknowledgements =
                crate::list_all!(client, list_acknowledgements, request, acknowledgements).await?;
            let list = pb::ListAcknowledgementsResponse {
                acknowledgements,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListAcknowledgementsResponse",
                &["SUBJECT", "DEPARTMENT", "ACKNOWLEDGED", "OVERDUE"],
                || {
                    list.acknowledgements
                        .iter()
                        .map(|a| {
                            vec![
                                a.subject.clone(),
                                a.department.clone(),
                                time(a.acknowledge_time.as_ref()),
                                if a.overdue { "yes" } else { "" }.to_owned(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Policy::Rates { publication: p } => {
            let r = client
                .get_acknowledgement_rates(pb::GetAcknowledgementRatesRequest {
                    publication: publication(&p),
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &r,
                "procedo.compliance.v1.GetAcknowledgementRatesResponse",
                &["DEPARTMENT", "AUDIENCE", "ACKNOWLEDGED", "RATE"],
                || {
                    r.departments
                        .iter()
                        .map(|d| {
                            vec![
                                d.department.clone(),
                                d.audience.to_string(),
                                d.acknowledged.to_string(),
                                format!("{:.0} %", d.rate * 100.0),
                            ]
                        })
                        .chain(std::iter::once(vec![
                            "(all)".to_owned(),
                            r.audience.to_string(),
                            r.acknowledged.to_string(),
                            format!("{:.0} %", r.rate * 100.0),
                        ]))
                        .collect()
                },
            )
        }
    }
}
