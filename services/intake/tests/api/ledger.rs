use futures::StreamExt as _;
use procedo_platform::identity::Role;
use procedo_platform::time;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};

use crate::helpers::{TestIntake, submission};

backend_tests!(
    the_ledger_is_queried_by_applicant_type_status_and_date,
    the_ledger_pages_in_ledger_number_order,
    exporting_streams_every_row_in_order_across_batches,
    shutting_down_finishes_an_export_in_flight,
);

/// Files `n` applications of `type_code`, eight at a time.
async fn file(app: &TestIntake, type_code: &str, n: usize) {
    let clerk = app.client(Role::IntakeClerk);
    let mut pending = futures::stream::iter(0..n)
        .map(|i| {
            let mut clerk = clerk.clone();
            let request = submission(type_code, &format!("Applicant {i}"), &[]);
            async move { clerk.submit_application(request).await.expect("submitted") }
        })
        .buffer_unordered(8);
    while pending.next().await.is_some() {}
}

async fn the_ledger_is_queried_by_applicant_type_status_and_date(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    app.create_type("lease", &[("contract", true)]).await;
    let before = time::now();
    app.submit(submission("loan", "Wang Fang", &[])).await;
    app.submit(submission("lease", "Wang Fang", &[])).await;
    let mut other = submission("loan", "Zhao Lei", &[]);
    other.applicant.as_mut().expect("applicant").organisation = "Northwind 100%_Co".into();
    app.submit(other).await;
    let auditor = app.client(Role::Auditor);
    let query = |filter: pb::LedgerFilter| {
        let mut auditor = auditor.clone();
        async move {
            auditor
                .query_ledger(pb::QueryLedgerRequest {
                    filter: Some(filter),
                    ..Default::default()
                })
                .await
                .expect("queried")
                .into_inner()
                .entries
        }
    };

    let by_name = query(pb::LedgerFilter {
        applicant: "wang".into(),
        ..Default::default()
    })
    .await;
    let by_organisation = query(pb::LedgerFilter {
        applicant: "100%_co".into(),
        ..Default::default()
    })
    .await;
    let wildcard_is_literal = query(pb::LedgerFilter {
        applicant: "%".into(),
        ..Default::default()
    })
    .await;
    let leases = query(pb::LedgerFilter {
        type_code: "lease".into(),
        ..Default::default()
    })
    .await;
    let incomplete = query(pb::LedgerFilter {
        status: pb::ApplicationStatus::Incomplete as i32,
        ..Default::default()
    })
    .await;
    let earlier = query(pb::LedgerFilter {
        submitted_before: Some(time::to_timestamp(before)),
        ..Default::default()
    })
    .await;
    let since = query(pb::LedgerFilter {
        submitted_after: Some(time::to_timestamp(before)),
        ..Default::default()
    })
    .await;

    assert_eq!(by_name.len(), 2);
    assert_eq!(by_organisation.len(), 1);
    assert_eq!(
        by_organisation[0]
            .applicant
            .as_ref()
            .expect("applicant")
            .name,
        "Zhao Lei"
    );
    assert_eq!(
        wildcard_is_literal.len(),
        1,
        "'%' matches only a literal percent sign"
    );
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].type_code, "lease");
    assert_eq!(incomplete.len(), 1);
    assert!(earlier.is_empty());
    assert_eq!(since.len(), 3);
    assert_eq!(since[0].matter_title, "Working capital loan");
}

async fn the_ledger_pages_in_ledger_number_order(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    file(&app, "loan", 7).await;
    let mut clerk = app.client(Role::IntakeClerk);

    let mut numbers = Vec::new();
    let mut token = String::new();
    loop {
        let page = clerk
            .query_ledger(pb::QueryLedgerRequest {
                page_size: 3,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.entries.len() <= 3);
        numbers.extend(page.entries.into_iter().map(|e| e.ledger_number));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }

    let seqs: Vec<_> = numbers.iter().map(|n| n[8..].to_owned()).collect();
    assert_eq!(
        seqs,
        [
            "000001", "000002", "000003", "000004", "000005", "000006", "000007"
        ]
    );
}

async fn exporting_streams_every_row_in_order_across_batches(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    file(&app, "loan", 1_205).await;

    let mut stream = app
        .client(Role::Auditor)
        .export_ledger(pb::ExportLedgerRequest::default())
        .await
        .expect("export starts")
        .into_inner();
    let mut numbers = Vec::new();
    while let Some(row) = stream.next().await {
        numbers.push(row.expect("a row").ledger_number);
    }

    assert_eq!(numbers.len(), 1_205);
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "rows come in ledger-number order"
    );
}

async fn shutting_down_finishes_an_export_in_flight(backend: Backend) {
    let mut app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    file(&app, "loan", 1_100).await;
    let mut stream = app
        .client(Role::Auditor)
        .export_ledger(pb::ExportLedgerRequest::default())
        .await
        .expect("export starts")
        .into_inner();
    let first = stream.next().await.expect("a first row").expect("ok");

    let mut client_after = app.client(Role::Auditor);
    let drained = tokio::spawn(async move {
        let mut rest = 0;
        while let Some(row) = stream.next().await {
            row.expect("rows keep coming during the drain");
            rest += 1;
        }
        rest
    });
    app.server.stop().await;

    assert_eq!(first.ledger_number.len(), 14);
    assert_eq!(drained.await.expect("reader"), 1_099);
    let refused = client_after
        .list_inquiries(pb::ListInquiriesRequest::default())
        .await;
    assert!(refused.is_err(), "a stopped server takes no new calls");
}
