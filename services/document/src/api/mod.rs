//! The gRPC surface: each handler authenticates, checks the request into
//! domain values, calls the application layer and converts the answer.
//! Roles per RPC are declared next to each handler.

mod archive;
mod categories;
mod convert;
mod documents;
mod loans;
mod reviews;
mod signing;
mod versions;

use std::pin::Pin;

use procedo_proto::document as pb;
use tonic::{Request, Response, Status, Streaming};

use crate::app::App;

pub use convert::document_to_pb;
pub use loans::loan_to_pb;

/// The `procedo.document.v1.DocumentService` implementation.
#[derive(Debug, Clone)]
pub struct DocumentApi {
    app: App,
}

impl DocumentApi {
    pub fn new(app: App) -> DocumentApi {
        DocumentApi { app }
    }
}

type DownloadStream =
    Pin<Box<dyn futures::Stream<Item = Result<pb::DownloadVersionResponse, Status>> + Send>>;

#[tonic::async_trait]
impl pb::document_service_server::DocumentService for DocumentApi {
    async fn create_category(
        &self,
        r: Request<pb::CreateCategoryRequest>,
    ) -> Result<Response<pb::Category>, Status> {
        categories::create(self, r).await
    }
    async fn update_category(
        &self,
        r: Request<pb::UpdateCategoryRequest>,
    ) -> Result<Response<pb::Category>, Status> {
        categories::update(self, r).await
    }
    async fn get_category(
        &self,
        r: Request<pb::GetCategoryRequest>,
    ) -> Result<Response<pb::Category>, Status> {
        categories::get(self, r).await
    }
    async fn list_categories(
        &self,
        r: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoriesResponse>, Status> {
        categories::list(self, r).await
    }
    async fn register_document(
        &self,
        r: Request<pb::RegisterDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        documents::register(self, r).await
    }
    async fn get_document(
        &self,
        r: Request<pb::GetDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        documents::get(self, r).await
    }
    async fn list_documents(
        &self,
        r: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        documents::list(self, r).await
    }
    async fn update_document(
        &self,
        r: Request<pb::UpdateDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        documents::update(self, r).await
    }
    async fn void_document(
        &self,
        r: Request<pb::VoidDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        documents::void(self, r).await
    }
    async fn upload_version(
        &self,
        r: Request<Streaming<pb::UploadVersionRequest>>,
    ) -> Result<Response<pb::DocumentVersion>, Status> {
        versions::upload(self, r).await
    }

    type DownloadVersionStream = DownloadStream;

    async fn download_version(
        &self,
        r: Request<pb::DownloadVersionRequest>,
    ) -> Result<Response<DownloadStream>, Status> {
        versions::download(self, r).await
    }
    async fn list_versions(
        &self,
        r: Request<pb::ListVersionsRequest>,
    ) -> Result<Response<pb::ListVersionsResponse>, Status> {
        versions::list(self, r).await
    }
    async fn submit_for_review(
        &self,
        r: Request<pb::SubmitForReviewRequest>,
    ) -> Result<Response<pb::ReviewRound>, Status> {
        reviews::submit(self, r).await
    }
    async fn add_review_comment(
        &self,
        r: Request<pb::AddReviewCommentRequest>,
    ) -> Result<Response<pb::ReviewComment>, Status> {
        reviews::comment(self, r).await
    }
    async fn decide_review(
        &self,
        r: Request<pb::DecideReviewRequest>,
    ) -> Result<Response<pb::ReviewRound>, Status> {
        reviews::decide(self, r).await
    }
    async fn get_review_round(
        &self,
        r: Request<pb::GetReviewRoundRequest>,
    ) -> Result<Response<pb::ReviewRound>, Status> {
        reviews::get(self, r).await
    }
    async fn list_review_rounds(
        &self,
        r: Request<pb::ListReviewRoundsRequest>,
    ) -> Result<Response<pb::ListReviewRoundsResponse>, Status> {
        reviews::list(self, r).await
    }
    async fn sign_document(
        &self,
        r: Request<pb::SignDocumentRequest>,
    ) -> Result<Response<pb::Signature>, Status> {
        signing::sign(self, r).await
    }
    async fn list_signatures(
        &self,
        r: Request<pb::ListSignaturesRequest>,
    ) -> Result<Response<pb::ListSignaturesResponse>, Status> {
        signing::list(self, r).await
    }
    async fn list_signing_keys(
        &self,
        r: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        signing::keys(self, r).await
    }
    async fn verify_document(
        &self,
        r: Request<pb::VerifyDocumentRequest>,
    ) -> Result<Response<pb::VerifyDocumentResponse>, Status> {
        signing::verify(self, r).await
    }
    async fn archive_document(
        &self,
        r: Request<pb::ArchiveDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        archive::archive(self, r).await
    }
    async fn update_paper_location(
        &self,
        r: Request<pb::UpdatePaperLocationRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        archive::relocate(self, r).await
    }
    async fn request_disposal(
        &self,
        r: Request<pb::RequestDisposalRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        archive::request_disposal(self, r).await
    }
    async fn approve_disposal(
        &self,
        r: Request<pb::ApproveDisposalRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        archive::approve_disposal(self, r).await
    }
    async fn request_loan(
        &self,
        r: Request<pb::RequestLoanRequest>,
    ) -> Result<Response<pb::Loan>, Status> {
        loans::request(self, r).await
    }
    async fn decide_loan(
        &self,
        r: Request<pb::DecideLoanRequest>,
    ) -> Result<Response<pb::Loan>, Status> {
        loans::decide(self, r).await
    }
    async fn request_renewal(
        &self,
        r: Request<pb::RequestRenewalRequest>,
    ) -> Result<Response<pb::Loan>, Status> {
        loans::renew(self, r).await
    }
    async fn return_loan(
        &self,
        r: Request<pb::ReturnLoanRequest>,
    ) -> Result<Response<pb::Loan>, Status> {
        loans::give_back(self, r).await
    }
    async fn get_loan(&self, r: Request<pb::GetLoanRequest>) -> Result<Response<pb::Loan>, Status> {
        loans::get(self, r).await
    }
    async fn list_loans(
        &self,
        r: Request<pb::ListLoansRequest>,
    ) -> Result<Response<pb::ListLoansResponse>, Status> {
        loans::list(self, r).await
    }
    async fn list_review_comments(
        &self,
        r: Request<pb::ListReviewCommentsRequest>,
    ) -> Result<Response<pb::ListReviewCommentsResponse>, Status> {
        reviews::comments(self, r).await
    }
}
