//! Categories (§4.1): admins define them; everyone reads them.

use procedo_platform::identity::Role;
use procedo_proto::document as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestDocument, category, violated_fields};

backend_tests!(
    a_category_is_created_read_listed_and_changed_under_its_etag,
    a_wrong_category_is_refused_naming_every_field_and_nothing_is_stored,
);

async fn a_category_is_created_read_listed_and_changed_under_its_etag(backend: Backend) {
    let app = TestDocument::spawn(backend).await;
    let mut contract = category("contract", "HT-{year}-{seq:6}", pb::NumberReset::Yearly);
    contract.required_signatures = vec![
        pb::SignatureRequirement {
            role: "department_head".into(),
            department: String::new(),
            description: "the owning department's head".into(),
        },
        pb::SignatureRequirement {
            role: String::new(),
            department: "legal".into(),
            description: "legal".into(),
        },
    ];
    let created = app
        .client(Role::Admin)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(contract.clone()),
        })
        .await
        .expect("created")
        .into_inner();
    assert_eq!(created.name, "categories/contract");
    assert_eq!(created.required_signatures.len(), 2);
    let again = app
        .client(Role::Admin)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(contract.clone()),
        })
        .await
        .expect_err("the code is taken");
    assert_eq!(again.code(), Code::AlreadyExists);
    let denied = app
        .client(Role::DepartmentHead)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(category("report", "BG-{seq:4}", pb::NumberReset::Never)),
        })
        .await
        .expect_err("admins only");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let read = app
        .client(Role::Executor)
        .get_category(pb::GetCategoryRequest {
            name: "categories/contract".into(),
        })
        .await
        .expect("anyone reads it")
        .into_inner();
    assert_eq!(read, created);
    let mut changed = contract.clone();
    changed.number_pattern = "HT{year}{seq:5}".into();
    changed.retention_years = 30;
    let updated = app
        .client(Role::Admin)
        .update_category(pb::UpdateCategoryRequest {
            request_id: String::new(),
            category: Some(changed.clone()),
            etag: created.etag.clone(),
        })
        .await
        .expect("updated")
        .into_inner();
    assert_eq!(
        (updated.number_pattern.as_str(), updated.retention_years),
        ("HT{year}{seq:5}", 30)
    );
    let stale = app
        .client(Role::Admin)
        .update_category(pb::UpdateCategoryRequest {
            request_id: String::new(),
            category: Some(changed),
            etag: created.etag.clone(),
        })
        .await
        .expect_err("a stale etag");
    assert_eq!(stale.code(), Code::Aborted);
    app.category("report", "BG-{seq:4}", pb::NumberReset::Never)
        .await;
    let page = app
        .client(Role::Auditor)
        .list_categories(pb::ListCategoriesRequest {
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(page.categories[0].code, "contract");
    let rest = app
        .client(Role::Auditor)
        .list_categories(pb::ListCategoriesRequest {
            page_size: 1,
            page_token: page.next_page_token,
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(rest.categories[0].code, "report");
    assert!(rest.next_page_token.is_empty());
}

async fn a_wrong_category_is_refused_naming_every_field_and_nothing_is_stored(backend: Backend) {
    let app = TestDocument::spawn(backend).await;
    let mut wrong = category("Contract!", "HT-{month}-{seq:6}", pb::NumberReset::Yearly);
    wrong.display_name.clear();
    wrong.default_confidentiality = 0;
    wrong.retention_years = 500;
    wrong.required_signatures = vec![pb::SignatureRequirement {
        role: "boss".into(),
        ..Default::default()
    }];
    let refused = app
        .client(Role::Admin)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(wrong),
        })
        .await
        .expect_err("wrong");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields = violated_fields(&refused);
    for f in [
        "category.code",
        "category.display_name",
        "category.number_pattern",
        "category.default_confidentiality",
        "category.retention_years",
        "category.required_signatures[0].role",
        "category.required_signatures[0].description",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let yearly_without_year = app
        .client(Role::Admin)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(category("memo", "M-{seq:4}", pb::NumberReset::Yearly)),
        })
        .await
        .expect_err("a yearly reset needs the year");
    assert_eq!(
        violated_fields(&yearly_without_year),
        ["category.number_pattern"]
    );
    assert!(
        yearly_without_year.message().contains("{year}")
            || format!("{yearly_without_year:?}").contains("year")
    );
    let listed = app
        .client(Role::Admin)
        .list_categories(pb::ListCategoriesRequest::default())
        .await
        .expect("listed")
        .into_inner();
    assert!(listed.categories.is_empty());
}
