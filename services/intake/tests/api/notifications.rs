use std::sync::{Arc, Mutex};
use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{TestIntake, inquiry, submission};

backend_tests!(
    without_a_webhook_notifications_are_kept_undelivered_and_listable,
    a_webhook_receives_every_status_change_after_retrying_a_failure,
    a_webhook_that_refuses_a_notification_marks_it_failed,
    a_progress_note_for_the_customer_reaches_them_and_an_internal_note_does_not,
    a_failed_delivery_is_recorded_without_the_webhook_address,
    a_refused_event_is_listed_in_the_outbox_and_sent_again_by_an_admin,
);

/// An HTTP receiver answering with `statuses` in turn (the last one
/// repeats) and keeping every body it was sent.
struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<Received>>>,
}

/// One request as the receiver saw it.
#[derive(Clone)]
struct Received {
    body: String,
    timestamp: Option<u64>,
    signature: Option<String>,
}

impl Receiver {
    async fn start(statuses: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!(
            "http://{}/hooks/procedo",
            listener.local_addr().expect("addr")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(statuses.to_vec()));
        let kept = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (requests, statuses) = (Arc::clone(&kept), Arc::clone(&statuses));
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut read = BufReader::new(read);
                    loop {
                        let mut length = 0usize;
                        let (mut timestamp, mut signature) = (None, None);
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some((name, value)) = line.split_once(':') {
                                let value = value.trim();
                                match name.to_ascii_lowercase().as_str() {
                                    "content-length" => length = value.parse().unwrap_or(0),
                                    "x-procedo-timestamp" => timestamp = value.parse().ok(),
                                    "x-procedo-signature" => signature = Some(value.to_owned()),
                                    _ => {}
                                }
                            }
                        }
                        let mut body = vec![0; length];
                        if read.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        requests.lock().expect("lock").push(Received {
                            body: String::from_utf8_lossy(&body).into_owned(),
                            timestamp,
                            signature,
                        });
                        let status = {
                            let mut s = statuses.lock().expect("lock");
                            if s.len() > 1 { s.remove(0) } else { s[0] }
                        };
                        let response = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                        if write.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver { url, requests }
    }

    fn requests(&self) -> Vec<Received> {
        self.requests.lock().expect("lock").clone()
    }

    fn bodies(&self) -> Vec<serde_json::Value> {
        self.requests()
            .iter()
            .map(|r| serde_json::from_str(&r.body).unwrap_or_default())
            .collect()
    }
}

