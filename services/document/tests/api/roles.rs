//! Roles decide which RPCs a caller may use (admin passes every check);
//! the documents a caller sees are the confidentiality tests' business.

use procedo_platform::identity::Role;
use procedo_proto::document as pb;
use procedo_testkit::{Backend, Call, backend_tests, role_matrix_violations, rpc};

use crate::helpers::{DocumentClient, TestDocument};

backend_tests!(every_rpc_admits_exactly_its_roles);

/// Who drafts, registers and uploads documents.
fn authors() -> Vec<Role> {
    use Role::*;
    vec![
        Executor,
        DepartmentHead,
        Reviewer,
        Approver,
        Acceptor,
        Archivist,
        IntakeClerk,
        Trainer,
        Service,
    ]
}

fn matrix() -> Vec<(&'static str, Vec<Role>, Call<DocumentClient>)> {
    let all = Role::ALL.to_vec();
    let authors = authors();
    vec![
        (
            "CreateCategory",
            vec![],
            rpc!(DocumentClient, create_category, pb::CreateCategoryRequest),
        ),
        (
            "UpdateCategory",
            vec![],
            rpc!(DocumentClient, update_category, pb::UpdateCategoryRequest),
        ),
        (
            "GetCategory",
            all.clone(),
            rpc!(DocumentClient, get_category, pb::GetCategoryRequest),
        ),
        (
            "ListCategories",
            all.clone(),
            rpc!(DocumentClient, list_categories, pb::ListCategoriesRequest),
        ),
        (
            "RegisterDocument",
            authors.clone(),
            rpc!(
                DocumentClient,
                register_document,
                pb::RegisterDocumentRequest
            ),
        ),
        (
            "GetDocument",
            all.clone(),
            rpc!(DocumentClient, get_document, pb::GetDocumentRequest),
        ),
        (
            "ListDocuments",
            all.clone(),
            rpc!(DocumentClient, list_documents, pb::ListDocumentsRequest),
        ),
        (
            "UpdateDocument",
            authors.clone(),
            rpc!(DocumentClient, update_document, pb::UpdateDocumentRequest),
        ),
        (
            "VoidDocument",
            authors.clone(),
            rpc!(DocumentClient, void_document, pb::VoidDocumentRequest),
        ),
        (
            "ListVersions",
            all.clone(),
            rpc!(DocumentClient, list_versions, pb::ListVersionsRequest),
        ),
        (
            "SubmitForReview",
            authors,
            rpc!(
                DocumentClient,
                submit_for_review,
                pb::SubmitForReviewRequest
            ),
        ),
        (
            "AddReviewComment",
            all.clone(),
            rpc!(
                DocumentClient,
                add_review_comment,
                pb::AddReviewCommentRequest
            ),
        ),
        (
            "DecideReview",
            all.clone(),
            rpc!(DocumentClient, decide_review, pb::DecideReviewRequest),
        ),
        (
            "GetReviewRound",
            all.clone(),
            rpc!(DocumentClient, get_review_round, pb::GetReviewRoundRequest),
        ),
        (
            "ListReviewRounds",
            all.clone(),
            rpc!(
                DocumentClient,
                list_review_rounds,
                pb::ListReviewRoundsRequest
            ),
        ),
        (
            "SignDocument",
            vec![
                Role::DepartmentHead,
                Role::Approver,
                Role::Acceptor,
                Role::Reviewer,
                Role::Archivist,
                Role::Executor,
            ],
            rpc!(DocumentClient, sign_document, pb::SignDocumentRequest),
        ),
        (
            "ListSignatures",
            all.clone(),
            rpc!(DocumentClient, list_signatures, pb::ListSignaturesRequest),
        ),
        (
            "ListSigningKeys",
            all.clone(),
            rpc!(
                DocumentClient,
                list_signing_keys,
                pb::ListSigningKeysRequest
            ),
        ),
        (
            "VerifyDocument",
            all.clone(),
            rpc!(DocumentClient, verify_document, pb::VerifyDocumentRequest),
        ),
        (
            "ArchiveDocument",
            vec![Role::Archivist],
            rpc!(DocumentClient, archive_document, pb::ArchiveDocumentRequest),
        ),
        (
            "UpdatePaperLocation",
            vec![Role::Archivist],
            rpc!(
                DocumentClient,
                update_paper_location,
                pb::UpdatePaperLocationRequest
            ),
        ),
        (
            "RequestDisposal",
            vec![Role::Archivist],
            rpc!(DocumentClient, request_disposal, pb::RequestDisposalRequest),
        ),
        (
            "ApproveDisposal",
            vec![Role::DepartmentHead],
            rpc!(DocumentClient, approve_disposal, pb::ApproveDisposalRequest),
        ),
        (
            "RequestLoan",
            all.clone(),
            rpc!(DocumentClient, request_loan, pb::RequestLoanRequest),
        ),
        (
            "DecideLoan",
            vec![Role::Archivist, Role::DepartmentHead],
            rpc!(DocumentClient, decide_loan, pb::DecideLoanRequest),
        ),
        (
            "RequestRenewal",
            all.clone(),
            rpc!(DocumentClient, request_renewal, pb::RequestRenewalRequest),
        ),
        (
            "ReturnLoan",
            vec![Role::Archivist],
            rpc!(DocumentClient, return_loan, pb::ReturnLoanRequest),
        ),
        (
            "GetLoan",
            all.clone(),
            rpc!(DocumentClient, get_loan, pb::GetLoanRequest),
        ),
        (
            "ListLoans",
            all.clone(),
            rpc!(DocumentClient, list_loans, pb::ListLoansRequest),
        ),
        (
            "ListReviewComments",
            all,
            rpc!(
                DocumentClient,
                list_review_comments,
                pb::ListReviewCommentsRequest
            ),
        ),
    ]
}

async fn every_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestDocument::spawn(backend).await;
    let wrong = role_matrix_violations(matrix(), |role| app.client(role)).await;
    assert!(
        wrong.is_empty(),
        "role matrix violated:\n{}",
        wrong.join("\n")
    );
}
