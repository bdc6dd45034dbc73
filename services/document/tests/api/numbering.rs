//! Numbers (§4.1): given at registration, unique and gap-free per category
//! and period, per department when the pattern names it, never reused —
//! also under many concurrent writers on two replicas.

use std::collections::BTreeSet;

use chrono::TimeZone as _;
use futures::future::join_all;
use procedo_platform::identity::{Clearance, Role};
use procedo_platform::time::Clock;
use procedo_proto::document as pb;
use procedo_proto::document::document_service_client::DocumentServiceClient;
use procedo_testkit::{Backend, Bearer, TestService, backend_tests};
use tonic::Code;

use crate::helpers::{TestDocument, register, violated_fields};

backend_tests!(
    numbers_follow_the_pattern_per_year_and_per_department_and_a_voided_number_is_never_reused,
    two_hundred_concurrent_registrations_on_two_replicas_get_distinct_gap_free_numbers,
    a_pattern_whose_numbers_are_used_up_says_so,
);

fn shanghai(y: i32, m: u32, d: u32, h: u32) -> i64 {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("a time")
        .timestamp_millis()
}

async fn numbers_follow_the_pattern_per_year_and_per_department_and_a_voided_number_is_never_reused(
    backend: Backend,
) {
    let clock = Clock::manual(shanghai(2026, 12, 31, 23));
    let set = clock.clone();
    let app = TestDocument::spawn_with(backend, move |c| {
        c.company.time_zone = Some(chrono_tz::Asia::Shanghai);
        c.company.clock = set;
    })
    .await;
    app.category("contract", "HT-{year}-{seq:6}", pb::NumberReset::Yearly)
        .await;
    app.category(
        "report",
        "{category}/{department}/{seq:3}",
        pb::NumberReset::Never,
    )
    .await;
    let mut sales = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let mut ops = app.person("wang", "ops", &[Role::Executor], Clearance::Internal);
    let number = |client: &mut crate::helpers::DocumentClient, category: &str| {
        let mut client = client.clone();
        let request = register(category, "Supply contract");
        async move {
            client
                .register_document(request)
                .await
                .expect("registered")
                .into_inner()
        }
    };
    let first = number(&mut sales, "contract").await;
    assert_eq!(first.number, "HT-2026-000001");
    assert_eq!(first.status(), pb::DocumentStatus::Draft);
    assert_eq!(first.owning_department, "sales", "the author's department");
    let voided = number(&mut sales, "contract").await;
    assert_eq!(voided.number, "HT-2026-000002");
    let voided = sales
        .void_document(pb::VoidDocumentRequest {
            name: voided.name.clone(),
            etag: voided.etag.clone(),
            reason: "registered twice".into(),
            ..Default::default()
        })
        .await
        .expect("voided")
        .into_inner();
    assert_eq!(voided.status(), pb::DocumentStatus::Voided);
    assert_eq!(
        (voided.number.as_str(), voided.void_reason.as_str()),
        ("HT-2026-000002", "registered twice")
    );
    assert_eq!(
        number(&mut ops, "contract").await.number,
        "HT-2026-000003",
        "never reused"
    );
    // 1 January 2027, 07:00 in Shanghai: a new year, a new sequence.
    clock.set(shanghai(2027, 1, 1, 7));
    assert_eq!(
        number(&mut sales, "contract").await.number,
        "HT-2027-000001"
    );

    assert_eq!(
        number(&mut sales, "report").await.number,
        "REPORT/SALES/001"
    );
    assert_eq!(number(&mut ops, "report").await.number, "REPORT/OPS/001");
    assert_eq!(
        number(&mut sales, "report").await.number,
        "REPORT/SALES/002"
    );

    // The voided one is still found by its number, with its reason.
    let found = sales
        .list_documents(pb::ListDocumentsRequest {
            number: "HT-2026-000002".into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .documents;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].void_reason, "registered twice");
    let again = sales
        .void_document(pb::VoidDocumentRequest {
            name: voided.name.clone(),
            reason: "once more".into(),
            ..Default::default()
        })
        .await
        .expect_err("voided once");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let unknown = sales
        .register_document(register("memo", "Note"))
        .await
        .expect_err("no such category");
    assert_eq!(violated_fields(&unknown), ["category"]);
}

async fn two_hundred_concurrent_registrations_on_two_replicas_get_distinct_gap_free_numbers(
    backend: Backend,
) {
    // Two hundred registrations take the category's counter one at a time:
    // the last waits for the 199 before it, longer than a call's usual
    // wait for a connection on a slow, loaded machine. This test is about
    // the numbers, not the wait.
    let patient = |c: &mut procedo_platform::service::Config<_>| {
        c.database.database_acquire_timeout = std::time::Duration::from_secs(60);
    };
    let app = TestDocument::spawn_with(backend, patient).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let replica: TestService = app.replica_with(patient).await;
    let token = app
        .tokens
        .cleared("li", "sales", &[Role::Executor], Clearance::Internal);
    let channels = [app.server.channel.clone(), replica.channel.clone()];
    let numbers: Vec<String> = join_all((0..200).map(|i| {
        let mut client = DocumentServiceClient::with_interceptor(
            channels[i % 2].clone(),
            Bearer(Some(token.clone())),
        );
        async move {
            for attempt in 0.. {
                match client
                    .register_document(register("contract", &format!("Contract {i}")))
                    .await
                {
                    Ok(d) => return d.into_inner().number,
                    // Contention is a documented, retryable answer.
                    Err(e) if e.code() == Code::Aborted && attempt < 20 => continue,
                    Err(e) => panic!("registration {i} failed: {e:?}"),
                }
            }
            unreachable!()
        }
    }))
    .await;
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), 200, "every number distinct");
    let expected: BTreeSet<String> = (1..=200).map(|n| format!("HT-{n:06}")).collect();
    assert_eq!(
        distinct.into_iter().cloned().collect::<BTreeSet<String>>(),
        expected,
        "gap-free from 1"
    );
}

async fn a_pattern_whose_numbers_are_used_up_says_so(backend: Backend) {
    let app = TestDocument::spawn(backend).await;
    app.category("memo", "M{seq:1}", pb::NumberReset::Never)
        .await;
    let mut client = app.client(Role::Executor);
    for n in 1..=9 {
        let d = client
            .register_document(register("memo", "Memo"))
            .await
            .expect("registered")
            .into_inner();
        assert_eq!(d.number, format!("M{n}"));
    }
    let full = client
        .register_document(register("memo", "Memo"))
        .await
        .expect_err("used up");
    assert_eq!(full.code(), Code::ResourceExhausted);
    assert!(
        full.message().contains("categories/memo"),
        "{}",
        full.message()
    );
}
