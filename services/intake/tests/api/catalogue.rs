use procedo_platform::identity::Role;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestIntake, application_type, material, submission};

backend_tests!(
    updating_a_type_changes_new_applications_but_not_those_already_submitted,
    a_type_is_read_by_name_and_listed_by_code,
);

async fn updating_a_type_changes_new_applications_but_not_those_already_submitted(
    backend: Backend,
) {
    let app = TestIntake::spawn(backend).await;
    let created = app.create_type("loan", &[("ID card", true)]).await;
    let before = app.submit(submission("loan", "Wang Fang", &[])).await;
    let mut admin = app.client(Role::Admin);
    let mut changed = application_type("loan", &[("ID card", true), ("Tax record", true)]);
    changed.etag = created.etag.clone();
    changed.handling_department = "credit".into();

    let updated = admin
        .update_application_type(pb::UpdateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(changed.clone()),
        })
        .await
        .expect("updated")
        .into_inner();
    let stale = admin
        .update_application_type(pb::UpdateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(changed),
        })
        .await
        .expect_err("stale etag");
    let after = app
        .submit(submission("loan", "Zhao Lei", &["ID card"]))
        .await;
    let supplemented = app
        .client(Role::IntakeClerk)
        .supplement_application(pb::SupplementApplicationRequest {
            name: before.name.clone(),
            materials: vec![material("ID card")],
            ..Default::default()
        })
        .await
        .expect("supplemented")
        .into_inner();

    assert_eq!(updated.materials.len(), 2);
    assert_eq!(updated.handling_department, "credit");
    assert_ne!(updated.etag, created.etag);
    assert_eq!(stale.code(), Code::Aborted);
    assert_eq!(
        after.missing_materials,
        ["Tax record"],
        "new applications use the new checklist"
    );
    assert_eq!(
        supplemented.status(),
        pb::ApplicationStatus::PendingReview,
        "an application submitted earlier keeps the checklist it was checked against"
    );
}

async fn a_type_is_read_by_name_and_listed_by_code(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    app.create_type("lease", &[]).await;
    let mut clerk = app.client(Role::IntakeClerk);

    let one = clerk
        .get_application_type(pb::GetApplicationTypeRequest {
            name: "applicationTypes/lease".into(),
        })
        .await
        .expect("read")
        .into_inner();
    let missing = clerk
        .get_application_type(pb::GetApplicationTypeRequest {
            name: "applicationTypes/none".into(),
        })
        .await
        .expect_err("unknown");
    let page = clerk
        .list_application_types(pb::ListApplicationTypesRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner();

    assert_eq!(one.code, "lease");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(page.application_types[0].code, "lease", "by code");
    assert!(!page.next_page_token.is_empty());
}
