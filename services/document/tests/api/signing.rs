//! Signing (§4.3): the service signs a canonical statement per signer;
//! required signatures make a document SIGNED; changing one byte of the
//! content or of a signed field fails verification — on the server and
//! offline — and says what failed; old keys stay published.

use procedo_document::DocumentService;
use procedo_document::offline;
use procedo_platform::identity::{Clearance, Role};
use procedo_proto::document as pb;
use procedo_proto::document::document_service_client::DocumentServiceClient;
use procedo_testkit::{Backend, Bearer, TestService, backend_tests};
use tonic::Code;

use crate::helpers::{TestDocument, approved, category, download, register};

backend_tests!(
    required_signatures_make_a_document_signed_and_tampering_fails_verification_online_and_offline,
    signatures_made_with_a_replaced_key_stay_verifiable,
);

fn sign(d: &pb::Document, intent: pb::SignatureIntent) -> pb::SignDocumentRequest {
    pb::SignDocumentRequest {
        document: d.name.clone(),
        intent: intent as i32,
        ..Default::default()
    }
}

async fn contract_category(app: &TestDocument) {
    let mut c = category("contract", "HT-{seq:6}", pb::NumberReset::Never);
    c.required_signatures = vec![
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
    app.client(Role::Admin)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(c),
        })
        .await
        .expect("created");
}

