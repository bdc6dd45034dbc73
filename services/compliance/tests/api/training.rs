//! Training (§7.1–7.2) and making the rules known (§7.3): a session enrols
//! its audience as the directory has it (newcomers too), its exam is scored
//! with limited attempts, everything adds up to each person's record and
//! the item's effectiveness; a policy is acknowledged after its quiz, the
//! late are reminded once, and a new version needs everyone again.

use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_platform::time::Clock;
use procedo_proto::common;
use procedo_proto::compliance as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{PolicyClient, TestCompliance, TrainingClient, audit_event};

backend_tests!(
    a_session_enrols_its_audience_scores_its_exam_and_adds_up_to_records_and_effectiveness,
    a_policy_is_acknowledged_after_its_quiz_reminded_once_and_again_when_republished,
);

const NOW: i64 = 1_795_000_000_000;
const DAY: i64 = 86_400_000;

fn ts(ms: i64) -> Option<prost_types::Timestamp> {
    Some(procedo_platform::time::to_timestamp(ms))
}

/// Sales: hank (head), sam and nina (executors); finance: fay.
async fn staff(app: &TestCompliance) {
    let person = |subject: &str, department: &str, role: &str| pb::ImportedPerson {
        subject: subject.into(),
        display_name: subject.into(),
        department: department.into(),
        roles: vec![role.into()],
        active: true,
        ..Default::default()
    };
    app.directory(app.tokens.token(Role::Admin))
        .import_directory(pb::ImportDirectoryRequest {
            people: vec![
                person("hank", "sales", "department_head"),
                person("sam", "sales", "executor"),
                person("nina", "sales", "executor"),
                person("fay", "finance", "department_head"),
            ],
            departments: vec![pb::ImportedDepartment {
                code: "sales".into(),
                head: "hank".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect("imported");
}

fn as_(app: &TestCompliance, subject: &str, department: &str, role: Role) -> TrainingClient {
    app.training(app.tokens.token_for(subject, department, &[role]))
}

fn single(text: &str, options: &[&str], correct: i32) -> pb::Question {
    pb::Question {
        kind: pb::QuestionKind::SingleChoice as i32,
        text: text.into(),
        options: options.iter().map(|o| (*o).to_owned()).collect(),
        correct: vec![correct],
    }
}

fn answers(chosen: &[&[i32]]) -> Vec<pb::Answer> {
    chosen
        .iter()
        .map(|c| pb::Answer { chosen: c.to_vec() })
        .collect()
}

async fn a_session_enrols_its_audience_scores_its_exam_and_adds_up_to_records_and_effectiveness(
    backend: Backend,
) {
    let app = TestCompliance::spawn(backend).await;
    staff(&app).await;
    let mut tina = as_(&app, "tina", "hr", Role::Trainer);
    let plan = tina
        .create_training_plan(pb::CreateTrainingPlanRequest {
            year: 2026,
            title: "Annual training".into(),
            items: vec![pb::PlanItem {
                title: "The intake procedure".into(),
                content: "§2.1 and §2.2: inquiries and applications".into(),
                method: pb::Method::Lecture as i32,
                schedule: "2026-12".into(),
                audience: Some(pb::Audience {
                    departments: vec!["sales".into()],
                    roles: vec!["executor".into()],
                }),
                trainer: "tina".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect("a plan")
        .into_inner();
    assert_eq!(plan.items[0].id, "1");
    let bank = tina
        .create_question_bank(pb::CreateQuestionBankRequest {
            title: "Intake".into(),
            questions: vec![
                single(
                    "Where is an application entered first?",
                    &["the ledger", "a spreadsheet"],
                    0,
                ),
                pb::Question {
                    kind: pb::QuestionKind::MultipleChoice as i32,
                    text: "Which channels have a response limit?".into(),
                    options: vec!["phone".into(), "e-mail".into(), "fax".into()],
                    correct: vec![0, 1],
                },
                pb::Question {
                    kind: pb::QuestionKind::TrueFalse as i32,
                    text: "An incomplete application's clock runs on.".into(),
                    options: vec![],
                    correct: vec![1],
                },
            ],
            ..Default::default()
        })
        .await
        .expect("a bank")
        .into_inner();
    let session = tina
        .schedule_session(pb::ScheduleSessionRequest {
            plan: plan.name.clone(),
            item: "1".into(),
            start_time: ts(NOW),
            end_time: ts(NOW + 2 * 3_600_000),
            location: "Room 2".into(),
            exam: Some(pb::Exam {
                question_bank: bank.name.clone(),
                pass_mark: 60,
                max_attempts: 2,
                questions: vec![],
            }),
            practical: true,
            ..Default::default()
        })
        .await
        .expect("scheduled")
        .into_inner();

    // Olga joins sales and acts: she is enrolled too.
    let mut joined = audit_event(
        "procedo.intake",
        1,
        "intake.inquiries.create",
        "inquiries/1",
    );
    joined.actor = Some(common::Actor {
        subject: "olga".into(),
        name: "Olga".into(),
        department: "sales".into(),
        roles: vec!["executor".into()],
        ..Default::default()
    });
    assert!(app.deliver(joined).await);
    let enrolled: Vec<String> = tina
        .list_enrolment(pb::ListEnrolmentRequest {
            session: session.name.clone(),
        })
        .await
        .expect("enrolment")
        .into_inner()
        .enrolment
        .into_iter()
        .map(|e| e.subject)
        .collect();
    assert_eq!(enrolled, ["nina", "olga", "sam"]);

    let outsider = tina
        .record_attendance(pb::RecordAttendanceRequest {
            session: session.name.clone(),
            present: vec!["fay".into()],
            ..Default::default()
        })
        .await
        .expect_err("not enrolled");
    assert_eq!(outsider.code(), Code::InvalidArgument);
    tina.record_attendance(pb::RecordAttendanceRequest {
        session: session.name.clone(),
        present: vec!["sam".into()],
        absent: vec!["nina".into()],
        ..Default::default()
    })
    .await
    .expect("recorded");

    // Sam sees the questions, not the answers; two attempts, then no more.
    let mut sam = as_(&app, "sam", "sales", Role::Executor);
    let seen = sam
        .get_session(pb::GetSessionRequest {
            name: session.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    let exam = seen.exam.expect("an exam");
    assert_eq!(exam.questions.len(), 3);
    assert!(
        exam.questions.iter().all(|q| q.correct.is_empty()),
        "answers hidden"
    );
    assert_eq!(exam.questions[2].options, ["true", "false"]);
    let take = |chosen: &[&[i32]]| pb::TakeExamRequest {
        session: session.name.clone(),
        answers: answers(chosen),
        ..Default::default()
    };
    let first = sam
        .take_exam(take(&[&[0], &[0], &[0]]))
        .await
        .expect("taken")
        .into_inner();
    assert_eq!(
        (first.score, first.passed, first.attempts_left),
        (33, false, 1)
    );
    let second = sam
        .take_exam(take(&[&[0], &[1, 0], &[1]]))
        .await
        .expect("taken")
        .into_inner();
    assert_eq!(
        (second.score, second.passed, second.attempt),
        (100, true, 2)
    );
    let third = sam
        .take_exam(take(&[&[0], &[1, 0], &[1]]))
        .await
        .expect_err("no attempts left");
    assert_eq!(third.code(), Code::FailedPrecondition);
    let short = sam
        .take_exam(take(&[&[0]]))
        .await
        .expect_err("one answer per question");
    assert_eq!(short.code(), Code::InvalidArgument);
    let fay = as_(&app, "fay", "finance", Role::DepartmentHead)
        .take_exam(take(&[&[0], &[0], &[1]]))
        .await
        .expect_err("not enrolled");
    assert_eq!(fay.code(), Code::PermissionDenied);

    tina.score_practical(pb::ScorePracticalRequest {
        session: session.name.clone(),
        subject: "sam".into(),
        score: 80,
        passed: true,
        notes: "Entered a full application unaided".into(),
        ..Default::default()
    })
    .await
    .expect("scored");
    sam.submit_questionnaire(pb::SubmitQuestionnaireRequest {
        session: session.name.clone(),
        satisfaction: 4,
        comment: "Useful".into(),
        ..Default::default()
    })
    .await
    .expect("answered");
    let again = sam
        .submit_questionnaire(pb::SubmitQuestionnaireRequest {
            session: session.name.clone(),
            satisfaction: 5,
            ..Default::default()
        })
        .await
        .expect_err("once");
    assert_eq!(again.code(), Code::FailedPrecondition);

    let record = sam
        .get_training_record(pb::GetTrainingRecordRequest {
            person: "people/sam".into(),
        })
        .await
        .expect("his record")
        .into_inner();
    assert_eq!(record.entries.len(), 1);
    let entry = &record.entries[0];
    assert_eq!(
        (
            entry.present,
            entry.exam_score,
            entry.exam_passed,
            entry.practical_score,
            entry.satisfaction
        ),
        (Some(true), Some(100), Some(true), Some(80), Some(4))
    );
    let hidden = sam
        .get_training_record(pb::GetTrainingRecordRequest {
            person: "people/nina".into(),
        })
        .await
        .expect_err("not his");
    assert_eq!(hidden.code(), Code::NotFound);
    let nina = as_(&app, "hank", "sales", Role::DepartmentHead)
        .get_training_record(pb::GetTrainingRecordRequest {
            person: "people/nina".into(),
        })
        .await
        .expect("their department's")
        .into_inner();
    assert_eq!(nina.entries[0].present, Some(false));
    // Olga, enrolled, has nothing recorded yet.
    let olga = tina
        .get_training_record(pb::GetTrainingRecordRequest {
            person: "people/olga".into(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(olga.entries.len(), 1);
    assert_eq!(olga.entries[0].present, None);

    let e = tina
        .get_item_effectiveness(pb::GetItemEffectivenessRequest {
            plan: plan.name.clone(),
            item: "1".into(),
        })
        .await
        .expect("effectiveness")
        .into_inner();
    assert_eq!((e.sessions, e.enrolled, e.present), (1, 3, 1));
    assert!((e.attendance_rate - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!((e.evaluated, e.passed, e.pass_rate), (1, 1, 1.0));
    assert_eq!((e.questionnaires, e.average_satisfaction), (1, 4.0));
}

fn policy(app: &TestCompliance, role: Role) -> PolicyClient {
    app.policies(app.tokens.token_for("ann", "audit", &[role]))
}

async fn a_policy_is_acknowledged_after_its_quiz_reminded_once_and_again_when_republished(
    backend: Backend,
) {
    let clock = Clock::manual(NOW);
    let set = clock.clone();
    let app = TestCompliance::spawn_with(backend, move |c| {
        c.company.clock = set;
        c.service.deadline_sweep = Duration::from_millis(50);
    })
    .await;
    staff(&app).await;
    let document = "documents/0193a0c0-0000-7000-8000-0000000000aa".to_owned();
    let mut ann = policy(&app, Role::Auditor);
    let publish = |version: i32| pb::PublishPolicyRequest {
        document: document.clone(),
        version,
        title: "Intake rules".into(),
        audience: Some(pb::Audience {
            departments: vec!["sales".into()],
            roles: vec![],
        }),
        quiz: vec![single(
            "Who checks completeness?",
            &["the clerk", "the customer"],
            0,
        )],
        pass_mark: 100,
        // A day from publishing.
        acknowledge_within: Some(common::TimeLimit {
            kind: Some(common::time_limit::Kind::Elapsed(prost_types::Duration {
                seconds: DAY / 1000,
                nanos: 0,
            })),
        }),
        ..Default::default()
    };
    let v1 = ann
        .publish_policy(publish(1))
        .await
        .expect("published")
        .into_inner();
    assert_eq!(v1.status, pb::PublicationStatus::Active as i32);
    assert_eq!(v1.acknowledge_by, ts(NOW + DAY));
    assert!(
        v1.quiz[0].correct.is_empty(),
        "the quiz's answers are not shown"
    );

    let mut sam = app.policies(app.tokens.token_for("sam", "sales", &[Role::Executor]));
    let ack = |publication: &str, chosen: i32| pb::AcknowledgePolicyRequest {
        publication: publication.into(),
        answers: answers(&[&[chosen]]),
        ..Default::default()
    };
    let wrong = sam
        .acknowledge_policy(ack(&v1.name, 1))
        .await
        .expect_err("the quiz failed");
    assert_eq!(wrong.code(), Code::FailedPrecondition);
    assert!(wrong.message().contains("scored 0"), "{}", wrong.message());
    let done = sam
        .acknowledge_policy(ack(&v1.name, 0))
        .await
        .expect("acknowledged")
        .into_inner();
    assert_eq!(
        (done.quiz_score, done.department.as_str()),
        (Some(100), "sales")
    );
    let twice = sam
        .acknowledge_policy(ack(&v1.name, 0))
        .await
        .expect_err("once");
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let fay = app
        .policies(
            app.tokens
                .token_for("fay", "finance", &[Role::DepartmentHead]),
        )
        .acknowledge_policy(ack(&v1.name, 0))
        .await
        .expect_err("not addressed to finance");
    assert_eq!(fay.code(), Code::PermissionDenied);

    let rates = ann
        .get_acknowledgement_rates(pb::GetAcknowledgementRatesRequest {
            publication: v1.name.clone(),
        })
        .await
        .expect("rates")
        .into_inner();
    assert_eq!((rates.audience, rates.acknowledged), (3, 1));
    assert_eq!(rates.departments[0].department, "sales");

    // The deadline passes: hank and nina are overdue, and reminded once.
    clock.advance(DAY + 1);
    let pending = |ann: &mut PolicyClient, name: String| {
        let mut ann = ann.clone();
        async move {
            ann.list_acknowledgements(pb::ListAcknowledgementsRequest {
                publication: name,
                pending_only: true,
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner()
            .acknowledgements
        }
    };
    let late = pending(&mut ann, v1.name.clone()).await;
    assert_eq!(
        late.iter()
            .map(|a| (a.subject.as_str(), a.overdue))
            .collect::<Vec<_>>(),
        [("hank", true), ("nina", true)]
    );
    let reminders = app.own_entries("compliance.policies.remind", 1).await;
    assert_eq!(reminders.len(), 1);
    assert!(
        reminders[0].detail.contains("hank") && reminders[0].detail.contains("nina"),
        "{}",
        reminders[0].detail
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.own_entries("compliance.policies.remind", 1).await.len(),
        1,
        "once"
    );

    // A new version: the old one is superseded and everyone acknowledges again.
    let v2 = ann
        .publish_policy(publish(2))
        .await
        .expect("republished")
        .into_inner();
    assert_eq!(v2.supersedes, v1.name);
    let old = ann
        .get_publication(pb::GetPublicationRequest {
            name: v1.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        (old.status, old.superseded_by.as_str()),
        (pb::PublicationStatus::Superseded as i32, v2.name.as_str())
    );
    let stale = sam
        .acknowledge_policy(ack(&v1.name, 0))
        .await
        .expect_err("superseded");
    assert!(stale.message().contains(&v2.name), "{}", stale.message());
    let fresh = ann
        .get_acknowledgement_rates(pb::GetAcknowledgementRatesRequest {
            publication: v2.name.clone(),
        })
        .await
        .expect("rates")
        .into_inner();
    assert_eq!((fresh.audience, fresh.acknowledged), (3, 0));
    sam.acknowledge_policy(ack(&v2.name, 0))
        .await
        .expect("acknowledged again");
    let older = ann
        .publish_policy(publish(1))
        .await
        .expect_err("an earlier version");
    assert_eq!(older.code(), Code::InvalidArgument);
    // Sam's list holds what is addressed to him.
    let his = sam
        .list_publications(pb::ListPublicationsRequest {
            active_only: true,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .publications;
    assert_eq!(
        his.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        [v2.name.as_str()]
    );
}
