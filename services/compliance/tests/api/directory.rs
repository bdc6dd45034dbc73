//! The directory: imported, kept current from the tokens of those who act
//! (as the events of every service carry them), and where a notice finds
//! the department's head.

use procedo_platform::identity::Role;
use procedo_proto::common;
use procedo_proto::compliance as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{DirectoryClient, TestCompliance, audit_event};

backend_tests!(
    the_directory_is_imported_and_kept_current_by_who_acts,
    a_notice_goes_to_the_head_the_directory_names,
);

fn import() -> pb::ImportDirectoryRequest {
    let person = |subject: &str, department: &str, roles: &[&str]| pb::ImportedPerson {
        subject: subject.into(),
        display_name: subject.to_uppercase(),
        title: "Clerk".into(),
        department: department.into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        active: true,
    };
    pb::ImportDirectoryRequest {
        people: vec![
            person("hank", "sales", &["department_head"]),
            person("sam", "sales", &["executor"]),
            person("fay", "finance", &["department_head"]),
        ],
        departments: vec![
            pb::ImportedDepartment {
                code: "sales".into(),
                display_name: "Sales".into(),
                head: "hank".into(),
                parent: String::new(),
            },
            pb::ImportedDepartment {
                code: "finance".into(),
                display_name: "Finance".into(),
                head: "fay".into(),
                parent: String::new(),
            },
        ],
        ..Default::default()
    }
}

async fn people(client: &mut DirectoryClient, department: &str) -> Vec<pb::DirectoryPerson> {
    client
        .list_people(pb::ListPeopleRequest {
            department: department.into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .people
}

async fn the_directory_is_imported_and_kept_current_by_who_acts(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let mut admin = app.directory(app.tokens.token(Role::Admin));
    let counted = admin
        .import_directory(import())
        .await
        .expect("imported")
        .into_inner();
    assert_eq!((counted.people, counted.departments), (3, 2));
    let mut reader = app.directory(app.tokens.token_for("sam", "sales", &[Role::Executor]));
    let sales: Vec<String> = people(&mut reader, "sales")
        .await
        .into_iter()
        .map(|p| p.subject)
        .collect();
    assert_eq!(sales, ["hank", "sam"]);
    let finance = reader
        .get_department(pb::GetDepartmentRequest {
            name: "departments/finance".into(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(finance.head, "fay");

    // Sam moves to finance: his next action's token says so. A newcomer
    // acts for the first time. A service's own actor is no one's entry.
    let mut moved = audit_event(
        "procedo.intake",
        1,
        "intake.inquiries.create",
        "inquiries/1",
    );
    moved.actor = Some(common::Actor {
        subject: "sam".into(),
        name: "Sam Li".into(),
        department: "finance".into(),
        roles: vec!["executor".into()],
        ..Default::default()
    });
    let mut newcomer = audit_event("procedo.workflow", 1, "workflow.tasks.complete", "tasks/1");
    newcomer.actor = Some(common::Actor {
        subject: "nina".into(),
        name: "Nina Wu".into(),
        title: "Analyst".into(),
        department: "sales".into(),
        roles: vec!["reviewer".into()],
        ..Default::default()
    });
    let mut timer = audit_event("procedo.workflow", 2, "workflow.tasks.overdue", "tasks/2");
    timer.actor = Some(common::Actor {
        subject: "procedo-workflow".into(),
        roles: vec!["service".into()],
        ..Default::default()
    });
    for event in [moved, newcomer, timer] {
        assert!(app.deliver(event).await);
    }
    let sam = reader
        .get_person(pb::GetPersonRequest {
            name: "people/sam".into(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        (sam.department.as_str(), sam.display_name.as_str()),
        ("finance", "Sam Li")
    );
    assert_eq!(
        sam.title, "Clerk",
        "a token without a title keeps the imported one"
    );
    assert_eq!(sam.source, pb::EntrySource::Token as i32);
    let sales: Vec<String> = people(&mut reader, "sales")
        .await
        .into_iter()
        .map(|p| p.subject)
        .collect();
    assert_eq!(sales, ["hank", "nina"]);
    let unknown = reader
        .get_person(pb::GetPersonRequest {
            name: "people/procedo-workflow".into(),
        })
        .await
        .expect_err("not a person");
    assert_eq!(unknown.code(), Code::NotFound);

    // Only admins import; a bad entry is named and nothing is kept.
    let refused = reader
        .import_directory(import())
        .await
        .expect_err("not an admin");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut bad = import();
    bad.people[1].subject = String::new();
    bad.departments[0].parent = "sales".into();
    let bad = admin.import_directory(bad).await.expect_err("bad");
    assert!(
        bad.message().contains("people[1].subject")
            && bad.message().contains("departments[0].parent"),
        "{}",
        bad.message()
    );
    assert_eq!(people(&mut reader, "sales").await.len(), 2);
}

async fn a_notice_goes_to_the_head_the_directory_names(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let i = crate::inspections::inspection(&app).await;
    let finding = crate::inspections::auditor(&app)
        .record_finding(pb::RecordFindingRequest {
            inspection: i.name,
            etag: i.etag,
            severity: pb::Severity::Minor as i32,
            clause: "§5.1.2".into(),
            resources: vec!["applications/a1".into()],
            description: "Late".into(),
            ..Default::default()
        })
        .await
        .expect("a finding")
        .into_inner();
    let mut ann = app.rectification(app.tokens.token_for("ann", "audit", &[Role::Auditor]));
    let issue = || pb::IssueNoticeRequest {
        findings: vec![finding.name.clone()],
        department: "sales".into(),
        requirements: "Enter on arrival".into(),
        due_time: Some(procedo_platform::time::to_timestamp(
            procedo_platform::time::now() + 86_400_000,
        )),
        ..Default::default()
    };
    let unknown = ann
        .issue_notice(issue())
        .await
        .expect_err("no head known yet");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(
        unknown.message().contains("department_head"),
        "{}",
        unknown.message()
    );
    app.directory(app.tokens.token(Role::Admin))
        .import_directory(import())
        .await
        .expect("imported");
    let notice = ann
        .issue_notice(issue())
        .await
        .expect("issued")
        .into_inner();
    assert_eq!(notice.department_head, "hank");
}