async fn notifications(app: &TestIntake, resource: &str) -> Vec<pb::Notification> {
    app.client(Role::Auditor)
        .list_notifications(pb::ListNotificationsRequest {
            resource: resource.to_owned(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .notifications
}

/// Polls until `done` holds for the notifications of `resource`.
async fn wait_for(
    app: &TestIntake,
    resource: &str,
    done: impl Fn(&[pb::Notification]) -> bool,
) -> Vec<pb::Notification> {
    for _ in 0..200 {
        let list = notifications(app, resource).await;
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "notifications of {resource} never reached the expected state: {:?}",
        notifications(app, resource).await
    );
}

async fn without_a_webhook_notifications_are_kept_undelivered_and_listable(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[("ID card", true)]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    let created = app
        .client(Role::IntakeClerk)
        .create_inquiry(inquiry(pb::Channel::Email))
        .await
        .expect("created")
        .into_inner();

    let about_application = notifications(&app, &filed.name).await;
    let about_inquiry = notifications(&app, &created.name).await;

    assert_eq!(about_application.len(), 1);
    assert_eq!(about_application[0].status(), pb::DeliveryStatus::Pending);
    assert!(about_application[0].attempts.is_empty());
    assert!(
        about_application[0].message.contains("Missing: ID card"),
        "{:?}",
        about_application[0].message
    );
    assert_eq!(about_inquiry.len(), 1);
    assert_eq!(
        about_inquiry[0].event_type,
        "procedo.intake.v1.inquiry.status_changed"
    );
}

async fn a_webhook_receives_every_status_change_after_retrying_a_failure(backend: Backend) {
    let receiver = Receiver::start(&[503, 200]).await;
    let app = TestIntake::spawn_with(backend, |c| {
        c.service.webhook_url = Some(receiver.url.clone());
        c.service.webhook_secret = Some("s3cret".into());
    })
    .await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;

    let first = wait_for(&app, &filed.name, |n| {
        n.iter()
            .all(|n| n.status() == pb::DeliveryStatus::Delivered)
    })
    .await;
    app.client(Role::IntakeClerk)
        .review_application(pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: pb::ReviewDecision::Accept as i32,
            ..Default::default()
        })
        .await
        .expect("accepted");
    let both = wait_for(&app, &filed.name, |n| {
        n.len() == 2
            && n.iter()
                .all(|n| n.status() == pb::DeliveryStatus::Delivered)
    })
    .await;

    let attempts: Vec<_> = first[0]
        .attempts
        .iter()
        .map(|a| (a.success, a.outcome.clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            (false, "HTTP 503".to_owned()),
            (true, "HTTP 200".to_owned())
        ]
    );
    assert_eq!(
        both[0].attempts.len(),
        1,
        "the later change went through at once"
    );
    let bodies = receiver.bodies();
    let changes: Vec<_> = bodies
        .iter()
        .map(|b| b["to_status"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(changes, ["PENDING_REVIEW", "PENDING_REVIEW", "ACCEPTED"]);
    assert_eq!(
        bodies[0]["id"], bodies[1]["id"],
        "a retry carries the same event id"
    );
    assert_eq!(bodies[2]["ledger_number"], filed.ledger_number.as_str());
    assert_eq!(bodies[2]["customer"]["email"], "applicant@example.com");
    for r in receiver.requests() {
        let timestamp = r.timestamp.expect("a timestamp header");
        let expected = procedo_intake::webhook::signature(b"s3cret", timestamp, &r.body);
        assert_eq!(
            r.signature,
            Some(format!("sha256={expected}")),
            "every request is signed"
        );
    }
}

async fn a_webhook_that_refuses_a_notification_marks_it_failed(backend: Backend) {
    let receiver = Receiver::start(&[410]).await;
    let app = TestIntake::spawn_with(backend, |c| {
        c.service.webhook_url = Some(receiver.url.clone());
    })
    .await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;

    let failed = wait_for(&app, &filed.name, |n| {
        n.iter().all(|n| n.status() == pb::DeliveryStatus::Failed)
    })
    .await;

    assert_eq!(failed[0].attempts.len(), 1);
    assert_eq!(failed[0].attempts[0].outcome, "HTTP 410");
    assert!(failed[0].next_attempt_time.is_none());
}

async fn a_refused_event_is_listed_in_the_outbox_and_sent_again_by_an_admin(backend: Backend) {
    use procedo_proto::common::outbox_service_client::OutboxServiceClient;
    use procedo_proto::common::{self, OutboxEventStatus};
    use procedo_testkit::Bearer;

    let receiver = Receiver::start(&[410, 200]).await;
    let app = TestIntake::spawn_with(backend, |c| {
        c.service.webhook_url = Some(receiver.url.clone());
    })
    .await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    wait_for(&app, &filed.name, |n| {
        n.iter().all(|n| n.status() == pb::DeliveryStatus::Failed)
    })
    .await;
    let outbox = |role: Role| {
        OutboxServiceClient::with_interceptor(
            app.server.channel.clone(),
            Bearer(Some(app.tokens.token(role))),
        )
    };
    let mut admin = outbox(Role::Admin);

    let destinations = admin
        .list_outbox_destinations(common::ListOutboxDestinationsRequest {})
        .await
        .expect("destinations")
        .into_inner()
        .destinations;
    let customer = destinations
        .iter()
        .find(|d| d.destination == "customer")
        .unwrap_or_else(|| panic!("the customer queue in {destinations:?}"));
    assert_eq!((customer.pending, customer.failed), (0, 1));
    let list = |status: OutboxEventStatus, page_token: String| common::ListOutboxEventsRequest {
        destination: "customer".into(),
        status: status as i32,
        page_size: 1,
        page_token,
        ..Default::default()
    };
    let failed = admin
        .list_outbox_events(list(OutboxEventStatus::Failed, String::new()))
        .await
        .expect("failed events")
        .into_inner();
    assert_eq!(failed.events.len(), 1);
    let event = &failed.events[0];
    assert_eq!(event.subject, filed.name);
    assert_eq!(event.status(), OutboxEventStatus::Failed);
    assert_eq!(event.attempts.len(), 1);
    assert_eq!(event.attempts[0].outcome, "HTTP 410");

    // Only admins; only failed events; only this list's page tokens.
    let denied = outbox(Role::IntakeClerk)
        .list_outbox_events(list(OutboxEventStatus::Failed, String::new()))
        .await
        .expect_err("a clerk");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let all = admin
        .list_outbox_events(list(OutboxEventStatus::Unspecified, String::new()))
        .await
        .expect("all events")
        .into_inner();
    if !all.next_page_token.is_empty() {
        let refused = admin
            .list_outbox_events(list(OutboxEventStatus::Failed, all.next_page_token))
            .await
            .expect_err("another filter's token");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    }
    let nameless = admin
        .list_outbox_events(common::ListOutboxEventsRequest::default())
        .await
        .expect_err("no destination");
    assert_eq!(crate::helpers::violated_fields(&nameless), ["destination"]);

    // Sent again: delivered this time, its attempts numbered on.
    let retried = admin
        .retry_outbox_event(common::RetryOutboxEventRequest {
            name: event.name.clone(),
        })
        .await
        .expect("queued again")
        .into_inner();
    assert_eq!(retried.status(), OutboxEventStatus::Pending);
    let delivered = wait_for(&app, &filed.name, |n| {
        n.iter()
            .all(|n| n.status() == pb::DeliveryStatus::Delivered)
    })
    .await;
    assert_eq!(delivered[0].attempts.len(), 2);
    assert_eq!(receiver.requests.lock().expect("unpoisoned").len(), 2);
    let again = admin
        .retry_outbox_event(common::RetryOutboxEventRequest {
            name: event.name.clone(),
        })
        .await
        .expect_err("a delivered event");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    let missing = admin
        .retry_outbox_event(common::RetryOutboxEventRequest {
            name: "outboxEvents/0192f0c1-0000-7000-8000-000000000000".into(),
        })
        .await
        .expect_err("no such event");
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

async fn a_progress_note_for_the_customer_reaches_them_and_an_internal_note_does_not(
    backend: Backend,
) {
    let app = TestIntake::spawn(backend).await;
    let mut clerk = app.client(Role::IntakeClerk);
    let created = clerk
        .create_inquiry(inquiry(pb::Channel::Email))
        .await
        .expect("created")
        .into_inner();
    let note = |text: &str, for_customer: bool| pb::AddInquiryNoteRequest {
        name: created.name.clone(),
        note: text.to_owned(),
        for_customer,
        ..Default::default()
    };

    clerk
        .add_inquiry_note(note("Customer sounds annoyed; check the contract.", false))
        .await
        .expect("internal note");
    let shared = clerk
        .add_inquiry_note(note("Our engineer visits on Tuesday morning.", true))
        .await
        .expect("note for the customer")
        .into_inner();

    let sent = notifications(&app, &created.name).await;
    let messages: Vec<&str> = sent.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        sent.len(),
        2,
        "the receipt and the shared note: {messages:?}"
    );
    let progress = &sent[0];
    assert_eq!(
        progress.event_type,
        "procedo.intake.v1.inquiry.progress_noted"
    );
    assert!(
        progress
            .message
            .contains("Our engineer visits on Tuesday morning.")
    );
    assert!(
        messages.iter().all(|m| !m.contains("annoyed")),
        "internal notes stay internal"
    );
    let flags: Vec<bool> = shared
        .entries
        .iter()
        .filter(|e| e.kind() == pb::InquiryEntryKind::Note)
        .map(|e| e.shared_with_customer)
        .collect();
    assert_eq!(flags, [false, true]);
}

async fn a_failed_delivery_is_recorded_without_the_webhook_address(backend: Backend) {
    // A receiver that hangs up on every request before answering.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let app = TestIntake::spawn_with(backend, |c| {
        c.service.webhook_url = Some(format!("http://{addr}/hooks/procedo?token=hook-secret-123"));
    })
    .await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;

    let tried = wait_for(&app, &filed.name, |n| {
        n.iter().all(|n| !n.attempts.is_empty())
    })
    .await;

    let outcomes: Vec<&str> = tried
        .iter()
        .flat_map(|n| n.attempts.iter().map(|a| a.outcome.as_str()))
        .collect();
    assert!(outcomes.iter().all(|o| !o.is_empty()), "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| !o.contains("hook-secret-123") && !o.contains("/hooks/procedo")),
        "no outcome carries the address: {outcomes:?}"
    );
}