async fn required_signatures_make_a_document_signed_and_tampering_fails_verification_online_and_offline(
    backend: Backend,
) {
    let app = TestDocument::spawn(backend).await;
    contract_category(&app).await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let draft = li
        .register_document(register("contract", "Draft"))
        .await
        .expect("registered")
        .into_inner();
    let early = li
        .sign_document(sign(&draft, pb::SignatureIntent::Approve))
        .await
        .expect_err("a draft is not signed");
    assert_eq!(early.code(), Code::FailedPrecondition);

    let d = approved(&app, &mut li).await;
    assert_eq!(d.status(), pb::DocumentStatus::Approved);
    let mut head = app.person(
        "zhao",
        "sales",
        &[Role::DepartmentHead],
        Clearance::Internal,
    );
    let first = head
        .sign_document(sign(&d, pb::SignatureIntent::Approve))
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(first.version, 1);
    assert_eq!(
        first.signer.as_ref().map(|a| a.department.as_str()),
        Some("sales")
    );
    assert!(first.statement.starts_with(&format!(
        "procedo-document-signature/v1\nnumber: {}\n",
        d.number
    )));
    assert!(first.statement.contains("\nintent: APPROVE\n"));
    let again = head
        .sign_document(sign(&d, pb::SignatureIntent::Approve))
        .await
        .expect_err("once per signer");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let d_now = li
        .get_document(pb::GetDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        d_now.status(),
        pb::DocumentStatus::Approved,
        "legal has not signed"
    );
    app.person("wu", "legal", &[Role::Reviewer], Clearance::Internal)
        .sign_document(sign(&d, pb::SignatureIntent::Issue))
        .await
        .expect("legal signs");
    let d_now = li
        .get_document(pb::GetDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(d_now.status(), pb::DocumentStatus::Signed);

    let verified = li
        .verify_document(pb::VerifyDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("verified")
        .into_inner();
    assert!(verified.valid && verified.content_intact, "{verified:?}");
    assert_eq!(verified.checks.len(), 2);

    // Offline: the file, its bundle and the published keys.
    let (_, content) = download(&mut li, &d.name).await.expect("downloaded");
    let bundle = li
        .list_signatures(pb::ListSignaturesRequest {
            document: d.name.clone(),
        })
        .await
        .expect("the bundle")
        .into_inner()
        .signatures;
    let keys = li
        .list_signing_keys(pb::ListSigningKeysRequest {})
        .await
        .expect("the keys")
        .into_inner()
        .keys;
    let checked = offline::verify(&offline::sha256(&content), &bundle, &keys);
    assert!(checked.iter().all(|(_, r)| r.is_ok()), "{checked:?}");
    let mut one_byte = content.clone();
    one_byte[0] ^= 1;
    let checked = offline::verify(&offline::sha256(&one_byte), &bundle, &keys);
    assert!(
        checked.iter().all(|(_, r)| r
            .as_ref()
            .is_err_and(|p| p.to_string().contains("content was altered"))),
        "{checked:?}"
    );
    let mut forged = bundle.clone();
    forged[0].statement = forged[0]
        .statement
        .replace("intent: APPROVE", "intent: ISSUE");
    let checked = offline::verify(&offline::sha256(&content), &forged, &keys);
    assert!(
        checked[0]
            .1
            .as_ref()
            .is_err_and(|p| p.to_string().contains("altered"))
    );
    assert!(checked[1].1.is_ok());

    // Online: a signed field changed in the database, then one byte of the
    // stored content.
    let mut tx = app.server.db.begin().await.expect("a transaction");
    sqlx::query(
        "UPDATE signatures SET statement = \
         REPLACE(statement, 'department: sales', 'department: salez') WHERE seq = 1",
    )
    .execute(&mut *tx)
    .await
    .expect("tampered");
    tx.commit().await.expect("committed");
    let tampered = li
        .verify_document(pb::VerifyDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("verified")
        .into_inner();
    assert!(!tampered.valid);
    assert!(
        !tampered.checks[0].valid && tampered.checks[0].problem.contains("altered"),
        "{tampered:?}"
    );
    assert!(tampered.checks[1].valid);
    let file = content_file(&app, &verified.recorded_sha256);
    let mut bytes = std::fs::read(&file).expect("the stored content");
    bytes[3] ^= 0x20;
    std::fs::write(&file, bytes).expect("tampered");
    let tampered = li
        .verify_document(pb::VerifyDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("verified")
        .into_inner();
    assert!(!tampered.content_intact);
    assert_ne!(tampered.actual_sha256, tampered.recorded_sha256);
    assert!(
        tampered.checks[1].problem.contains("content was altered"),
        "{tampered:?}"
    );
}

fn content_file(app: &TestDocument, sha256: &str) -> std::path::PathBuf {
    app.database
        .data_dir()
        .join("document-content/sha256")
        .join(&sha256[..2])
        .join(&sha256[2..4])
        .join(sha256)
}

async fn signatures_made_with_a_replaced_key_stay_verifiable(backend: Backend) {
    let app = TestDocument::spawn(backend).await;
    contract_category(&app).await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let d = approved(&app, &mut li).await;
    let old = app
        .person(
            "zhao",
            "sales",
            &[Role::DepartmentHead],
            Clearance::Internal,
        )
        .sign_document(sign(&d, pb::SignatureIntent::Approve))
        .await
        .expect("signed")
        .into_inner();
    // A replica started with a new key file: the new key signs from now on.
    let new_key = app.database.data_dir().join("rotated-key.pem");
    let rotated: TestService = TestService::spawn::<DocumentService>(&app.database, |c| {
        c.service.signing_key_file = Some(new_key);
    })
    .await;
    let mut legal = DocumentServiceClient::with_interceptor(
        rotated.channel.clone(),
        Bearer(Some(app.tokens.cleared(
            "wu",
            "legal",
            &[Role::Reviewer],
            Clearance::Internal,
        ))),
    );
    let new = legal
        .sign_document(sign(&d, pb::SignatureIntent::Issue))
        .await
        .expect("signed")
        .into_inner();
    assert_ne!(old.key_id, new.key_id);
    let keys = legal
        .list_signing_keys(pb::ListSigningKeysRequest {})
        .await
        .expect("keys")
        .into_inner()
        .keys;
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.key_id == old.key_id && !k.active));
    assert!(keys.iter().any(|k| k.key_id == new.key_id && k.active));
    let verified = legal
        .verify_document(pb::VerifyDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("verified")
        .into_inner();
    assert!(verified.valid, "{verified:?}");
}
